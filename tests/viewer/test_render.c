#define _GNU_SOURCE /* close_range */
/* Headless rendering: draw synthetic traces with the real renderer and read
 * the pixels back; drive the real input handling with scripts. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "expect.h"
#include "loopscope/format.h"
#include "synth.h"
#if LS_VIEW_JSON
#include "loopscope/export.h"
#endif

#define VIEW_BIN LS_BINARY_DIR "/viewer/loopscope-view"

static char path[256], script[256];
static ls_vapp app;

static void setup(void) {
  snprintf(path, sizeof path, "/tmp/ls-viewer-render-%d.fxt", (int)getpid());
  snprintf(script, sizeof script, "/tmp/ls-viewer-script-%d.txt", (int)getpid());
  ls_synth_opts o = {.iterations = 300, .seed = 11, .workers = 2, .marks = 1};
  ls_synth_stats st;
  cr_assert_eq(ls_synth_write(path, &o, &st), 0);
  cr_assert_eq(ls_vapp_init(&app, 1280, 800, false), 0);
  cr_assert_eq(ls_vapp_load(&app, path), 0);
  ls_vapp_wait_loaded(&app);
  cr_assert_eq(atomic_load(&app.model.state), LS_VLOAD_DONE, "%s",
               app.model.error);
}

static void teardown(void) {
  ls_vapp_free(&app);
  unlink(path);
  unlink(script);
}

static uint32_t pixel(int x, int y) {
  cr_assert(x >= 0 && y >= 0 && x < app.surface->w && y < app.surface->h,
            "pixel %d,%d outside", x, y);
  const uint8_t *row = (const uint8_t *)app.surface->pixels +
                       (size_t)y * app.surface->pitch;
  return ((const uint32_t *)row)[x] & 0xffffff;
}

static void run_script(const char *text) {
  FILE *f = fopen(script, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  cr_assert_eq(ls_vapp_script(&app, script), 0);
}

/* Length of the run of colour c through (x, y) along the row. */
static int run_width(int x, int y, uint32_t c) {
  int a = x, b = x;
  while (a > 0 && pixel(a - 1, y) == c)
    a--;
  while (b + 1 < app.surface->w && pixel(b + 1, y) == c)
    b++;
  return pixel(x, y) == c ? b - a + 1 : 0;
}

TestSuite(render, .init = setup, .fini = teardown, .timeout = 120);

Test(render, phase_bands_have_their_colours) {
  /* For each phase, its longest band, zoomed to fill a third of the view:
   * the pixels under it have the phase's colour. */
  ls_vmodel *m = &app.model;
  int lt = ls_vstate_loop_thread(m);
  const ls_vthread *t = &m->threads[lt];
  const ls_vslice *longest[LS_PHASE_COUNT] = {NULL};
  uint32_t at[LS_PHASE_COUNT];
  for (uint32_t i = 0; i < t->rows[1].n; i++) {
    const ls_vslice *s = &t->rows[1].v[i];
    if (!ls_vc_is_phase(s->cls))
      continue;
    unsigned p = s->cls - LS_VC_PHASE;
    if (!longest[p] || s->t1 - s->t0 > longest[p]->t1 - longest[p]->t0) {
      longest[p] = s;
      at[p] = i;
    }
  }
  unsigned checked = 0;
  for (unsigned p = 0; p < LS_PHASE_COUNT; p++) {
    const ls_vslice *s = longest[p];
    if (s == NULL)
      continue;
    uint64_t d = s->t1 - s->t0;
    cr_assert_gt(s->t0, d);
    ls_vapp_set_view(&app, s->t0 - d, s->t1 + d);
    app.follow_load = false;
    ls_vapp_frame(&app);
    int y = ls_vlayout_row_y(&app.layout, lt, 1);
    cr_assert_gt(y, 0, "the phase row is on screen");
    int bottom = y + app.layout.line_h + 6 - 2; /* below any label */
    int x = (int)((ls_vxmap_x(&app.xm, s->t0) + ls_vxmap_x(&app.xm, s->t1)) / 2);
    uint32_t want = ls_vcolor_of_class(s->cls);
    cr_assert_eq(pixel(x, bottom), want, "%s band %u at x=%d: %06x, want %06x",
                 ls_phase_names[p], at[p], x, pixel(x, bottom), want);
    /* the whole band, not just one pixel */
    cr_assert_geq(run_width(x, bottom, want), app.xm.w / 3 - 3);
    checked++;
  }
  cr_assert_eq(checked, LS_PHASE_COUNT, "every phase appears in the trace");
}

/* The minimap shows the whole trace whatever the view, at any width: the
 * longest phase of each kind that is wide enough has its colour there,
 * with the view elsewhere and after resizes. */
Test(render, the_minimap_shows_the_whole_trace) {
  ls_vmodel *m = &app.model;
  int lt = ls_vstate_loop_thread(m);
  const ls_vrow *phases = &m->threads[lt].rows[1];
  const ls_vslice *longest[LS_PHASE_COUNT] = {NULL};
  for (uint32_t i = 0; i < phases->n; i++) {
    const ls_vslice *s = &phases->v[i], *b;
    if (!ls_vc_is_phase(s->cls))
      continue;
    b = longest[s->cls - LS_VC_PHASE];
    if (!b || s->t1 - s->t0 > b->t1 - b->t0)
      longest[s->cls - LS_VC_PHASE] = s;
  }
  uint64_t len = m->t_max - m->t_min;
  /* A view at the end of the trace (the minimap lightens the view's part),
   * then two sizes. */
  char view[64];
  snprintf(view, sizeof view, "view %luns %luns\n",
           (unsigned long)(len - len / 100), (unsigned long)len);
  const char *steps[] = {view, "resize 700 500\n", "resize 1500 900\n"};
  unsigned checked = 0;
  for (unsigned k = 0; k < sizeof steps / sizeof steps[0]; k++) {
    run_script(steps[k]);
    ls_vrect mm = app.layout.minimap;
    ls_vxmap all;
    ls_vxmap_set(&all, m->t_min, m->t_max, mm.x, mm.w);
    for (unsigned p = 0; p < LS_PHASE_COUNT; p++) {
      const ls_vslice *s = longest[p];
      if (!s || s->t1 - s->t0 < len / 230 || s->t1 > m->t_max - len / 50)
        continue; /* narrower than 3 columns at 700 px, or in the view */
      int x = (ls_vxmap_px(&all, s->t0) + ls_vxmap_px(&all, s->t1)) / 2;
      cr_assert_eq(pixel(x, mm.y + mm.h / 2), ls_vcolor_minimap(p),
                   "%s after %s", ls_phase_names[p], steps[k]);
      checked++;
    }
    /* The loop blocked in a 30 ms callback outside any phase: no phase's
     * colour there (a gap is not the phase that follows it). */
    const ls_vmark *b = &m->threads[lt].blocked.v[0];
    int x = (ls_vxmap_px(&all, b->t0) + ls_vxmap_px(&all, b->t1)) / 2;
    for (unsigned p = 0; p < LS_PHASE_COUNT; p++)
      cr_assert_neq(pixel(x, mm.y + mm.h / 2), ls_vcolor_minimap(p),
                    "blocked, shown as %s", ls_phase_names[p]);
  }
  cr_assert_geq(checked, 3, "a phase at three sizes");
}

