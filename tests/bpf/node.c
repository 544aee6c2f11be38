/* The eBPF tracer on real node programs: attach before the first
 * instruction, run to the end, check what the trace says about the loop. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* Slices nest and close on every thread: every end matches the innermost
 * open begin, and nothing is left open. */
static void check_nesting(const trace *t) {
  enum { MAX_T = 64, MAX_D = 128 };
  uint64_t tids[MAX_T];
  const char *stack[MAX_T][MAX_D];
  unsigned depth[MAX_T], nt = 0;
  for (size_t i = 0; i < t->n; i++) {
    const ls_event *e = &t->ev[i];
    if (e->type != LS_EV_BEGIN && e->type != LS_EV_END)
      continue;
    unsigned k = 0;
    while (k < nt && tids[k] != e->tid)
      k++;
    if (k == nt) {
      cr_assert_lt(nt, MAX_T);
      tids[nt] = e->tid;
      depth[nt++] = 0;
    }
    if (e->type == LS_EV_BEGIN) {
      cr_assert_lt(depth[k], MAX_D);
      stack[k][depth[k]++] = e->name;
    } else {
      cr_assert_gt(depth[k], 0, "end of %s/%s with nothing open", e->category, e->name);
      depth[k]--;
      cr_assert_str_eq(stack[k][depth[k]], e->name, "end %s closes begin %s",
                       e->name, stack[k][depth[k]]);
    }
  }
  for (unsigned k = 0; k < nt; k++)
    cr_assert_eq(depth[k], 0, "thread %llu: %u slices left open",
                 (unsigned long long)tids[k], depth[k]);
}

/* Every iteration on the loop thread runs libuv 1.46's phases in order:
 * pending idle prepare poll [pending] check close timers. Returns how many
 * iterations there were. */
static size_t check_iterations(const trace *t) {
  static const char *const order[] = {"pending", "idle", "prepare", "poll",
                                      "pending", "check", "close", "timers"};
  size_t iterations = 0;
  int pos = -1, depth = 0;
  bool in_iter = false;
  unsigned seen = 0;
  for (size_t i = 0; i < t->n; i++) {
    const ls_event *e = &t->ev[i];
    if (e->tid != (uint64_t)t->pid || (e->type != LS_EV_BEGIN && e->type != LS_EV_END))
      continue;
    if (!strcmp(e->category, "loop")) {
      if (e->type == LS_EV_BEGIN) {
        cr_assert(!in_iter, "iteration inside an iteration");
        const ls_arg *n = arg(e, "n");
        cr_assert(n, "iteration without n");
        in_iter = true, pos = -1, seen = 0, depth = 0;
      } else {
        cr_assert(in_iter);
        /* pending, idle, prepare, poll, check, close, timers: all there */
        cr_assert_eq(seen & 0xEF, 0xEF, "iteration %zu misses phases (mask %x)",
                     iterations, seen);
        in_iter = false;
        iterations++;
      }
      continue;
    }
    if (!in_iter)
      continue;
    if (e->type == LS_EV_END) {
      depth--;
      continue;
    }
    if (depth++ != 0 || strcmp(e->category, "phase"))
      continue;
    int p = pos + 1;
    while (p < 8 && strcmp(order[p], e->name))
      p++;
    cr_assert_lt(p, 8, "iteration %zu: phase %s out of order (after %s)",
                 iterations, e->name, pos >= 0 ? order[pos] : "start");
    pos = p;
    seen |= 1u << p;
  }
  return iterations;
}

/* Runs tests/bpf/js/<script> under the tracer at `level`: it exits 0,
 * prints `output` (unless NULL), its slices nest and its iterations run
 * their phases in order. Returns how many iterations there were. */
static size_t trace_node(const char *script, ls_bpf_level level,
                         const char *output, trace *t) {
  char path[512], out[512], *argv[3];
  skip_unless_bpf(true);
  /* Tests run in parallel (--jobs), some on the same script. */
  snprintf(out, sizeof(out), "/tmp/ls-bpf-%d-%s.out", (int)getpid(), script);
  node_argv(script, path, sizeof(path), argv);
  run_traced(argv, level, out, t);
  cr_assert(WIFEXITED(t->status) && WEXITSTATUS(t->status) == 0,
            "%s: wait status %#x", script, t->status);
  if (output)
    check_output(out, output);
  unlink(out);
  check_nesting(t);
  return check_iterations(t);
}

