/* Drawing one frame (app.h): everything the layout placed, with SDL's
 * software renderer onto the app's surface.
 *
 * Per-frame work follows what is visible: each row asks ls_vfold for its
 * runs (a binary search per run), counters sample one value per pixel
 * column, and text comes from a glyph cache built once per font.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

/* ------------------------------------------------------------ colours */

#define BG 0x1b1d23
#define PANEL_BG 0x23262e
#define GRID 0x30343d
#define HEADER_BG 0x2a2e37 /* thread headers and counter titles */
#define TEXT 0xe6e8ee
#define TEXT_DIM 0x9aa0ac
#define CURSOR 0xffd84a
#define SELECT 0xffffff
#define LOST 0xff3b3b
#define BLOCKED 0xff7a1a
#define COUNTER_BG LS_VCOLOR_COUNTER_BG
#define MINIMAP_BG 0x15171c

/* One fixed colour per phase: warm for timers, blue for poll (waiting for
 * I/O), green for check (immediates), so a glance tells where time goes. */
static const uint32_t phase_colors[LS_PHASE_COUNT] = {
    [LS_PHASE_TIMERS] = 0xe8a33d,  [LS_PHASE_PENDING] = 0xa06cd5,
    [LS_PHASE_IDLE] = 0x7f8c8d,    [LS_PHASE_PREPARE] = 0x2bb3a0,
    [LS_PHASE_POLL] = 0x3d7fd9,    [LS_PHASE_CHECK] = 0x4cbb5e,
    [LS_PHASE_CLOSE] = 0xd9534f,
};

/* Callbacks are lighter than their phase band so nesting stays readable. */
static const uint32_t kind_colors[LS_KIND_COUNT] = {
    [LS_KIND_TIMER] = 0xffd28a,     [LS_KIND_INTERVAL] = 0xf7b267,
    [LS_KIND_IMMEDIATE] = 0x9be7a4, [LS_KIND_IO] = 0x8ec5ff,
    [LS_KIND_FS] = 0x7fa7ff,        [LS_KIND_CLOSE] = 0xff9a95,
    [LS_KIND_TICK] = 0xff7fd1,      [LS_KIND_MICROTASK] = 0xd7a6ff,
    [LS_KIND_STREAM] = 0x6fe3e3,    [LS_KIND_USER] = 0xc9ced6,
};

uint32_t ls_vcolor_of_class(unsigned cls) {
  if (ls_vc_is_phase(cls))
    return phase_colors[cls - LS_VC_PHASE];
  if (ls_vc_is_callback(cls))
    return kind_colors[cls - LS_VC_KIND];
  switch (cls) {
  case LS_VC_ITERATION:
    return 0x5a6270;
  case LS_VC_POOL:
    return 0xc08a5a;
  case LS_VC_AWAIT:
    return 0x8f7fd0;
  case LS_VC_BACKPRESSURE:
    return 0xff5a5a;
  case LS_VC_SCHED:
    return 0x9fd3ff;
  case LS_VC_PROMISE:
    return 0xd7a6ff;
  case LS_VC_UNHANDLED:
    return 0xff3b3b;
  default:
    return 0x8a93a3;
  }
}

static uint32_t mix(uint32_t a, uint32_t b, double f);

uint32_t ls_vcolor_folded(unsigned cls) {
  return mix(ls_vcolor_of_class(cls), 0x6b7280, 0.55);
}

uint32_t ls_vcolor_minimap(unsigned phase) {
  return mix(MINIMAP_BG, phase_colors[phase], 0.8);
}

static void color(SDL_Renderer *r, uint32_t rgb, uint8_t a) {
  SDL_SetRenderDrawColor(r, (uint8_t)(rgb >> 16), (uint8_t)(rgb >> 8),
                         (uint8_t)rgb, a);
}

/* Opaque fills skip blending: the software renderer blends every pixel of
 * a rectangle in BLEND mode even at full alpha, which made blending most
 * of a frame's cost. Large areas use colours premixed with what is under
 * them (mix) rather than alpha. */
static void fill(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb,
                 uint8_t a) {
  if (w <= 0 || h <= 0)
    return;
  SDL_SetRenderDrawBlendMode(r, a == 255 ? SDL_BLENDMODE_NONE
                                         : SDL_BLENDMODE_BLEND);
  color(r, rgb, a);
  SDL_RenderFillRect(r, &(SDL_Rect){x, y, w, h});
}

static void frame_rect(SDL_Renderer *r, int x, int y, int w, int h,
                       uint32_t rgb) {
  SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
  color(r, rgb, 255);
  SDL_RenderDrawRect(r, &(SDL_Rect){x, y, w, h});
}

static uint32_t mix(uint32_t a, uint32_t b, double f) {
  uint32_t out = 0;
  for (int s = 0; s <= 16; s += 8) {
    double ca = (a >> s) & 0xff, cb = (b >> s) & 0xff;
    out |= (uint32_t)(ca + (cb - ca) * f) << s;
  }
  return out;
}

/* Black or white text, whichever reads on the background. */
static uint32_t text_on(uint32_t bg) {
  double l = 0.299 * ((bg >> 16) & 0xff) + 0.587 * ((bg >> 8) & 0xff) +
             0.114 * (bg & 0xff);
  return l > 140 ? 0x101216 : 0xf4f5f7;
}

/* ------------------------------------------------------------ text */

int ls_vfont_open(ls_vfont *f, SDL_Renderer *ren, const char *file,
                  int size) {
  memset(f, 0, sizeof *f);
  f->ttf = TTF_OpenFont(file, size);
  if (f->ttf == NULL) {
    fprintf(stderr, "loopscope-view: font %s: %s\n", file, TTF_GetError());
    return -1;
  }
  f->height = TTF_FontHeight(f->ttf);
  for (int i = 0; i < LS_VGLYPHS; i++) {
    uint16_t ch = (uint16_t)(32 + i);
    int minx, maxx, miny, maxy, adv;
    if (TTF_GlyphMetrics(f->ttf, ch, &minx, &maxx, &miny, &maxy, &adv) != 0)
      adv = size / 2;
    f->advance[i] = adv;
    if (ch == ' ')
      continue;
    SDL_Surface *s =
        TTF_RenderGlyph_Blended(f->ttf, ch, (SDL_Color){255, 255, 255, 255});
    if (s == NULL)
      continue;
    f->glyph[i] = SDL_CreateTextureFromSurface(ren, s);
    SDL_FreeSurface(s);
    if (f->glyph[i])
      SDL_SetTextureBlendMode(f->glyph[i], SDL_BLENDMODE_BLEND);
  }
  return 0;
}

void ls_vfont_close(ls_vfont *f) {
  for (int i = 0; i < LS_VGLYPHS; i++)
    if (f->glyph[i])
      SDL_DestroyTexture(f->glyph[i]);
  if (f->ttf)
    TTF_CloseFont(f->ttf);
  memset(f, 0, sizeof *f);
}

static int glyph_index(char c) {
  unsigned char u = (unsigned char)c;
  return u >= 32 && u < 127 ? u - 32 : '?' - 32;
}

int ls_vtext_width(const ls_vfont *f, const char *s) {
  int w = 0;
  for (; *s; s++)
    w += f->advance[glyph_index(*s)];
  return w;
}

/* Draws s at (x, y) clipped to max_w pixels (whole glyphs only); returns the
 * width drawn. */
static int text(ls_vapp *app, int font, int x, int y, const char *s,
                uint32_t rgb, int max_w) {
  ls_vfont *f = &app->fonts[font];
  int w = 0;
  for (; *s; s++) {
    int g = glyph_index(*s);
    if (max_w > 0 && w + f->advance[g] > max_w)
      break;
    if (f->glyph[g]) {
      int tw, th;
      SDL_QueryTexture(f->glyph[g], NULL, NULL, &tw, &th);
      SDL_SetTextureColorMod(f->glyph[g], (uint8_t)(rgb >> 16),
                             (uint8_t)(rgb >> 8), (uint8_t)rgb);
      SDL_RenderCopy(app->ren, f->glyph[g], NULL,
                     &(SDL_Rect){x + w, y, tw, th});
    }
    w += f->advance[g];
  }
  return w;
}

