/* bench_runtime: the runtime core side by side with node and libuv.
 *
 * Each figure runs the same work on both sides in this process run: ours
 * here, node through `node -e` with the equivalent script timed inside it
 * with process.hrtime, libuv linked in. Rates are operations per second,
 * the best of RUNS runs on each side (the machine is shared); the ratio is
 * ours / theirs (higher is better for us).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "loopscope/runtime.h"
#include "loopscope/trace.h"

#define N_CALLBACKS 1000000
#define BATCH 100000 /* objects re-armed until N_CALLBACKS ran */
/* Each round of setTimeout(0) waits 1 ms on both sides: few big rounds, so
 * the figure is about the timers, not about sleeping. */
#define TIMEOUT_BATCH 500000
#define N_ITERATIONS 2000000
#define N_TIMER_OPS 1000000
#define N_ROUND_TRIPS 20000
#define RUNS 3

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void rate_text(char *out, size_t n, double rate) {
  if (rate >= 1e6)
    snprintf(out, n, "%.2fM/s", rate / 1e6);
  else
    snprintf(out, n, "%.1fk/s", rate / 1e3);
}

static void print_rates(const char *name, double ours, double theirs) {
  char a[32], b[32], r[32];
  rate_text(a, sizeof(a), ours);
  rate_text(b, sizeof(b), theirs);
  if (theirs > 0)
    snprintf(r, sizeof(r), "%.2fx", ours / theirs);
  else
    snprintf(r, sizeof(r), "n/a");
  printf("%-44s %14s %14s %8s\n", name, a, theirs > 0 ? b : "n/a", r);
  fflush(stdout);
}

/* Runs `node -e script`; the script prints the elapsed ns. 0 on failure. */
static double node_ns(const char *script) {
  char cmd[4096];
  snprintf(cmd, sizeof(cmd), "node -e '%s' 2>/dev/null", script);
  FILE *p = popen(cmd, "r");
  if (!p)
    return 0;
  double ns = 0;
  if (fscanf(p, "%lf", &ns) != 1)
    ns = 0;
  pclose(p);
  return ns;
}

static double node_rate(const char *script, double ops) {
  double best = 0;
  for (int i = 0; i < RUNS; i++) {
    double ns = node_ns(script);
    if (ns > 0 && ops * 1e9 / ns > best)
      best = ops * 1e9 / ns;
  }
  return best;
}

static double best_of(double (*run)(void)) {
  double best = 0;
  for (int i = 0; i < RUNS; i++) {
    double r = run();
    if (r > best)
      best = r;
  }
  return best;
}

/* ---- setImmediate / setTimeout(0) / nextTick ---- */

static ls_loop loop;
static long remaining;

/* The caller-owned structs live in static arrays, touched before the clock
 * starts: a fresh calloc of 48 MB per run made the figure mostly the
 * kernel's first-touch page faults (and as noisy as the machine's memory
 * pressure), where node's side allocates from a heap that is already
 * mapped. Their init calls stay inside the timed part. */
static ls_immediate immediates[BATCH];
static ls_timer timeout_timers[TIMEOUT_BATCH];

static void on_immediate(ls_immediate *i) {
  if (--remaining >= BATCH)
    ls_set_immediate(&loop, i, on_immediate);
}

static double ours_immediates(void) {
  ls_immediate *imm = immediates;
  memset(immediates, 0, sizeof(immediates));
  ls_loop_init(&loop);
  remaining = N_CALLBACKS;
  uint64_t t0 = now_ns();
  for (int i = 0; i < BATCH; i++)
    ls_set_immediate(&loop, &imm[i], on_immediate);
  ls_run(&loop, LS_RUN_DEFAULT);
  uint64_t dt = now_ns() - t0;
  ls_loop_close(&loop);
  return N_CALLBACKS * 1e9 / (double)dt;
}

static void on_timeout(ls_timer *t) {
  if (--remaining >= TIMEOUT_BATCH)
    ls_set_timeout(t, on_timeout, 0);
}