Test(render, a_zoom_step_doubles_a_slice) {
  /* The longest poll phase (busyWait would do, but the blocked-loop mark
   * shades it). */
  ls_vmodel *m = &app.model;
  int lt = ls_vstate_loop_thread(m);
  const ls_vrow *phases = &m->threads[lt].rows[1];
  ls_vref r = {lt, 1, 0};
  for (uint32_t i = 0; i < phases->n; i++)
    if (phases->v[i].t1 - phases->v[i].t0 >
        phases->v[r.idx].t1 - phases->v[r.idx].t0)
      r.idx = i;
  const ls_vslice *s = ls_vmodel_slice(m, r);
  cr_assert_eq(s->cls, LS_VC_PHASE + LS_PHASE_POLL);
  uint64_t d = s->t1 - s->t0;
  cr_assert_gt(s->t0, d / 2);
  ls_vapp_set_view(&app, s->t0 - d / 2, s->t1 + 2 * d);
  app.follow_load = false;
  ls_vapp_frame(&app);
  int y = ls_vlayout_row_y(&app.layout, r.thread, r.row) +
          app.layout.line_h + 6 - 2;
  uint32_t c = ls_vcolor_of_class(s->cls);
  int cx = (int)((ls_vxmap_x(&app.xm, s->t0) + ls_vxmap_x(&app.xm, s->t1)) / 2);
  int w1 = run_width(cx, y, c);
  cr_assert_gt(w1, 100, "the slice is drawn (%d px)", w1);
  char buf[128];
  snprintf(buf, sizeof buf, "zoom 2 at %d\n", cx);
  run_script(buf);
  int w2 = run_width(cx, y, c);
  cr_assert(abs(w2 - 2 * w1) <= 3, "zoom 2: %d px -> %d px", w1, w2);
  /* and back out with two notches of the real wheel handling */
  snprintf(buf, sizeof buf, "zoom 0.5 at %d\n", cx);
  run_script(buf);
  cr_assert(abs(run_width(cx, y, c) - w1) <= 2);
}

Test(render, zoomed_out_runs_fold_into_counted_blocks) {
  ls_vapp_fit_all(&app);
  ls_vapp_frame(&app);
  ls_vmodel *m = &app.model;
  int lt = ls_vstate_loop_thread(m);
  const ls_vrow *row = &m->threads[lt].rows[2];
  static ls_vrun runs[8192];
  ls_vspans sp = ls_vspans_of_row(row);
  uint32_t n = ls_vfold(&sp, &app.xm, runs, 8192);
  int y = ls_vlayout_row_y(&app.layout, lt, 2);
  unsigned blocks = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (runs[i].count < 2 || runs[i].x1 - runs[i].x0 < 4)
      continue;
    uint32_t want = ls_vcolor_folded(ls_vfold_class(row, &runs[i]));
    cr_assert_eq(pixel((int)runs[i].x0 + 1, y + 2), want,
                 "folded block at x=%d", (int)runs[i].x0);
    blocks++;
  }
  cr_assert_gt(blocks, 3, "zoomed out, callbacks fold");
}

/* Shows [a - pad, b + pad] and draws it. */
static void show(uint64_t a, uint64_t b, uint64_t pad) {
  cr_assert_gt(a, pad);
  ls_vapp_set_view(&app, a - pad, b + pad);
  app.follow_load = false;
  ls_vapp_frame(&app);
}

static const ls_vlane *lane_of(ls_vlane_kind kind, int index) {
  for (unsigned i = 0; i < app.layout.nlanes; i++)
    if (app.layout.lanes[i].kind == kind && app.layout.lanes[i].index == index)
      return &app.layout.lanes[i];
  cr_assert_fail("no lane of kind %d for %d", kind, index);
  return NULL;
}

static int xof(uint64_t t) { return ls_vxmap_px(&app.xm, t); }

/* Whether colour c is within r pixels of (x, y). */
static bool near(int x, int y, int r, uint32_t c) {
  for (int dy = -r; dy <= r; dy++)
    for (int dx = -r; dx <= r; dx++)
      if (pixel(x + dx, y + dy) == c)
        return true;
  return false;
}

/* The longest slice of class cls on thread ti, in rows from `from` down. */
static ls_vref longest_of(const ls_vmodel *m, int ti, unsigned from, unsigned cls) {
  const ls_vthread *t = &m->threads[ti];
  ls_vref best = {-1, 0, 0};
  for (unsigned r = from; r < t->nrows; r++)
    for (uint32_t i = 0; i < t->rows[r].n; i++) {
      const ls_vslice *s = &t->rows[r].v[i];
      const ls_vslice *b = ls_vmodel_slice(m, best);
      if (s->cls == cls && (!b || s->t1 - s->t0 > b->t1 - b->t0))
        best = (ls_vref){ti, (int)r, i};
    }
  return best;
}