/* What one pixel of the timeline spans: the precision a point in time
 * shown next to it needs. */
static double pixel_ns(const ls_vapp *app) { return 1.0 / app->xm.px_per_ns; }

static void fmt_count(char *buf, size_t len, uint64_t n) {
  if (n >= 1000000)
    snprintf(buf, len, "%.1fM", (double)n / 1e6);
  else if (n >= 10000)
    snprintf(buf, len, "%.0fk", (double)n / 1e3);
  else
    snprintf(buf, len, "%" PRIu64, n);
}

/* ------------------------------------------------------------ pieces */

/* Runs of the row being drawn (one frame draws one row at a time). */
static ls_vrun runs_buf[8192];
static void mark_get(const void *ctx, uint32_t i, uint64_t *t0, uint64_t *t1);

static void draw_top(ls_vapp *app) {
  ls_vlayout *L = &app->layout;
  ls_vmodel *m = &app->model;
  fill(app->ren, L->top.x, L->top.y, L->top.w, L->top.h, PANEL_BG, 255);
  char buf[512], span[32], cnt[32];
  int y = L->top.y + (L->top.h - app->fonts[0].height) / 2;
  /* The right end first (progress or replay state), at most half the bar:
   * the file and counts on the left get what is left, never overlapping. */
  int right_x;
  int state = atomic_load(&m->state);
  if (state == LS_VLOAD_RUNNING || state == LS_VLOAD_IDLE) {
    /* Loading: a progress bar; what is loaded is already drawn below. */
    uint64_t done = atomic_load(&m->bytes_done),
             total = atomic_load(&m->bytes_total);
    snprintf(buf, sizeof buf, "loading %.0f%%",
             total ? 100.0 * (double)done / (double)total : 0.0);
    int tw = ls_vtext_width(&app->fonts[0], buf);
    int bw = L->top.w / 4, bh = L->top.h / 2;
    int bx = L->top.w - 8 - tw - 8 - bw;
    if (bx < L->top.w / 2) {
      bw -= L->top.w / 2 - bx;
      bx = L->top.w / 2;
    }
    int by = L->top.y + (L->top.h - bh) / 2;
    fill(app->ren, bx, by, bw, bh, LS_VLOADING_TRACK, 255);
    int pw = total ? (int)((double)bw * (double)done / (double)total) : 0;
    fill(app->ren, bx, by, pw, bh, LS_VLOADING_DONE, 255);
    text(app, LS_VFONT_SANS, bx + bw + 8, y, buf, TEXT_DIM, 0);
    right_x = bx;
  } else {
    char sp[32];
    double s = app->speed;
    if (s == 1)
      snprintf(sp, sizeof sp, "real time");
    else if (s > 1)
      snprintf(sp, sizeof sp, "x%.3g", s);
    else
      snprintf(sp, sizeof sp, "x1/%.3g", 1.0 / s);
    char lng[32];
    ls_vfmt_dur(lng, sizeof lng, (double)app->long_ns);
    snprintf(buf, sizeof buf, "%s  speed %s   n/N long >= %s",
             app->playing ? "playing" : "paused", sp, lng);
    int tw = ls_vtext_width(&app->fonts[0], buf);
    if (tw > L->top.w / 2 - 8)
      tw = L->top.w / 2 - 8;
    right_x = L->top.w - tw - 8;
    text(app, LS_VFONT_SANS, right_x, y, buf,
         app->playing ? CURSOR : TEXT_DIM, tw);
  }
  ls_vfmt_dur(span, sizeof span, (double)(app->t1 - app->t0));
  fmt_count(cnt, sizeof cnt, m->nevents);
  const char *file = app->title ? app->title : ls_vmodel_str(m, m->file_name);
  const char *slash = strrchr(file, '/');
  snprintf(buf, sizeof buf, "loopscope  %s   %s events   %u threads   view %s",
           slash ? slash + 1 : file, cnt, m->nthreads, span);
  text(app, LS_VFONT_SANS, 8, y, buf, TEXT, right_x - 24);
}

/* The loop thread's phase at t, for the minimap; hint[] carries each row's
 * position from the previous (earlier) column. */
static int phase_at(const ls_vmodel *m, int lt, uint64_t t, uint32_t hint[3]) {
  if (lt < 0)
    return -1;
  const ls_vthread *th = &m->threads[lt];
  for (unsigned r = 0; r < th->nrows && r < 3; r++) {
    uint32_t i = hint[r] = ls_vrow_first_after_from(&th->rows[r], t, hint[r]);
    if (i < th->rows[r].n && th->rows[r].v[i].t0 <= t &&
        ls_vc_is_phase(th->rows[r].v[i].cls))
      return (int)(th->rows[r].v[i].cls - LS_VC_PHASE);
  }
  return -1;
}

static void draw_minimap(ls_vapp *app, int lt) {
  ls_vlayout *L = &app->layout;
  ls_vmodel *m = &app->model;
  ls_vrect r = L->minimap;
  fill(app->ren, r.x, r.y, r.w, r.h, MINIMAP_BG, 255);
  if (m->t_max <= m->t_min)
    return;
  ls_vxmap all;
  ls_vxmap_set(&all, m->t_min, m->t_max, r.x, r.w);
  /* One phase sample per column: the whole trace at a glance, O(width),
   * drawn as runs of one phase. */
  if (app->mini_w != r.w || app->mini_nevents != m->nevents ||
      app->mini_t0 != m->t_min || app->mini_t1 != m->t_max) {
    signed char *v = realloc(app->mini_phase, (size_t)r.w);
    if (v == NULL)
      return;
    app->mini_phase = v;
    app->mini_w = r.w;
    app->mini_nevents = m->nevents;
    app->mini_t0 = m->t_min;
    app->mini_t1 = m->t_max;
    uint32_t hint[3] = {0, 0, 0};
    for (int x = 0; x < r.w; x++)
      v[x] = (signed char)phase_at(m, lt, ls_vxmap_t(&all, r.x + x + 0.5),
                                   hint);
  }
  int run_x = 0, run_p = -2;
  for (int x = 0; x <= r.w; x++) {
    int p = x < r.w ? app->mini_phase[x] : -2;
    if (p == run_p)
      continue;
    if (run_p >= 0)
      fill(app->ren, r.x + run_x, r.y + 3, x - run_x, r.h - 6,
           ls_vcolor_minimap((unsigned)run_p), 255);
    run_x = x;
    run_p = p;
  }
  for (unsigned ti = 0; ti < m->nthreads; ti++) {
    const ls_vthread *t = &m->threads[ti];
    for (int kind = 0; kind < 2; kind++) {
      const ls_vmarks *mk = kind ? &t->blocked : &t->lost;
      ls_vspans sp = {mk, mk->n, mark_get};
      uint32_t n = ls_vfold(&sp, &all, runs_buf,
                            sizeof runs_buf / sizeof runs_buf[0]);
      for (uint32_t i = 0; i < n; i++)
        fill(app->ren, (int)runs_buf[i].x0, kind ? r.y : r.y + r.h - 4,
             (int)(runs_buf[i].x1 - runs_buf[i].x0) + 2, 4,
             kind ? BLOCKED : LOST, 255);
    }
  }
  int vx0 = ls_vxmap_px(&all, app->t0), vx1 = ls_vxmap_px(&all, app->t1);
  if (vx1 - vx0 < 3)
    vx1 = vx0 + 3;
  fill(app->ren, vx0, r.y, vx1 - vx0, r.h, 0xffffff, 40);
  frame_rect(app->ren, vx0, r.y, vx1 - vx0, r.h, 0xffffff);
  if (app->has_cursor)
    fill(app->ren, ls_vxmap_px(&all, app->cursor), r.y, 1, r.h, CURSOR,
         255);
}