TestSuite(bpf_node, .timeout = 60);

Test(bpf_node, timers_phases_and_lateness) {
  trace t;
  size_t iters = trace_node("timers.js", LS_BPF_PHASES,
                            "immediate\nread true\nticks 20\n", &t);
  /* 20 ticks of 10 ms: at least one iteration each. */
  cr_assert_geq(iters, 20, "%zu iterations", iters);
  cr_assert_str_eq(thread_name(&t, t.pid), "loop");
  /* A timers phase that ran a due timer says how late it was. */
  size_t lag = count(&t, t.pid, LS_EV_COUNTER, "counter", "lag_us");
  cr_assert_geq(lag, 18, "%zu lateness counters", lag);
  /* Poll slices carry their timeout; 10 ms timers mean 0 < timeout <= 10. */
  size_t polls = 0, timed = 0;
  for (size_t i = 0; i < t.n; i++) {
    const ls_event *e = &t.ev[i];
    if (e->tid != (uint64_t)t.pid || e->type != LS_EV_BEGIN || strcmp(e->name, "poll"))
      continue;
    const ls_arg *to = arg(e, "timeout_ms");
    cr_assert(to);
    polls++;
    timed += to->v.i > 0 && to->v.i <= 10;
  }
  cr_assert_geq(polls, iters);
  cr_assert_geq(timed, 5, "%zu polls waited for a timer", timed);
  trace_free(&t);
}

Test(bpf_node, immediates_one_per_iteration) {
  trace t;
  size_t iters = trace_node("immediates.js", LS_BPF_CALLBACKS, NULL, &t);
  cr_assert_geq(iters, 300, "%zu iterations for 300 chained immediates", iters);
  size_t imm = count(&t, t.pid, LS_EV_BEGIN, "immediate", NULL);
  cr_assert_geq(imm, 300, "%zu JS entries in check phases", imm);
  /* node enters JS at most twice per check phase (native immediates, then
   * processImmediate). */
  cr_assert_leq(imm, 2 * iters + 10, "%zu JS entries, %zu iterations", imm, iters);
  trace_free(&t);
}

Test(bpf_node, fs_work_on_worker_threads) {
  trace t;
  trace_node("fs.js", LS_BPF_FULL, NULL, &t);
  /* readFile = open, fstat, read, read, close: each a pool slice. */
  size_t pool = 0, queued = count(&t, t.pid, LS_EV_INSTANT, "sched", "threadpool");
  for (size_t i = 0; i < t.n; i++) {
    const ls_event *e = &t.ev[i];
    if (e->type != LS_EV_BEGIN || strcmp(e->category, "pool"))
      continue;
    cr_assert_neq(e->tid, (uint64_t)t.pid, "pool work on the loop thread");
    const char *name = thread_name(&t, e->tid);
    cr_assert(name && !strncmp(name, "pool-", 5), "worker named %s", name);
    cr_assert(arg(e, "id"));
    pool++;
  }
  cr_assert_geq(pool, 20 * 4, "%zu pool slices for 20 readFile", pool);
  cr_assert_geq(queued, pool, "%zu queued, %zu ran", queued, pool);
  /* Named by operation: readFile opens, stats, reads and closes. */
  cr_assert_geq(count(&t, 0, LS_EV_BEGIN, "pool", "fs.open"), 20);
  cr_assert_geq(count(&t, 0, LS_EV_BEGIN, "pool", "fs.read"), 20);
  cr_assert_geq(count(&t, 0, LS_EV_BEGIN, "pool", "fs.close"), 20);
  size_t done = count(&t, t.pid, LS_EV_BEGIN, "fs", NULL);
  cr_assert_geq(done, pool, "%zu completions", done);
  /* queued -> running: a flow from the loop thread to a worker. */
  cr_assert_geq(count(&t, 0, LS_EV_FLOW_BEGIN, "flow", "flow"), pool);
  cr_assert_geq(count(&t, 0, LS_EV_FLOW_END, "flow", "flow"), pool);
  trace_free(&t);
}