Test(render, callbacks_timers_streams_and_flows_in_their_colours) {
  ls_vmodel *m = &app.model;
  int lt = ls_vstate_loop_thread(m);
  const ls_vthread *t = &m->threads[lt];
  ls_vapp_frame(&app); /* lays out the lanes */
  int row_h = app.layout.line_h + 6;

  /* Callbacks in their kind's colour: the longest of each kind. */
  unsigned kinds = 0;
  for (unsigned k = 0; k < LS_KIND_COUNT; k++) {
    ls_vref best = longest_of(m, lt, 2, LS_VC_KIND + k);
    const ls_vslice *s = ls_vmodel_slice(m, best);
    if (s == NULL || s->t1 - s->t0 < 100)
      continue;
    show(s->t0, s->t1, s->t1 - s->t0);
    int y = ls_vlayout_row_y(&app.layout, lt, best.row) + row_h - 2;
    cr_assert_eq(pixel((xof(s->t0) + xof(s->t1)) / 2, y),
                 ls_vcolor_of_class(s->cls), "a %s callback", ls_kind_names[k]);
    kinds++;
  }
  cr_assert_geq(kinds, 5, "callbacks of %u kinds checked", kinds);

  /* A drain of nextTicks / microtasks in its lane. */
  const ls_vslice *burst = &t->bursts.v[0];
  for (uint32_t i = 1; i < t->bursts.n; i++)
    if (t->bursts.v[i].t1 - t->bursts.v[i].t0 > burst->t1 - burst->t0)
      burst = &t->bursts.v[i];
  show(burst->t0, burst->t1, burst->t1 - burst->t0);
  const ls_vlane *bl = lane_of(LS_VLANE_BURSTS, lt);
  cr_assert_eq(pixel((xof(burst->t0) + xof(burst->t1)) / 2, bl->y + bl->h - 2),
               ls_vcolor_of_class(burst->cls));

  /* The latest timer among the lane's shown rows: amber until due, red
   * from due to when it ran. */
  const ls_vpend *late = NULL;
  int late_row = -1;
  for (unsigned r = 0; r < t->ntimer_rows && r < LS_VTIMER_ROWS_MAX; r++)
    for (uint32_t k = 0; k < t->ntimer_rows_n[r]; k++) {
      const ls_vpend *p = &t->pend[t->timer_rows[r][k]];
      if (p->t_run != LS_VT_NEVER && p->t_run > p->t_due + 1000 &&
          p->t_due > p->t_sched + 1000 &&
          (!late || p->t_run - p->t_due > late->t_run - late->t_due)) {
        late = p;
        late_row = (int)r;
      }
    }
  cr_assert_not_null(late, "a late timer");
  show(late->t_sched, late->t_run, (late->t_run - late->t_sched) / 4);
  const ls_vlane *tl = lane_of(LS_VLANE_TIMERS, lt);
  int ty = tl->y + late_row * tl->row_h + tl->row_h / 2;
  cr_assert_eq(pixel((xof(late->t_due) + xof(late->t_run)) / 2, ty),
               LS_VCOLOR_LATE, "late: due -> ran");
  cr_assert_eq(pixel((xof(late->t_sched) + xof(late->t_due)) / 2, ty),
               LS_VCOLOR_WAIT, "waiting: scheduled -> due");

  /* A stream's backpressure span shaded behind its graph. */
  int ci = -1;
  for (unsigned c = 0; c < m->ncounters; c++)
    if (m->counters[c].stream)
      ci = (int)c;
  cr_assert_geq(ci, 0);
  const ls_vrow *bp = &m->counters[ci].backpressure;
  const ls_vslice *span = &bp->v[0];
  for (uint32_t i = 1; i < bp->n; i++)
    if (bp->v[i].t1 - bp->v[i].t0 > span->t1 - span->t0)
      span = &bp->v[i];
  show(span->t0, span->t1, span->t1 - span->t0);
  const ls_vlane *sl = lane_of(LS_VLANE_COUNTER, ci);
  int sx = (xof(span->t0) + xof(span->t1)) / 2;
  cr_assert_eq(pixel(sx, sl->y + 1), LS_VCOLOR_BACKPRESSURE_BG);
  cr_assert_eq(pixel(xof(span->t0) - 5, sl->y + 1), LS_VCOLOR_COUNTER_BG,
               "no shade before the span");

  /* Selecting the late timer's callback draws an arrow from its
   * setTimeout (the scheduled / marks lane) to it. */
  run_script("key Escape\n");
  show(late->t_sched, late->t_run, (late->t_run - late->t_sched) / 4);
  char buf[64];
  int cy = ls_vlayout_row_y(&app.layout, late->run_thread, late->run_depth) +
           row_h / 2;
  snprintf(buf, sizeof buf, "click %d %d\n", xof(late->t_run) + 1, cy);
  run_script(buf);
  const ls_vslice *sel = ls_vmodel_slice(m, app.selected);
  cr_assert_not_null(sel, "%s", buf);
  cr_assert_eq(sel->t0, late->t_run, "the timer's callback is selected");
  const ls_vlane *ml = lane_of(LS_VLANE_MARKS, lt);
  int x0 = xof(late->t_sched), y0 = ml->y + ml->h / 2;
  int x1 = xof(late->t_run), y1 = cy;
  cr_assert(near((x0 + x1) / 2, (y0 + y1) / 2, 2, LS_VCOLOR_FLOW_IN),
            "the flow arrow passes its middle");
  run_script("key Escape\n");
  cr_assert(!near((x0 + x1) / 2, (y0 + y1) / 2, 2, LS_VCOLOR_FLOW_IN),
            "no arrow without a selection");

  /* A file read goes request -> pool worker -> callback: selecting the
   * worker's slice or the callback draws both hops. */
  const ls_vpend *rd = NULL;
  for (uint32_t i = 0; i < t->npend && !rd; i++) {
    const ls_vpend *p = &t->pend[i];
    if (p->t_pool != LS_VT_NEVER && p->t_run != LS_VT_NEVER &&
        p->t_pool > p->t_sched + 2000)
      rd = p;
  }
  cr_assert_not_null(rd, "a read that waited for a worker");
  ls_vref wr = ls_vmodel_pool_work(m, rd);
  const ls_vslice *w = ls_vmodel_slice(m, wr);
  cr_assert_not_null(w);
  cr_assert_eq(w->id, rd->id);
  show(rd->t_sched, rd->t_run, (rd->t_run - rd->t_sched) / 4);
  int sy = ml->y + ml->h / 2;
  int wy = ls_vlayout_row_y(&app.layout, wr.thread, wr.row) + row_h / 2;
  int ry = ls_vlayout_row_y(&app.layout, rd->run_thread, rd->run_depth) +
           row_h / 2;
  int xs = xof(rd->t_sched), xw0 = xof(w->t0), xw1 = xof(w->t1),
      xr = xof(rd->t_run);
  snprintf(buf, sizeof buf, "click %d %d\n", (xw0 + xw1) / 2, wy);
  run_script(buf);
  cr_assert_eq(ls_vmodel_slice(m, app.selected), w, "the worker's slice");
  cr_assert(near((xs + xw0) / 2, (sy + wy) / 2, 2, LS_VCOLOR_FLOW_IN),
            "request -> worker");
  cr_assert(near((xw1 + xr) / 2, (wy + ry) / 2, 2, LS_VCOLOR_FLOW_OUT),
            "worker -> callback");
  snprintf(buf, sizeof buf, "click %d %d\n", xr + 1, ry);
  run_script(buf);
  cr_assert_eq(ls_vmodel_slice(m, app.selected)->t0, rd->t_run,
               "the callback");
  cr_assert(near((xs + xw0) / 2, (sy + wy) / 2, 2, LS_VCOLOR_FLOW_IN));
  cr_assert(near((xw1 + xr) / 2, (wy + ry) / 2, 2, LS_VCOLOR_FLOW_IN),
            "worker -> its callback, selected");
}