static double ours_timeouts(void) {
  ls_timer *timers = timeout_timers;
  memset(timeout_timers, 0, sizeof(timeout_timers));
  ls_loop_init(&loop);
  remaining = N_CALLBACKS;
  uint64_t t0 = now_ns();
  for (int i = 0; i < TIMEOUT_BATCH; i++) {
    ls_timer_init(&loop, &timers[i]);
    ls_set_timeout(&timers[i], on_timeout, 0);
  }
  ls_run(&loop, LS_RUN_DEFAULT);
  uint64_t dt = now_ns() - t0;
  ls_loop_close(&loop);
  return N_CALLBACKS * 1e9 / (double)dt;
}

static void on_tick(void *arg) {
  (void)arg;
  if (--remaining > 0)
    ls_next_tick(&loop, on_tick, NULL);
}

static double ours_ticks(void) {
  ls_loop_init(&loop);
  remaining = N_CALLBACKS;
  uint64_t t0 = now_ns();
  ls_next_tick(&loop, on_tick, NULL);
  ls_run(&loop, LS_RUN_DEFAULT);
  uint64_t dt = now_ns() - t0;
  ls_loop_close(&loop);
  return N_CALLBACKS * 1e9 / (double)dt;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* The same shapes in JS: BATCH objects re-armed until N ran. */
static const char node_immediates[] =
    "let left = " STR(N_CALLBACKS) "; const t0 = process.hrtime.bigint();"
    "function f() { if (--left >= " STR(BATCH) ") setImmediate(f);"
    " else if (left === 0) console.log(String(process.hrtime.bigint() - t0)); }"
    "for (let i = 0; i < " STR(BATCH) "; i++) setImmediate(f);";

static const char node_timeouts[] =
    "let left = " STR(N_CALLBACKS) "; const t0 = process.hrtime.bigint();"
    "function f() { if (--left >= " STR(TIMEOUT_BATCH) ") setTimeout(f, 0);"
    " else if (left === 0) console.log(String(process.hrtime.bigint() - t0)); }"
    "for (let i = 0; i < " STR(TIMEOUT_BATCH) "; i++) setTimeout(f, 0);";

static const char node_ticks[] =
    "let left = " STR(N_CALLBACKS) "; const t0 = process.hrtime.bigint();"
    "function f() { if (--left > 0) process.nextTick(f);"
    " else console.log(String(process.hrtime.bigint() - t0)); }"
    "process.nextTick(f);";

/* ---- empty loop iterations: an idle handle on both sides ---- */

static long iterations_left;

static void on_idle(ls_idle *h) {
  if (--iterations_left == 0)
    ls_idle_stop(h);
}

static double ours_iterations(void) {
  ls_idle idle;
  ls_loop_init(&loop);
  ls_idle_init(&loop, &idle);
  ls_idle_start(&idle, on_idle);
  iterations_left = N_ITERATIONS;
  uint64_t t0 = now_ns();
  ls_run(&loop, LS_RUN_DEFAULT);
  uint64_t dt = now_ns() - t0;
  ls_close((ls_handle *)&idle, NULL);
  ls_run(&loop, LS_RUN_DEFAULT);
  ls_loop_close(&loop);
  return N_ITERATIONS * 1e9 / (double)dt;
}

static void on_uv_idle(uv_idle_t *h) {
  if (--iterations_left == 0)
    uv_idle_stop(h);
}

static double uv_iterations(void) {
  uv_loop_t uvl;
  uv_idle_t idle;
  uv_loop_init(&uvl);
  uv_idle_init(&uvl, &idle);
  uv_idle_start(&idle, on_uv_idle);
  iterations_left = N_ITERATIONS;
  uint64_t t0 = now_ns();
  uv_run(&uvl, UV_RUN_DEFAULT);
  uint64_t dt = now_ns() - t0;
  uv_close((uv_handle_t *)&idle, NULL);
  uv_run(&uvl, UV_RUN_DEFAULT);
  uv_loop_close(&uvl);
  return N_ITERATIONS * 1e9 / (double)dt;
}

/* ---- timer start + stop ---- */

static void never(ls_timer *t) { (void)t; }
static void uv_never(uv_timer_t *t) { (void)t; }

static double ours_timer_ops(void) {
  ls_timer t;
  ls_loop_init(&loop);
  ls_timer_init(&loop, &t);
  uint64_t t0 = now_ns();
  for (int i = 0; i < N_TIMER_OPS; i++) {
    ls_set_timeout(&t, never, 1000);
    ls_clear_timer(&t);
  }
  uint64_t dt = now_ns() - t0;
  ls_loop_close(&loop);
  return N_TIMER_OPS * 1e9 / (double)dt;
}

/* Node's setTimeout reads the clock (getLibuvNow -> uv_update_time) before
 * it files the timer; uv_timer_start uses the cached loop time. Measured
 * both ways so the cost of that clock read is visible. */
static bool uv_with_clock;

static double uv_timer_ops(void) {
  uv_loop_t uvl;
  uv_timer_t t;
  uv_loop_init(&uvl);
  uv_timer_init(&uvl, &t);
  uint64_t t0 = now_ns();
  for (int i = 0; i < N_TIMER_OPS; i++) {
    if (uv_with_clock)
      uv_update_time(&uvl);
    uv_timer_start(&t, uv_never, 1000, 0);
    uv_timer_stop(&t);
  }
  uint64_t dt = now_ns() - t0;
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&uvl, UV_RUN_DEFAULT);
  uv_loop_close(&uvl);
  return N_TIMER_OPS * 1e9 / (double)dt;
}

