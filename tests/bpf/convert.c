/* The converter from ring-buffer records to loopscope events, fed by hand:
 * no root, no kernel, exact expectations. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define PID 100
#define MS 1000000ULL

typedef struct fixture {
  FILE *f;
  ls_writer *w;
  ls__conv *c;
  char log[1024];
  /* read back */
  ls_reader *r;
  ls_event ev[512];
  size_t n;
} fixture;

static void log_msg(void *ctx, const char *msg) {
  fixture *fx = ctx;
  snprintf(fx->log + strlen(fx->log), sizeof(fx->log) - strlen(fx->log), "%s\n", msg);
}

static void start(fixture *fx, bool lateness) {
  memset(fx, 0, sizeof(*fx));
  fx->f = tmpfile();
  cr_assert(fx->f);
  cr_assert_eq(ls_writer_open(&fx->w, fileno(fx->f), 1000000000, "ebpf"), 0);
  ls__conv_opts o = {.w = fx->w, .tgid = PID, .lateness = lateness,
                     .log = log_msg, .log_ctx = fx};
  cr_assert_eq(ls__conv_new(&fx->c, &o), 0);
}

static void feed(fixture *fx, uint32_t tid, uint64_t ts, uint32_t kind,
                 uint32_t which, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  struct ls_raw r = {.ts = ts, .tgid = PID, .tid = tid, .kind = kind,
                     .which = which, .a = a, .b = b, .c = c, .d = d};
  ls__conv_record(fx->c, &r, sizeof(r));
}

#define LOOP(fx, ts, kind, ...) feed(fx, PID, ts, kind, 0, __VA_ARGS__ + 0, 0, 0, 0)

static void finish(fixture *fx) {
  char err[256];
  ls_record rec;
  uint64_t events;
  cr_assert_eq(ls__conv_finish(fx->c, &events), 0);
  cr_assert_eq(ls_writer_close(fx->w), 0);
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fileno(fx->f));
  cr_assert_eq(ls_reader_open(&fx->r, path, err, sizeof(err)), 0, "%s", err);
  while (ls_reader_next(fx->r, &rec) == LS_FMT_OK)
    if (rec.kind == LS_REC_EVENT && fx->n < 512)
      fx->ev[fx->n++] = rec.event;
  cr_assert_eq(events, fx->n);
}

static void done(fixture *fx) {
  ls_reader_close(fx->r);
  fclose(fx->f);
}

/* "B:phase/poll" "E:loop/iteration" "I:mark/blocked" "C:counter/lag_us" */
static void expect(const fixture *fx, const char *const *want, size_t n) {
  static const char types[] = "ICBE";
  size_t k = 0;
  for (size_t i = 0; i < fx->n; i++) {
    const ls_event *e = &fx->ev[i];
    char got[128];
    if (e->type > LS_EV_END)
      continue;
    snprintf(got, sizeof(got), "%c:%s/%s", types[e->type], e->category, e->name);
    cr_assert_lt(k, n, "extra event %s", got);
    cr_assert_str_eq(got, want[k], "event %zu", k);
    k++;
  }
  cr_assert_eq(k, n, "%zu events, wanted %zu", k, n);
}

static const ls_event *find(const fixture *fx, int type, const char *name) {
  for (size_t i = 0; i < fx->n; i++)
    if ((int)fx->ev[i].type == type && !strcmp(fx->ev[i].name, name))
      return &fx->ev[i];
  return NULL;
}

/* uv_run(DEFAULT) with one iteration: libuv 1.46 runs timers first, outside
 * any iteration, and at the end of each. */
static void one_run(fixture *fx, uint64_t t) {
  LOOP(fx, t + 0, LS_RAW_RUN_ENTER, 1);
  feed(fx, PID, t + 1, LS_RAW_TIMERS_ENTER, 0, 5000, UINT64_MAX, 1, 0);
  LOOP(fx, t + 2, LS_RAW_TIMERS_EXIT);
  LOOP(fx, t + 3, LS_RAW_IDLE_ENTER);
  LOOP(fx, t + 4, LS_RAW_PREPARE_ENTER);
  feed(fx, PID, t + 5, LS_RAW_POLL_ENTER, 0, 1, 7, 0, 0);
  LOOP(fx, t + 6, LS_RAW_POLL_EXIT);
  LOOP(fx, t + 7, LS_RAW_CHECK_ENTER);
  LOOP(fx, t + 8, LS_RAW_CHECK_EXIT);
  feed(fx, PID, t + 9, LS_RAW_TIMERS_ENTER, 0, 5000, UINT64_MAX, 1, 0);
  LOOP(fx, t + 10, LS_RAW_TIMERS_EXIT);
  LOOP(fx, t + 11, LS_RAW_RUN_EXIT);
}