/* The first and second "fs.read" slices by start time, from the file. */
static void first_two(const char *name, uint64_t *a, uint64_t *b) {
  ls_reader *r;
  char err[256];
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof err), 0);
  ls_record rec;
  *a = *b = UINT64_MAX;
  while (ls_reader_next(r, &rec) == LS_FMT_OK) {
    if (rec.kind != LS_REC_EVENT || rec.event.type != LS_EV_BEGIN ||
        strcmp(rec.event.name, name) != 0)
      continue;
    uint64_t t = rec.event.ts;
    if (t < *a) {
      *b = *a;
      *a = t;
    } else if (t < *b && t != *a) {
      *b = t;
    }
  }
  ls_reader_close(r);
}

Test(render, scripted_search_lands_on_the_event) {
  uint64_t a, b;
  first_two("fs.read", &a, &b);
  run_script("key 0\nsearch fs.read\n");
  const ls_vslice *s = ls_vmodel_slice(&app.model, app.selected);
  cr_assert_not_null(s, "%s", app.message);
  cr_assert_eq(s->t0, a);
  cr_assert_eq(app.cursor, a, "the replay cursor follows the selection");
  run_script("key Return\n");
  s = ls_vmodel_slice(&app.model, app.selected);
  cr_assert_eq(s->t0, b, "Return finds the next match");
  run_script("key Escape\nsearch nothing-like-this\n");
  cr_assert(strstr(app.message, "no label matches"));
}

Test(render, long_callbacks_click_and_replay) {
  run_script("key 0\nkey t\nkey t\nkey n\n"); /* threshold 100 ms -> ... */
  cr_assert_eq(app.long_ns, 100000000);
  cr_assert(strstr(app.message, "no later callback"), "%s", app.message);
  run_script("key t\nkey t\nkey t\nkey n\n"); /* 1 s -> wraps to 10 us -> 100 us */
  cr_assert_eq(app.long_ns, 100000);
  const ls_vslice *s = ls_vmodel_slice(&app.model, app.selected);
  cr_assert_not_null(s);
  cr_assert_geq(s->t1 - s->t0, 100000);
  cr_assert(ls_vc_is_callback(s->cls));
  /* f fits it; a click on its middle selects it again. */
  ls_vref sel = app.selected;
  run_script("key f\n");
  cr_assert(app.t0 <= s->t0 && app.t1 >= s->t1, "f shows all of it");
  cr_assert_geq((double)(s->t1 - s->t0), 0.7 * (double)(app.t1 - app.t0),
                "f fits the view to it");
  run_script("key Escape\n");
  cr_assert_eq(app.selected.thread, -1);
  int x = (int)((ls_vxmap_x(&app.xm, s->t0) + ls_vxmap_x(&app.xm, s->t1)) / 2);
  int y = ls_vlayout_row_y(&app.layout, sel.thread, sel.row) + 4;
  char buf[64];
  snprintf(buf, sizeof buf, "click %d %d\n", x, y);
  run_script(buf);
  cr_assert_eq(app.selected.idx, sel.idx);
  cr_assert_eq(app.selected.row, sel.row);
  /* hovering it names it (the tooltip reads app.hover) */
  snprintf(buf, sizeof buf, "move %d %d\n", x, y);
  run_script(buf);
  cr_assert_eq(app.hover.idx, sel.idx);
  cr_assert_eq(app.hover.thread, sel.thread);
  /* Replay: 0.5 s of wall time moves the cursor speed * 0.5 s. */
  uint64_t c0 = app.cursor;
  run_script("speed 0.001\nplay 0.5\n");
  cr_assert(app.cursor - c0 >= 499000 && app.cursor - c0 <= 501000,
            "moved %lu ns", (unsigned long)(app.cursor - c0));
  cr_assert(!app.playing);
  /* [ and ] halve and double the speed; 1 is real time. */
  run_script("key ]\nkey ]\n");
  cr_assert_float_eq(app.speed, 0.004, 1e-12);
  run_script("key 1\n");
  cr_assert_eq(app.speed, 1.0);
  run_script("key [\n");
  cr_assert_eq(app.speed, 0.5);
  /* Arrow keys step to the next event start. */
  uint64_t c1 = app.cursor;
  run_script("key Right\n");
  cr_assert_gt(app.cursor, c1);
  cr_assert_eq(app.cursor, ls_vmodel_step(&app.model, c1, true));
  /* n twice, then N: back to the first of the two. */
  run_script("key n\n");
  const ls_vslice *first = ls_vmodel_slice(&app.model, app.selected);
  cr_assert_not_null(first);
  run_script("key n\n");
  const ls_vslice *second = ls_vmodel_slice(&app.model, app.selected);
  cr_assert_not_null(second);
  cr_assert_gt(second->t0, first->t0);
  cr_assert_geq(second->t1 - second->t0, app.long_ns);
  run_script("key N\n");
  cr_assert_eq(ls_vmodel_slice(&app.model, app.selected), first,
               "N goes back to the previous long callback");
}

/* Script steps that make no sense are refused, naming the line, and change
 * nothing: numbers beyond any screen, unknown keys, sizes out of range. */