Test(bpf_node, tcp_echo_io_callbacks) {
  trace t;
  trace_node("echo.js", LS_BPF_CALLBACKS, "round trips 50\n", &t);
  size_t stream = count(&t, t.pid, LS_EV_BEGIN, "io", "uv__stream_io");
  size_t server = count(&t, t.pid, LS_EV_BEGIN, "io", "uv__server_io");
  /* 50 pings and 50 echoes read, each by one side: >= 100 stream events. */
  cr_assert_geq(stream, 100, "%zu stream callbacks", stream);
  cr_assert_leq(stream, 400, "%zu stream callbacks", stream);
  cr_assert_geq(server, 1);
  /* JS runs inside them, with node's async ids (async_hooks). */
  cr_assert_geq(count(&t, t.pid, LS_EV_BEGIN, "io", "MakeCallback"), 100);
  size_t with_ids = 0;
  for (size_t i = 0; i < t.n; i++) {
    const ls_arg *id;
    if (t.ev[i].type == LS_EV_BEGIN && !strcmp(t.ev[i].name, "MakeCallback") &&
        (id = arg(&t.ev[i], "id")) && id->v.u > 0 && arg(&t.ev[i], "trigger"))
      with_ids++;
  }
  cr_assert_geq(with_ids, 100, "%zu JS entries with async ids", with_ids);
  /* poll says how many events it got. */
  size_t with_events = 0;
  for (size_t i = 0; i < t.n; i++) {
    const ls_arg *ev;
    if (t.ev[i].type == LS_EV_END && !strcmp(t.ev[i].name, "poll") &&
        (ev = arg(&t.ev[i], "events")) && ev->v.u > 0)
      with_events++;
  }
  cr_assert_geq(with_events, 50, "%zu polls returned events", with_events);
  trace_free(&t);
}

Test(bpf_node, busy_callback_is_a_blocked_mark) {
  trace t;
  for (int level = LS_BPF_PHASES; level <= LS_BPF_CALLBACKS; level++) {
    trace_node("busy.js", (ls_bpf_level)level, NULL, &t);
    size_t marks = 0;
    for (size_t i = 0; i < t.n; i++) {
      const ls_event *e = &t.ev[i];
      if (e->type != LS_EV_INSTANT || strcmp(e->category, "mark") ||
          strcmp(e->name, "blocked"))
        continue;
      const ls_arg *dur = arg(e, "dur_ns"), *what = arg(e, "what");
      cr_assert(dur && what);
      /* A loaded machine may add stalls of its own elsewhere. */
      if (strcmp(what->v.s, level == LS_BPF_PHASES ? "timers" : "processTimers"))
        continue;
      cr_assert_geq(dur->v.u, 100000000, "blocked for %llu ns",
                    (unsigned long long)dur->v.u);
      marks++;
    }
    /* One stall, one mark (the innermost slice that explains it). */
    cr_assert_eq(marks, 1, "level %d: %zu blocked marks", level, marks);
    trace_free(&t);
  }
}

Test(bpf_node, traced_output_is_identical) {
  skip_unless_bpf(true);
  char path[512], *argv[3];
  trace t;
  node_argv("echo.js", path, sizeof(path), argv);
  int plain = run_plain(argv, "/tmp/ls-bpf-plain.out");
  run_traced(argv, LS_BPF_FULL, "/tmp/ls-bpf-traced.out", &t);
  cr_assert_eq(plain, t.status);
  cr_assert(same_file("/tmp/ls-bpf-plain.out", "/tmp/ls-bpf-traced.out"));
  trace_free(&t);
}

/* Our BPF programs, by name, still loaded anywhere in the kernel. */
static unsigned our_programs_loaded(void) {
  static const char *const ours[] = {"fn_enter", "fn_exit", "timers_enter",
                                     "stream_write", "usdt_begin"};
  unsigned id = 0, n = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    struct bpf_prog_info info;
    unsigned len = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (fd < 0)
      continue;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
      for (unsigned k = 0; k < sizeof(ours) / sizeof(ours[0]); k++)
        n += strcmp(info.name, ours[k]) == 0;
    close(fd);
  }
  return n;
}

Test(bpf_node, nothing_left_attached, .timeout = 60) {
  trace t;
  trace_node("timers.js", LS_BPF_FULL, NULL, &t);
  trace_free(&t);
  /* Another test may be tracing right now (--jobs): wait for it. */
  unsigned left = 0;
  for (int i = 0; i < 100 && (left = our_programs_loaded()); i++)
    usleep(100000);
  cr_assert_eq(left, 0, "%u loopscope BPF programs still loaded", left);
}