/* ---- TCP ping-pong on loopback ---- */

static ls_tcp server, accepted, client;
static ls_connect_req connect_req;
static ls_write_req ping_req, pong_req;
static char sbuf[64], cbuf[64];
static long trips_left;
static uint64_t pingpong_t0, pingpong_dt;

static void salloc(ls_tcp *t, size_t n, ls_buf *b) {
  (void)t;
  (void)n;
  *b = ls_buf_init(sbuf, sizeof(sbuf));
}

static void calloc_cb(ls_tcp *t, size_t n, ls_buf *b) {
  (void)t;
  (void)n;
  *b = ls_buf_init(cbuf, sizeof(cbuf));
}

static void on_server_read(ls_tcp *t, long nread, const ls_buf *b) {
  if (nread > 0) {
    ls_buf out = ls_buf_init(b->base, (size_t)nread);
    ls_write(&pong_req, t, &out, 1, NULL);
  } else if (nread < 0) {
    ls_close((ls_handle *)t, NULL);
  }
}

static void on_conn(ls_tcp *srv, int status) {
  if (status < 0)
    return;
  ls_tcp_init(&loop, &accepted);
  ls_tcp_accept(srv, &accepted);
  ls_tcp_nodelay(&accepted, 1);
  ls_read_start(&accepted, salloc, on_server_read);
  ls_close((ls_handle *)srv, NULL);
}

static void ping(ls_tcp *t) {
  ls_buf b = ls_buf_init("p", 1);
  ls_write(&ping_req, t, &b, 1, NULL);
}

static void on_client_read(ls_tcp *t, long nread, const ls_buf *b) {
  (void)b;
  if (nread <= 0)
    return;
  if (--trips_left > 0) {
    ping(t);
  } else {
    pingpong_dt = now_ns() - pingpong_t0;
    ls_close((ls_handle *)t, NULL);
  }
}

static void on_connected(ls_connect_req *req, int status) {
  if (status < 0)
    return;
  ls_tcp_nodelay(req->handle, 1);
  ls_read_start(req->handle, calloc_cb, on_client_read);
  pingpong_t0 = now_ns();
  ping(req->handle);
}

static double ours_pingpong(void) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  socklen_t len = sizeof(bound);
  ls_loop_init(&loop);
  ls_ip4_addr("127.0.0.1", 0, &addr);
  ls_tcp_init(&loop, &server);
  if (ls_tcp_bind(&server, (struct sockaddr *)&addr) ||
      ls_tcp_listen(&server, 8, on_conn) ||
      ls_tcp_getsockname(&server, (struct sockaddr *)&bound, &len))
    return 0;
  ls_tcp_init(&loop, &client);
  ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                 on_connected);
  trips_left = N_ROUND_TRIPS;
  pingpong_dt = 0;
  ls_run(&loop, LS_RUN_DEFAULT);
  ls_loop_close(&loop);
  return pingpong_dt ? N_ROUND_TRIPS * 1e9 / (double)pingpong_dt : 0;
}

