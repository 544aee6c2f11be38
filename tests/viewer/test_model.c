/* The viewer's model, layout and replay state, without SDL. Expectations are
 * computed from the trace file with the plain reader, not from the model. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"
#include "layout.h"
#include "loopscope/format.h"
#include "model.h"
#include "state.h"
#include "synth.h"

static char path[256];
static ls_synth_stats stats;
static ls_vmodel model;

static void write_trace(const ls_synth_opts *o) {
  snprintf(path, sizeof path, "/tmp/ls-viewer-model-%d.fxt", (int)getpid());
  cr_assert_eq(ls_synth_write(path, o, &stats), 0, "synth trace %s", path);
}

static void setup(void) {
  ls_synth_opts o = {.iterations = 400, .seed = 7, .workers = 2, .marks = 1};
  write_trace(&o);
  ls_vmodel_init(&model);
  cr_assert_eq(ls_vmodel_load(&model, path), 0, "%s", model.error);
}

static void teardown(void) {
  ls_vmodel_free(&model);
  unlink(path);
}

TestSuite(model, .init = setup, .fini = teardown, .timeout = 60);

Test(model, loads_every_event_into_sorted_rows) {
  cr_assert_eq(model.nevents, stats.events);
  cr_assert_eq(atomic_load(&model.state), LS_VLOAD_DONE);
  int lt = ls_vstate_loop_thread(&model);
  cr_assert_geq(lt, 0);
  ls_expect x;
  ls_expect_read(&x, path);
  uint64_t phases = 0, in_model = 0;
  for (size_t i = 0; i < x.nfacts; i++)
    phases += x.facts[i].type == LS_EV_BEGIN &&
              strcmp(x.facts[i].cat, "phase") == 0;
  for (unsigned ti = 0; ti < model.nthreads; ti++) {
    const ls_vthread *t = &model.threads[ti];
    for (unsigned r = 0; r < t->nrows; r++)
      for (uint32_t i = 0; i < t->rows[r].n; i++) {
        const ls_vslice *s = &t->rows[r].v[i];
        in_model += ls_vc_is_phase(s->cls);
        cr_assert_leq(s->t0, s->t1);
        if (i)
          cr_assert_leq(t->rows[r].v[i - 1].t1, s->t0,
                        "row %u of thread %u overlaps at %u", r, ti, i);
      }
  }
  cr_assert_eq(in_model, phases);
  cr_assert_eq(sizeof(ls_vslice), 32, "a slice stays 32 bytes");
  ls_expect_free(&x);
}

Test(model, loop_state_matches_the_trace) {
  ls_expect x;
  ls_expect_read(&x, path);
  int lt = ls_vstate_loop_thread(&model);
  unsigned nonempty = 0, pool_queued = 0;
  /* At every 7th callback start (queues change there) and just after. */
  for (size_t i = 0, k = 0; i < x.nfacts && k < 150; i++) {
    if (!ls_expect_is_callback(&x.facts[i]) || i % 7)
      continue;
    k++;
    for (int d = 0; d < 2; d++)
      nonempty += ls_expect_check_state(
          &model, lt, &x, x.facts[i].ts + (uint64_t)d * 1500, &pool_queued);
  }
  cr_assert_gt(nonempty, 50, "the instants checked had queued work");
  cr_assert_gt(pool_queued, 0, "some fs work waited for a pool worker");
  /* Timers are listed by due time. */
  static ls_vstate st;
  ls_vstate_at(&model, lt, model.t_min + (model.t_max - model.t_min) / 2, &st);
  for (uint32_t i = 1; i < st.q[LS_VQ_TIMERS].n; i++)
    cr_assert_leq(st.q[LS_VQ_TIMERS].v[i - 1].t_due,
                  st.q[LS_VQ_TIMERS].v[i].t_due);
  ls_expect_free(&x);
}

