/* loopscope report's figures on a hand-built trace whose answers are worked
 * out below (times in ns). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "sample.h"

static ls_writer *w;
static uint64_t tid = 1; /* of the events ev() writes */

static void ev(ls_event_type type, uint64_t ns, const char *cat,
               const char *name, unsigned nargs, const ls_arg *args) {
  ls_event e = {.type = type, .ts = ns, .pid = 1, .tid = tid, .category = cat,
                .name = name, .nargs = nargs};
  for (unsigned i = 0; i < nargs; i++)
    e.args[i] = args[i];
  cr_assert_eq(ls_writer_event(w, &e), 0);
}

static ls_arg u(const char *name, uint64_t v) {
  return (ls_arg){.name = name, .type = LS_ARG_U64, .v.u = v};
}

static void cb(uint64_t b, uint64_t e, const char *kind, const char *label,
               uint64_t id) {
  ls_arg a[2] = {u("id", id), u("trigger", 0)};
  ev(LS_EV_BEGIN, b, kind, label, 2, a);
  ev(LS_EV_END, e, kind, label, 0, NULL);
}

static void phase(uint64_t b, uint64_t e, const char *name) {
  ev(LS_EV_BEGIN, b, "phase", name, 0, NULL);
  ev(LS_EV_END, e, "phase", name, 0, NULL);
}

/* A second loop on thread 2 ("loop-2", as node names its other loops),
 * busier than the main one and overlapping it in time, and a pool thread
 * with work but no loop. Iteration 0.5 .. 7.5 ms: poll 1 .. 7 ms with a
 * 2 ms callback in it, so 4 ms idle of 7: ELU 3/7. A callback before the
 * iteration is no part of it. */
static void write_second_loop(void) {
  cr_assert_eq(ls_writer_thread_name(w, 1, 2, "loop-2"), 0);
  cr_assert_eq(ls_writer_thread_name(w, 1, 3, "pool-1"), 0);
  tid = 2;
  /* Its script runs before its loop: not loop time, nor in its share. */
  cb(100000, 400000, "user", "worker.js", 49);
  ls_arg n = u("n", 1);
  ev(LS_EV_BEGIN, 500000, "loop", "iteration", 1, &n);
  phase(500000, 1000000, "timers");
  ev(LS_EV_BEGIN, 1000000, "phase", "poll", 0, NULL);
  cb(3000000, 5000000, "io", "message", 50);
  ev(LS_EV_END, 7000000, "phase", "poll", 0, NULL);
  phase(7000000, 7500000, "check");
  ev(LS_EV_END, 7500000, "loop", "iteration", 0, NULL);
  tid = 3;
  cb(1000000, 4000000, "fs", "fs.read", 60);
  tid = 1;
}

static void write_known(const char *path, bool two_loops) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert_eq(ls_writer_open(&w, fd, 1000000000, "runtime"), 0);
  cr_assert_eq(ls_writer_thread_name(w, 1, 1, "loop"), 0);
  if (two_loops)
    write_second_loop();
  ls_arg a[3];
  /* Three timers: due 1 ms (ts + delay), 2 ms (the due argument wins over
   * ts + delay), and an interval of 3 ms. */
  a[0] = u("id", 1), a[1] = u("delay_ms", 1);
  ev(LS_EV_INSTANT, 0, "sched", "setTimeout", 2, a);
  a[0] = u("id", 2), a[1] = u("delay_ms", 5), a[2] = u("due", 2000000);
  ev(LS_EV_INSTANT, 0, "sched", "setTimeout", 3, a);
  a[0] = u("id", 3), a[1] = u("delay_ms", 3);
  ev(LS_EV_INSTANT, 0, "sched", "setInterval", 2, a);

  /* The timers run once before the first iteration: 0.5 .. 0.6 ms. */
  phase(500000, 600000, "timers");

  /* Iteration 1: 1.0 .. 5.0 ms. */
  a[0] = u("n", 1);
  ev(LS_EV_BEGIN, 1000000, "loop", "iteration", 1, a);
  ev(LS_EV_BEGIN, 1000000, "phase", "timers", 0, NULL);
  ls_arg t1[2] = {u("id", 1), u("trigger", 0)};
  ev(LS_EV_BEGIN, 1200000, "timer", "t1", 2, t1);      /* 200 us late */
  cb(1250000, 1280000, "microtask", "then", 9);        /* nested: 30 us */
  ev(LS_EV_END, 1300000, "timer", "t1", 0, NULL);      /* 100 us */
  cb(2100000, 2400000, "timer", "t2", 2);              /* 100 us late, 300 us */
  ev(LS_EV_END, 2500000, "phase", "timers", 0, NULL);  /* 1.5 ms */
  ev(LS_EV_BEGIN, 2500000, "phase", "poll", 0, NULL);
  cb(3000000, 3500000, "io", "read", 10);              /* 500 us */
  ev(LS_EV_END, 4400000, "phase", "poll", 0, NULL);    /* 1.9 ms, 1.4 idle */
  ev(LS_EV_BEGIN, 4400000, "phase", "check", 0, NULL);
  uint64_t t = 4400000;
  for (int i = 1; i <= 10; i++) {                      /* 10, 20 .. 100 us */
    cb(t, t + 10000u * i, "immediate", "setImmediate", 100 + i);
    t += 10000u * i;
  }
  ev(LS_EV_END, 5000000, "phase", "check", 0, NULL);   /* 0.6 ms */
  ev(LS_EV_END, 5000000, "loop", "iteration", 0, NULL);

  /* Iteration 2: 5.0 .. 7.0 ms. */
  a[0] = u("n", 2);
  ev(LS_EV_BEGIN, 5000000, "loop", "iteration", 1, a);
  ev(LS_EV_BEGIN, 5000000, "phase", "timers", 0, NULL);
  cb(5500000, 5600000, "interval", "tick", 3);         /* 2.5 ms late */
  ev(LS_EV_END, 6000000, "phase", "timers", 0, NULL);  /* 1.0 ms */
  ev(LS_EV_BEGIN, 6000000, "phase", "poll", 0, NULL);
  cr_assert_eq(ls_writer_lost(w, 1, 1, 6500000, 7), 0);
  ev(LS_EV_END, 7000000, "phase", "poll", 0, NULL);    /* 1.0 ms idle */
  ev(LS_EV_END, 7000000, "loop", "iteration", 0, NULL);
  cr_assert_eq(ls_writer_close(w), 0);
  close(fd);
}