static const char node_pingpong[] =
    "const net = require(\"net\"); let left = " STR(N_ROUND_TRIPS) "; let t0;"
    "const srv = net.createServer((s) => { s.setNoDelay(true);"
    " s.on(\"data\", (d) => s.write(d)); srv.close(); });"
    "srv.listen(0, \"127.0.0.1\", () => {"
    " const c = net.connect(srv.address().port, \"127.0.0.1\", () => {"
    "  c.setNoDelay(true); t0 = process.hrtime.bigint(); c.write(\"p\"); });"
    " c.on(\"data\", () => { if (--left > 0) c.write(\"p\"); else {"
    "  console.log(String(process.hrtime.bigint() - t0)); c.destroy(); } });"
    "});";

/* ---- tracing cost ---- */

/* Traced runs share one session whose ring holds a whole run (3 events per
 * immediate, 2^22 slots): each run starts once the writer thread has had
 * time to drain the last one, so the figure is the cost of recording every
 * event into warm ring pages, not of dropping events or of first-touch page
 * faults. */
static double traced_immediates(void) {
  usleep(300000);
  return ours_immediates();
}

static void traced_vs_untraced(void) {
  char path[64];
  snprintf(path, sizeof(path), "/tmp/bench_runtime-%d.fxt", (int)getpid());
  double untraced = best_of(ours_immediates);
  ls_trace_opts opts = {.mode = LS_TRACE_DISCARD, .ring_slots = 1u << 22};
  if (ls_trace_start(path, &opts) != 0) {
    fprintf(stderr, "bench_runtime: cannot trace to %s\n", path);
    return;
  }
  double traced = best_of(traced_immediates);
  ls_trace_stop();
  uint64_t lost = ls_trace_lost();
  unlink(path);
  print_rates("1M setImmediate traced vs untraced", traced, untraced);
  if (lost)
    fprintf(stderr, "bench_runtime: traced runs dropped %llu events\n",
            (unsigned long long)lost);
}

/* `bench_runtime [word]` runs only the figures whose name contains word
 * (e.g. "TCP", to look at one side under strace or perf). */
static const char *only;

static bool wanted(const char *name) {
  return only == NULL || strstr(name, only) != NULL;
}

#define FIGURE(name, ours, theirs)                                           \
  do {                                                                       \
    if (wanted(name))                                                        \
      print_rates(name, ours, theirs);                                       \
  } while (0)

int main(int argc, char **argv) {
  only = argc > 1 ? argv[1] : NULL;
  FIGURE("1M setImmediate vs node (goal 10x)", best_of(ours_immediates),
         node_rate(node_immediates, N_CALLBACKS));
  FIGURE("1M setTimeout(0) vs node (goal 10x)", best_of(ours_timeouts),
         node_rate(node_timeouts, N_CALLBACKS));
  FIGURE("1M nextTick chain vs node (goal 10x)", best_of(ours_ticks),
         node_rate(node_ticks, N_CALLBACKS));
  FIGURE("empty loop iterations vs libuv idle (goal 1x)",
         best_of(ours_iterations), best_of(uv_iterations));
  FIGURE("1M timer start+stop vs libuv (goal 1x)", best_of(ours_timer_ops),
         best_of(uv_timer_ops));
  uv_with_clock = true;
  FIGURE("1M timer start+stop vs libuv+uv_update_time",
         best_of(ours_timer_ops), best_of(uv_timer_ops));
  FIGURE("TCP ping-pong round trips vs node (goal 3x)",
         best_of(ours_pingpong), node_rate(node_pingpong, N_ROUND_TRIPS));
  if (wanted("1M setImmediate traced vs untraced"))
    traced_vs_untraced();
  return 0;
}