Test(bpf_convert, phases_of_one_iteration) {
  fixture fx;
  start(&fx, false);
  one_run(&fx, 1000);
  finish(&fx);
  static const char *const want[] = {
    "B:phase/timers", "E:phase/timers",
    "B:loop/iteration", "B:phase/pending", "E:phase/pending",
    "B:phase/idle", "E:phase/idle", "B:phase/prepare", "E:phase/prepare",
    "B:phase/poll", "E:phase/poll", "B:phase/check", "E:phase/check",
    "B:phase/close", "E:phase/close", "B:phase/timers", "E:phase/timers",
    "E:loop/iteration",
  };
  expect(&fx, want, sizeof(want) / sizeof(want[0]));
  const ls_event *poll = find(&fx, LS_EV_BEGIN, "poll");
  cr_assert_eq(ls_event_arg(poll, "timeout_ms")->v.i, 7);
  /* pending runs from the end of the first timers to idle */
  const ls_event *pending = find(&fx, LS_EV_BEGIN, "pending");
  cr_assert_eq(pending->ts, 1002);
  cr_assert_eq(ls_event_arg(find(&fx, LS_EV_BEGIN, "iteration"), "n")->v.u, 1);
  done(&fx);
}

Test(bpf_convert, pending_after_poll_only_when_callbacks_ran) {
  fixture fx;
  start(&fx, false);
  LOOP(&fx, 1, LS_RAW_IDLE_ENTER); /* attached mid-loop */
  LOOP(&fx, 2, LS_RAW_PREPARE_ENTER);
  feed(&fx, PID, 3, LS_RAW_POLL_ENTER, 0, 1, 0, 0, 0);
  LOOP(&fx, 4, LS_RAW_POLL_EXIT);
  feed(&fx, PID, 5, LS_RAW_IO_ENTER, LS_IO_STREAM, 0, 0, 0, 0);
  feed(&fx, PID, 6, LS_RAW_IO_EXIT, LS_IO_STREAM, 0, 0, 0, 0);
  LOOP(&fx, 7, LS_RAW_CHECK_ENTER);
  LOOP(&fx, 8, LS_RAW_CHECK_EXIT);
  feed(&fx, PID, 9, LS_RAW_TIMERS_ENTER, 0, 0, UINT64_MAX, 0, 0);
  LOOP(&fx, 10, LS_RAW_TIMERS_EXIT);
  LOOP(&fx, 11, LS_RAW_IDLE_ENTER);
  LOOP(&fx, 12, LS_RAW_PREPARE_ENTER);
  feed(&fx, PID, 13, LS_RAW_POLL_ENTER, 0, 1, 0, 0, 0);
  LOOP(&fx, 14, LS_RAW_POLL_EXIT);
  LOOP(&fx, 15, LS_RAW_CHECK_ENTER); /* nothing ran after this poll */
  finish(&fx);                       /* stopped inside check */
  static const char *const want[] = {
    "B:loop/iteration", "B:phase/idle", "E:phase/idle", "B:phase/prepare",
    "E:phase/prepare", "B:phase/poll", "E:phase/poll",
    "B:phase/pending", "B:io/uv__stream_io", "E:io/uv__stream_io", "E:phase/pending",
    "B:phase/check", "E:phase/check", "B:phase/close", "E:phase/close",
    "B:phase/timers", "E:phase/timers", "E:loop/iteration",
    "B:loop/iteration", "B:phase/pending", "E:phase/pending", "B:phase/idle",
    "E:phase/idle", "B:phase/prepare", "E:phase/prepare", "B:phase/poll",
    "E:phase/poll", "B:phase/check", "E:phase/check", "E:loop/iteration",
  };
  expect(&fx, want, sizeof(want) / sizeof(want[0]));
  done(&fx);
}

Test(bpf_convert, lateness_and_its_check) {
  fixture fx;
  start(&fx, true);
  /* loop time 5000 ms, timer due at 4998 ms, now 5000.5 ms: 2.5 ms late */
  feed(&fx, PID, 5000 * MS + 500000, LS_RAW_TIMERS_ENTER, 0, 5000, 4998, 3, 1);
  LOOP(&fx, 5001 * MS, LS_RAW_TIMERS_EXIT);
  finish(&fx);
  const ls_event *lag = find(&fx, LS_EV_COUNTER, "lag_us");
  cr_assert(lag);
  cr_assert_eq(ls_event_arg(lag, "value")->v.i, 2500);
  cr_assert_eq(ls_event_arg(find(&fx, LS_EV_COUNTER, "handles"), "value")->v.i, 3);
  cr_assert_eq(fx.log[0], 0, "%s", fx.log);
  done(&fx);

  /* An offset that reads something else: said once, then no lateness. */
  start(&fx, true);
  feed(&fx, PID, 5000 * MS, LS_RAW_TIMERS_ENTER, 0, 123456789, 4998, 3, 1);
  LOOP(&fx, 5001 * MS, LS_RAW_TIMERS_EXIT);
  finish(&fx);
  cr_assert(strstr(fx.log, "check failed: loop->time"), "%s", fx.log);
  cr_assert_null(find(&fx, LS_EV_COUNTER, "lag_us"));
  done(&fx);
}