Test(render, a_script_refuses_what_it_cannot_do) {
  run_script("key 0\n");
  uint64_t t0 = app.t0, t1 = app.t1;
  const char *bad[] = {"pan 1e12\n",          "zoom 2 at 1e12\n",
                       "click 10abc 5\n",     "key nosuchkey\n",
                       "resize 20000 20000\n", "resize 0 0\n",
                       "speed 0\n",           "view 5ms 1ms\n",
                       "cursor soon\n",       "zoom\n",
                       "jump 5\n"};
  for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    FILE *f = fopen(script, "w");
    cr_assert_not_null(f);
    fputs(bad[k], f);
    fclose(f);
    cr_assert_eq(ls_vapp_script(&app, script), -1, "%s", bad[k]);
    cr_assert_eq(app.t0, t0, "%s moved the view", bad[k]);
    cr_assert_eq(app.t1, t1);
    cr_assert_eq(app.w, 1280);
  }
}

Test(render, pan_collapse_and_resize) {
  run_script("key 0\n");
  uint64_t t0 = app.t0, span = app.t1 - app.t0;
  run_script("zoom 4\npan 100\n");
  uint64_t span4 = app.t1 - app.t0;
  cr_assert(span4 < span / 3 && span4 > span / 5);
  uint64_t before = app.t0;
  run_script("pan 200\n");
  double moved = (double)(app.t0 - before) * app.xm.px_per_ns;
  cr_assert(moved > 198 && moved < 202, "pan 200 px moved %.1f px", moved);
  (void)t0;
  /* WASD: w zooms in at the mouse (the time under it stays), s back out;
   * d and a pan by 15 % of the view. */
  int mx = app.layout.tracks.x + app.layout.tracks.w / 4;
  uint64_t under = ls_vxmap_t(&app.xm, mx);
  span = app.t1 - app.t0;
  char keys[128];
  snprintf(keys, sizeof keys, "move %d %d\nkey w\nkey w\n", mx,
           app.layout.tracks.y + 5);
  run_script(keys);
  cr_assert(labs((long)(app.t1 - app.t0) - (long)(span / 2)) <= (long)(span / 500),
            "two w notches halve the span");
  uint64_t still = ls_vxmap_t(&app.xm, mx);
  cr_assert_lt(still > under ? still - under : under - still,
               (uint64_t)(2 / app.xm.px_per_ns), "the time under the mouse stays");
  run_script("key s\nkey s\n");
  cr_assert(labs((long)(app.t1 - app.t0) - (long)span) <= (long)(span / 500));
  before = app.t0;
  run_script("key d\n");
  cr_assert(labs((long)(app.t0 - before) - (long)(span * 15 / 100)) <=
            (long)(span / 500), "d pans right");
  run_script("key a\n");
  cr_assert(labs((long)app.t0 - (long)before) <= (long)(span / 500),
            "a pans back");
  unsigned lanes = app.layout.nlanes;
  /* a click on a thread header collapses it */
  int hy = app.layout.lanes[0].y + 3;
  char buf[64];
  snprintf(buf, sizeof buf, "click %d %d\n", app.layout.tracks.x + 50, hy);
  run_script(buf);
  cr_assert_lt(app.layout.nlanes, lanes);
  /* p over a worker's header pins it: its lanes move to the pinned area at
   * the top and stay there while the rest scrolls; p again unpins. */
  const ls_vlane *worker = NULL;
  for (unsigned i = 0; i < app.layout.nlanes; i++)
    if (app.layout.lanes[i].kind == LS_VLANE_HEADER &&
        app.model.threads[app.layout.lanes[i].index].npool)
      worker = &app.layout.lanes[i];
  cr_assert_not_null(worker);
  int wi = worker->index;
  snprintf(buf, sizeof buf, "move %d %d\nkey p\nresize 1280 360\npan 0 400\n",
           app.layout.tracks.x + 50, worker->y + 3);
  run_script(buf);
  cr_assert(app.model.threads[wi].pinned);
  cr_assert_gt(app.layout.scroll_y, 0, "the drag scrolled the lanes");
  cr_assert(app.layout.lanes[0].pinned);
  cr_assert_eq(app.layout.lanes[0].index, wi);
  cr_assert_eq(app.layout.lanes[0].y, app.layout.pinned_area.y,
               "pinned lanes do not scroll");
  snprintf(buf, sizeof buf, "move %d %d\nkey p\n", app.layout.tracks.x + 50,
           app.layout.lanes[0].y + 3);
  run_script(buf);
  cr_assert(!app.model.threads[wi].pinned);
  /* a click on the minimap centres the view there */
  ls_vrect mm = app.layout.minimap;
  ls_vxmap whole;
  ls_vxmap_set(&whole, app.model.t_min, app.model.t_max, mm.x, mm.w);
  uint64_t want = ls_vxmap_t(&whole, mm.x + mm.w / 3);
  snprintf(buf, sizeof buf, "click %d %d\n", mm.x + mm.w / 3, mm.y + mm.h / 2);
  run_script(buf);
  uint64_t centre = app.t0 / 2 + app.t1 / 2;
  cr_assert_lt(centre > want ? centre - want : want - centre,
               (app.model.t_max - app.model.t_min) / 200);
  run_script("resize 640 400\n");
  cr_assert_eq(app.surface->w, 640);
  cr_assert_gt(app.layout.tracks.w, 100);
  cr_assert_eq(app.layout.status.y + app.layout.status.h, 400);
}

/* ---- the binary, on bad input ---- */

/* Runs the viewer with args, its stdout + stderr into out. The child gets
 * no other descriptor: Criterion's runner sockets stay with Criterion. */
static int run_view(const char *args, char *out, size_t len) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %s", VIEW_BIN, args);
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close_range(3, ~0U, 0);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  size_t n = 0;
  ssize_t k;
  while ((k = read(fds[0], out + n, len - 1 - n)) > 0)
    n += (size_t)k;
  out[n] = 0;
  close(fds[0]);
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#if LS_VIEW_JSON
/* Chrome JSON goes through the exporter's importer, then renders like any
 * trace (its pixels are checked on native traces above). */