Test(bpf_node, refuses_clearly) {
  skip_unless_bpf(false);
  char err[1024];
  ls_bpf *b;
  ls_writer *w;
  FILE *f = tmpfile();
  cr_assert_eq(ls_writer_open(&w, fileno(f), 1000000000, "ebpf"), 0);
  ls_bpf_opts o = {.pid = 0x3ffffff0};
  cr_assert_eq(ls_bpf_open(&b, &o, w, err, sizeof(err)), -1);
  cr_assert(strstr(err, "no such process"), "%s", err);

  /* A program without libuv: the message names the binary. */
  char *sleep_argv[] = {"sleep", "5", NULL};
  ls_bpf_child child;
  cr_assert_eq(ls_bpf_spawn(&child, sleep_argv, err, sizeof(err)), 0, "%s", err);
  ls_bpf_opts so = {.pid = child.pid, .exe = child.exe};
  cr_assert_eq(ls_bpf_open(&b, &so, w, err, sizeof(err)), -1);
  ls_bpf_spawn_abort(&child);
  cr_assert(strstr(err, "no libuv symbols") && strstr(err, child.exe), "%s", err);

  char *missing[] = {"/nonexistent/program", NULL};
  cr_assert_eq(ls_bpf_spawn(&child, missing, err, sizeof(err)), -1);
  cr_assert(strstr(err, "/nonexistent/program"), "%s", err);
  ls_writer_close(w);
  fclose(f);

  /* Without root: say what is needed. */
  cr_assert_eq(setgid(65534), 0);
  cr_assert_eq(setuid(65534), 0);
  cr_assert_eq(ls_bpf_check_system(err, sizeof(err)), -1);
  cr_assert(strstr(err, "needs root or CAP_SYS_ADMIN"), "%s", err);
}

Test(bpf_node, write_queue_counters) {
  trace t;
  trace_node("backpressure.js", LS_BPF_FULL, NULL, &t);
  size_t counters = 0;
  uint64_t peak = 0, last = 1;
  for (size_t i = 0; i < t.n; i++) {
    const ls_event *e = &t.ev[i];
    if (e->type != LS_EV_COUNTER || strncmp(e->name, "stream:fd", 9))
      continue;
    const ls_arg *b = arg(e, "buffered");
    cr_assert(b);
    counters++;
    last = b->v.u;
    peak = last > peak ? last : peak;
  }
  /* 8 MiB written at once cannot all go out at once; it all goes out. */
  cr_assert_geq(counters, 2);
  cr_assert_gt(peak, 65536, "peak write queue %llu", (unsigned long long)peak);
  cr_assert_eq(last, 0);
  trace_free(&t);
}

Test(bpf_node, microtasks_and_close_callbacks) {
  trace t;
  trace_node("promises.js", LS_BPF_CALLBACKS, "rounds 30\n", &t);
  /* Checkpoints that ran reactions, not the many that found nothing. */
  size_t micro = count(&t, t.pid, LS_EV_BEGIN, "microtask", "microtasks");
  cr_assert_geq(micro, 30, "%zu microtask checkpoints", micro);
  cr_assert_leq(micro, 40, "%zu microtask checkpoints", micro);
  /* server.close(): its handle's close callback runs in the close phase. */
  size_t closes = 0;
  for (size_t i = 0; i < t.n; i++)
    closes += t.ev[i].type == LS_EV_BEGIN && !strcmp(t.ev[i].category, "close");
  cr_assert_geq(closes, 1);
  trace_free(&t);
}

/* A worker runs JS before its first uv_run, so the converter first names its
 * thread by the kernel ("node"); once it runs a loop it is "loop-N". */
Test(bpf_node, worker_loop_is_named_as_a_loop) {
  trace t;
  trace_node("worker.js", LS_BPF_CALLBACKS, "worker done\n", &t);
  unsigned worker_loops = 0;
  for (size_t i = 0; i < t.n; i++) {
    const ls_event *e = &t.ev[i];
    if (e->type != LS_EV_BEGIN || e->tid == (uint64_t)t.pid ||
        strcmp(e->category, "loop"))
      continue;
    const char *name = thread_name(&t, e->tid);
    cr_assert(name && !strncmp(name, "loop-", 5), "worker loop thread %llu is "
              "named %s", (unsigned long long)e->tid, name ? name : "(none)");
    worker_loops++;
  }
  cr_assert_gt(worker_loops, 0, "no iteration on the worker's thread");
  trace_free(&t);
}
