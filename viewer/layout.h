/* Screen layout of the viewer: where each area and lane goes for a window
 * size, how time maps to pixels, and which runs of a lane are drawn whole or
 * folded. No SDL here: the renderer draws what this computes, and tests check
 * it without a display.
 */
#ifndef LOOPSCOPE_VIEWER_LAYOUT_H
#define LOOPSCOPE_VIEWER_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct ls_vrect {
  int x, y, w, h;
} ls_vrect;

static inline bool ls_vrect_has(ls_vrect r, int x, int y) {
  return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

/* Time <-> x over the timeline's track area. */
typedef struct ls_vxmap {
  uint64_t t0, t1;      /* visible window, t0 < t1 */
  int x, w;             /* track area */
  double px_per_ns;
} ls_vxmap;

void ls_vxmap_set(ls_vxmap *xm, uint64_t t0, uint64_t t1, int x, int w);
double ls_vxmap_x(const ls_vxmap *xm, uint64_t t);
/* The pixel column of t, clamped to a margin around the track area so far
 * away times (or a corrupted trace's) stay representable as int. */
int ls_vxmap_px(const ls_vxmap *xm, uint64_t t);
uint64_t ls_vxmap_t(const ls_vxmap *xm, double x);

/* Writes a point in time (ns from the trace start) in the unit its size
 * calls for, with the decimals that res_ns (the smallest difference that
 * matters where it is shown: an axis step, a pixel) needs, so ticks 1 us
 * apart at 5.12 ms read "5.121 ms", "5.122 ms" rather than "5.12 ms" twice. */
void ls_vfmt_time(char *buf, size_t len, double ns, double res_ns);
/* A duration to three significant digits: "12.3 ms", "840 us", "1.25 s". */
void ls_vfmt_dur(char *buf, size_t len, double ns);

/* A run of one row as drawn: one slice (count 1) or a folded block of
 * `count` slices each narrower than LS_VFOLD_PX. */
#define LS_VFOLD_PX 3.0
/* A folded block stops growing here so zoomed-out rows keep their shape
 * and each block has room for its count. */
#define LS_VFOLD_MAX_PX 48.0

typedef struct ls_vrun {
  double x0, x1;
  uint32_t first;
  uint32_t count;
} ls_vrun;

/* Spans sorted by t0 whose t1 are sorted too (rows never overlap). */
typedef struct ls_vspans {
  const void *ctx;
  uint32_t n;
  void (*get)(const void *ctx, uint32_t i, uint64_t *t0, uint64_t *t1);
} ls_vspans;

ls_vspans ls_vspans_of_row(const ls_vrow *row);
ls_vspans ls_vspans_of_instants(const ls_vinstants *in);

/* Fills out[] with the runs visible in xm; returns how many (<= max).
 * Work is O(visible runs x log n): a folded block skips what it hides
 * with a binary search. */
uint32_t ls_vfold(const ls_vspans *src, const ls_vxmap *xm, ls_vrun *out,
                  uint32_t max);

/* The class (LS_VC_*) a folded run of a row is drawn in: the one covering
 * most time among up to 16 of its slices sampled evenly, so a zoomed-out
 * phase row still shows which phase dominates where. */
unsigned ls_vfold_class(const ls_vrow *row, const ls_vrun *run);

/* Lanes, top to bottom. */
typedef enum ls_vlane_kind {
  LS_VLANE_HEADER,    /* a thread's name, collapse and pin boxes */
  LS_VLANE_MARKS,     /* sched / promise instants, lost gaps, blocked spans */
  LS_VLANE_SLICES,    /* nesting rows: iteration, phase, callbacks, pool */
  LS_VLANE_BURSTS,    /* nextTick / microtask drains, counted */
  LS_VLANE_ASYNC,     /* await spans */
  LS_VLANE_TIMERS,    /* each timer from scheduling to firing */
  LS_VLANE_COUNTER,   /* a counter graph, or a stream against its hwm */
  LS_VLANE_COUNTERS   /* the title over one process's counters: they belong
                         to the process, not to the thread drawn above */
} ls_vlane_kind;

typedef struct ls_vlane {
  ls_vlane_kind kind;
  int index;          /* thread or counter index (COUNTERS: its first) */
  int y, h;           /* screen position (after scrolling / pinning) */
  int rows, row_h;
  bool pinned;
} ls_vlane;

/* Timers lane rows shown at most; more are summarised in the lane's label. */
#define LS_VTIMER_ROWS_MAX 8
#define LS_VASYNC_ROWS_MAX 6

/* A length of n pixels made for 15-pixel text lines, for lines of line_h:
 * big windows have bigger text (app.c), and what holds text grows with it. */
#define LS_VSCALE(n, line_h) ((n) * (line_h) / 15)

/* The loop-state panel shows in windows at least this wide. */
#define LS_VPANEL_MIN_W 640

typedef struct ls_vlayout {
  int w, h, line_h;
  ls_vrect top, minimap, axis, timeline, gutter, tracks, panel, legend,
      status;
  ls_vrect pinned_area, scroll_area;
  ls_vlane *lanes;
  unsigned nlanes, caplanes;
  int content_h;      /* unpinned lanes' total height */
  int scroll_y;       /* clamped */
  bool show_panel;
} ls_vlayout;

/* Lays out areas and lanes for a w x h window whose text lines are line_h
 * pixels tall and whose legend wraps into legend_rows lines. Pinned lanes (thread / counter flags) stay above the scrolled
 * ones; collapsed threads keep only their header. */
void ls_vlayout_build(ls_vlayout *L, const ls_vmodel *m, int w, int h,
                      int line_h, int scroll_y, bool show_panel,
                      int legend_rows);
void ls_vlayout_free(ls_vlayout *L);
/* The lane at screen y, or NULL. */
const ls_vlane *ls_vlayout_lane_at(const ls_vlayout *L, int y);
/* The screen y of thread ti's slice row `row`, or -1 when not visible. */
int ls_vlayout_row_y(const ls_vlayout *L, int thread, int row);

#endif
