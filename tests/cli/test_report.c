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

static void ev(ls_event_type type, uint64_t ns, const char *cat,
               const char *name, unsigned nargs, const ls_arg *args) {
  ls_event e = {.type = type, .ts = ns, .pid = 1, .tid = 1, .category = cat,
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

static void write_known(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert_eq(ls_writer_open(&w, fd, 1000000000, "runtime"), 0);
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
  ev(LS_EV_BEGIN, 500000, "phase", "timers", 0, NULL);
  ev(LS_EV_END, 600000, "phase", "timers", 0, NULL);

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

Test(report, known_figures) {
  char *path = tmp_path(".fxt");
  write_known(path);
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof err), 0, "%s", err);
  ls_report rep;
  cr_assert_eq(ls_report_compute(r, &rep, NULL), 0);

  cr_expect_eq(rep.iterations, 2);
  cr_expect_eq(rep.phases_outside_ns, 100000);
  cr_expect_eq(rep.loop_ns, 6100000);
  cr_expect_eq(rep.phase_ns[LS_PHASE_TIMERS], 2600000);
  cr_expect_eq(rep.phase_count[LS_PHASE_TIMERS], 3);
  cr_expect_eq(rep.phase_ns[LS_PHASE_POLL], 2900000);
  cr_expect_eq(rep.phase_ns[LS_PHASE_CHECK], 600000);
  cr_expect_eq(rep.phase_count[LS_PHASE_POLL], 2);
  cr_expect_eq(rep.phase_count[LS_PHASE_CLOSE], 0);

  const ls_report_dist *imm = &rep.kinds[LS_KIND_IMMEDIATE];
  cr_expect_eq(imm->count, 10);
  cr_expect_eq(imm->total_ns, 550000);
  cr_expect_eq(imm->p50_ns, 50000);
  cr_expect_eq(imm->p99_ns, 100000);
  cr_expect_eq(imm->max_ns, 100000);
  const ls_report_dist *tim = &rep.kinds[LS_KIND_TIMER];
  cr_expect_eq(tim->count, 2);
  cr_expect_eq(tim->p50_ns, 100000);
  cr_expect_eq(tim->p99_ns, 300000);
  cr_expect_eq(rep.kinds[LS_KIND_MICROTASK].count, 1);
  cr_expect_eq(rep.kinds[LS_KIND_MICROTASK].max_ns, 30000);
  cr_expect_eq(rep.kinds[LS_KIND_IO].max_ns, 500000);
  cr_expect_eq(rep.kinds[LS_KIND_INTERVAL].count, 1);
  cr_expect_eq(rep.kinds[LS_KIND_FS].count, 0);

  cr_assert_eq(rep.nlongest, 10);
  cr_expect_str_eq(rep.longest[0].label, "read");
  cr_expect_str_eq(rep.longest[0].kind, "io");
  cr_expect_eq(rep.longest[0].dur_ns, 500000);
  cr_expect_str_eq(rep.longest[1].label, "t2");
  cr_expect_eq(rep.longest[1].id, 2);
  cr_expect_eq(rep.longest[9].dur_ns, 50000);
  for (unsigned i = 1; i < rep.nlongest; i++)
    cr_expect_geq(rep.longest[i - 1].dur_ns, rep.longest[i].dur_ns);

  cr_expect_eq(rep.lateness.count, 3);
  cr_expect_eq(rep.lateness.p50_ns, 200000);
  cr_expect_eq(rep.lateness.p99_ns, 2500000);
  cr_expect_eq(rep.lateness.max_ns, 2500000);
  cr_expect_eq(rep.lateness.total_ns, 2800000);
  cr_expect_eq(rep.timers_unscheduled, 0);

  /* Outermost callbacks only: the nested microtask is inside t1. */
  cr_expect_eq(rep.callback_ns, 100000 + 300000 + 500000 + 550000 + 100000);
  cr_expect_eq(rep.poll_idle_ns, 2400000);
  cr_expect_float_eq(rep.elu, (6.1 - 2.4) / 6.1, 1e-12);
  cr_expect_eq(rep.lost, 7);
  cr_expect_eq(rep.lost_records, 1);
  cr_expect_str_eq(rep.source, "runtime");

  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  ls_report_print(&rep, path, out);
  fclose(out);
  cr_expect_not_null(strstr(text, "42.6%"), "timers share:\n%s", text);
  cr_expect_not_null(strstr(text, "Event-loop utilisation: 60.7%"), "%s", text);
  cr_expect_not_null(strstr(text, "Lost events: 7"), "%s", text);
  free(text);
  ls_reader_close(r);
  unlink(path);
  free(path);
}
