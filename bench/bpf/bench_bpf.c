/* What the eBPF tracer costs.
 *
 * 1. Per probe hit: this program runs itself as a target whose fake libuv
 *    phase functions do nothing, calls them in a tight loop, and reports how
 *    long that took, untraced and with the tracer attached (phases level).
 *    The difference per call is the cost of a hit: the trap, the BPF program,
 *    the ring-buffer record, and the converter competing for the CPU.
 *    For scale, a uprobe that only bumps a perf counter (no BPF program):
 *    the trap and the kernel's uprobe machinery on this machine.
 * 2. On a real workload: requests per second of a keep-alive node http
 *    server on loopback, loaded from a separate client process, untraced and
 *    traced at each level.
 *
 * Needs root and kernel BTF; says why and exits 0 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loopscope/bpf.h"

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void row_digits(const char *name, double ours, double theirs,
                       int digits) {
  char a[32], b[32], r[32];
  snprintf(a, sizeof(a), "%.*f", digits, ours);
  snprintf(b, sizeof(b), "%.*f", digits, theirs);
  snprintf(r, sizeof(r), "%.2fx", theirs > 0 ? ours / theirs : 0);
  printf("%-44s %14s %14s %8s\n", name, a, b, r);
  fflush(stdout);
}

static void row(const char *name, double ours, double theirs) {
  row_digits(name, ours, theirs, 0);
}

/* ------------------------------------------------ the probe-hit target */

/* Named like libuv's so the tracer attaches to them; they do nothing. They
 * begin like node's functions (frame pointer: push %rbp), which matters: the
 * kernel emulates that instruction after the breakpoint, while most others
 * need a single-step trap too, which costs ~20 us more in a VM. */
#define FAKE(name)                                                       \
  __asm__(".text\n.globl " #name "\n.type " #name ",@function\n" #name   \
          ":\n push %rbp\n mov %rsp, %rbp\n xor %eax, %eax\n pop %rbp\n"  \
          " ret\n.size " #name ", .-" #name "\n");                         \
  int name(void *loop)
FAKE(uv__run_idle);
FAKE(uv__run_prepare);
FAKE(uv__run_check);
FAKE(uv__run_timers);
FAKE(uv__io_poll);

/* Idle has an entry probe only, check an entry and a return probe. */
__attribute__((noinline, used)) int uv_run(void *loop, long n);
__attribute__((noinline, used)) int uv_run(void *loop, long n) {
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++)
    uv__run_idle(loop);
  uint64_t t1 = now_ns();
  for (long i = 0; i < n; i++)
    uv__run_check(loop);
  uint64_t t2 = now_ns();
  printf("%llu %llu\n", (unsigned long long)(t1 - t0),
         (unsigned long long)(t2 - t1));
  return 0;
}

static int target_main(long n) {
  static char loop[64];
  return uv_run(loop, n);
}

/* ------------------------------------------------ running traced */

typedef struct traced {
  ls_bpf_child child;
  ls_bpf *b;
  ls_writer *w;
  int devnull;
  int out;       /* the child's stdout */
  bool deferred; /* read the ring buffer only once the child is done */
} traced;

static int bare_uprobe(const char *self, pid_t pid);

/* Starts argv, stdout into a pipe, traced at level (or not, level < 0; or
 * with a bare uprobe, *bare, on self's uv__run_idle). */
static int start(char *const argv[], int level, traced *t, int *bare,
                 const char *self) {
  char err[1024];
  int p[2];
  memset(t, 0, sizeof(*t));
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  int saved = dup(1);
  dup2(p[1], 1);
  int rc = ls_bpf_spawn(&t->child, argv, err, sizeof(err));
  dup2(saved, 1);
  close(saved);
  close(p[1]);
  t->out = p[0];
  if (rc < 0) {
    fprintf(stderr, "bench_bpf: %s\n", err);
    return -1;
  }
  if (level >= 0) {
    t->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    ls_writer_open(&t->w, t->devnull, 1000000000, "ebpf");
    ls_bpf_opts o = {.pid = t->child.pid, .exe = t->child.exe,
                     .level = (ls_bpf_level)level, .ring_bytes = 64u << 20};
    if (ls_bpf_open(&t->b, &o, t->w, err, sizeof(err)) < 0) {
      fprintf(stderr, "bench_bpf: %s\n", err);
      ls_bpf_spawn_abort(&t->child);
      return -1;
    }
  }
  if (bare && (*bare = bare_uprobe(self, t->child.pid)) < 0) {
    fprintf(stderr, "bench_bpf: bare uprobe: %s\n", strerror(errno));
    ls_bpf_spawn_abort(&t->child);
    return -1;
  }
  if (ls_bpf_spawn_go(&t->child, err, sizeof(err)) < 0) {
    fprintf(stderr, "bench_bpf: %s\n", err);
    return -1;
  }
  return 0;
}

