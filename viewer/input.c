/* Input (app.h): mouse, keyboard and replay. The scripted mode builds the
 * same SDL events a user would cause and feeds them to ls_vapp_handle, so
 * tests exercise the real handling. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

/* One wheel notch zooms by sqrt(2): two notches double or halve the span. */
#define ZOOM_NOTCH 1.4142135623730951

/* A time computed in double, clamped into what a uint64_t holds (wheel
 * zoom-outs and drags have no natural bound). */
static uint64_t to_time(double t) {
  return t <= 0 ? 0 : t >= 1.8e19 ? (uint64_t)1.8e19 : (uint64_t)t;
}

static void zoom_at(ls_vapp *app, double factor, int x) {
  const ls_vxmap *xm = &app->xm;
  if (x < xm->x || x >= xm->x + xm->w)
    x = xm->x + xm->w / 2;
  /* The instant under the mouse stays under the mouse. */
  double span = (double)(app->t1 - app->t0);
  double f = (x - xm->x) / (double)xm->w;
  double anchor = (double)app->t0 + f * span;
  double nspan = span * factor;
  double nt0 = anchor - f * nspan;
  if (nt0 < 0)
    nt0 = 0;
  app->follow_load = false;
  ls_vapp_set_view(app, to_time(nt0), to_time(nt0 + nspan));
}

static void pan_px(ls_vapp *app, double dx) {
  double dt = dx / app->xm.px_per_ns;
  double nt0 = (double)app->t0 + dt;
  uint64_t span = app->t1 - app->t0;
  if (nt0 < 0)
    nt0 = 0;
  app->follow_load = false;
  ls_vapp_set_view(app, to_time(nt0), to_time(nt0 + (double)span));
}

static void show_time(ls_vapp *app, uint64_t t) {
  if (t >= app->t0 && t <= app->t1)
    return;
  uint64_t span = app->t1 - app->t0;
  uint64_t t0 = t > span / 10 ? t - span / 10 : 0;
  app->follow_load = false;
  ls_vapp_set_view(app, t0, t0 + span);
}

static void fit_slice(ls_vapp *app, const ls_vslice *s) {
  uint64_t d = s->t1 - s->t0;
  uint64_t pad = d / 8 + 50;
  app->follow_load = false;
  ls_vapp_set_view(app, s->t0 > pad ? s->t0 - pad : 0, s->t1 + pad);
}

static void select_ref(ls_vapp *app, ls_vref ref, bool reveal) {
  app->selected = ref;
  const ls_vslice *s = ls_vmodel_slice(&app->model, ref);
  if (s == NULL)
    return;
  /* The replay cursor follows the selection, so the loop-state panel tells
   * what was queued when that callback started. */
  if (!app->playing) {
    app->cursor = s->t0;
    app->has_cursor = true;
  }
  if (reveal && (s->t0 < app->t0 || s->t0 > app->t1)) {
    uint64_t span = app->t1 - app->t0;
    if (s->t1 - s->t0 > span)
      fit_slice(app, s);
    else { /* centre it */
      uint64_t t0 = s->t0 > span / 2 ? s->t0 - span / 2 : 0;
      app->follow_load = false;
      ls_vapp_set_view(app, t0, t0 + span);
    }
  }
}

/* The slice under (x, y), within 2 px. */
static ls_vref hit_slice(ls_vapp *app, int x, int y) {
  ls_vref none = {-1, 0, 0};
  if (!ls_vrect_has(app->layout.tracks, x, y))
    return none;
  const ls_vlane *ln = ls_vlayout_lane_at(&app->layout, y);
  if (ln == NULL ||
      (ln->kind != LS_VLANE_SLICES && ln->kind != LS_VLANE_ASYNC))
    return none;
  const ls_vthread *t = &app->model.threads[ln->index];
  int r = (y - ln->y) / ln->row_h;
  const ls_vrow *row;
  int row_ref;
  if (ln->kind == LS_VLANE_SLICES) {
    if ((unsigned)r >= t->nrows)
      return none;
    row = &t->rows[r];
    row_ref = r;
  } else {
    if ((unsigned)r >= t->nasync_rows)
      return none;
    row = &t->async_rows[r];
    row_ref = LS_VREF_ASYNC_ROW + r;
  }
  uint64_t ta = ls_vxmap_t(&app->xm, x - 2), tb = ls_vxmap_t(&app->xm, x + 2);
  uint32_t i = ls_vrow_first_after(row, ta);
  /* Prefer the slice containing x; else the nearest starting within 2 px. */
  uint64_t tx = ls_vxmap_t(&app->xm, x);
  uint32_t best = UINT32_MAX;
  for (uint32_t k = i; k < row->n && row->v[k].t0 <= tb; k++) {
    if (row->v[k].t0 <= tx && row->v[k].t1 >= tx) {
      best = k;
      break;
    }
    if (best == UINT32_MAX)
      best = k;
  }
  if (best == UINT32_MAX)
    return none;
  return (ls_vref){ln->index, row_ref, best};
}