Test(model, phase_at_an_instant) {
  int lt = ls_vstate_loop_thread(&model);
  const ls_vthread *t = &model.threads[lt];
  static ls_vstate st;
  unsigned checked = 0;
  for (unsigned r = 0; r < t->nrows; r++)
    for (uint32_t i = 0; i < t->rows[r].n; i += 13) {
      const ls_vslice *s = &t->rows[r].v[i];
      if (!ls_vc_is_phase(s->cls) || s->t1 - s->t0 < 2)
        continue;
      ls_vstate_at(&model, lt, s->t0 + (s->t1 - s->t0) / 2, &st);
      cr_assert_eq(st.phase, (int)(s->cls - LS_VC_PHASE));
      cr_assert(st.in_iteration);
      checked++;
    }
  cr_assert_gt(checked, 20);
}

/* Folding hides nothing: the counts of all runs add up to what is visible,
 * and zoomed in, the same slices come back one by one. */
Test(model, folding_counts_what_it_hides) {
  int lt = ls_vstate_loop_thread(&model);
  const ls_vthread *t = &model.threads[lt];
  unsigned row = 2; /* callbacks nested in phases */
  cr_assert_gt(t->nrows, row);
  const ls_vrow *r = &t->rows[row];
  ls_vxmap xm;
  ls_vxmap_set(&xm, model.t_min, model.t_max + 1, 100, 1000);
  static ls_vrun runs[4096];
  ls_vspans sp = ls_vspans_of_row(r);
  uint32_t n = ls_vfold(&sp, &xm, runs, 4096);
  uint64_t total = 0;
  bool folded = false;
  for (uint32_t i = 0; i < n; i++) {
    total += runs[i].count;
    folded |= runs[i].count > 1;
    if (i)
      cr_assert_geq(runs[i].first, runs[i - 1].first + runs[i - 1].count);
  }
  cr_assert(folded, "zoomed out, narrow callbacks fold");
  /* A folded block takes the class covering most of its time: short timers
   * phases between long polls fold into a poll-coloured block. */
  static ls_vslice alt[100];
  for (int i = 0; i < 100; i++)
    alt[i] = (ls_vslice){.t0 = (uint64_t)i * 200,
                         .t1 = (uint64_t)i * 200 + (i % 2 ? 150 : 2),
                         .cls = i % 2 ? LS_VC_PHASE + LS_PHASE_POLL
                                      : LS_VC_PHASE + LS_PHASE_TIMERS};
  ls_vrow arow = {.v = alt, .n = 100, .cap = 100};
  ls_vrun all = {0, 0, 0, 100};
  cr_assert_eq(ls_vfold_class(&arow, &all), LS_VC_PHASE + LS_PHASE_POLL);
  ls_vrun one = {0, 0, 0, 1};
  cr_assert_eq(ls_vfold_class(&arow, &one), LS_VC_PHASE + LS_PHASE_TIMERS);
  cr_assert_eq(total, r->n);
  cr_assert_lt(n, 1000, "at most about one run per 3 px: %u", n);

  /* 20 us around one callback: it is drawn on its own, wider than 3 px. */
  const ls_vslice *s = &r->v[r->n / 2];
  ls_vxmap_set(&xm, s->t0 - 10000, s->t1 + 10000, 100, 1000);
  n = ls_vfold(&sp, &xm, runs, 4096);
  bool alone = false;
  for (uint32_t i = 0; i < n; i++)
    if (runs[i].first == r->n / 2) {
      alone = runs[i].count == 1 && runs[i].x1 - runs[i].x0 >= 3;
    }
  cr_assert(alone);
}