static void chrome_json_renders(void) {
  char json[128], png[128], args[400], out[4096];
  snprintf(json, sizeof json, "/tmp/ls-viewer-json-%d.json", (int)getpid());
  snprintf(png, sizeof png, "/tmp/ls-viewer-json-%d.png", (int)getpid());
  FILE *f = fopen(json, "w");
  fputs("{\"traceEvents\": [\n"
        " {\"name\":\"iteration\",\"cat\":\"loop\",\"ph\":\"X\",\"ts\":0,"
        "\"dur\":1000,\"pid\":1,\"tid\":1,\"args\":{\"n\":1}},\n"
        " {\"name\":\"poll\",\"cat\":\"phase\",\"ph\":\"X\",\"ts\":0,"
        "\"dur\":1000,\"pid\":1,\"tid\":1}\n]}\n",
        f);
  fclose(f);
  snprintf(args, sizeof args, "%s --screenshot %s --size 800x500", json, png);
  cr_assert_eq(run_view(args, out, sizeof out), 0, "%s", out);
  cr_assert_eq(out[0], 0, "no warning: %s", out);
  cr_assert_eq(access(png, R_OK), 0);
  unlink(json);
  unlink(png);
}
#endif

#if LS_VIEW_JSON
/* Draws trace p with the view and cursor the README picture uses and
 * returns a copy of the pixels below the top bar (which names the file and
 * counts records, flows included, so it differs between the two forms). */
static uint32_t *draw_tour(const char *p, size_t *n) {
  cr_assert_eq(ls_vapp_init(&app, 1000, 600, false), 0);
  cr_assert_eq(ls_vapp_load(&app, p), 0);
  ls_vapp_wait_loaded(&app);
  cr_assert_eq(atomic_load(&app.model.state), LS_VLOAD_DONE, "%s",
               app.model.error);
  uint64_t t = app.model.t_min;
  ls_vapp_set_view(&app, t + 470000, t + 625000);
  app.follow_load = false;
  app.cursor = t + 538000;
  app.has_cursor = true;
  ls_vapp_frame(&app);
  int y0 = app.layout.top.h;
  *n = (size_t)(app.h - y0) * (size_t)app.w;
  uint32_t *px = malloc(*n * sizeof *px);
  for (int y = y0; y < app.h; y++)
    for (int x = 0; x < app.w; x++)
      px[(size_t)(y - y0) * (size_t)app.w + (size_t)x] = pixel(x, y);
  ls_vapp_free(&app);
  return px;
}

static char *read_all(const char *p, size_t *len) {
  FILE *f = fopen(p, "rb");
  cr_assert_not_null(f, "%s", p);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc(*len + 1);
  cr_assert_eq(fread(b, 1, *len, f), *len);
  fclose(f);
  return b;
}

/* A trace exported to Chrome JSON and imported back draws the same
 * timeline, lanes, panel and all, as the trace itself. */
Test(json, an_exported_trace_draws_the_same_after_import, .timeout = 60) {
  char json[128], back[128], err[512];
  snprintf(json, sizeof json, "/tmp/ls-viewer-json-%d.json", (int)getpid());
  snprintf(back, sizeof back, "/tmp/ls-viewer-json-%d.fxt", (int)getpid());
  const char *tour = LS_SOURCE_DIR "/traces/tour.fxt";
  ls_reader *r;
  cr_assert_eq(ls_reader_open(&r, tour, err, sizeof err), 0, "%s", err);
  ls_export_stats es;
  cr_assert_eq(ls_export_chrome(r, json, NULL, &es, err, sizeof err), 0, "%s",
               err);
  ls_reader_close(r);
  size_t len;
  char *text = read_all(json, &len);
  int fd = open(back, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert_geq(fd, 0);
  ls_import_stats is;
  cr_assert_eq(ls_import_chrome(text, len, json, fd, &is, err, sizeof err), 0,
               "%s", err);
  close(fd);
  free(text);
  size_t na, nb;
  uint32_t *a = draw_tour(tour, &na), *b = draw_tour(back, &nb);
  cr_assert_eq(na, nb);
  size_t differ = 0;
  for (size_t i = 0; i < na; i++)
    differ += a[i] != b[i];
  cr_assert_eq(differ, 0, "%zu of %zu pixels differ", differ, na);
  free(a);
  free(b);
  unlink(json);
  unlink(back);
}
#endif

/* The binary end to end: bad input of every kind, then Chrome JSON. */
Test(binary, bad_input_gives_a_message_never_a_crash, .timeout = 120) {
  char p[256], png[256], args[700], out[4096];
  snprintf(p, sizeof p, "/tmp/ls-viewer-bin-%d.fxt", (int)getpid());
  snprintf(png, sizeof png, "/tmp/ls-viewer-bin-%d.png", (int)getpid());
  FILE *f = fopen(p, "w");
  fclose(f);
  snprintf(args, sizeof args, "%s --screenshot %s --size 400x300", p, png);
  cr_assert_eq(run_view(args, out, sizeof out), 1, "%s", out);
  cr_assert(strstr(out, p), "names the file: %s", out);

  f = fopen(p, "w");
  fputs("this is not a trace at all, just some text\n", f);
  fclose(f);
  cr_assert_eq(run_view(args, out, sizeof out), 1, "%s", out);
  cr_assert(strstr(out, p), "%s", out);

  snprintf(args, sizeof args, "/nonexistent/trace.fxt --screenshot %s", png);
  cr_assert_eq(run_view(args, out, sizeof out), 1, "%s", out);
  cr_assert(strstr(out, "No such file"), "%s", out);

  snprintf(args, sizeof args, "%s --size banana", p);
  cr_assert_eq(run_view(args, out, sizeof out), 2, "%s", out);

  /* truncated: renders what is there, warns, exits 0 */
  ls_synth_opts o = {.iterations = 50, .seed = 5, .workers = 1};
  ls_synth_stats st;
  cr_assert_eq(ls_synth_write(p, &o, &st), 0);
  cr_assert_eq(truncate(p, 4003), 0); /* mid-record */
  unlink(png);
  snprintf(args, sizeof args,
           "%s --screenshot %s --size 400x300 --from 1ms --to 2.5ms "
           "--cursor 1500us", p, png);
  cr_assert_eq(run_view(args, out, sizeof out), 0, "%s", out);
  cr_assert(strstr(out, "truncated"), "%s", out);
  cr_assert_eq(access(png, R_OK), 0);

  /* A timer due near the end of time (a corrupted "due"): drawn, clipped. */
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, fd, 1000000000, "runtime"), 0);
  ls_event e = {.type = LS_EV_INSTANT, .ts = 1000, .pid = 1, .tid = 1,
                .category = "sched", .name = "setTimeout", .nargs = 2};
  e.args[0] = (ls_arg){.name = "id", .type = LS_ARG_U64, .v.u = 5};
  e.args[1] = (ls_arg){.name = "due", .type = LS_ARG_U64,
                       .v.u = UINT64_MAX / 2};
  cr_assert_eq(ls_writer_event(w, &e), 0);
  e = (ls_event){.type = LS_EV_COMPLETE, .ts = 2000, .end_ts = 9000,
                 .pid = 1, .tid = 1, .category = "timer", .name = "late"};
  cr_assert_eq(ls_writer_event(w, &e), 0);
  cr_assert_eq(ls_writer_close(w), 0);
  close(fd);
  snprintf(args, sizeof args, "%s --screenshot %s --size 400x300", p, png);
  cr_assert_eq(run_view(args, out, sizeof out), 0, "%s", out);

  snprintf(args, sizeof args, "%s --screenshot %s --from 3ms --to 2ms", p, png);
  cr_assert_eq(run_view(args, out, sizeof out), 2, "--to before --from: %s",
               out);

  /* 200 lanes: renders */
  o = (ls_synth_opts){.iterations = 5, .seed = 5, .workers = 1,
                      .extra_threads = 200};
  cr_assert_eq(ls_synth_write(p, &o, &st), 0);
  snprintf(args, sizeof args, "%s --screenshot %s --size 400x300", p, png);
  cr_assert_eq(run_view(args, out, sizeof out), 0, "%s", out);
  FILE *img = fopen(png, "rb");
  unsigned char hdr[24];
  cr_assert_eq(fread(hdr, 1, 24, img), 24);
  fclose(img);
  cr_assert_eq(memcmp(hdr + 1, "PNG", 3), 0);
  cr_assert_eq(hdr[18] << 8 | hdr[19], 400, "IHDR width");
  cr_assert_eq(hdr[22] << 8 | hdr[23], 300, "IHDR height");