static void toggle_lane(ls_vapp *app, int y, bool pin) {
  const ls_vlane *ln = ls_vlayout_lane_at(&app->layout, y);
  if (ln == NULL)
    return;
  ls_vmodel *m = &app->model;
  if (ln->kind == LS_VLANE_COUNTER) {
    ls_vcounter *c = &m->counters[ln->index];
    if (pin)
      c->pinned = !c->pinned;
    else
      c->collapsed = !c->collapsed;
  } else {
    ls_vthread *t = &m->threads[ln->index];
    if (pin)
      t->pinned = !t->pinned;
    else
      t->collapsed = !t->collapsed;
  }
}

static void click(ls_vapp *app, int x, int y) {
  ls_vlayout *L = &app->layout;
  if (ls_vrect_has(L->axis, x, y)) {
    app->cursor = ls_vxmap_t(&app->xm, x);
    app->has_cursor = true;
    return;
  }
  const ls_vlane *ln = ls_vlayout_lane_at(L, y);
  if (ln && ls_vrect_has(L->gutter, x, y)) {
    int bs = ln->h - 8;
    if (ln->kind == LS_VLANE_HEADER && x >= L->gutter.x + 8 + bs &&
        x < L->gutter.x + 8 + 2 * bs)
      toggle_lane(app, y, true);
    else if (ln->kind == LS_VLANE_HEADER || ln->kind == LS_VLANE_COUNTER)
      toggle_lane(app, y, false);
    return;
  }
  if (ln && ln->kind == LS_VLANE_HEADER && ls_vrect_has(L->tracks, x, y)) {
    toggle_lane(app, y, false);
    return;
  }
  ls_vref ref = hit_slice(app, x, y);
  if (ref.thread < 0) {
    app->selected.thread = -1;
    return;
  }
  select_ref(app, ref, false);
}

static void run_search(ls_vapp *app) {
  app->searching = false;
  if (app->search[0] == 0)
    return;
  const ls_vslice *cur = ls_vmodel_slice(&app->model, app->selected);
  uint64_t from = cur ? cur->t0 : app->has_cursor ? app->cursor : app->t0;
  if (!cur && from > 0)
    from--; /* a match right at the start of the view counts */
  ls_vref r = ls_vmodel_search(&app->model, app->search, from, true);
  if (r.thread < 0) {
    snprintf(app->message, sizeof app->message, "no label matches \"%s\"",
             app->search);
    return;
  }
  select_ref(app, r, true);
}

static void jump_long(ls_vapp *app, bool forward) {
  const ls_vslice *cur = ls_vmodel_slice(&app->model, app->selected);
  uint64_t from = cur ? cur->t0 : app->has_cursor ? app->cursor : app->t0;
  ls_vref r = ls_vmodel_next_long(&app->model, from, app->long_ns, forward);
  if (r.thread < 0) {
    char d[32];
    snprintf(d, sizeof d, "%.3g ms", (double)app->long_ns / 1e6);
    snprintf(app->message, sizeof app->message,
             "no %s callback of at least %s", forward ? "later" : "earlier", d);
    return;
  }
  select_ref(app, r, true);
}