Test(model, search_and_long_callbacks) {
  ls_expect x;
  ls_expect_read(&x, path);
  uint64_t first_fs = UINT64_MAX, first_busy = UINT64_MAX;
  for (size_t i = 0; i < x.nfacts; i++) {
    const ev_fact *f = &x.facts[i];
    if (f->type != LS_EV_BEGIN)
      continue;
    if (strcmp(f->name, "fs.read") == 0 && f->ts < first_fs)
      first_fs = f->ts;
    if (strcmp(f->name, "busyWait") == 0 && f->ts < first_busy)
      first_busy = f->ts;
  }
  ls_vref r = ls_vmodel_search(&model, "FS.READ", model.t_min, true);
  const ls_vslice *s = ls_vmodel_slice(&model, r);
  cr_assert_not_null(s);
  cr_assert_eq(s->t0, first_fs);
  cr_assert_str_eq(ls_vmodel_str(&model, s->label), "fs.read");
  r = ls_vmodel_search(&model, "no such label", model.t_min, true);
  cr_assert_eq(r.thread, -1);

  /* n: the first callback of at least 10 ms is the 30 ms busy wait. */
  r = ls_vmodel_next_long(&model, model.t_min, 10000000, true);
  s = ls_vmodel_slice(&model, r);
  cr_assert_not_null(s);
  cr_assert_eq(s->t0, first_busy);
  /* N from after it comes back to it. */
  r = ls_vmodel_next_long(&model, s->t0 + 1, 10000000, false);
  cr_assert_eq(ls_vmodel_slice(&model, r)->t0, first_busy);
  ls_expect_free(&x);
}

Test(model, marks_and_timers_lane) {
  int lt = ls_vstate_loop_thread(&model);
  const ls_vthread *t = &model.threads[lt];
  cr_assert_gt(t->blocked.n, 0);
  cr_assert_eq(t->blocked.v[0].t1 - t->blocked.v[0].t0, 30000000);
  cr_assert_gt(t->lost.n, 0);
  cr_assert_eq(t->lost.v[0].count, 42);
  cr_assert_gt(t->lost.v[0].t1, t->lost.v[0].t0, "the gap runs to the next event");
  /* Every timer is in exactly one timers-lane row; rows do not overlap. */
  uint64_t timers = 0, placed = 0;
  for (uint32_t i = 0; i < t->npend; i++)
    timers += t->pend[i].queue == LS_VQ_TIMERS;
  for (unsigned r = 0; r < t->ntimer_rows; r++) {
    placed += t->ntimer_rows_n[r];
    for (uint32_t k = 1; k < t->ntimer_rows_n[r]; k++) {
      const ls_vpend *a = &t->pend[t->timer_rows[r][k - 1]];
      const ls_vpend *b = &t->pend[t->timer_rows[r][k]];
      uint64_t a_end = a->t_run > a->t_due ? a->t_run : a->t_due;
      cr_assert_leq(a_end, b->t_sched);
    }
  }
  cr_assert_gt(timers, 10);
  cr_assert_eq(placed, timers);
  /* The stream has both series and its backpressure spans. */
  bool stream = false;
  for (unsigned c = 0; c < model.ncounters; c++)
    if (model.counters[c].stream) {
      stream = true;
      cr_assert_eq(model.counters[c].nseries, 2);
      cr_assert_gt(model.counters[c].backpressure.n, 0);
    }
  cr_assert(stream);
}

