/* Screen layout and folding (layout.h). */
#include "layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ls_vxmap_set(ls_vxmap *xm, uint64_t t0, uint64_t t1, int x, int w) {
  if (t1 <= t0)
    t1 = t0 + 1;
  xm->t0 = t0;
  xm->t1 = t1;
  xm->x = x;
  xm->w = w > 1 ? w : 1;
  xm->px_per_ns = (double)xm->w / (double)(t1 - t0);
}

double ls_vxmap_x(const ls_vxmap *xm, uint64_t t) {
  /* Signed difference in double: times left of the window give negative x. */
  return xm->x + ((double)t - (double)xm->t0) * xm->px_per_ns;
}

/* Off-screen pixels are only ever clipped: a margin this wide keeps the
 * direction of a line to a far-away point and stays far from INT_MAX. */
#define PX_MARGIN 100000.0

static double clamp_px(const ls_vxmap *xm, double x) {
  return fmax(xm->x - PX_MARGIN, fmin(x, xm->x + xm->w + PX_MARGIN));
}

int ls_vxmap_px(const ls_vxmap *xm, uint64_t t) {
  return (int)clamp_px(xm, ls_vxmap_x(xm, t));
}

uint64_t ls_vxmap_t(const ls_vxmap *xm, double x) {
  double t = (double)xm->t0 + (x - xm->x) / xm->px_per_ns;
  if (t <= 0)
    return 0;
  if (t >= 18446744073709549568.0)
    return UINT64_MAX;
  return (uint64_t)t;
}

void ls_vfmt_time(char *buf, size_t len, double ns, double res_ns) {
  static const struct {
    double ns;
    const char *name;
  } units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}};
  if (!(res_ns >= 1))
    res_ns = 1; /* nothing finer than a nanosecond is recorded */
  double a = fmax(fabs(ns), res_ns);
  unsigned u = 0;
  while (u + 1 < sizeof units / sizeof units[0] && a < units[u].ns)
    u++;
  double need = log10(units[u].ns / res_ns);
  int decimals = need <= 0 ? 0 : need >= 9 ? 9 : (int)ceil(need - 1e-9);
  snprintf(buf, len, "%.*f %s", decimals, ns / units[u].ns, units[u].name);
}

void ls_vfmt_dur(char *buf, size_t len, double ns) {
  double a = fabs(ns);
  if (a >= 1e9)
    snprintf(buf, len, "%.3g s", ns / 1e9);
  else if (a >= 1e6)
    snprintf(buf, len, "%.3g ms", ns / 1e6);
  else if (a >= 1e3)
    snprintf(buf, len, "%.3g us", ns / 1e3);
  else
    snprintf(buf, len, "%.0f ns", ns);
}

static void row_get(const void *ctx, uint32_t i, uint64_t *t0, uint64_t *t1) {
  const ls_vslice *s = &((const ls_vrow *)ctx)->v[i];
  *t0 = s->t0;
  *t1 = s->t1;
}

static void inst_get(const void *ctx, uint32_t i, uint64_t *t0, uint64_t *t1) {
  *t0 = *t1 = ((const ls_vinstants *)ctx)->v[i].t;
}

ls_vspans ls_vspans_of_row(const ls_vrow *row) {
  return (ls_vspans){row, row->n, row_get};
}

ls_vspans ls_vspans_of_instants(const ls_vinstants *in) {
  return (ls_vspans){in, in->n, inst_get};
}

/* First index in [lo, n) whose t1 > t (by_end) or t0 >= t. Gallops from
 * lo first: a fold's next search lands near its last one. */