/* The main loop's figures, the same whatever other loops the trace has. */
static void expect_main_loop(const ls_report_loop *l) {
  cr_expect_eq(l->tid, 1);
  cr_expect_str_eq(l->name, "loop");
  cr_expect(l->main);
  cr_expect_eq(l->iterations, 2);
  cr_expect_eq(l->phases_outside_ns, 100000);
  cr_expect_eq(l->loop_ns, 6100000);
  cr_expect_eq(l->phase_ns[LS_PHASE_TIMERS], 2600000);
  cr_expect_eq(l->phase_count[LS_PHASE_TIMERS], 3);
  cr_expect_eq(l->phase_ns[LS_PHASE_POLL], 2900000);
  cr_expect_eq(l->phase_ns[LS_PHASE_CHECK], 600000);
  cr_expect_eq(l->phase_count[LS_PHASE_POLL], 2);
  cr_expect_eq(l->phase_count[LS_PHASE_CLOSE], 0);
  /* Outermost callbacks only: the nested microtask is inside t1. */
  cr_expect_eq(l->callback_ns, 100000 + 300000 + 500000 + 550000 + 100000);
  cr_expect_eq(l->poll_idle_ns, 2400000);
  cr_expect_float_eq(l->elu, (6.1 - 2.4) / 6.1, 1e-12);
}

/* The known trace (with the second loop, or not), its report and the
 * report printed. */
typedef struct known {
  char *path, *text;
  ls_reader *r;
  ls_report rep;
} known;

static void report_known(known *k, bool two_loops) {
  char err[512];
  k->path = tmp_path(".fxt");
  write_known(k->path, two_loops);
  cr_assert_eq(ls_reader_open(&k->r, k->path, err, sizeof err), 0, "%s", err);
  cr_assert_eq(ls_report_compute(k->r, &k->rep, NULL), 0);
  size_t len = 0;
  FILE *out = open_memstream(&k->text, &len);
  ls_report_print(&k->rep, k->path, out);
  fclose(out);
}

static void done(known *k) {
  free(k->text);
  ls_report_free(&k->rep);
  ls_reader_close(k->r);
  tmp_remove(k->path);
}