Test(model, layout_follows_the_window) {
  ls_vlayout L = {0};
  int sizes[][2] = {{3840, 2160}, {1920, 1080}, {1280, 800}, {800, 600},
                    {640, 400}, {320, 240}, {300, 200}};
  for (int k = 0; k < (int)(sizeof sizes / sizeof sizes[0]); k++) {
    int w = sizes[k][0], h = sizes[k][1];
    ls_vlayout_build(&L, &model, w, h, 15, 0, true, 2);
    cr_assert_gt(L.tracks.w, 0);
    cr_assert_leq(L.tracks.x + L.tracks.w, w);
    cr_assert_leq(L.legend.y + L.legend.h, L.status.y);
    cr_assert_eq(L.status.y + L.status.h, h);
    cr_assert_eq(L.show_panel, w >= LS_VPANEL_MIN_W);
    cr_assert_geq(L.tracks.w, w / 3, "the timeline keeps room");
    if (L.show_panel)
      cr_assert_eq(L.panel.x, L.tracks.x + L.tracks.w);
    cr_assert_gt(L.nlanes, 3);
  }
  /* A legend that would wrap into many rows in a small window is cut to a
   * sixth of it: the timeline keeps the rest. */
  ls_vlayout_build(&L, &model, 320, 240, 15, 0, true, 6);
  cr_assert_leq(L.legend.h, 240 / 6);
  cr_assert_geq(L.legend.h, 15, "one legend row at least");
  cr_assert_geq(L.tracks.h, 240 / 3);
  /* Counters belong to the process: a title lane of their own separates
   * them from the last thread's lanes, and names their process. */
  ls_vlayout_build(&L, &model, 1280, 800, 15, 0, true, 1);
  cr_assert_gt(model.ncounters, 0);
  int titles = 0;
  for (unsigned i = 0; i < L.nlanes; i++) {
    const ls_vlane *ln = &L.lanes[i];
    if (ln->kind == LS_VLANE_COUNTERS) {
      titles++;
      cr_assert_lt(i + 1, L.nlanes);
      cr_assert_eq(L.lanes[i + 1].kind, LS_VLANE_COUNTER, "the title heads counters");
      cr_assert_eq(L.lanes[i + 1].index, ln->index);
    }
    if (ln->kind == LS_VLANE_COUNTER)
      cr_assert_gt(titles, 0, "lane %u: a counter with no title above it", i);
  }
  cr_assert_eq(titles, 1, "one process, one title");
  /* Pinning a thread puts its lanes above the scrolled ones. */
  unsigned last = model.nthreads - 1;
  model.threads[last].pinned = true;
  ls_vlayout_build(&L, &model, 1280, 800, 15, 100000, true, 1);
  cr_assert(L.lanes[0].pinned);
  cr_assert_eq(L.lanes[0].index, (int)last);
  cr_assert_eq(L.lanes[0].y, L.pinned_area.y);
  cr_assert_leq(L.scroll_y, L.content_h, "scrolling is clamped");
  ls_vlayout_free(&L);
}

/* ---- bad input ---- */

static void load_bytes(const void *data, size_t len, ls_vmodel *m) {
  snprintf(path, sizeof path, "/tmp/ls-viewer-bad-%d.fxt", (int)getpid());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, data, len), (ssize_t)len);
  close(fd);
  ls_vmodel_init(m);
}

static void *slurp(const char *p, size_t *len) {
  FILE *f = fopen(p, "rb");
  cr_assert_not_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  void *b = malloc(*len);
  cr_assert_eq(fread(b, 1, *len, f), *len);
  fclose(f);
  return b;
}

Test(bad_input, empty_garbage_truncated_corrupted, .timeout = 60) {
  ls_synth_opts o = {.iterations = 60, .seed = 3, .workers = 1};
  write_trace(&o);
  size_t len;
  unsigned char *good = slurp(path, &len);
  ls_vmodel m;

  load_bytes("", 0, &m);
  cr_assert_eq(ls_vmodel_load(&m, path), -1);
  cr_assert(strstr(m.error, path), "the message names the file: %s", m.error);
  ls_vmodel_free(&m);

  load_bytes("{\"not\": \"fxt\"}\n", 15, &m);
  cr_assert_eq(ls_vmodel_load(&m, path), -1);
  cr_assert_neq(m.error[0], 0);
  ls_vmodel_free(&m);

  /* Cut anywhere: whatever whole records precede the cut are shown. */
  for (size_t cut = 8; cut < len; cut += len / 37 + 1) {
    load_bytes(good, cut, &m);
    int rc = ls_vmodel_load(&m, path);
    cr_assert(rc == 0 || m.error[0], "cut at %zu", cut);
    ls_vmodel_free(&m);
  }
  load_bytes(good, len - 3, &m);
  cr_assert_eq(ls_vmodel_load(&m, path), 0, "%s", m.error);
  cr_assert(strstr(m.error, "truncated"), "%s", m.error);
  cr_assert_gt(m.nevents, 100);
  ls_vmodel_free(&m);

  /* Flipped bytes in the middle: a clear error or a (partial) model. */
  for (size_t at = 64; at + 16 < len; at += len / 23 + 5) {
    unsigned char *bad = malloc(len);
    memcpy(bad, good, len);
    for (int k = 0; k < 16; k++)
      bad[at + k] ^= 0xa5;
    load_bytes(bad, len, &m);
    int rc = ls_vmodel_load(&m, path);
    cr_assert(rc == 0 || m.error[0]);
    ls_vmodel_free(&m);
    free(bad);
  }
  free(good);
  unlink(path);
}