static void draw_axis(ls_vapp *app) {
  ls_vlayout *L = &app->layout;
  ls_vrect r = L->axis;
  fill(app->ren, 0, r.y, L->timeline.w, r.h, PANEL_BG, 255);
  double span = (double)(app->t1 - app->t0);
  /* A tick every 1, 2 or 5 x 10^k ns so labels are ~100 px apart. */
  double target = span * 100.0 / (r.w > 0 ? r.w : 1);
  double step = pow(10, floor(log10(target > 1 ? target : 1)));
  if (step < target)
    step *= 2;
  if (step < target)
    step *= 2.5;
  if (step < target)
    step *= 2;
  /* Labels are relative to the trace start, which may be right of t0. */
  double rel0 = (double)app->t0 - (double)app->model.t_min;
  double first = ceil(rel0 / step) * step;
  for (int k = 0; k < 1000; k++) {
    double rel = first + k * step;
    if (rel > rel0 + span)
      break;
    int x = (int)(app->xm.x + (rel - rel0) * app->xm.px_per_ns);
    fill(app->ren, x, r.y + r.h - 5, 1, 5, TEXT_DIM, 255);
    fill(app->ren, x, L->tracks.y, 1, L->tracks.h, GRID, 255);
    char buf[32];
    ls_vfmt_time(buf, sizeof buf, rel, step);
    text(app, LS_VFONT_SANS, x + 3, r.y + 1, buf, TEXT_DIM, 0);
  }
}

/* A slice or folded block; labels only where they fit. */
static void draw_run(ls_vapp *app, const ls_vrun *run, unsigned cls,
                     const char *label, int y, int h, bool selected) {
  int x0 = (int)floor(run->x0), x1 = (int)ceil(run->x1);
  ls_vrect tr = app->layout.tracks;
  if (x0 < tr.x)
    x0 = tr.x;
  if (x1 > tr.x + tr.w)
    x1 = tr.x + tr.w;
  if (x1 <= x0)
    x1 = x0 + 1;
  uint32_t c = ls_vcolor_of_class(cls);
  if (run->count > 1) {
    /* Folded: a hatched grey-tinted block with the count it hides. */
    uint32_t fc = ls_vcolor_folded(cls);
    fill(app->ren, x0, y + 1, x1 - x0, h - 2, fc, 255);
    fill(app->ren, x0, y + h - 3, x1 - x0, 2, mix(fc, 0x000000, 0.3), 255);
    char buf[32];
    fmt_count(buf, sizeof buf, run->count);
    if (ls_vtext_width(&app->fonts[0], buf) + 4 <= x1 - x0)
      text(app, LS_VFONT_SANS, x0 + 2, y + (h - app->fonts[0].height) / 2,
           buf, text_on(fc), x1 - x0 - 2);
    return;
  }
  fill(app->ren, x0, y + 1, x1 - x0, h - 2, c, 255);
  if (x1 - x0 > 4)
    fill(app->ren, x0, y + 1, 1, h - 2, mix(c, 0x000000, 0.35), 255);
  if (selected)
    frame_rect(app->ren, x0 - 1, y, x1 - x0 + 2, h, SELECT);
  if (label && x1 - x0 > 12)
    text(app, LS_VFONT_SANS, x0 + 3, y + (h - app->fonts[0].height) / 2,
         label, text_on(c), x1 - x0 - 5);
}

static void draw_slice_rows(ls_vapp *app, const ls_vlane *ln, const ls_vrow *rows,
                            unsigned nrows, int thread, int ref_base) {
  ls_vmodel *m = &app->model;
  for (unsigned r = 0; r < nrows && (int)r < ln->rows; r++) {
    int y = ln->y + (int)r * ln->row_h;
    ls_vspans sp = ls_vspans_of_row(&rows[r]);
    uint32_t n = ls_vfold(&sp, &app->xm, runs_buf,
                          sizeof runs_buf / sizeof runs_buf[0]);
    for (uint32_t i = 0; i < n; i++) {
      const ls_vslice *s = &rows[r].v[runs_buf[i].first];
      bool sel = app->selected.thread == thread &&
                 app->selected.row == ref_base + (int)r &&
                 app->selected.idx == runs_buf[i].first;
      unsigned cls = runs_buf[i].count > 1
                         ? ls_vfold_class(&rows[r], &runs_buf[i])
                         : s->cls;
      const char *label = ls_vmodel_str(m, s->label);
      char numbered[48];
      if (s->cls == LS_VC_ITERATION) { /* the iteration's number says more */
        snprintf(numbered, sizeof numbered, "iteration %" PRIu64, s->id);
        label = numbered;
      }
      draw_run(app, &runs_buf[i], cls, label, y, ln->row_h, sel);
    }
  }
}

/* Drains: one bar per burst of nextTicks / microtasks with its size. */
static void draw_bursts_lane(ls_vapp *app, const ls_vlane *ln) {
  const ls_vrow *row = &app->model.threads[ln->index].bursts;
  ls_vspans sp = ls_vspans_of_row(row);
  uint32_t n = ls_vfold(&sp, &app->xm, runs_buf,
                        sizeof runs_buf / sizeof runs_buf[0]);
  for (uint32_t i = 0; i < n; i++) {
    const ls_vslice *b = &row->v[runs_buf[i].first];
    uint64_t cbs = 0;
    for (uint32_t k = 0; k < runs_buf[i].count; k++)
      cbs += row->v[runs_buf[i].first + k].id;
    char label[48];
    snprintf(label, sizeof label, "%" PRIu64 " %s", cbs,
             b->cls == LS_VC_KIND + LS_KIND_TICK ? "ticks+microtasks"
                                                 : "microtasks");
    /* Too narrow for the words: the count alone, not a cut-off word. */
    if (ls_vtext_width(&app->fonts[0], label) >
        runs_buf[i].x1 - runs_buf[i].x0 - 5)
      snprintf(label, sizeof label, "%" PRIu64, cbs);
    ls_vrun one = runs_buf[i];
    one.count = 1; /* a drain is drawn whole; the label says how many */
    draw_run(app, &one, b->cls, label, ln->y, ln->h, false);
  }
}

static void draw_marks_lane(ls_vapp *app, const ls_vlane *ln) {
  ls_vmodel *m = &app->model;
  const ls_vthread *t = &m->threads[ln->index];
  ls_vspans sp = ls_vspans_of_instants(&t->instants);
  uint32_t n = ls_vfold(&sp, &app->xm, runs_buf,
                        sizeof runs_buf / sizeof runs_buf[0]);
  int y = ln->y, h = ln->h;
  for (uint32_t i = 0; i < n; i++) {
    const ls_vinstant *in = &t->instants.v[runs_buf[i].first];
    uint32_t c = ls_vcolor_of_class(in->cls);
    int x = (int)runs_buf[i].x0;
    if (runs_buf[i].count > 1) {
      int w = (int)(runs_buf[i].x1 - runs_buf[i].x0) + 2;
      fill(app->ren, x, y + 2, w, h - 4, mix(c, 0x6b7280, 0.5), 255);
    } else if (in->cls == LS_VC_UNHANDLED) {
      fill(app->ren, x - 2, y + 1, 5, h - 2, c, 255);
    } else {
      fill(app->ren, x, y + 2, 1, h - 4, c, 255);
      fill(app->ren, x - 1, y + 2, 3, 2, c, 255);
    }
  }
}

static void mark_get(const void *ctx, uint32_t i, uint64_t *t0, uint64_t *t1) {
  const ls_vmark *k = &((const ls_vmarks *)ctx)->v[i];
  *t0 = k->t0;
  *t1 = k->t1;
}

/* Lost gaps and blocked spans tint all of a thread's lanes (drawn before
 * them); zoomed out, they fold like slices (a block says how many). */
static void draw_thread_marks(ls_vapp *app, int thread, int y0, int y1) {
  const ls_vthread *t = &app->model.threads[thread];
  char buf[64];
  for (int kind = 0; kind < 2; kind++) {
    const ls_vmarks *mk = kind ? &t->blocked : &t->lost;
    ls_vspans sp = {mk, mk->n, mark_get};
    uint32_t n = ls_vfold(&sp, &app->xm, runs_buf,
                          sizeof runs_buf / sizeof runs_buf[0]);
    uint32_t c = kind ? BLOCKED : LOST;
    for (uint32_t i = 0; i < n; i++) {
      const ls_vrun *r = &runs_buf[i];
      const ls_vmark *k = &mk->v[r->first];
      int x0 = (int)r->x0, x1 = (int)r->x1;
      if (x1 - x0 < 2)
        x1 = x0 + 2;
      fill(app->ren, x0, y0, x1 - x0, y1 - y0, mix(BG, c, 0.27), 255);
      fill(app->ren, x0, y0, 2, y1 - y0, c, 255);
      if (r->count > 1) {
        snprintf(buf, sizeof buf, "%u %s", r->count, kind ? "blocked" : "lost");
      } else if (kind) {
        char d[32];
        ls_vfmt_dur(d, sizeof d, (double)(k->t1 - k->t0));
        snprintf(buf, sizeof buf, "blocked %s", d);
      } else {
        snprintf(buf, sizeof buf, "lost %" PRIu64, k->count);
      }
      if (ls_vtext_width(&app->fonts[0], buf) < x1 - x0 + 40 &&
          (i + 1 == n || runs_buf[i + 1].x0 > x0 + 80))
        text(app, LS_VFONT_SANS, x0 + 4, y0 + 1, buf, c, 0);
    }
  }
}

