/* The eBPF tracer on a program with loopscope's USDT probes: every hook of
 * trace.h comes out as the same event the in-process recorder would write. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static const ls_event *nth(const trace *t, int type, const char *cat,
                           const char *name, size_t k) {
  for (size_t i = 0; i < t->n; i++) {
    const ls_event *e = &t->ev[i];
    if ((int)e->type == type && !strcmp(e->category, cat) && !strcmp(e->name, name) &&
        k-- == 0)
      return e;
  }
  return NULL;
}

Test(bpf_usdt, hooks_one_to_one, .timeout = 60) {
  skip_unless_bpf(false);
  char *argv[] = {LS_USDT_TARGET, "50", NULL};
  trace t;
  run_traced(argv, LS_BPF_PHASES, "/tmp/ls-bpf-usdt.out", &t);
  cr_assert(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0);
  cr_assert_eq(t.lost, 0);
  uint64_t tid = (uint64_t)t.pid;
  cr_assert_eq(count(&t, tid, LS_EV_BEGIN, "loop", "iteration"), 50);
  cr_assert_eq(count(&t, tid, LS_EV_END, "loop", "iteration"), 50);
  cr_assert_eq(count(&t, tid, LS_EV_BEGIN, "phase", "timers"), 50);
  cr_assert_eq(count(&t, tid, LS_EV_BEGIN, "timer", "tick-50"), 50);
  cr_assert_eq(count(&t, tid, LS_EV_END, "timer", "tick-50"), 50);
  cr_assert_eq(count(&t, tid, LS_EV_INSTANT, "sched", "setTimeout"), 50);
  cr_assert_eq(count(&t, tid, LS_EV_COUNTER, "counter", "timers"), 50);
  cr_assert_eq(count(&t, tid, LS_EV_FLOW_BEGIN, NULL, NULL), 50);
  cr_assert_eq(count(&t, tid, LS_EV_FLOW_END, NULL, NULL), 50);
  cr_assert_eq(count(&t, tid, LS_EV_ASYNC_BEGIN, "await", "sleep"), 50);
  cr_assert_eq(count(&t, tid, LS_EV_ASYNC_END, "await", "sleep"), 50);

  /* Arguments mean what vocab.h says, taken from the probes' registers. */
  const ls_event *it = nth(&t, LS_EV_BEGIN, "loop", "iteration", 6);
  cr_assert(it && arg(it, "n") && arg(it, "n")->v.u == 7);
  const ls_event *cb = nth(&t, LS_EV_BEGIN, "timer", "tick-50", 6);
  cr_assert(cb && arg(cb, "id")->v.u == 70 && arg(cb, "trigger")->v.u == 60);
  const ls_event *poll = nth(&t, LS_EV_BEGIN, "phase", "poll", 0);
  cr_assert(poll && arg(poll, "timeout_ms")->v.i == 7);
  const ls_event *pend = nth(&t, LS_EV_END, "phase", "poll", 0);
  cr_assert(pend && arg(pend, "events")->v.i == 3);
  const ls_event *s = nth(&t, LS_EV_INSTANT, "sched", "setTimeout", 2);
  cr_assert(s && arg(s, "id")->v.u == 40 && arg(s, "delay_ms")->v.i == 5);
  const ls_event *c = nth(&t, LS_EV_COUNTER, "counter", "timers", 9);
  cr_assert(c && arg(c, "value")->v.i == 10);
  const ls_event *f = nth(&t, LS_EV_FLOW_BEGIN, "flow", "flow", 3);
  cr_assert(f && f->id == 50);
  const ls_event *a = nth(&t, LS_EV_ASYNC_BEGIN, "await", "sleep", 4);
  cr_assert(a && a->id == 50);

  check_output("/tmp/ls-bpf-usdt.out", "iterations 50\n");
  trace_free(&t);
}

#ifdef LS_RUNTIME_TICKS
/* The real runtime: its loop as the runtime itself describes it. */
Test(bpf_usdt, runtime_program, .timeout = 60) {
  skip_unless_bpf(false);
  char *argv[] = {LS_RUNTIME_TICKS, NULL};
  trace t;
  run_traced(argv, LS_BPF_PHASES, "/tmp/ls-bpf-rt.out", &t);
  cr_assert(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0);
  uint64_t tid = (uint64_t)t.pid;
  size_t iters = count(&t, tid, LS_EV_BEGIN, "loop", "iteration");
  size_t ticks = count(&t, tid, LS_EV_BEGIN, "interval", NULL);
  cr_assert_geq(iters, 20, "%zu iterations", iters);
  cr_assert_eq(ticks, 20, "%zu interval callbacks", ticks);
  cr_assert_eq(count(&t, tid, LS_EV_BEGIN, "immediate", NULL), 1);
  cr_assert_eq(count(&t, tid, LS_EV_BEGIN, NULL, NULL),
               count(&t, tid, LS_EV_END, NULL, NULL));
  check_output("/tmp/ls-bpf-rt.out", "ticks 20\n");
  trace_free(&t);
}
#endif