#ifdef LS_CLI_BIN
  /* the same through `loopscope view`, which execs the viewer */
  char cmd[900];
  snprintf(cmd, sizeof cmd, "%s view %s --screenshot %s --size 300x200 2>&1",
           LS_CLI_BIN, p, png);
  unlink(png);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(access(png, R_OK), 0, "loopscope view wrote the picture");
#endif
  unlink(p);
  unlink(png);
#if LS_VIEW_JSON
  chrome_json_renders();
#endif
}


/* Loading runs in the background and the window draws meanwhile: with the
 * loader held at its first batch (it waits for the model lock a frame
 * holds), a frame shows the progress bar; once loaded, the bar is gone. */
Test(loading, a_frame_while_loading_shows_progress, .timeout = 60) {
  snprintf(path, sizeof path, "/tmp/ls-viewer-loading-%d.fxt", (int)getpid());
  ls_synth_opts o = {.iterations = 200, .seed = 4, .workers = 1};
  ls_synth_stats st;
  cr_assert_eq(ls_synth_write(path, &o, &st), 0);
  cr_assert_eq(ls_vapp_init(&app, 1000, 600, false), 0);
  pthread_mutex_lock(&app.model.lock);
  cr_assert_eq(ls_vapp_load(&app, path), 0);
  while (atomic_load(&app.model.state) != LS_VLOAD_RUNNING)
    usleep(1000);
  ls_vrender(&app);
  /* The bar: a long run of the bar's track colour in the top strip,
   * right of the middle. */
  int y = app.layout.top.y + app.layout.top.h / 2, bar = 0;
  for (int x = app.w / 2; x < app.w; x++)
    if (run_width(x, y, LS_VLOADING_TRACK) > bar)
      bar = run_width(x, y, LS_VLOADING_TRACK);
  cr_assert_gt(bar, app.w / 8, "a progress bar while loading (%d px)", bar);
  pthread_mutex_unlock(&app.model.lock);
  ls_vapp_wait_loaded(&app);
  cr_assert_eq(atomic_load(&app.model.state), LS_VLOAD_DONE);
  ls_vapp_frame(&app);
  bar = 0;
  for (int x = app.w / 2; x < app.w; x++)
    if (run_width(x, y, LS_VLOADING_TRACK) > bar)
      bar = run_width(x, y, LS_VLOADING_TRACK);
  cr_assert_lt(bar, app.w / 8, "no progress bar once loaded");
  ls_vapp_free(&app);
  unlink(path);
}

/* The README's picture stays reproducible: its script runs on the sample
 * trace without a complaint (writing the picture elsewhere). */
Test(binary, the_readme_picture_script_runs, .timeout = 60) {
  char steps[256], png[128], args[700], out[4096];
  snprintf(steps, sizeof steps, "/tmp/ls-viewer-readme-%d.txt", (int)getpid());
  snprintf(png, sizeof png, "/tmp/ls-viewer-readme-%d.png", (int)getpid());
  FILE *in = fopen(LS_SOURCE_DIR "/viewer/readme-shot.txt", "r");
  cr_assert_not_null(in);
  FILE *o = fopen(steps, "w");
  char line[256];
  bool shot = false;
  while (fgets(line, sizeof line, in)) {
    if (strncmp(line, "screenshot ", 11) == 0) {
      fprintf(o, "screenshot %s\n", png);
      shot = true;
    } else {
      fputs(line, o);
    }
  }
  fclose(in);
  fclose(o);
  cr_assert(shot, "the script writes a picture");
  snprintf(args, sizeof args,
           LS_SOURCE_DIR "/traces/tour.fxt --size 1280x720 --script %s", steps);
  cr_assert_eq(run_view(args, out, sizeof out), 0, "%s", out);
  cr_assert_eq(out[0], 0, "no warning: %s", out);
  cr_assert_eq(access(png, R_OK), 0);
  unlink(steps);
  unlink(png);
}

/* A trace with no events and one with a single slice, each in the binary
 * (exit 0, a picture) and in-process (the slice is drawn in its colour). */
static void write_events(const char *p, int nevents) {
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert_geq(fd, 0);
  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, fd, 1000000000, "runtime"), 0);
  for (int i = 0; i < nevents; i++) {
    ls_event e = {.type = LS_EV_COMPLETE, .ts = 5000, .end_ts = 9000,
                  .pid = 1, .tid = 2, .category = "timer", .name = "only"};
    cr_assert_eq(ls_writer_event(w, &e), 0);
  }
  cr_assert_eq(ls_writer_close(w), 0);
  close(fd);
}