static void pend_get(const void *ctx, uint32_t i, uint64_t *t0, uint64_t *t1) {
  const void *const *c = ctx;
  const ls_vthread *t = c[0];
  const uint32_t *idx = c[1];
  const ls_vpend *p = &t->pend[idx[i]];
  *t0 = p->t_sched;
  uint64_t end = p->t_run == LS_VT_NEVER ? p->t_due : p->t_run;
  *t1 = end > p->t_due ? end : p->t_due;
}

static void draw_timers_lane(ls_vapp *app, const ls_vlane *ln) {
  ls_vmodel *m = &app->model;
  const ls_vthread *t = &m->threads[ln->index];
  for (int r = 0; r < ln->rows; r++) {
    const void *ctx[2] = {t, t->timer_rows[r]};
    ls_vspans sp = {ctx, t->ntimer_rows_n[r], pend_get};
    uint32_t n = ls_vfold(&sp, &app->xm, runs_buf,
                          sizeof runs_buf / sizeof runs_buf[0]);
    int y = ln->y + r * ln->row_h, h = ln->row_h;
    for (uint32_t i = 0; i < n; i++) {
      const ls_vpend *p = &t->pend[t->timer_rows[r][runs_buf[i].first]];
      if (runs_buf[i].count > 1) {
        draw_run(app, &runs_buf[i], LS_VC_KIND + LS_KIND_TIMER, NULL, y, h,
                 false);
        continue;
      }
      /* Waiting until due in amber, late (due -> ran) in red. */
      int xs = ls_vxmap_px(&app->xm, p->t_sched);
      int xd = ls_vxmap_px(&app->xm, p->t_due);
      fill(app->ren, xs, y + h / 3, xd - xs + 1, h / 3, LS_VCOLOR_WAIT, 255);
      if (p->t_run != LS_VT_NEVER && p->t_run > p->t_due) {
        int xr = ls_vxmap_px(&app->xm, p->t_run);
        fill(app->ren, xd, y + 2, xr - xd + 1, h - 4, LS_VCOLOR_LATE, 255);
      }
      fill(app->ren, xs, y + 2, 1, h - 4, 0xffd28a, 255);
      if (xd - xs > 40)
        text(app, LS_VFONT_SANS, xs + 3, y + (h - app->fonts[0].height) / 2,
             ls_vmodel_str(m, p->label), TEXT, xd - xs - 4);
    }
  }
}

/* A one-pixel-wide column straight into the surface (top pixel in `top`),
 * clipped like the renderer: a rectangle through the renderer costs a few
 * hundred instructions before its first pixel, and a zoomed-out graph is
 * thousands of them. */
static void column(ls_vapp *app, int x, int y, int h, uint32_t rgb,
                   uint32_t top) {
  SDL_Rect clip;
  SDL_RenderGetClipRect(app->ren, &clip);
  if (SDL_RectEmpty(&clip))
    clip = (SDL_Rect){0, 0, app->w, app->h};
  if (x < clip.x || x >= clip.x + clip.w || h <= 0)
    return;
  SDL_RenderFlush(app->ren); /* queued drawing lands first */
  int ya = y > clip.y ? y : clip.y;
  int yb = y + h < clip.y + clip.h ? y + h : clip.y + clip.h;
  uint8_t *px = app->surface->pixels;
  for (int yy = ya; yy < yb; yy++)
    ((uint32_t *)(px + (size_t)yy * app->surface->pitch))[x] =
        0xff000000u | (yy == y ? top : rgb);
}

/* The value at the top of a counter's graph: its largest over the trace,
 * so graphs keep their scale while panning. */
static double counter_scale(const ls_vcounter *c) {
  double vmax = 0;
  for (unsigned s = 0; s < c->nseries; s++)
    if (c->series[s].vmax > vmax)
      vmax = c->series[s].vmax;
  return vmax > 0 ? vmax : 1;
}

static void draw_counter_lane(ls_vapp *app, const ls_vlane *ln) {
  ls_vmodel *m = &app->model;
  const ls_vcounter *c = &m->counters[ln->index];
  int y0 = ln->y + 2, h = ln->h - 4;
  ls_vrect tr = app->layout.tracks;
  fill(app->ren, tr.x, ln->y, tr.w, ln->h, COUNTER_BG, 255);
  /* Backpressure spans shaded behind the graph. */
  ls_vspans sp = ls_vspans_of_row(&c->backpressure);
  uint32_t nb = ls_vfold(&sp, &app->xm, runs_buf,
                         sizeof runs_buf / sizeof runs_buf[0]);
  for (uint32_t i = 0; i < nb; i++)
    fill(app->ren, (int)runs_buf[i].x0, ln->y,
         (int)(runs_buf[i].x1 - runs_buf[i].x0) + 1, ln->h,
         LS_VCOLOR_BACKPRESSURE_BG, 255);
  double vmax = counter_scale(c);
  for (unsigned s = 0; s < c->nseries; s++) {
    const ls_vseries *se = &c->series[s];
    const char *sn = ls_vmodel_str(m, se->name);
    bool line = strcmp(sn, "hwm") == 0;
    uint32_t col = line ? 0xffffff : c->stream ? 0x6fe3e3 : 0x7fb2ff;
    /* One sample per column (the value in force there), drawn as runs of
     * equal height: a step graph costs a rectangle per step, not per pixel. */
    int run_x = 0, run_h = -1;
    uint32_t at = UINT32_MAX; /* columns move forward: gallop from here */
    for (int x = 0; x <= tr.w; x++) {
      int vh = -1;
      if (x < tr.w) {
        at = ls_vseries_at_from(se, ls_vxmap_t(&app->xm, tr.x + x + 1), at);
        if (at != UINT32_MAX)
          vh = (int)(se->v[at].v / vmax * h);
      }
      if (vh == run_h)
        continue;
      if (run_h >= 0) {
        int rw = x - run_x;
        if (rw == 1) /* zoomed out: a step per column, written directly */
          column(app, tr.x + run_x, y0 + h - run_h, line ? 1 : run_h,
                 line ? mix(COUNTER_BG, col, 0.7) : mix(COUNTER_BG, col, 0.6),
                 line ? mix(COUNTER_BG, col, 0.7) : col);
        else {
          if (!line)
            fill(app->ren, tr.x + run_x, y0 + h - run_h, rw, run_h,
                 mix(COUNTER_BG, col, 0.6), 255);
          fill(app->ren, tr.x + run_x, y0 + h - run_h, rw, 1,
               line ? mix(COUNTER_BG, col, 0.7) : col, 255);
        }
      }
      run_x = x;
      run_h = vh;
    }
  }
}