static void key(ls_vapp *app, SDL_Keycode k, uint16_t mod) {
  if (app->searching) {
    if (k == SDLK_RETURN || k == SDLK_KP_ENTER) {
      run_search(app);
    } else if (k == SDLK_ESCAPE) {
      app->searching = false;
    } else if (k == SDLK_BACKSPACE) {
      size_t n = strlen(app->search);
      if (n)
        app->search[n - 1] = 0;
    }
    return;
  }
  app->message[0] = 0;
  ls_vmodel *m = &app->model;
  int row_h = app->layout.line_h + 6;
  switch (k) {
  case SDLK_w:
    zoom_at(app, 1 / ZOOM_NOTCH, app->mouse_x);
    break;
  case SDLK_s:
    zoom_at(app, ZOOM_NOTCH, app->mouse_x);
    break;
  case SDLK_a:
    pan_px(app, -0.15 * app->xm.w);
    break;
  case SDLK_d:
    pan_px(app, 0.15 * app->xm.w);
    break;
  case SDLK_f: {
    const ls_vslice *s = ls_vmodel_slice(m, app->selected);
    if (s)
      fit_slice(app, s);
    else
      ls__vapp_fit_all_locked(app);
    break;
  }
  case SDLK_0:
  case SDLK_HOME:
    ls__vapp_fit_all_locked(app);
    break;
  case SDLK_RETURN:
    if (app->search[0]) /* again: the next match */
      run_search(app);
    break;
  case SDLK_n:
    jump_long(app, !(mod & KMOD_SHIFT));
    break;
  case SDLK_t:
    app->long_ns = app->long_ns >= 1000000000 ? 10000 : app->long_ns * 10;
    break;
  case SDLK_SPACE:
    app->playing = !app->playing;
    if (app->playing && (!app->has_cursor || app->cursor >= m->t_max)) {
      app->cursor = app->t0 > m->t_min ? app->t0 : m->t_min;
      app->has_cursor = true;
    }
    break;
  case SDLK_RIGHT:
  case SDLK_LEFT: {
    uint64_t from = app->has_cursor ? app->cursor : app->t0;
    app->cursor = ls_vmodel_step(m, from, k == SDLK_RIGHT);
    app->has_cursor = true;
    show_time(app, app->cursor);
    break;
  }
  case SDLK_LEFTBRACKET:
    app->speed /= 2;
    break;
  case SDLK_RIGHTBRACKET:
    app->speed *= 2;
    break;
  case SDLK_1: /* back to real time: a trace second per second */
    app->speed = 1;
    break;
  case SDLK_l:
    app->show_panel = !app->show_panel;
    break;
  case SDLK_c:
    toggle_lane(app, app->mouse_y, false);
    break;
  case SDLK_p:
    toggle_lane(app, app->mouse_y, true);
    break;
  case SDLK_UP:
    app->scroll_y -= row_h * 3;
    break;
  case SDLK_DOWN:
    app->scroll_y += row_h * 3;
    break;
  case SDLK_PAGEUP:
    pan_px(app, -(double)app->xm.w);
    break;
  case SDLK_PAGEDOWN:
    pan_px(app, (double)app->xm.w);
    break;
  case SDLK_ESCAPE:
    app->selected.thread = -1;
    break;
  case SDLK_q:
    app->quit = true;
    break;
  default:
    break;
  }
}

static void handle_locked(ls_vapp *app, const SDL_Event *ev);

void ls_vapp_handle(ls_vapp *app, const SDL_Event *ev) {
  pthread_mutex_lock(&app->model.lock);
  handle_locked(app, ev);
  pthread_mutex_unlock(&app->model.lock);
}