/* The events of the recorder's trace own, on the main thread, are those of
 * t, in the same order, with the same arguments: only clocks and thread
 * names may differ. Counters are left out unless `counters`: the runtime
 * computes its own only while it records. Returns how many were compared. */
static size_t same_events(const char *own, const trace *t, bool counters) {
  ls_reader *r;
  ls_record rec;
  char err[512];
  size_t k = 0, compared = 0;
  cr_assert_eq(ls_reader_open(&r, own, err, sizeof(err)), 0, "%s", err);
  while (ls_reader_next(r, &rec) == LS_FMT_OK) {
    if (rec.kind != LS_REC_EVENT)
      continue;
    const ls_event *a = &rec.event;
    if (!counters && a->type == LS_EV_COUNTER)
      continue;
    while (k < t->n && (t->ev[k].tid != (uint64_t)t->pid ||
                        (!counters && t->ev[k].type == LS_EV_COUNTER)))
      k++;
    cr_assert_lt(k, t->n, "eBPF trace ends before the recorder's event %s/%s",
                 a->category, a->name);
    const ls_event *b = &t->ev[k++];
    cr_assert_eq(a->type, b->type, "event %zu: type %d vs %d (%s/%s)", compared,
                 a->type, b->type, a->category, a->name);
    cr_assert_str_eq(a->category, b->category, "event %zu", compared);
    cr_assert_str_eq(a->name, b->name, "event %zu", compared);
    cr_assert_eq(a->id, b->id, "event %zu: id", compared);
    cr_assert_eq(a->nargs, b->nargs, "event %zu (%s/%s): %u vs %u args", compared,
                 a->category, a->name, a->nargs, b->nargs);
    for (unsigned i = 0; i < a->nargs; i++) {
      cr_assert_str_eq(a->args[i].name, b->args[i].name);
      cr_assert_eq(a->args[i].v.u, b->args[i].v.u, "event %zu arg %s",
                   compared, a->args[i].name);
    }
    compared++;
  }
  ls_reader_close(r);
  return compared;
}

/* The same run recorded twice, by the program itself (LOOPSCOPE_TRACE) and
 * through its USDT probes. */
Test(bpf_usdt, same_events_as_the_recorder, .timeout = 60) {
  skip_unless_bpf(false);
  char *argv[] = {LS_USDT_TARGET, "20", NULL};
  const char *own = "/tmp/ls-bpf-usdt-own.fxt";
  unlink(own);
  setenv("LOOPSCOPE_TRACE", own, 1);
  trace t;
  run_traced(argv, LS_BPF_PHASES, NULL, &t);
  unsetenv("LOOPSCOPE_TRACE");
  size_t compared = same_events(own, &t, true);
  cr_assert_eq(compared, 20 * 14, "%zu events compared", compared);
  /* A flow end comes right after the begin of the callback it binds to. */
  for (size_t i = 1; i < t.n; i++)
    if (t.ev[i].type == LS_EV_FLOW_END) {
      cr_assert_eq(t.ev[i - 1].type, LS_EV_BEGIN);
      cr_assert_eq(ls_arg_u64(ls_event_arg(&t.ev[i - 1], "id")), t.ev[i].id);
      cr_assert_geq(t.ev[i].ts, t.ev[i - 1].ts);
    }
  trace_free(&t);
}

#ifdef LS_RUNTIME_AWAITS
/* Untraced, the runtime resumes an await of a plain value in place and
 * fires one probe for the seven events of a queued await; recording, it
 * queues every await. Through USDT the first run reads like the second. */
Test(bpf_usdt, in_place_awaits_read_like_queued_ones, .timeout = 60) {
  skip_unless_bpf(false);
  char *argv[] = {LS_RUNTIME_AWAITS, NULL};
  const char *own = "/tmp/ls-bpf-awaits-own.fxt";
  unlink(own);
  setenv("LOOPSCOPE_TRACE", own, 1);
  int st = run_plain(argv, "/tmp/ls-bpf-awaits-own.out");
  unsetenv("LOOPSCOPE_TRACE");
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %#x", st);
  check_output("/tmp/ls-bpf-awaits-own.out", "sum 190\n");
  trace t;
  run_traced(argv, LS_BPF_PHASES, "/tmp/ls-bpf-awaits.out", &t);
  cr_assert(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0);
  check_output("/tmp/ls-bpf-awaits.out", "sum 190\n");
  cr_assert_gt(same_events(own, &t, false), 20 * 7);
  cr_assert_eq(count(&t, (uint64_t)t.pid, LS_EV_BEGIN, "microtask", "await"), 20);
  unlink(own);
  trace_free(&t);
}
#endif