static void draw_gutter_label(ls_vapp *app, const ls_vlane *ln) {
  ls_vmodel *m = &app->model;
  ls_vrect g = app->layout.gutter;
  int fh = app->fonts[0].height;
  char buf[160];
  switch (ln->kind) {
  case LS_VLANE_HEADER: {
    const ls_vthread *t = &m->threads[ln->index];
    fill(app->ren, g.x, ln->y, app->layout.timeline.w, ln->h, HEADER_BG, 255);
    /* collapse box, pin box, then the name */
    int bs = ln->h - 8, by = ln->y + 4;
    frame_rect(app->ren, g.x + 4, by, bs, bs, TEXT_DIM);
    fill(app->ren, g.x + 6, by + bs / 2, bs - 4, 1, TEXT, 255);
    if (t->collapsed)
      fill(app->ren, g.x + 4 + bs / 2, by + 2, 1, bs - 4, TEXT, 255);
    frame_rect(app->ren, g.x + 8 + bs, by, bs, bs, TEXT_DIM);
    if (t->pinned)
      fill(app->ren, g.x + 10 + bs, by + 2, bs - 4, bs - 4, CURSOR, 255);
    const char *name = ls_vmodel_str(m, t->name);
    snprintf(buf, sizeof buf, "%s  (tid %" PRIu64 ")%s",
             name[0] ? name : "thread", t->tid,
             t->nphases ? "  event loop" : t->npool ? "  thread pool" : "");
    text(app, LS_VFONT_SANS, g.x + 14 + 2 * bs, ln->y + (ln->h - fh) / 2, buf,
         TEXT, app->layout.timeline.w - 20 - 2 * bs);
    return;
  }
  case LS_VLANE_COUNTERS:
    fill(app->ren, g.x, ln->y, app->layout.timeline.w, ln->h, HEADER_BG, 255);
    snprintf(buf, sizeof buf, "counters  (pid %" PRIu64 ")",
             m->counters[ln->index].pid);
    text(app, LS_VFONT_SANS, g.x + 8, ln->y + (ln->h - fh) / 2, buf, TEXT,
         app->layout.timeline.w - 16);
    return;
  case LS_VLANE_MARKS:
    snprintf(buf, sizeof buf, "scheduled / marks");
    break;
  case LS_VLANE_ASYNC:
    snprintf(buf, sizeof buf, "await");
    break;
  case LS_VLANE_BURSTS:
    snprintf(buf, sizeof buf, "drains");
    break;
  case LS_VLANE_TIMERS: {
    const ls_vthread *t = &m->threads[ln->index];
    if (t->ntimer_rows > (unsigned)ln->rows)
      snprintf(buf, sizeof buf, "timers (+%u rows)",
               t->ntimer_rows - (unsigned)ln->rows);
    else
      snprintf(buf, sizeof buf, "timers");
    break;
  }
  case LS_VLANE_COUNTER: {
    const ls_vcounter *c = &m->counters[ln->index];
    double v = 0;
    uint64_t at = app->has_cursor ? app->cursor : app->t1;
    for (unsigned s = 0; s < c->nseries; s++) {
      uint32_t i = ls_vseries_at(&c->series[s], at);
      if (i != UINT32_MAX &&
          strcmp(ls_vmodel_str(m, c->series[s].name), "hwm") != 0)
        v = c->series[s].v[i].v;
    }
    snprintf(buf, sizeof buf, "%s %g", ls_vmodel_str(m, c->name), v);
    if (ln->rows > 1) { /* the graph's scale under its name */
      char scale[48];
      snprintf(scale, sizeof scale, "top %g", counter_scale(c));
      text(app, LS_VFONT_SANS, g.x + 12, ln->y + ln->row_h + (ln->row_h - fh) / 2,
           scale, mix(TEXT_DIM, PANEL_BG, 0.3), g.w - 16);
    }
    break;
  }
  case LS_VLANE_SLICES: {
    const ls_vthread *t = &m->threads[ln->index];
    for (int r = 0; r < ln->rows && (unsigned)r < t->nrows; r++) {
      /* Name the row after what most of it holds (a few samples): row 0
       * holds iterations and the main program's callback alike. */
      const ls_vrow *row = &t->rows[r];
      unsigned votes[4] = {0, 0, 0, 0}, cls = LS_VC_KIND;
      for (uint32_t k = 0; k < 16 && row->n; k++) {
        unsigned c = row->v[(uint64_t)row->n * k / 16].cls;
        votes[c == LS_VC_ITERATION ? 0 : ls_vc_is_phase(c) ? 1
              : c == LS_VC_POOL    ? 2 : 3]++;
      }
      for (int k = 0, best = -1; k < 4; k++)
        if ((int)votes[k] > best) {
          best = (int)votes[k];
          cls = k == 0 ? LS_VC_ITERATION : k == 1 ? LS_VC_PHASE
                : k == 2 ? LS_VC_POOL : LS_VC_KIND;
        }
      const char *what = cls == LS_VC_ITERATION ? "iterations"
                         : ls_vc_is_phase(cls)  ? "phases"
                         : cls == LS_VC_POOL    ? "pool work"
                                                : "callbacks";
      text(app, LS_VFONT_SANS, g.x + 12,
           ln->y + r * ln->row_h + (ln->row_h - fh) / 2, what, TEXT_DIM,
           g.w - 16);
    }
    return;
  }
  }
  text(app, LS_VFONT_SANS, g.x + 12, ln->y + (ln->row_h - fh) / 2, buf,
       TEXT_DIM, g.w - 16);
}

static void draw_lane(ls_vapp *app, const ls_vlane *ln) {
  ls_vmodel *m = &app->model;
  switch (ln->kind) {
  case LS_VLANE_HEADER:
  case LS_VLANE_COUNTERS:
    break;
  case LS_VLANE_MARKS:
    draw_marks_lane(app, ln);
    break;
  case LS_VLANE_SLICES: {
    const ls_vthread *t = &m->threads[ln->index];
    draw_slice_rows(app, ln, t->rows, t->nrows, ln->index, 0);
    break;
  }
  case LS_VLANE_BURSTS:
    draw_bursts_lane(app, ln);
    break;
  case LS_VLANE_ASYNC: {
    const ls_vthread *t = &m->threads[ln->index];
    draw_slice_rows(app, ln, t->async_rows, t->nasync_rows, ln->index,
                    LS_VREF_ASYNC_ROW);
    break;
  }
  case LS_VLANE_TIMERS:
    draw_timers_lane(app, ln);
    break;
  case LS_VLANE_COUNTER:
    draw_counter_lane(app, ln);
    break;
  }
}

static void draw_lanes(ls_vapp *app, bool pinned) {
  ls_vlayout *L = &app->layout;
  ls_vrect area = pinned ? L->pinned_area : L->scroll_area;
  if (area.h <= 0)
    return;
  SDL_Rect all = {area.x, area.y, area.w, area.h};
  SDL_Rect content = {L->tracks.x, area.y, L->tracks.w, area.h};
  SDL_RenderSetClipRect(app->ren, &all);
  for (unsigned i = 0; i < L->nlanes; i++) {
    const ls_vlane *ln = &L->lanes[i];
    if (ln->pinned != pinned)
      continue;
    if (ln->kind == LS_VLANE_HEADER) {
      /* The thread's lanes run to the next header or counter; its lost
       * gaps and blocked spans tint them first, slices draw on top. */
      int y1 = ln->y + ln->h;
      for (unsigned j = i + 1; j < L->nlanes; j++) {
        const ls_vlane *g = &L->lanes[j];
        if (g->pinned != pinned)
          continue;
        if (g->kind == LS_VLANE_HEADER || g->kind == LS_VLANE_COUNTERS ||
            g->kind == LS_VLANE_COUNTER)
          break;
        y1 = g->y + g->h;
      }
      if (y1 > area.y && ln->y + ln->h < area.y + area.h) {
        SDL_RenderSetClipRect(app->ren, &content);
        draw_thread_marks(app, ln->index, ln->y + ln->h, y1);
        SDL_RenderSetClipRect(app->ren, &all);
      }
    }
    if (ln->y + ln->h < area.y || ln->y > area.y + area.h)
      continue;
    /* Lane content stays right of the gutter; labels stay in it. */
    if (ln->kind != LS_VLANE_HEADER && ln->kind != LS_VLANE_COUNTERS) {
      SDL_RenderSetClipRect(app->ren, &content);
      draw_lane(app, ln);
      SDL_RenderSetClipRect(app->ren, &all);
    }
    draw_gutter_label(app, ln);
  }
  fill(app->ren, L->gutter.w - 1, area.y, 1, area.h, GRID, 255);
  SDL_RenderSetClipRect(app->ren, NULL);
  if (pinned && area.h > 0)
    fill(app->ren, 0, area.y + area.h - 1, L->timeline.w, 2, CURSOR, 255);
}