static void handle_locked(ls_vapp *app, const SDL_Event *ev) {
  ls_vlayout *L = &app->layout;
  switch (ev->type) {
  case SDL_MOUSEMOTION: {
    app->mouse_x = ev->motion.x;
    app->mouse_y = ev->motion.y;
    if (app->button_down) {
      int dx = app->mouse_x - app->down_x, dy = app->mouse_y - app->down_y;
      if (!app->dragging && (abs(dx) > 3 || abs(dy) > 3))
        app->dragging = true;
      if (app->down_in_minimap) {
        ls_vxmap all;
        ls_vxmap_set(&all, app->model.t_min, app->model.t_max, L->minimap.x,
                     L->minimap.w);
        uint64_t c = ls_vxmap_t(&all, app->mouse_x), span = app->t1 - app->t0;
        app->follow_load = false;
        ls_vapp_set_view(app, c > span / 2 ? c - span / 2 : 0,
                         (c > span / 2 ? c - span / 2 : 0) + span);
      } else if (app->dragging) {
        /* Dragging moves the content with the mouse. */
        uint64_t span = app->down_t1 - app->down_t0;
        double nt0 = (double)app->down_t0 - dx / app->xm.px_per_ns;
        if (nt0 < 0)
          nt0 = 0;
        app->follow_load = false;
        ls_vapp_set_view(app, to_time(nt0), to_time(nt0 + (double)span));
        app->scroll_y = app->down_scroll - dy;
      }
    } else {
      app->hover = hit_slice(app, app->mouse_x, app->mouse_y);
    }
    break;
  }
  case SDL_MOUSEBUTTONDOWN:
    if (ev->button.button != SDL_BUTTON_LEFT)
      break;
    app->mouse_x = ev->button.x;
    app->mouse_y = ev->button.y;
    app->button_down = true;
    app->dragging = false;
    app->down_x = ev->button.x;
    app->down_y = ev->button.y;
    app->down_t0 = app->t0;
    app->down_t1 = app->t1;
    app->down_scroll = app->scroll_y;
    app->down_in_minimap = ls_vrect_has(L->minimap, ev->button.x, ev->button.y);
    if (app->down_in_minimap) {
      SDL_Event mv = {.type = SDL_MOUSEMOTION};
      mv.motion.x = ev->button.x;
      mv.motion.y = ev->button.y;
      handle_locked(app, &mv);
    }
    break;
  case SDL_MOUSEBUTTONUP:
    if (ev->button.button != SDL_BUTTON_LEFT || !app->button_down)
      break;
    app->button_down = false;
    if (!app->dragging && !app->down_in_minimap)
      click(app, ev->button.x, ev->button.y);
    app->dragging = false;
    break;
  case SDL_MOUSEWHEEL: {
    int y = ev->wheel.y;
    if (ev->wheel.direction == SDL_MOUSEWHEEL_FLIPPED)
      y = -y;
    if (y == 0)
      break;
    if (ls_vrect_has(L->gutter, app->mouse_x, app->mouse_y) ||
        (SDL_GetModState() & KMOD_SHIFT)) {
      app->scroll_y -= y * (L->line_h + 6) * 2;
      break;
    }
    zoom_at(app, pow(ZOOM_NOTCH, -y), app->mouse_x);
    break;
  }
  case SDL_KEYDOWN:
    key(app, ev->key.keysym.sym, ev->key.keysym.mod);
    break;
  case SDL_TEXTINPUT:
    /* "/" starts a search as text, not as a key: SDL sends the text of the
     * key that started the search too (a "/" key would put "/" in front of
     * every search), and on many layouts "/" is a shifted key anyway. */
    if (app->searching) {
      size_t n = strlen(app->search), add = strlen(ev->text.text);
      if (n + add < sizeof app->search)
        memcpy(app->search + n, ev->text.text, add + 1);
    } else if (strcmp(ev->text.text, "/") == 0) {
      app->searching = true;
      app->search[0] = 0;
      app->message[0] = 0;
    }
    break;
  default:
    break;
  }
}

void ls_vapp_tick(ls_vapp *app, double dt) {
  if (!app->playing || dt <= 0)
    return;
  ls_vmodel *m = &app->model;
  pthread_mutex_lock(&m->lock);
  uint64_t t_max = m->t_max;
  pthread_mutex_unlock(&m->lock);
  double adv = dt * app->speed * 1e9;
  app->cursor = to_time((double)app->cursor + adv);
  if (app->cursor >= t_max) {
    app->cursor = t_max;
    app->playing = false;
  }
  /* Page forward when the cursor leaves the view. */
  if (app->cursor > app->t1) {
    uint64_t span = app->t1 - app->t0;
    ls_vapp_set_view(app, app->cursor - span / 10, app->cursor - span / 10 + span);
    app->follow_load = false;
  }
}

/* ------------------------------------------------------------ script */

/* Presses the key called name ("a", "N", "shift+n", "Return", "Left");
 * false when SDL knows no such key. */