Test(report, known_figures) {
  known k;
  report_known(&k, false);
  const ls_report *rep = &k.rep;
  const char *text = k.text;

  cr_assert_eq(rep->nloops, 1);
  expect_main_loop(&rep->loops[0]);

  const ls_report_dist *imm = &rep->kinds[LS_KIND_IMMEDIATE];
  cr_expect_eq(imm->count, 10);
  cr_expect_eq(imm->total_ns, 550000);
  cr_expect_eq(imm->p50_ns, 50000);
  cr_expect_eq(imm->p99_ns, 100000);
  cr_expect_eq(imm->max_ns, 100000);
  const ls_report_dist *tim = &rep->kinds[LS_KIND_TIMER];
  cr_expect_eq(tim->count, 2);
  cr_expect_eq(tim->p50_ns, 100000);
  cr_expect_eq(tim->p99_ns, 300000);
  cr_expect_eq(rep->kinds[LS_KIND_MICROTASK].count, 1);
  cr_expect_eq(rep->kinds[LS_KIND_MICROTASK].max_ns, 30000);
  cr_expect_eq(rep->kinds[LS_KIND_IO].max_ns, 500000);
  cr_expect_eq(rep->kinds[LS_KIND_INTERVAL].count, 1);
  cr_expect_eq(rep->kinds[LS_KIND_FS].count, 0);

  cr_assert_eq(rep->nlongest, 10);
  cr_expect_str_eq(rep->longest[0].label, "read");
  cr_expect_str_eq(rep->longest[0].kind, "io");
  cr_expect_eq(rep->longest[0].dur_ns, 500000);
  cr_expect_str_eq(rep->longest[1].label, "t2");
  cr_expect_eq(rep->longest[1].id, 2);
  cr_expect_eq(rep->longest[9].dur_ns, 50000);
  for (unsigned i = 1; i < rep->nlongest; i++)
    cr_expect_geq(rep->longest[i - 1].dur_ns, rep->longest[i].dur_ns);

  cr_expect_eq(rep->lateness.count, 3);
  cr_expect_eq(rep->lateness.p50_ns, 200000);
  cr_expect_eq(rep->lateness.p99_ns, 2500000);
  cr_expect_eq(rep->lateness.max_ns, 2500000);
  cr_expect_eq(rep->lateness.total_ns, 2800000);
  cr_expect_eq(rep->timers_unscheduled, 0);

  cr_expect_eq(rep->callback_ns, 100000 + 300000 + 500000 + 550000 + 100000);
  cr_expect_eq(rep->lost, 7);
  cr_expect_eq(rep->lost_records, 1);
  cr_expect_str_eq(rep->source, "runtime");

  cr_expect_not_null(strstr(text, "Main loop: thread \"loop\", tid 1, 2 iterations"),
                     "%s", text);
  cr_expect_not_null(strstr(text, "42.6%"), "timers share:\n%s", text);
  cr_expect_not_null(strstr(text, "Event-loop utilisation: 60.7%"), "%s", text);
  cr_expect_null(strstr(text, "Other loop"), "%s", text);
  cr_expect_not_null(strstr(text, "Lost events: 7"), "%s", text);
  done(&k);
}

/* node runs a second loop: its phases and idle time are its own, not
 * added to the main loop's, and it comes second although it is busier. */
Test(report, loops_apart) {
  known k;
  report_known(&k, true);
  const ls_report *rep = &k.rep;
  const char *text = k.text;

  cr_assert_eq(rep->nloops, 2, "the pool thread is no loop");
  expect_main_loop(&rep->loops[0]);
  const ls_report_loop *other = &rep->loops[1];
  cr_expect_eq(other->tid, 2);
  cr_expect_str_eq(other->name, "loop-2");
  cr_expect_eq(other->iterations, 1);
  cr_expect_eq(other->loop_ns, 7000000);
  cr_expect_eq(other->phase_ns[LS_PHASE_POLL], 6000000);
  cr_expect_eq(other->phase_count[LS_PHASE_TIMERS], 1);
  cr_expect_eq(other->poll_idle_ns, 4000000);
  cr_expect_eq(other->callback_ns, 2000000);
  cr_expect_float_eq(other->elu, 3.0 / 7, 1e-12);
  /* Callbacks by kind count every thread's. */
  cr_expect_eq(rep->kinds[LS_KIND_IO].count, 2);
  cr_expect_eq(rep->kinds[LS_KIND_FS].count, 1);
  cr_expect_eq(rep->kinds[LS_KIND_USER].count, 1);
  cr_expect_eq(rep->longest[0].dur_ns, 3000000);
  cr_expect_eq(rep->longest[0].tid, 3);

  const char *main_at = strstr(text, "Main loop: thread \"loop\", tid 1");
  const char *other_at = strstr(text, "Other loop: thread \"loop-2\", tid 2, 1 iterations");
  cr_assert(main_at && other_at && main_at < other_at, "%s", text);
  cr_expect_not_null(strstr(main_at, "Event-loop utilisation: 60.7%"), "%s", text);
  cr_expect_not_null(strstr(other_at, "Event-loop utilisation: 42.9%"), "%s", text);
  cr_expect_not_null(strstr(text, "2 loop threads"), "%s", text);
  done(&k);
}