/* Marks-lane y of a thread (sched instants sit there), else its header. */
static int thread_anchor_y(const ls_vlayout *L, int thread) {
  int y = -1;
  for (unsigned i = 0; i < L->nlanes; i++) {
    const ls_vlane *l = &L->lanes[i];
    if (l->index != thread || l->kind == LS_VLANE_COUNTER || l->kind == LS_VLANE_COUNTERS)
      continue;
    if (l->kind == LS_VLANE_MARKS)
      return l->y + l->h / 2;
    if (l->kind == LS_VLANE_HEADER)
      y = l->y + l->h / 2;
  }
  return y;
}

static void arrow(ls_vapp *app, int x0, int y0, int x1, int y1, uint32_t c) {
  SDL_SetRenderDrawBlendMode(app->ren, SDL_BLENDMODE_NONE);
  color(app->ren, c, 255);
  SDL_RenderDrawLine(app->ren, x0, y0, x1, y1);
  SDL_RenderDrawLine(app->ren, x0, y0 + 1, x1, y1 + 1);
  double a = atan2(y1 - y0, x1 - x0);
  for (int s = -1; s <= 1; s += 2) {
    double b = a + M_PI + s * 0.45;
    SDL_RenderDrawLine(app->ren, x1, y1, x1 + (int)(9 * cos(b)),
                       y1 + (int)(9 * sin(b)));
  }
}

/* An arrow between two instants at two heights (-1: not on screen). */
static void link_times(ls_vapp *app, uint64_t t0, int y0, uint64_t t1, int y1,
                       uint32_t c) {
  if (y0 >= 0 && y1 >= 0)
    arrow(app, ls_vxmap_px(&app->xm, t0), y0, ls_vxmap_px(&app->xm, t1), y1,
          c);
}

/* Cause -> effect for the selected slice: the sched instant that queued it,
 * and what it queued while it ran (at most 64 arrows out). Requests done on
 * the thread pool hop through the worker's slice. */
static void draw_flows(ls_vapp *app) {
  ls_vmodel *m = &app->model;
  ls_vlayout *L = &app->layout;
  const ls_vslice *s = ls_vmodel_slice(m, app->selected);
  if (s == NULL)
    return;
  SDL_RenderSetClipRect(app->ren, &(SDL_Rect){L->tracks.x, L->tracks.y,
                                              L->tracks.w, L->tracks.h});
  int sel_y = ls_vlayout_row_y(L, app->selected.thread, app->selected.row);
  int row_h = app->layout.line_h + 6;
  if (app->cause_of.thread != app->selected.thread ||
      app->cause_of.row != app->selected.row ||
      app->cause_of.idx != app->selected.idx ||
      app->cause_nevents != m->nevents) {
    int th = -1;
    const ls_vpend *p = ls_vmodel_pend_of(m, app->selected, &th);
    app->cause_of = app->selected;
    app->cause_nevents = m->nevents;
    app->cause_thread = th;
    app->cause_idx = p ? p - m->threads[th].pend : -1;
  }
  int st = app->cause_thread;
  const ls_vpend *in =
      app->cause_idx >= 0 ? &m->threads[st].pend[app->cause_idx] : NULL;
  if (sel_y >= 0)
    sel_y += row_h / 2;
  if (in) {
    /* Work done on the thread pool goes request -> worker -> callback. */
    int ay = thread_anchor_y(L, st);
    ls_vref wr = ls_vmodel_pool_work(m, in);
    const ls_vslice *w = ls_vmodel_slice(m, wr);
    int wy = w ? ls_vlayout_row_y(L, wr.thread, wr.row) : -1;
    if (wy >= 0)
      wy += row_h / 2;
    if (s->cls == LS_VC_POOL) {
      link_times(app, in->t_sched, ay, s->t0, sel_y, LS_VCOLOR_FLOW_IN);
      int cy = in->t_run == LS_VT_NEVER
                   ? -1
                   : ls_vlayout_row_y(L, in->run_thread, in->run_depth);
      if (cy >= 0)
        link_times(app, s->t1, sel_y, in->t_run, cy + row_h / 2,
                   LS_VCOLOR_FLOW_OUT);
    } else if (wy >= 0) {
      link_times(app, in->t_sched, ay, w->t0, wy, LS_VCOLOR_FLOW_IN);
      link_times(app, w->t1, wy, s->t0, sel_y, LS_VCOLOR_FLOW_IN);
    } else {
      link_times(app, in->t_sched, ay, s->t0, sel_y, LS_VCOLOR_FLOW_IN);
    }
  }
  const ls_vthread *th = &m->threads[app->selected.thread];
  uint32_t lo = 0, hi = th->npend;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (th->pend[mid].t_sched >= s->t0)
      hi = mid;
    else
      lo = mid + 1;
  }
  int ay = thread_anchor_y(L, app->selected.thread);
  for (uint32_t i = lo, k = 0; i < th->npend && th->pend[i].t_sched <= s->t1 &&
                               k < 64;
       i++, k++) {
    /* To what it started: the pool work of a request, else the callback. */
    const ls_vpend *p = &th->pend[i];
    ls_vref wr = ls_vmodel_pool_work(m, p);
    int ty = wr.thread >= 0 ? ls_vlayout_row_y(L, wr.thread, wr.row)
             : p->t_run != LS_VT_NEVER
                 ? ls_vlayout_row_y(L, p->run_thread, p->run_depth)
                 : -1;
    if (ty >= 0)
      link_times(app, p->t_sched, ay,
                 wr.thread >= 0 ? p->t_pool : p->t_run, ty + row_h / 2,
                 LS_VCOLOR_FLOW_OUT);
  }
  SDL_RenderSetClipRect(app->ren, NULL);
}

static void draw_cursor(ls_vapp *app) {
  if (!app->has_cursor || app->cursor < app->t0 || app->cursor > app->t1)
    return;
  ls_vlayout *L = &app->layout;
  int x = ls_vxmap_px(&app->xm, app->cursor);
  fill(app->ren, x, L->axis.y, 1, L->tracks.y + L->tracks.h - L->axis.y,
       CURSOR, 255);
  fill(app->ren, x - 3, L->axis.y, 7, 4, CURSOR, 255);
}