static bool send_key(ls_vapp *app, const char *name) {
  SDL_Event ev = {.type = SDL_KEYDOWN};
  uint16_t mod = 0;
  char buf[64];
  snprintf(buf, sizeof buf, "%s", name);
  if (strncmp(buf, "shift+", 6) == 0) {
    mod |= KMOD_SHIFT;
    memmove(buf, buf + 6, strlen(buf + 6) + 1);
  }
  if (buf[0] && buf[1] == 0 && isupper((unsigned char)buf[0])) {
    mod |= KMOD_SHIFT;
    buf[0] = (char)tolower((unsigned char)buf[0]);
  }
  SDL_Keycode k = strcmp(buf, "space") == 0 ? SDLK_SPACE
                  : buf[1] == 0             ? (SDL_Keycode)buf[0]
                                            : SDL_GetKeyFromName(buf);
  if (k == SDLK_UNKNOWN || buf[0] == 0)
    return false;
  ev.key.keysym.sym = k;
  ev.key.keysym.mod = mod;
  ls_vapp_handle(app, &ev);
  /* A printable key also types its text, as SDL does with text input on. */
  if (k >= ' ' && k < 127) {
    SDL_Event te = {.type = SDL_TEXTINPUT};
    te.text.text[0] = (mod & KMOD_SHIFT) && isalpha(k) ? (char)toupper(k)
                                                        : (char)k;
    ls_vapp_handle(app, &te);
  }
  return true;
}

static void send_motion(ls_vapp *app, int x, int y) {
  SDL_Event ev = {.type = SDL_MOUSEMOTION};
  ev.motion.x = x;
  ev.motion.y = y;
  ls_vapp_handle(app, &ev);
}

static void send_button(ls_vapp *app, int x, int y, bool down) {
  SDL_Event ev = {.type = down ? SDL_MOUSEBUTTONDOWN : SDL_MOUSEBUTTONUP};
  ev.button.button = SDL_BUTTON_LEFT;
  ev.button.x = x;
  ev.button.y = y;
  ls_vapp_handle(app, &ev);
}

/* Script coordinates beyond this many pixels mean nothing on any screen
 * (and would not fit an int once offset). */
#define PX_MAX 1e6

/* A script number: all of s, finite, within [lo, hi]. */
static bool number(const char *s, double lo, double hi, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *end == 0 && errno == 0 && isfinite(*v) && *v >= lo &&
         *v <= hi;
}