Test(bad_input, one_event_and_many_lanes, .timeout = 60) {
  snprintf(path, sizeof path, "/tmp/ls-viewer-one-%d.fxt", (int)getpid());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, fd, 1000000000, "runtime"), 0);
  ls_event e = {.type = LS_EV_INSTANT, .ts = 5, .pid = 1, .tid = 2,
                .category = "sched", .name = "setTimeout"};
  cr_assert_eq(ls_writer_event(w, &e), 0);
  cr_assert_eq(ls_writer_close(w), 0);
  close(fd);
  ls_vmodel m;
  ls_vmodel_init(&m);
  cr_assert_eq(ls_vmodel_load(&m, path), 0, "%s", m.error);
  cr_assert_eq(m.nevents, 1);
  static ls_vstate st;
  ls_vstate_at(&m, -1, 5, &st);
  cr_assert_eq(st.loop_thread, -1);
  ls_vlayout L = {0};
  ls_vlayout_build(&L, &m, 800, 600, 15, 0, true, 2);
  cr_assert_geq(L.nlanes, 1);
  ls_vlayout_free(&L);
  ls_vmodel_free(&m);

  ls_synth_opts o = {.iterations = 5, .seed = 1, .workers = 1,
                     .extra_threads = 200};
  write_trace(&o);
  ls_vmodel_init(&m);
  cr_assert_eq(ls_vmodel_load(&m, path), 0, "%s", m.error);
  cr_assert_geq(m.nthreads, 202);
  ls_vlayout_build(&L, &m, 1280, 800, 15, 0, true, 1);
  cr_assert_geq(L.nlanes, 400);
  cr_assert_gt(L.content_h, L.scroll_area.h, "200 lanes scroll");
  ls_vlayout_free(&L);
  ls_vmodel_free(&m);
  unlink(path);
}

/* ---- times as the axis, panel and tooltips write them ---- */

Test(text, times_keep_the_precision_they_are_shown_at) {
  char a[32], b[32];
  ls_vfmt_time(a, sizeof a, 5121000, 1000);
  cr_assert_str_eq(a, "5.121 ms");
  /* Axis ticks 1 us apart, 5 ms into a trace: every label differs. */
  for (int k = 0; k < 6; k++) {
    ls_vfmt_time(a, sizeof a, 5120000 + k * 1000.0, 1000);
    ls_vfmt_time(b, sizeof b, 5120000 + (k + 1) * 1000.0, 1000);
    cr_assert_str_neq(a, b, "tick %d", k);
  }
  ls_vfmt_time(a, sizeof a, 5120500, 500);
  cr_assert_str_eq(a, "5.1205 ms");
  ls_vfmt_time(a, sizeof a, 0, 5e6);
  cr_assert_str_eq(a, "0 ms", "zero takes the step's unit");
  ls_vfmt_time(a, sizeof a, 1.5e9, 1e8);
  cr_assert_str_eq(a, "1.5 s");
  ls_vfmt_time(a, sizeof a, 840, 0.01);
  cr_assert_str_eq(a, "840 ns", "nothing finer than a ns");
  ls_vfmt_time(a, sizeof a, 20e6, 5e6);
  cr_assert_str_eq(a, "20 ms");
}