/* The seven phases on a wheel, the current one lit. */
static void draw_wheel(ls_vapp *app, int cx, int cy, int rad, int phase) {
  for (int p = 0; p < LS_PHASE_COUNT; p++) {
    double a0 = -M_PI / 2 + 2 * M_PI * p / LS_PHASE_COUNT + 0.04;
    double a1 = -M_PI / 2 + 2 * M_PI * (p + 1) / LS_PHASE_COUNT - 0.04;
    uint32_t c = p == phase ? phase_colors[p] : mix(phase_colors[p], PANEL_BG, 0.7);
    SDL_Color sc = {(uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c, 255};
    SDL_Vertex v[3 * 8];
    int nv = 0;
    double rin = rad * 0.55, rout = p == phase ? rad : rad * 0.9;
    for (int k = 0; k < 4; k++) {
      double b0 = a0 + (a1 - a0) * k / 4, b1 = a0 + (a1 - a0) * (k + 1) / 4;
      SDL_FPoint q[4] = {{cx + rin * cos(b0), cy + rin * sin(b0)},
                         {cx + rout * cos(b0), cy + rout * sin(b0)},
                         {cx + rout * cos(b1), cy + rout * sin(b1)},
                         {cx + rin * cos(b1), cy + rin * sin(b1)}};
      int tri[6] = {0, 1, 2, 0, 2, 3};
      for (int j = 0; j < 6; j++)
        v[nv++] = (SDL_Vertex){q[tri[j]], sc, {0, 0}};
    }
    SDL_RenderGeometry(app->ren, NULL, v, nv, NULL, 0);
    double am = (a0 + a1) / 2;
    const char *nm = ls_phase_names[p];
    int tw = ls_vtext_width(&app->fonts[0], nm);
    int lx = cx + (int)((rad + 6) * cos(am)), ly = cy + (int)((rad + 6) * sin(am));
    if (cos(am) < -0.2)
      lx -= tw;
    else if (fabs(cos(am)) <= 0.2)
      lx -= tw / 2;
    if (sin(am) < 0)
      ly -= app->fonts[0].height;
    text(app, LS_VFONT_SANS, lx, ly, nm, p == phase ? TEXT : TEXT_DIM, 0);
  }
}

/* A queue's swatch in the panel: the colour of the phase or kind that
 * empties it. */
static uint32_t queue_color(int q) {
  return q == LS_VQ_TIMERS       ? phase_colors[LS_PHASE_TIMERS]
         : q == LS_VQ_IMMEDIATES ? phase_colors[LS_PHASE_CHECK]
         : q == LS_VQ_TICKS      ? kind_colors[LS_KIND_TICK]
         : q == LS_VQ_MICROTASKS ? kind_colors[LS_KIND_MICROTASK]
                                 : phase_colors[LS_PHASE_POLL];
}

static void draw_panel(ls_vapp *app, int lt) {
  ls_vlayout *L = &app->layout;
  ls_vmodel *m = &app->model;
  if (!L->show_panel)
    return;
  ls_vrect r = L->panel;
  fill(app->ren, r.x, r.y, r.w, r.h, PANEL_BG, 255);
  fill(app->ren, r.x, r.y, 1, r.h, GRID, 255);
  SDL_RenderSetClipRect(app->ren, &(SDL_Rect){r.x, r.y, r.w, r.h});
  int lh = app->fonts[0].height + 2, x = r.x + 10, y = r.y + 6, w = r.w - 16;
  uint64_t t = app->has_cursor ? app->cursor : (app->t0 + app->t1) / 2;
  static ls_vstate st; /* 12 KB: kept off the stack */
  ls_vstate_at(m, lt, t, &st);
  /* Queues pair schedules with runs once the whole trace is in. */
  bool loaded = atomic_load(&m->state) == LS_VLOAD_DONE;
  char buf[256], d[32];
  ls_vfmt_time(d, sizeof d, (double)(t - m->t_min), pixel_ns(app));
  snprintf(buf, sizeof buf, "Loop state at %s%s", d,
           app->has_cursor ? "" : " (view centre)");
  text(app, LS_VFONT_SANS, x, y, buf, TEXT, w);
  y += lh;
  if (st.in_iteration)
    snprintf(buf, sizeof buf, "iteration %" PRIu64 ", %s", st.iteration,
             st.phase >= 0 ? ls_phase_names[st.phase] : "between phases");
  else
    snprintf(buf, sizeof buf, "%s", st.phase >= 0 ? ls_phase_names[st.phase]
                                                  : "outside the loop");
  text(app, LS_VFONT_SANS, x, y, buf, TEXT_DIM, w);
  y += lh;
  int rad = r.w / 5 < LS_VSCALE(70, L->line_h) ? r.w / 5
                                                : LS_VSCALE(70, L->line_h);
  int cy = y + rad + lh + 4;
  draw_wheel(app, r.x + r.w / 2, cy, rad, st.phase);
  if (st.phase >= 0) {
    const char *nm = ls_phase_names[st.phase];
    text(app, LS_VFONT_SANS, r.x + r.w / 2 - ls_vtext_width(&app->fonts[0], nm) / 2,
         cy - app->fonts[0].height / 2, nm, phase_colors[st.phase], 0);
  }
  y = cy + rad + lh + 6;
  static ls_vline lines[LS_VSTATE_LINES];
  unsigned n = ls_vstate_lines(m, &st, lines, LS_VSTATE_LINES);
  /* Queues pair schedules with runs once the whole trace is in. */
  if (!loaded)
    n = n && lines[0].kind == LS_VLINE_RUNNING;
  for (unsigned i = 0; i < n && y < r.y + r.h; i++, y += lh) {
    const ls_vline *l = &lines[i];
    switch (l->kind) {
    case LS_VLINE_RUNNING:
      text(app, LS_VFONT_SANS, x, y, l->text, ls_vcolor_of_class(l->cls), w);
      break;
    case LS_VLINE_QUEUE:
      fill(app->ren, x, y + lh / 2 - lh / 6, lh / 3, lh / 3,
           queue_color(l->queue), 255);
      __attribute__((fallthrough)); /* the name beside its swatch */
    case LS_VLINE_HEADING:
      text(app, LS_VFONT_SANS, x + lh / 3 + 4, y, l->text, TEXT,
           w - lh / 3 - 4);
      break;
    default:
      text(app, LS_VFONT_MONO, x + lh / 3 + 10, y, l->text,
           l->kind == LS_VLINE_ALERT ? 0xff7a7a : TEXT_DIM, w - lh / 3 - 10);
      break;
    }
  }
  if (!loaded)
    text(app, LS_VFONT_SANS, x, y, "queues: when loading is done", TEXT_DIM, w);
  SDL_RenderSetClipRect(app->ren, NULL);
}

static int legend_item_w(ls_vapp *app, int i) {
  bool phase = i < LS_PHASE_COUNT;
  const char *nm = phase ? ls_phase_names[i] : ls_kind_names[i - LS_PHASE_COUNT];
  int sw = app->fonts[0].height - 4;
  return sw + 4 + ls_vtext_width(&app->fonts[0], nm) +
         (phase ? 0 : ls_vtext_width(&app->fonts[0], " cb")) + 12;
}

/* Rows the legend needs at this width (the same wrapping draw_legend does). */
static int legend_rows(ls_vapp *app) {
  int rows = 1, x = 8;
  for (int i = 0; i < LS_PHASE_COUNT + LS_KIND_COUNT; i++) {
    int need = legend_item_w(app, i) + (i == LS_PHASE_COUNT ? 8 : 0);
    if (x + need > app->w) {
      rows++;
      x = 8;
    }
    x += need;
  }
  return rows;
}

static void draw_legend(ls_vapp *app) {
  ls_vlayout *L = &app->layout;
  ls_vrect r = L->legend;
  fill(app->ren, r.x, r.y, r.w, r.h, PANEL_BG, 255);
  fill(app->ren, r.x, r.y, r.w, 1, GRID, 255);
  int x = 8, y = r.y + 2, lh = app->fonts[0].height + 4;
  int sw = app->fonts[0].height - 4;
  for (int i = 0; i < LS_PHASE_COUNT + LS_KIND_COUNT; i++) {
    bool phase = i < LS_PHASE_COUNT;
    const char *nm = phase ? ls_phase_names[i] : ls_kind_names[i - LS_PHASE_COUNT];
    uint32_t c = phase ? phase_colors[i] : kind_colors[i - LS_PHASE_COUNT];
    char buf[48];
    snprintf(buf, sizeof buf, "%s%s", nm, phase ? "" : " cb");
    int need = legend_item_w(app, i) + (i == LS_PHASE_COUNT ? 8 : 0);
    if (x + need > r.w && y + lh < r.y + r.h) {
      x = 8;
      y += lh;
    } else if (i == LS_PHASE_COUNT) {
      x += 8; /* a gap between phases and callback kinds */
    }
    fill(app->ren, x, y + 3, sw, sw, c, 255);
    if (!phase)
      frame_rect(app->ren, x, y + 3, sw, sw, 0x000000);
    x += sw + 4;
    x += text(app, LS_VFONT_SANS, x, y + 1, buf, TEXT_DIM, 0) + 12;
  }
}

static void fmt_slice(ls_vapp *app, ls_vref ref, char *buf, size_t len) {
  ls_vmodel *m = &app->model;
  const ls_vslice *s = ls_vmodel_slice(m, ref);
  if (s == NULL) {
    buf[0] = 0;
    return;
  }
  char t0[32], du[32], args[256];
  ls_vfmt_time(t0, sizeof t0, (double)(s->t0 - m->t_min), pixel_ns(app));
  ls_vfmt_dur(du, sizeof du, (double)(s->t1 - s->t0));
  ls_vmodel_format_args(m, s->args, args, sizeof args);
  const char *kind = ls_vc_is_callback(s->cls) ? ls_kind_names[s->cls - LS_VC_KIND]
                     : ls_vc_is_phase(s->cls)  ? "phase"
                     : s->cls == LS_VC_ITERATION ? "iteration"
                     : s->cls == LS_VC_POOL      ? "pool"
                     : s->cls == LS_VC_AWAIT     ? "await"
                                                 : "slice";
  snprintf(buf, len, "%s [%s]  start %s  dur %s  id %" PRIu64 "%s%s",
           ls_vmodel_str(m, s->label), kind, t0, du, s->id, args[0] ? "  " : "",
           args);
}

static void draw_status(ls_vapp *app) {
  ls_vlayout *L = &app->layout;
  ls_vrect r = L->status;
  fill(app->ren, r.x, r.y, r.w, r.h, PANEL_BG, 255);
  char buf[600];
  int y = r.y + (r.h - app->fonts[0].height) / 2;
  if (app->searching) {
    snprintf(buf, sizeof buf, "search: %s_", app->search);
    text(app, LS_VFONT_MONO, 8, y, buf, CURSOR, r.w - 16);
    return;
  }
  int state = atomic_load(&app->model.state);
  if (state == LS_VLOAD_FAILED || app->model.error[0]) {
    text(app, LS_VFONT_SANS, 8, y, app->model.error,
         state == LS_VLOAD_FAILED ? LOST : BLOCKED, r.w - 16);
    return;
  }
  if (app->message[0]) {
    text(app, LS_VFONT_SANS, 8, y, app->message, TEXT, r.w - 16);
    return;
  }
  if (app->selected.thread >= 0) {
    fmt_slice(app, app->selected, buf, sizeof buf);
    text(app, LS_VFONT_SANS, 8, y, buf, TEXT, r.w - 16);
    return;
  }
  text(app, LS_VFONT_SANS, 8, y,
       "wheel/ws zoom  drag/ad pan  click select  f fit  / search  n/N long "
       "callback  space play  [ ] 1 speed  arrows step  l panel  c collapse  p pin",
       TEXT_DIM, r.w - 16);
}

/* What is under the mouse in the lanes that are not slices: an instant, a
 * timer's wait, a drain, a counter's value. Empty when nothing is. */
static void describe_point(ls_vapp *app, char *buf, size_t len) {
  ls_vmodel *m = &app->model;
  buf[0] = 0;
  int x = app->mouse_x, y = app->mouse_y;
  if (!ls_vrect_has(app->layout.tracks, x, y))
    return;
  const ls_vlane *ln = ls_vlayout_lane_at(&app->layout, y);
  if (ln == NULL)
    return;
  uint64_t t = ls_vxmap_t(&app->xm, x);
  uint64_t slack = (uint64_t)(3 / app->xm.px_per_ns) + 1;
  char a[32], b[32], c[64], args[200];
  switch (ln->kind) {
  case LS_VLANE_MARKS: {
    const ls_vinstants *in = &m->threads[ln->index].instants;
    uint32_t i = ls_vinstants_first_at(in, t > slack ? t - slack : 0);
    if (i >= in->n || in->v[i].t > t + slack)
      return;
    const ls_vinstant *e = &in->v[i];
    ls_vfmt_time(a, sizeof a, (double)(e->t - m->t_min), pixel_ns(app));
    ls_vmodel_format_args(m, e->args, args, sizeof args);
    snprintf(buf, len, "%s [%s]  at %s  id %" PRIu64 "%s%s",
             ls_vmodel_str(m, e->label),
             e->cls == LS_VC_SCHED       ? "scheduled"
             : e->cls == LS_VC_PROMISE   ? "promise"
             : e->cls == LS_VC_UNHANDLED ? "unhandled rejection"
                                         : "instant",
             a, e->id, args[0] ? "  " : "", args);
    return;
  }
  case LS_VLANE_TIMERS: {
    const ls_vthread *th = &m->threads[ln->index];
    int r = (y - ln->y) / ln->row_h;
    if (r < 0 || (unsigned)r >= th->ntimer_rows)
      return;
    for (uint32_t k = 0; k < th->ntimer_rows_n[r]; k++) {
      const ls_vpend *p = &th->pend[th->timer_rows[r][k]];
      uint64_t end = p->t_run == LS_VT_NEVER ? m->t_max : p->t_run;
      if (p->t_sched > t || (end < t && p->t_due < t))
        continue;
      ls_vfmt_time(a, sizeof a, (double)(p->t_sched - m->t_min),
                   pixel_ns(app));
      ls_vfmt_dur(b, sizeof b, (double)(p->t_due - p->t_sched));
      if (p->t_run == LS_VT_NEVER)
        snprintf(c, sizeof c, "never ran");
      else {
        char d[32];
        ls_vfmt_dur(d, sizeof d, (double)p->t_run - (double)p->t_due);
        snprintf(c, sizeof c, "ran %s after due", d);
      }
      snprintf(buf, len, "%s id %" PRIu64 "  scheduled at %s  delay %s  %s",
               ls_vmodel_str(m, p->label), p->id, a, b, c);
      return;
    }
    return;
  }
  case LS_VLANE_BURSTS: {
    const ls_vrow *row = &m->threads[ln->index].bursts;
    uint32_t i = ls_vrow_first_after(row, t > slack ? t - slack : 0);
    if (i >= row->n || row->v[i].t0 > t + slack)
      return;
    ls_vfmt_time(a, sizeof a, (double)(row->v[i].t0 - m->t_min),
                 pixel_ns(app));
    ls_vfmt_dur(b, sizeof b, (double)(row->v[i].t1 - row->v[i].t0));
    snprintf(buf, len, "drain of %" PRIu64 " nextTick/microtask callbacks  "
             "at %s  for %s", row->v[i].id, a, b);
    return;
  }
  case LS_VLANE_COUNTER: {
    const ls_vcounter *cn = &m->counters[ln->index];
    size_t used = (size_t)snprintf(buf, len, "%s", ls_vmodel_str(m, cn->name));
    for (unsigned k = 0; k < cn->nseries && used < len; k++) {
      uint32_t i = ls_vseries_at(&cn->series[k], t);
      if (i != UINT32_MAX)
        used += (size_t)snprintf(buf + used, len - used, "  %s %g",
                                 ls_vmodel_str(m, cn->series[k].name),
                                 cn->series[k].v[i].v);
    }
    return;
  }
  default:
    return;
  }
}

static void draw_tooltip(ls_vapp *app) {
  if (app->dragging)
    return;
  char line[600];
  if (app->hover.thread >= 0)
    fmt_slice(app, app->hover, line, sizeof line);
  else
    describe_point(app, line, sizeof line);
  if (!line[0])
    return;
  int w = ls_vtext_width(&app->fonts[0], line) + 12;
  if (w > app->w - 20)
    w = app->w - 20;
  int h = app->fonts[0].height + 8;
  int x = app->mouse_x + 14, y = app->mouse_y + 18;
  if (x + w > app->w)
    x = app->w - w - 4;
  if (y + h > app->h)
    y = app->mouse_y - h - 6;
  fill(app->ren, x, y, w, h, 0x0f1115, 235);
  frame_rect(app->ren, x, y, w, h, TEXT_DIM);
  text(app, LS_VFONT_SANS, x + 6, y + 4, line, TEXT, w - 10);
}

void ls_vrender(ls_vapp *app) {
  ls_vmodel *m = &app->model;
  color(app->ren, BG, 255);
  SDL_RenderClear(app->ren);
  ls_vlayout_build(&app->layout, m, app->w, app->h, app->fonts[0].height,
                   app->scroll_y, app->show_panel, legend_rows(app));
  app->scroll_y = app->layout.scroll_y;
  ls_vxmap_set(&app->xm, app->t0, app->t1, app->layout.tracks.x,
               app->layout.tracks.w);
  int lt = ls_vstate_loop_thread(m);
  draw_axis(app);
  draw_lanes(app, false);
  draw_lanes(app, true);
  if (m->nthreads == 0 && m->ncounters == 0) {
    const char *msg = atomic_load(&m->state) == LS_VLOAD_FAILED
                          ? "This trace could not be read (see below)."
                      : atomic_load(&m->state) == LS_VLOAD_DONE
                          ? "This trace holds no events."
                          : "Loading...";
    ls_vrect t = app->layout.tracks;
    text(app, LS_VFONT_SANS, t.x + 20, t.y + 20, msg, TEXT, t.w - 40);
  }
  draw_flows(app);
  draw_cursor(app);
  draw_minimap(app, lt);
  draw_top(app);
  draw_panel(app, lt);
  draw_legend(app);
  draw_status(app);
  draw_tooltip(app);
}