Test(binary, an_empty_trace_and_a_single_event_render, .timeout = 60) {
  char p[128], png[128], args[400], out[4096];
  snprintf(p, sizeof p, "/tmp/ls-viewer-few-%d.fxt", (int)getpid());
  snprintf(png, sizeof png, "/tmp/ls-viewer-few-%d.png", (int)getpid());
  snprintf(script, sizeof script, "/tmp/ls-viewer-few-%d.txt", (int)getpid());
  for (int n = 0; n <= 1; n++) {
    write_events(p, n);
    unlink(png);
    snprintf(args, sizeof args, "%s --screenshot %s --size 500x300", p, png);
    cr_assert_eq(run_view(args, out, sizeof out), 0, "%d events: %s", n, out);
    cr_assert_eq(access(png, R_OK), 0);

    cr_assert_eq(ls_vapp_init(&app, 800, 500, false), 0);
    cr_assert_eq(ls_vapp_load(&app, p), 0);
    ls_vapp_wait_loaded(&app);
    cr_assert_eq(atomic_load(&app.model.state), LS_VLOAD_DONE, "%s",
                 app.model.error);
    cr_assert_eq(app.model.nevents, (uint64_t)n);
    run_script("key 0\nkey space\nkey Right\nzoom 4\nmove 400 200\n");
    if (n == 1) {
      int y = ls_vlayout_row_y(&app.layout, 0, 0);
      cr_assert_geq(y, 0);
      int x = (int)ls_vxmap_x(&app.xm, 7000);
      cr_assert_eq(pixel(x, y + app.layout.line_h + 6 - 2),
                   ls_vcolor_of_class(LS_VC_KIND + LS_KIND_TIMER));
    }
    ls_vapp_free(&app);
  }
  unlink(p);
  unlink(png);
  unlink(script);
}

#ifdef LS_RUNTIME_PROG
/* A real program on the runtime, traced with LOOPSCOPE_TRACE: it loads, its
 * phases are drawn in their colours, and the loop state between any two
 * events is what its sched instants and callbacks say. */
static void check_traced_program(const char *prog, bool pool_work) {
  char trace[128];
  snprintf(trace, sizeof trace, "/tmp/ls-viewer-runtime-%d.fxt", (int)getpid());
  snprintf(script, sizeof script, "/tmp/ls-viewer-runtime-%d.txt",
           (int)getpid());
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    setenv("LOOPSCOPE_TRACE", trace, 1);
    if (freopen("/dev/null", "w", stdout) == NULL) /* the tour talks there */
      _exit(126);
    execl(prog, prog, (char *)NULL);
    _exit(127);
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s ran", prog);

  cr_assert_eq(ls_vapp_init(&app, 1280, 800, false), 0);
  cr_assert_eq(ls_vapp_load(&app, trace), 0);
  ls_vapp_wait_loaded(&app);
  ls_vmodel *m = &app.model;
  cr_assert_eq(atomic_load(&m->state), LS_VLOAD_DONE, "%s", m->error);
  int lt = ls_vstate_loop_thread(m);
  cr_assert_geq(lt, 0);
  unsigned pool = 0;
  for (unsigned i = 0; i < m->nthreads; i++)
    pool += m->threads[i].npool > 0;
  cr_assert_geq(pool, pool_work ? 1 : 0, "fs reads ran on a worker");

  /* Between every two events that are apart (queues only change at
   * events), the state and the panel say what the trace implies. */
  ls_expect x;
  ls_expect_read(&x, trace);
  unsigned checked = 0, queued = 0, pool_queued = 0;
  for (size_t i = 0; i + 1 < x.nfacts; i++) {
    uint64_t t0 = x.facts[i].ts, t1 = x.facts[i + 1].ts;
    if (t1 < t0 + 8)
      continue;
    queued += ls_expect_check_state(m, lt, &x, t0 + (t1 - t0) / 2,
                                    &pool_queued) > 0;
    checked++;
  }
  cr_assert_gt(checked, 10);
  cr_assert_gt(queued, 3);
  if (pool_work)
    cr_assert_gt(pool_queued, 0, "some file read waited for a worker");
  ls_expect_free(&x);

  /* Each phase's longest band, zoomed to a third of the view, is drawn in
   * the phase's colour where the trace puts it; a wheel zoom of two notches
   * at its middle doubles the longer ones. */
  unsigned phases = 0, zooms = 0;
  for (unsigned ph = 0; ph < LS_PHASE_COUNT; ph++) {
    ls_vref r = longest_of(m, lt, 0, LS_VC_PHASE + ph);
    const ls_vslice *b = ls_vmodel_slice(m, r);
    cr_assert_not_null(b, "a %s phase in the trace", ls_phase_names[ph]);
    uint64_t d = b->t1 - b->t0;
    cr_assert_geq(d, 2);
    ls_vapp_set_view(&app, b->t0 - d, b->t1 + d);
    app.follow_load = false;
    ls_vapp_frame(&app);
    int y = ls_vlayout_row_y(&app.layout, lt, r.row) + app.layout.line_h + 6 - 2;
    int xm = (int)((ls_vxmap_x(&app.xm, b->t0) + ls_vxmap_x(&app.xm, b->t1)) / 2);
    uint32_t c = ls_vcolor_of_class(b->cls);
    cr_assert_eq(pixel(xm, y), c, "%s band", ls_phase_names[ph]);
    phases++;
    if (3 * d / 2 < 100 + 10)
      continue; /* two notches in (3d -> 3d/2) would pass the 100 ns floor */
    int w1 = run_width(xm, y, c);
    char zoom[64];
    snprintf(zoom, sizeof zoom, "zoom 2 at %d\n", xm);
    run_script(zoom);
    int w2 = run_width(xm, y, c);
    cr_assert(abs(w2 - 2 * w1) <= 3, "%s: %d px -> %d px", ls_phase_names[ph],
              w1, w2);
    zooms++;
  }
  cr_assert_eq(phases, LS_PHASE_COUNT);
  cr_assert_geq(zooms, 2, "zoom steps checked: %u", zooms);
  ls_vapp_free(&app);
  unlink(trace);
  unlink(script);
}

Test(runtime, a_traced_program_replays, .timeout = 60) {
  check_traced_program(LS_RUNTIME_PROG, true);
}

#ifdef LS_TOUR_PROG
/* The runtime's own tour (timers, immediates, ticks, fs, TCP echo). */
Test(runtime, the_tour_replays, .timeout = 60) {
  check_traced_program(LS_TOUR_PROG, true);
}
#endif
#endif