/* Drains the tracer until fd is readable or the child exits. */
static void pump(traced *t, int fd) {
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (t->b && !t->deferred)
      ls_bpf_poll(t->b, 0);
    if (poll(&p, 1, 10) > 0)
      return;
  }
}

static void stop(traced *t, ls_bpf_stats *st) {
  kill(t->child.pid, SIGTERM);
  while (waitpid(t->child.pid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (t->b) {
    ls_bpf_close(t->b, st);
    ls_writer_close(t->w);
    close(t->devnull);
  }
  close(t->out);
}

static int read_line(traced *t, char *buf, size_t len) {
  size_t n = 0;
  while (n + 1 < len) {
    pump(t, t->out);
    ssize_t r = read(t->out, buf + n, 1);
    if (r <= 0)
      return -1;
    if (buf[n] == '\n')
      break;
    n++;
  }
  buf[n] = 0;
  return 0;
}

/* The file offset of uv__run_idle in this executable (uprobes take it). */
static uint64_t idle_offset(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  uint64_t addr = (uint64_t)(uintptr_t)&uv__run_idle, off = 0;
  while (f && fgets(line, sizeof(line), f)) {
    unsigned long long lo, hi, foff;
    if (sscanf(line, "%llx-%llx %*s %llx", &lo, &hi, &foff) == 3 && addr >= lo &&
        addr < hi)
      off = addr - lo + foff;
  }
  if (f)
    fclose(f);
  return off;
}

/* A uprobe with no BPF program on the child's uv__run_idle: the kernel's
 * trap and uprobe machinery for scale (the perf-event path it takes is not
 * free either: under load it can cost more than our uprobe_multi hits). */
static int bare_uprobe(const char *self, pid_t pid) {
  int type = -1;
  FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
  if (!f || fscanf(f, "%d", &type) != 1)
    type = -1;
  if (f)
    fclose(f);
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = (uint32_t)type;
  a.config1 = (uint64_t)(uintptr_t)self;
  a.config2 = idle_offset();
  return type < 0 ? -1 : (int)syscall(SYS_perf_event_open, &a, pid, -1, -1,
                                      PERF_FLAG_FD_CLOEXEC);
}

#define BARE (-2) /* level: a bare uprobe on idle, no tracer */

/* Returns ns per call for idle (entry probe) and check (entry + return). */
static int probe_hits(const char *self, long n, int level, double *idle,
                      double *check) {
  char arg[32], line[128];
  snprintf(arg, sizeof(arg), "%ld", n);
  char *argv[] = {(char *)self, "--target", arg, NULL};
  traced t;
  unsigned long long a, b;
  int bare = -1;
  if (start(argv, level, &t, level == BARE ? &bare : NULL, self) < 0)
    return -1;
  /* The cost in the target only: converting records is the tracer's own
   * CPU time, which on a 2-core machine would be taken from the target. */
  t.deferred = true;
  int rc = read_line(&t, line, sizeof(line));
  stop(&t, NULL);
  if (bare >= 0)
    close(bare);
  if (rc < 0 || sscanf(line, "%llu %llu", &a, &b) != 2)
    return -1;
  *idle = (double)a / (double)n;
  *check = (double)b / (double)n;
  return 0;
}

/* ns per iteration of the runtime loop, traced at level or not; *hooks =
 * USDT records per iteration when traced. */
static double runtime_loop(const char *exe, long n, int level, double *hooks) {
  char arg[32], line[64];
  snprintf(arg, sizeof(arg), "%ld", n);
  char *argv[] = {(char *)exe, arg, NULL};
  traced t;
  ls_bpf_stats st = {0};
  if (start(argv, level, &t, NULL, NULL) < 0)
    return -1;
  int rc = read_line(&t, line, sizeof(line));
  stop(&t, &st);
  if (hooks && st.records)
    *hooks = (double)st.records / (double)n;
  return rc < 0 ? -1 : strtod(line, NULL) / (double)n;
}

/* ------------------------------------------------ http load */

/* Keeps `conns` keep-alive connections busy for `seconds`; returns
 * completed responses. Runs in its own process. */
static long http_load(int port, double seconds, int conns) {
  static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  struct pollfd pfd[16];
  char buf[16][4096];
  size_t len[16] = {0};
  long done = 0;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  for (int i = 0; i < conns; i++) {
    int one = 1;
    pfd[i].fd = socket(AF_INET, SOCK_STREAM, 0);
    pfd[i].events = POLLIN;
    setsockopt(pfd[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(pfd[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        write(pfd[i].fd, req, sizeof(req) - 1) < 0)
      return -1;
  }
  uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
  while (now_ns() < end) {
    if (poll(pfd, (nfds_t)conns, 100) <= 0)
      continue;
    for (int i = 0; i < conns; i++) {
      if (!(pfd[i].revents & POLLIN))
        continue;
      ssize_t r = read(pfd[i].fd, buf[i] + len[i], sizeof(buf[i]) - 1 - len[i]);
      if (r <= 0)
        return -1;
      len[i] += (size_t)r;
      buf[i][len[i]] = 0;
      char *hdr_end, *cl;
      while ((hdr_end = strstr(buf[i], "\r\n\r\n")) &&
             (cl = strcasestr(buf[i], "content-length:")) && cl < hdr_end) {
        size_t total = (size_t)(hdr_end + 4 - buf[i]) + strtoul(cl + 15, NULL, 10);
        if (len[i] < total)
          break;
        memmove(buf[i], buf[i] + total, len[i] - total + 1);
        len[i] -= total;
        done++;
        if (write(pfd[i].fd, req, sizeof(req) - 1) < 0)
          return -1;
      }
    }
  }
  return done;
}

/* Requests per second against a fresh server traced at level (< 0: not). */
static double http_rps(int level, double seconds, ls_bpf_stats *st) {
  char server[512], line[64];
  snprintf(server, sizeof(server), "%s/http_server.js", LS_BENCH_DIR);
  char *argv[] = {"node", server, NULL};
  traced t;
  int p[2];
  long done = -1;
  if (start(argv, level, &t, NULL, NULL) < 0)
    return -1;
  if (read_line(&t, line, sizeof(line)) < 0 || pipe(p) < 0) {
    stop(&t, NULL);
    return -1;
  }
  pid_t client = fork();
  if (client == 0) {
    long n = http_load(atoi(line), seconds, 4);
    ssize_t unused = write(p[1], &n, sizeof(n));
    (void)unused;
    _exit(0);
  }
  close(p[1]);
  pump(&t, p[0]);
  if (read(p[0], &done, sizeof(done)) != sizeof(done))
    done = -1;
  close(p[0]);
  waitpid(client, NULL, 0);
  stop(&t, st);
  return done < 0 ? -1 : (double)done / seconds;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--target"))
    return target_main(atol(argv[2]));
  char why[512], self[4096];
  if (ls_bpf_check_system(why, sizeof(why)) < 0) {
    fprintf(stderr, "bench_bpf: skipped: %s\n", why);
    return 0;
  }
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n < 0)
    return 1;
  self[n] = 0;

  /* Best of three: the machine is shared. */
  double idle0 = 1e9, check0 = 1e9, idle1 = 1e9, check1 = 1e9, bare = 1e9, i, c;
  const long calls = 200000;
  for (int k = 0; k < 3; k++) {
    if (probe_hits(self, calls, -1, &i, &c) == 0)
      idle0 = i < idle0 ? i : idle0, check0 = c < check0 ? c : check0;
    if (probe_hits(self, calls, BARE, &i, &c) == 0)
      bare = i < bare ? i : bare;
    if (probe_hits(self, calls, LS_BPF_PHASES, &i, &c) == 0)
      idle1 = i < idle1 ? i : idle1, check1 = c < check1 ? c : check1;
  }
  row("uprobe without BPF, perf counter (ns, goal)", bare - idle0, 1200);
  row("bpf uprobe hit, entry (ns, goal)", idle1 - idle0, 1200);
  row("bpf uprobe hit, entry+return (ns/probe, goal)", (check1 - check0) / 2, 1200);

#ifdef LS_RUNTIME_LOOP
  /* USDT: what the probes cost a program on our runtime that nobody traces
   * (a nop per hook), and what a traced hook costs. */
  double with = 1e18, without = 1e18, traced_ns = 1e18, hooks = 0;
  const long iters = 300000;
  /* The difference is a few ns per iteration, well under the noise of a
   * shared machine: many short runs in turn, best of each. */
  for (int k = 0; k < 9; k++) {
    double w = runtime_loop(LS_RUNTIME_LOOP, iters, -1, NULL);
    double p = runtime_loop(LS_RUNTIME_LOOP_NOUSDT, iters, -1, NULL);
    with = w > 0 && w < with ? w : with;
    without = p > 0 && p < without ? p : without;
  }
  for (int k = 0; k < 3; k++) {
    double t = runtime_loop(LS_RUNTIME_LOOP, iters / 30, LS_BPF_PHASES, &hooks);
    traced_ns = t > 0 && t < traced_ns ? t : traced_ns;
  }
  /* iterations per second: higher is better, as for the http figures */
  row("runtime iter/s, USDT untraced vs no USDT", 1e9 / with, 1e9 / without);
  if (hooks > 0)
    row("bpf USDT probe hit (ns, goal)", (traced_ns - with) / hooks, 1200);
#endif

  if (system("node --version >/dev/null 2>&1") != 0) {
    fprintf(stderr, "bench_bpf: node not found: no http figures\n");
    return 0;
  }
  static const char *const names[] = {
    "node http req/s, phases vs untraced",
    "node http req/s, callbacks vs untraced",
    "node http req/s, full vs untraced",
  };
  /* Each probe hit costs the target about one bpf uprobe hit (a trap into
   * the kernel), so a level's goal allows (1 - goal) of a request's time in
   * hits: that budget next to the hits per request the level records. */
  static const char *const budget_names[] = {
    "http probe hits/request vs budget, phases",
    NULL,
    "http probe hits/request vs budget, full",
  };
  static const double goals[] = {0.93, 0, 0.8};
  const double hit_ns = idle1 - idle0;
  /* Short runs in pairs, untraced then traced, and the pair with the median
   * ratio: load from the rest of the machine comes and goes, and a pair sees
   * about the same load on both sides. */
  enum { PAIRS = 5 };
  const double seconds = 0.6;
  for (int level = LS_BPF_PHASES; level <= LS_BPF_FULL; level++) {
    double plain[PAIRS], traced_rps[PAIRS], ratio[PAIRS], hits[PAIRS];
    ls_bpf_stats st = {0};
    for (int k = 0; k < PAIRS; k++) {
      plain[k] = http_rps(-1, seconds, NULL);
      traced_rps[k] = http_rps(level, seconds, &st);
      if (plain[k] <= 0 || traced_rps[k] <= 0) {
        fprintf(stderr, "bench_bpf: http run failed\n");
        return 1;
      }
      ratio[k] = traced_rps[k] / plain[k];
      hits[k] = (double)st.records / (traced_rps[k] * seconds);
      if (st.lost)
        fprintf(stderr, "bench_bpf: %s: %llu records lost\n", names[level],
                (unsigned long long)st.lost);
    }
    int median = 0;
    for (int k = 0; k < PAIRS; k++) {
      int below = 0;
      for (int j = 0; j < PAIRS; j++)
        below += ratio[j] < ratio[k] || (ratio[j] == ratio[k] && j < k);
      if (below == PAIRS / 2)
        median = k;
    }
    row(names[level], traced_rps[median], plain[median]);
    if (budget_names[level])
      row_digits(budget_names[level], hits[median],
                 (1 - goals[level]) * (1e9 / plain[median]) / hit_ns, 1);
  }
  return 0;
}
