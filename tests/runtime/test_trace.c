/* What a traced program on the runtime leaves in the trace: phases nested in
 * iterations, callback slices bound by flows to their scheduling points,
 * thread-pool slices on worker threads, counters. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopscope/format.h"
#include "loopscope/runtime.h"
#include "loopscope/trace.h"

static ls_loop loop;
static ls_timer timers[2];
static ls_immediate immediate;
static ls_fs stat_req;

static void nothing(void *arg) { (void)arg; }

static void on_timer(ls_timer *t) {
  (void)t;
  ls_next_tick(&loop, nothing, NULL);
  ls_queue_microtask(&loop, nothing, NULL);
}

static void on_immediate(ls_immediate *i) { (void)i; }

static void on_stat(ls_fs *req) { ls_fs_cleanup(req); }

#define MAX_IDS 64

typedef struct seen {
  uint64_t loop_tid;
  int depth;              /* open slices on the loop thread */
  int phase_depth;        /* open phase slices */
  unsigned iterations, phases, polls_with_timeout, callbacks, pool_slices;
  unsigned counters, unknown_counters, callbacks_outside_phases;
  unsigned callbacks_without_flow_end, flows_without_sched;
  uint64_t sched[MAX_IDS], flow_ends[MAX_IDS];
  unsigned nsched, nflow_ends;
  uint64_t want_flow_end; /* the callback just begun on the loop thread */
  uint64_t timer_ids[2], tick_trigger;
  unsigned ntimers;
} seen;

static bool was_scheduled(const seen *s, uint64_t id) {
  for (unsigned i = 0; i < s->nsched; i++)
    if (s->sched[i] == id)
      return true;
  return false;
}

static void visit(seen *s, const ls_event *ev) {
  bool on_loop = ev->tid == s->loop_tid;
  uint64_t want_flow_end = 0; /* FORMAT.md: right after the callback begin */
  if (on_loop) {
    want_flow_end = s->want_flow_end;
    s->want_flow_end = 0;
  }
  int kind = ls_kind_from_name(ev->category);
  switch (ev->type) {
  case LS_EV_INSTANT:
    if (strcmp(ev->category, LS_CAT_SCHED) == 0 && s->nsched < MAX_IDS)
      s->sched[s->nsched++] = ls_arg_u64(ls_event_arg(ev, "id"));
    break;
  case LS_EV_FLOW_END:
    /* Rings are drained per thread: a worker's flow end may come before
     * the loop's sched instant in the file. Checked once all is read. */
    if (s->nflow_ends < MAX_IDS)
      s->flow_ends[s->nflow_ends++] = ev->id;
    if (want_flow_end != 0 && ev->id == want_flow_end)
      s->callbacks_without_flow_end--;
    break;
  case LS_EV_COUNTER:
    s->counters++;
    if (ls_counter_from_name(ev->name) < 0)
      s->unknown_counters++;
    break;
  case LS_EV_BEGIN:
    if (strcmp(ev->category, LS_CAT_POOL) == 0) {
      cr_expect(!on_loop, "pool slices run on a worker thread");
      s->pool_slices++;
      break;
    }
    cr_expect(on_loop);
    s->depth++;
    if (strcmp(ev->category, LS_CAT_LOOP) == 0) {
      s->iterations++;
    } else if (strcmp(ev->category, LS_CAT_PHASE) == 0) {
      cr_expect_geq(ls_phase_from_name(ev->name), 0, "phase %s", ev->name);
      s->phases++;
      s->phase_depth++;
      if (strcmp(ev->name, "poll") == 0 && ls_event_arg(ev, "timeout_ms"))
        s->polls_with_timeout++;
    } else if (kind >= 0) {
      s->callbacks++;
      uint64_t id = ls_arg_u64(ls_event_arg(ev, "id"));
      uint64_t trigger = ls_arg_u64(ls_event_arg(ev, "trigger"));
      s->callbacks_without_flow_end++; /* until its flow end comes next */
      s->want_flow_end = id;
      if (s->phase_depth == 0 && kind != LS_KIND_TICK &&
          kind != LS_KIND_MICROTASK && kind != LS_KIND_USER)
        s->callbacks_outside_phases++;
      if (kind == LS_KIND_TIMER && s->ntimers < 2)
        s->timer_ids[s->ntimers++] = id;
      if (kind == LS_KIND_TICK)
        s->tick_trigger = trigger;
    }
    break;
  case LS_EV_END:
    if (strcmp(ev->category, LS_CAT_POOL) == 0)
      break;
    s->depth--;
    if (strcmp(ev->category, LS_CAT_PHASE) == 0)
      s->phase_depth--;
    cr_expect_geq(s->depth, 0, "an end without its begin");
    break;
  default:
    break;
  }
}

Test(trace, phases_callbacks_flows_pool_and_counters) {
  char path[] = "/tmp/ls-runtime-trace-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  cr_assert_eq(ls_trace_start(path, NULL), 0);
  cr_assert_eq(ls_loop_init(&loop), 0);
  for (int i = 0; i < 2; i++) {
    ls_timer_init(&loop, &timers[i]);
    ls_set_timeout(&timers[i], on_timer, 1);
  }
  ls_set_immediate(&loop, &immediate, on_immediate);
  ls_fs_stat(&loop, &stat_req, "/", on_stat);
  cr_assert_eq(ls_run_main(&loop), 0);
  uint64_t iterations = loop.iteration;
  cr_assert_eq(ls_loop_close(&loop), 0);
  cr_assert_eq(ls_trace_stop(), 0);

  ls_reader *r;
  char err[256];
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof err), 0, "%s", err);
  seen s = {0};
  ls_record rec;
  int rc;
  while ((rc = ls_reader_next(r, &rec)) == LS_FMT_OK) {
    if (rec.kind == LS_REC_THREAD_NAME && strcmp(rec.name, "loop") == 0)
      s.loop_tid = rec.tid;
    if (rec.kind == LS_REC_EVENT)
      visit(&s, &rec.event);
  }
  cr_assert_eq(rc, LS_FMT_EOF, "%s", ls_reader_error(r));
  cr_expect_eq(ls_reader_dropped(r), 0);
  for (unsigned i = 0; i < s.nflow_ends; i++)
    if (!was_scheduled(&s, s.flow_ends[i]))
      s.flows_without_sched++;
  ls_reader_close(r);
  unlink(path);

  cr_expect_neq(s.loop_tid, 0, "the loop thread is named");
  cr_expect_eq(s.depth, 0, "every slice ends");
  cr_expect_eq(s.iterations, iterations);
  /* Seven phases per iteration, the timers run before the first, and the
   * pending phases re-run after a poll that left completions. */
  cr_expect_geq(s.phases, 7 * iterations + 1);
  cr_expect_eq(s.polls_with_timeout, iterations);
  /* 2 timers, 2 ticks, 2 microtasks, the immediate, the fs callback. */
  cr_expect_eq(s.callbacks, 8);
  cr_expect_eq(s.callbacks_without_flow_end, 0);
  cr_expect_eq(s.flows_without_sched, 0);
  cr_expect_eq(s.callbacks_outside_phases, 0);
  cr_expect_eq(s.pool_slices, 1);
  cr_expect_gt(s.counters, 0);
  cr_expect_eq(s.unknown_counters, 0);
  cr_expect_eq(s.ntimers, 2);
  cr_expect(s.tick_trigger == s.timer_ids[0] || s.tick_trigger == s.timer_ids[1],
            "a tick's trigger is the timer that queued it");
}