Test(bpf_convert, one_blocked_mark_per_stall) {
  fixture fx;
  start(&fx, false);
  feed(&fx, PID, 0, LS_RAW_TIMERS_ENTER, 0, 0, UINT64_MAX, 0, 0);
  feed(&fx, PID, 1 * MS, LS_RAW_JS_ENTER, 0, 0xabc, 0, 0, 0);
  feed(&fx, PID, 122 * MS, LS_RAW_JS_CLOSE, 0, 0xabc, 0, 0, 0);
  feed(&fx, PID, 122 * MS + 5, LS_RAW_JS_CLOSE, 0, 0xabc, 0, 0, 0); /* ~scope */
  LOOP(&fx, 123 * MS, LS_RAW_TIMERS_EXIT);
  /* a poll that waited its 100 ms timeout is not a stall */
  LOOP(&fx, 124 * MS, LS_RAW_IDLE_ENTER);
  feed(&fx, PID, 125 * MS, LS_RAW_POLL_ENTER, 0, 1, 100, 0, 0);
  LOOP(&fx, 226 * MS, LS_RAW_POLL_EXIT);
  LOOP(&fx, 227 * MS, LS_RAW_RUN_EXIT);
  finish(&fx);
  size_t marks = 0;
  for (size_t i = 0; i < fx.n; i++)
    if (fx.ev[i].type == LS_EV_INSTANT && !strcmp(fx.ev[i].name, "blocked")) {
      marks++;
      cr_assert_eq(ls_event_arg(&fx.ev[i], "dur_ns")->v.u, 121 * MS);
      cr_assert_str_eq(ls_event_arg(&fx.ev[i], "what")->v.s, "processTimers");
    }
  cr_assert_eq(marks, 1);
  const ls_event *js = find(&fx, LS_EV_BEGIN, "processTimers");
  cr_assert(js);
  cr_assert_str_eq(js->category, "timer");
  done(&fx);
}

Test(bpf_convert, pool_work_flows_and_thread_names) {
  fixture fx;
  start(&fx, false);
  feed(&fx, PID, 10, LS_RAW_WORK_SUBMIT, 0, 0, 0x77, 0, 0);
  feed(&fx, PID + 1, 20, LS_RAW_WORK_ENTER, LS_WORK_USER, 0x77, 0, 0, 0);
  feed(&fx, PID + 1, 30, LS_RAW_WORK_EXIT, LS_WORK_USER, 0, 0, 0, 0);
  feed(&fx, PID, 40, LS_RAW_DONE_ENTER, LS_WORK_USER, 0x77, 0, 0, 0);
  feed(&fx, PID, 50, LS_RAW_DONE_EXIT, LS_WORK_USER, 0, 0, 0, 0);
  /* lost records: a return whose entry never came is ignored */
  feed(&fx, PID + 1, 60, LS_RAW_WORK_EXIT, LS_WORK_USER, 0, 0, 0, 0);
  finish(&fx);
  static const char *const want[] = {
    "I:sched/threadpool", "C:counter/pool_queue", "B:pool/work",
    "C:counter/pool_queue", "E:pool/work", "B:io/uv__queue_done",
    "E:io/uv__queue_done",
  };
  expect(&fx, want, sizeof(want) / sizeof(want[0]));
  size_t flows = 0;
  for (size_t i = 0; i < fx.n; i++)
    if (fx.ev[i].type == LS_EV_FLOW_BEGIN || fx.ev[i].type == LS_EV_FLOW_END) {
      cr_assert_eq(fx.ev[i].id, 0x77);
      flows++;
    }
  cr_assert_eq(flows, 4); /* queued -> worker, worker -> completion */
  const ls_event *w = find(&fx, LS_EV_BEGIN, "work");
  cr_assert_eq(w->tid, PID + 1);
  done(&fx);
}

Test(bpf_convert, startup_before_the_loop_blocks_nothing) {
  fixture fx;
  start(&fx, false);
  /* node's main script: a 200 ms JS entry, and a sync read, before uv_run */
  feed(&fx, PID, 0, LS_RAW_JS_ENTER, 0, 0x1, 0, 0, 0);
  feed(&fx, PID, 1 * MS, LS_RAW_WORK_ENTER, LS_WORK_FS, 0x2, 0, 3, 0);
  feed(&fx, PID, 80 * MS, LS_RAW_WORK_EXIT, LS_WORK_FS, 0, 0, 0, 0);
  feed(&fx, PID, 200 * MS, LS_RAW_JS_CLOSE, 0, 0x1, 0, 0, 0);
  finish(&fx);
  static const char *const want[] = {"B:user/js", "B:fs/fs.read (sync)",
                                     "E:fs/fs.read (sync)", "E:user/js"};
  expect(&fx, want, sizeof(want) / sizeof(want[0]));
  done(&fx);
}