static uint32_t search(const ls_vspans *s, uint32_t lo, uint64_t t,
                       bool by_end) {
  uint32_t hi = s->n, step = 1;
  while (lo < hi) {
    uint32_t probe = hi - lo > step ? lo + step - 1 : hi - 1;
    uint64_t a, b;
    s->get(s->ctx, probe, &a, &b);
    if (by_end ? b > t : a >= t) {
      hi = probe;
      break;
    }
    lo = probe + 1;
    step *= 2;
  }
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    uint64_t a, b;
    s->get(s->ctx, mid, &a, &b);
    if (by_end ? b > t : a >= t)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

uint32_t ls_vfold(const ls_vspans *src, const ls_vxmap *xm, ls_vrun *out,
                  uint32_t max) {
  uint32_t nout = 0;
  uint32_t i = search(src, 0, xm->t0, true);
  /* Instants (t0 == t1) at exactly t0 are visible too. */
  while (i > 0) {
    uint64_t a, b;
    src->get(src->ctx, i - 1, &a, &b);
    if (b < xm->t0)
      break;
    i--;
  }
  while (i < src->n && nout < max) {
    uint64_t a0, a1;
    src->get(src->ctx, i, &a0, &a1);
    if (a0 >= xm->t1 && !(a0 == a1 && a0 == xm->t1))
      break;
    double xa = ls_vxmap_x(xm, a0), xb = ls_vxmap_x(xm, a1);
    if (xb - xa >= LS_VFOLD_PX) {
      out[nout++] = (ls_vrun){clamp_px(xm, xa), clamp_px(xm, xb), i, 1};
      i++;
      continue;
    }
    ls_vrun run = {xa, xb, i, 0};
    double cur = xa;
    for (;;) {
      /* Everything starting within LS_VFOLD_PX of the run's current edge
       * joins it, found by binary search rather than visited. */
      double edge = fmax(run.x1, cur + LS_VFOLD_PX);
      uint32_t j = search(src, i + 1, ls_vxmap_t(xm, edge), false);
      if (j > i + 1) {
        uint64_t b0, b1;
        src->get(src->ctx, j - 1, &b0, &b1);
        if (ls_vxmap_x(xm, b1) - ls_vxmap_x(xm, b0) >= LS_VFOLD_PX)
          j--; /* a wide slice is drawn on its own */
      }
      uint64_t l0, l1;
      src->get(src->ctx, j - 1, &l0, &l1);
      run.count += j - i;
      run.x1 = fmax(run.x1, ls_vxmap_x(xm, l1));
      i = j;
      if (i >= src->n || run.x1 - run.x0 >= LS_VFOLD_MAX_PX)
        break;
      uint64_t n0, n1;
      src->get(src->ctx, i, &n0, &n1);
      double nx0 = ls_vxmap_x(xm, n0), nx1 = ls_vxmap_x(xm, n1);
      if (nx1 - nx0 >= LS_VFOLD_PX || nx0 > run.x1 + 1.0 ||
          n0 >= xm->t1)
        break;
      cur = nx0;
    }
    run.x0 = clamp_px(xm, run.x0);
    run.x1 = clamp_px(xm, run.x1);
    out[nout++] = run;
  }
  return nout;
}

unsigned ls_vfold_class(const ls_vrow *row, const ls_vrun *run) {
  uint64_t time[LS_VC_COUNT] = {0};
  unsigned samples = run->count < 16 ? run->count : 16, best = 0;
  for (unsigned k = 0; k < samples; k++) {
    const ls_vslice *s =
        &row->v[run->first + (uint64_t)run->count * k / samples];
    time[s->cls] += s->t1 - s->t0 + 1;
  }
  for (unsigned c = 1; c < LS_VC_COUNT; c++)
    if (time[c] > time[best])
      best = c;
  return best;
}

/* ------------------------------------------------------------ lanes */

static ls_vlane *add_lane(ls_vlayout *L, ls_vlane_kind kind, int index,
                          int rows, int row_h, bool pinned) {
  if (L->nlanes == L->caplanes) {
    L->caplanes = L->caplanes ? L->caplanes * 2 : 32;
    L->lanes = realloc(L->lanes, L->caplanes * sizeof *L->lanes);
    if (L->lanes == NULL) {
      fprintf(stderr, "loopscope-view: out of memory\n");
      abort();
    }
  }
  ls_vlane *l = &L->lanes[L->nlanes++];
  *l = (ls_vlane){kind, index, 0, rows * row_h, rows, row_h, pinned};
  return l;
}

static void thread_lanes(ls_vlayout *L, const ls_vmodel *m, unsigned ti,
                         int row_h) {
  const ls_vthread *t = &m->threads[ti];
  /* Thin lanes, still tall enough for their label in the gutter. */
  int thin = L->line_h + 2;
  bool pin = t->pinned;
  add_lane(L, LS_VLANE_HEADER, (int)ti, 1, L->line_h + 4, pin);
  if (t->collapsed)
    return;
  if (t->instants.n || t->lost.n || t->blocked.n)
    add_lane(L, LS_VLANE_MARKS, (int)ti, 1, thin, pin);
  if (t->nrows)
    add_lane(L, LS_VLANE_SLICES, (int)ti, (int)t->nrows, row_h, pin);
  if (t->bursts.n)
    add_lane(L, LS_VLANE_BURSTS, (int)ti, 1, thin, pin);
  if (t->nasync_rows) {
    int n = t->nasync_rows > LS_VASYNC_ROWS_MAX ? LS_VASYNC_ROWS_MAX
                                                : (int)t->nasync_rows;
    add_lane(L, LS_VLANE_ASYNC, (int)ti, n, thin, pin);
  }
  if (t->ntimer_rows) {
    int n = t->ntimer_rows > LS_VTIMER_ROWS_MAX ? LS_VTIMER_ROWS_MAX
                                                : (int)t->ntimer_rows;
    add_lane(L, LS_VLANE_TIMERS, (int)ti, n, row_h * 2 / 3 > 8 ? row_h * 2 / 3 : 8, pin);
  }
}

void ls_vlayout_build(ls_vlayout *L, const ls_vmodel *m, int w, int h,
                      int line_h, int scroll_y, bool show_panel,
                      int legend_rows) {
  L->nlanes = 0;
  L->w = w;
  L->h = h;
  L->line_h = line_h;
  /* Everything is proportional to the window and the text height, with
   * bounds that keep small windows usable and big ones uncluttered. */
  int bar = line_h + line_h / 2;
  L->top = (ls_vrect){0, 0, w, bar};
  int mini_h = h / 18 < line_h * 2 ? line_h * 2 : h / 18;
  L->minimap = (ls_vrect){0, bar, w, mini_h};
  L->axis = (ls_vrect){0, bar + mini_h, w, line_h + 4};
  L->status = (ls_vrect){0, h - bar, w, bar};
  /* The legend wraps, but takes at most a sixth of the window: a small
   * window keeps its timeline and loses the end of the legend instead. */
  int legend_max = h / 6 / (line_h + 4);
  if (legend_rows > legend_max)
    legend_rows = legend_max > 0 ? legend_max : 1;
  L->legend =
      (ls_vrect){0, L->status.y - legend_rows * (line_h + 4), w,
                 legend_rows * (line_h + 4)};
  /* Narrower, the panel would leave the timeline less than half. */
  L->show_panel = show_panel && w >= LS_VPANEL_MIN_W;
  int panel_w = 0;
  if (L->show_panel) {
    panel_w = w / 4;
    if (panel_w < 220)
      panel_w = 220;
    if (panel_w > LS_VSCALE(380, line_h)) /* wider with bigger text */
      panel_w = LS_VSCALE(380, line_h);
  }
  int top_y = L->axis.y + L->axis.h;
  L->timeline = (ls_vrect){0, top_y, w - panel_w, L->legend.y - top_y};
  if (L->timeline.h < 0)
    L->timeline.h = 0;
  L->panel = (ls_vrect){w - panel_w, L->minimap.y + L->minimap.h, panel_w,
                        L->legend.y - (L->minimap.y + L->minimap.h)};
  int gutter_w = L->timeline.w / 7;
  if (gutter_w < 110)
    gutter_w = 110;
  if (gutter_w > LS_VSCALE(240, line_h))
    gutter_w = LS_VSCALE(240, line_h);
  L->gutter = (ls_vrect){0, top_y, gutter_w, L->timeline.h};
  L->tracks = (ls_vrect){gutter_w, top_y, L->timeline.w - gutter_w,
                         L->timeline.h};
  L->axis.x = L->tracks.x;
  L->axis.w = L->tracks.w;

  int row_h = line_h + 6;
  for (int pass = 0; pass < 2; pass++) {
    /* Event loops first, then thread-pool workers, then other threads. */
    for (int rank = 0; rank < 3; rank++)
      for (unsigned ti = 0; ti < m->nthreads; ti++) {
        const ls_vthread *t = &m->threads[ti];
        int r = t->nphases ? 0 : t->npool ? 1 : 2;
        if (t->pinned == (pass == 0) && r == rank)
          thread_lanes(L, m, ti, row_h);
      }
    const ls_vcounter *prev = NULL; /* last counter placed in this pass */
    for (unsigned ci = 0; ci < m->ncounters; ci++) {
      const ls_vcounter *c = &m->counters[ci];
      if (c->pinned != (pass == 0))
        continue;
      if (!prev || prev->pid != c->pid)
        add_lane(L, LS_VLANE_COUNTERS, (int)ci, 1, L->line_h + 4, c->pinned);
      prev = c;
      int rows = c->collapsed ? 1 : (c->stream ? 3 : 2);
      add_lane(L, LS_VLANE_COUNTER, (int)ci, rows, row_h, c->pinned);
    }
  }

  /* Pinned lanes first, never scrolled; the rest scroll below them. */
  int pinned_h = 0;
  for (unsigned i = 0; i < L->nlanes; i++)
    if (L->lanes[i].pinned)
      pinned_h += L->lanes[i].h;
  if (pinned_h > L->tracks.h / 2)
    pinned_h = L->tracks.h / 2;
  L->pinned_area = (ls_vrect){0, top_y, L->timeline.w, pinned_h};
  L->scroll_area = (ls_vrect){0, top_y + pinned_h, L->timeline.w,
                              L->timeline.h - pinned_h};
  int content = 0;
  for (unsigned i = 0; i < L->nlanes; i++)
    if (!L->lanes[i].pinned)
      content += L->lanes[i].h;
  L->content_h = content;
  int max_scroll = content - L->scroll_area.h;
  if (max_scroll < 0)
    max_scroll = 0;
  L->scroll_y = scroll_y < 0 ? 0 : scroll_y > max_scroll ? max_scroll
                                                           : scroll_y;
  int py = L->pinned_area.y, sy = L->scroll_area.y - L->scroll_y;
  for (unsigned i = 0; i < L->nlanes; i++) {
    ls_vlane *l = &L->lanes[i];
    if (l->pinned) {
      l->y = py;
      py += l->h;
    } else {
      l->y = sy;
      sy += l->h;
    }
  }
}

void ls_vlayout_free(ls_vlayout *L) {
  free(L->lanes);
  memset(L, 0, sizeof *L);
}

const ls_vlane *ls_vlayout_lane_at(const ls_vlayout *L, int y) {
  bool in_pinned = ls_vrect_has(L->pinned_area, 0, y);
  if (!in_pinned && !ls_vrect_has(L->scroll_area, 0, y))
    return NULL;
  for (unsigned i = 0; i < L->nlanes; i++) {
    const ls_vlane *l = &L->lanes[i];
    if (l->pinned == in_pinned && y >= l->y && y < l->y + l->h)
      return l;
  }
  return NULL;
}

int ls_vlayout_row_y(const ls_vlayout *L, int thread, int row) {
  for (unsigned i = 0; i < L->nlanes; i++) {
    const ls_vlane *l = &L->lanes[i];
    if (l->kind == LS_VLANE_SLICES && l->index == thread && row < l->rows)
      return l->y + row * l->row_h;
  }
  return -1;
}