int ls_vapp_script(ls_vapp *app, const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "loopscope-view: %s: %s\n", path, strerror(errno));
    return -1;
  }
  char line[512];
  int lineno = 0, rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\r\n")] = 0;
    char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (*p == 0 || *p == '#')
      continue;
    /* Every step sees the layout the previous frame drew. */
    ls_vapp_frame(app);
    /* d only catches a word too many: n tells how many there were */
    char cmd[32], a[256] = "", b[256] = "", c[256] = "", d[256] = "";
    int n = sscanf(p, "%31s %255s %255s %255s %255s", cmd, a, b, c, d);
    ls_vrect tr = app->layout.tracks;
    int cy = tr.y + tr.h / 2;
    double x, y, v;
    const char *want = NULL; /* set: the step was not understood */
    if (strcmp(cmd, "zoom") == 0) {
      /* "zoom F [at X]": F > 1 zooms in, in whole wheel notches. */
      x = tr.x + tr.w / 2.0;
      if ((n == 2 || (n == 4 && strcmp(b, "at") == 0 &&
                      number(c, -PX_MAX, PX_MAX, &x))) &&
          number(a, 1e-300, 1e300, &v)) {
        send_motion(app, (int)x, cy);
        SDL_Event ev = {.type = SDL_MOUSEWHEEL};
        ev.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
        ev.wheel.y = (int)lround(2 * log2(v));
        ls_vapp_handle(app, &ev);
      } else {
        want = "zoom F [at X]: F > 0 (2 doubles), X a pixel column";
      }
    } else if (strcmp(cmd, "pan") == 0) {
      /* "pan DX [DY]": the view moves DX px later (a drag the other way). */
      y = 0;
      if ((n == 2 || (n == 3 && number(b, -PX_MAX, PX_MAX, &y))) &&
          number(a, -PX_MAX, PX_MAX, &x)) {
        int sx = tr.x + tr.w / 2;
        send_button(app, sx, cy, true);
        send_motion(app, sx - (int)x / 2, cy - (int)y / 2);
        send_motion(app, sx - (int)x, cy - (int)y);
        send_button(app, sx - (int)x, cy - (int)y, false);
      } else {
        want = "pan DX [DY]: pixels";
      }
    } else if (strcmp(cmd, "click") == 0 || strcmp(cmd, "move") == 0) {
      if (n == 3 && number(a, -PX_MAX, PX_MAX, &x) &&
          number(b, -PX_MAX, PX_MAX, &y)) {
        send_motion(app, (int)x, (int)y);
        if (cmd[0] == 'c') {
          send_button(app, (int)x, (int)y, true);
          send_button(app, (int)x, (int)y, false);
        }
      } else {
        want = "click X Y / move X Y: pixels";
      }
    } else if (strcmp(cmd, "key") == 0) {
      if (n != 2 || !send_key(app, a))
        want = "key NAME: a key SDL knows (a, N, shift+n, Return, Left, ...)";
    } else if (strcmp(cmd, "type") == 0 || strcmp(cmd, "search") == 0) {
      if (n < 2) {
        want = "type TEXT / search TEXT";
      } else {
        if (cmd[0] == 's')
          send_key(app, "/");
        const char *text = p + strlen(cmd);
        while (*text == ' ')
          text++;
        for (; *text; text++) {
          SDL_Event ev = {.type = SDL_TEXTINPUT};
          ev.text.text[0] = *text;
          ls_vapp_handle(app, &ev);
        }
        if (cmd[0] == 's')
          send_key(app, "Return");
      }
    } else if (strcmp(cmd, "play") == 0) {
      /* "play S": press space, S seconds of wall time pass, space again. */
      if (n == 2 && number(a, 0, 1e6, &v)) {
        send_key(app, "space");
        ls_vapp_tick(app, v);
        if (app->playing)
          send_key(app, "space");
      } else {
        want = "play SECONDS: 0 to 1e6";
      }
    } else if (strcmp(cmd, "speed") == 0) {
      if (n == 2 && number(a, 1e-12, 1e12, &v))
        app->speed = v;
      else
        want = "speed X: trace seconds per second, above 0, at most 1e12";
    } else if (strcmp(cmd, "resize") == 0) {
      if (n == 3 && number(a, LS_VSIZE_MIN, LS_VSIZE_MAX, &x) &&
          number(b, LS_VSIZE_MIN, LS_VSIZE_MAX, &y) && x == floor(x) &&
          y == floor(y)) {
        if (ls_vapp_resize(app, (int)x, (int)y) != 0)
          want = "resize W H: a size the machine can draw";
      } else {
        want = "resize W H: whole pixels, 64 to 16384";
      }
    } else if (strcmp(cmd, "view") == 0) {
      uint64_t t0, t1;
      if (n == 3 && ls_vparse_time(a, &t0) == 0 &&
          ls_vparse_time(b, &t1) == 0 && t1 > t0) {
        app->follow_load = false;
        ls_vapp_set_view(app, app->model.t_min + t0, app->model.t_min + t1);
      } else {
        want = "view T0 T1: times like 1.5ms, T1 after T0";
      }
    } else if (strcmp(cmd, "cursor") == 0) {
      uint64_t t;
      if (n == 2 && ls_vparse_time(a, &t) == 0) {
        app->cursor = app->model.t_min + t;
        app->has_cursor = true;
      } else {
        want = "cursor T: a time like 1.5ms";
      }
    } else if (strcmp(cmd, "screenshot") == 0) {
      if (n != 2) {
        want = "screenshot OUT.png";
      } else {
        ls_vapp_frame(app);
        if (ls_vapp_screenshot(app, a) != 0)
          want = "screenshot OUT.png: a file that can be written";
      }
    } else {
      want = "one of zoom, pan, click, move, key, type, search, play, speed, "
             "view, cursor, resize, screenshot";
    }
    if (want) {
      fprintf(stderr, "loopscope-view: %s:%d: cannot do \"%s\" (want %s)\n",
              path, lineno, p, want);
      rc = -1;
    }
  }
  fclose(f);
  if (rc == 0)
    ls_vapp_frame(app);
  return rc;
}

/* "12.5ms", "300us", "2s", "500ns"; a bare number is milliseconds. */
int ls_vparse_time(const char *s, uint64_t *ns) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || v < 0 || !isfinite(v))
    return -1;
  double mul = 1e6;
  if (strcmp(end, "ns") == 0)
    mul = 1;
  else if (strcmp(end, "us") == 0)
    mul = 1e3;
  else if (strcmp(end, "ms") == 0 || *end == 0)
    mul = 1e6;
  else if (strcmp(end, "s") == 0)
    mul = 1e9;
  else
    return -1;
  if (v * mul >= 1.8e19) /* beyond what a timestamp holds */
    return -1;
  *ns = (uint64_t)(v * mul);
  return 0;
}
