/* Viewer application lifecycle (app.h): fonts, the drawing surface, the
 * background loader and the window loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "png.h"

#ifndef LS_FONT_DIR
#define LS_FONT_DIR "/usr/share/fonts/truetype/dejavu"
#endif

static int make_surface(ls_vapp *app, int w, int h) {
  if (w < 64)
    w = 64;
  if (h < 64)
    h = 64;
  SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32,
                                                  SDL_PIXELFORMAT_ARGB8888);
  if (s == NULL) {
    fprintf(stderr, "loopscope-view: %dx%d surface: %s\n", w, h,
            SDL_GetError());
    return -1;
  }
  SDL_Renderer *r = SDL_CreateSoftwareRenderer(s);
  if (r == NULL) {
    fprintf(stderr, "loopscope-view: renderer: %s\n", SDL_GetError());
    SDL_FreeSurface(s);
    return -1;
  }
  /* Glyph textures belong to a renderer: rebuild them with it. */
  for (int i = 0; i < LS_VFONT_COUNT; i++)
    ls_vfont_close(&app->fonts[i]);
  if (app->ren)
    SDL_DestroyRenderer(app->ren);
  if (app->surface)
    SDL_FreeSurface(app->surface);
  app->surface = s;
  app->ren = r;
  app->w = w;
  app->h = h;
  /* Text grows with the window, never below readable: a 4K window (often
   * a high-density screen) would otherwise get 1080p-sized letters. */
  int size = h >= 2000 ? 20 : h >= 1400 ? 16 : h >= 1000 ? 14 : h >= 600 ? 13
                                                                          : 12;
  if (ls_vfont_open(&app->fonts[LS_VFONT_SANS], r,
                    LS_FONT_DIR "/DejaVuSans.ttf", size) ||
      ls_vfont_open(&app->fonts[LS_VFONT_MONO], r,
                    LS_FONT_DIR "/DejaVuSansMono.ttf", size - 1))
    return -1;
  return 0;
}

int ls_vapp_init(ls_vapp *app, int w, int h, bool window) {
  memset(app, 0, sizeof *app);
  ls_vmodel_init(&app->model);
  app->hover.thread = app->selected.thread = app->cause_of.thread = -1;
  app->speed = 1; /* until the trace is in: see ls_vapp_wait_loaded */
  app->long_ns = 1000000;
  app->follow_load = true;
  app->show_panel = true;
  if (SDL_Init(window ? SDL_INIT_VIDEO : 0) != 0) {
    fprintf(stderr, "loopscope-view: SDL: %s\n", SDL_GetError());
    return -1;
  }
  if (TTF_Init() != 0) {
    fprintf(stderr, "loopscope-view: SDL_ttf: %s\n", TTF_GetError());
    return -1;
  }
  if (window) {
    app->window = SDL_CreateWindow("loopscope", SDL_WINDOWPOS_UNDEFINED,
                                   SDL_WINDOWPOS_UNDEFINED, w, h,
                                   SDL_WINDOW_RESIZABLE);
    if (app->window == NULL) {
      fprintf(stderr, "loopscope-view: cannot open a window: %s\n",
              SDL_GetError());
      return -1;
    }
    SDL_GetWindowSize(app->window, &w, &h);
    SDL_StartTextInput(); /* search text, and "/" to start it (input.c) */
  }
  return make_surface(app, w, h);
}

void ls_vapp_free(ls_vapp *app) {
  if (app->loader) {
    atomic_store(&app->model.cancel, true);
    SDL_WaitThread(app->loader, NULL);
  }
  for (int i = 0; i < LS_VFONT_COUNT; i++)
    ls_vfont_close(&app->fonts[i]);
  if (app->ren)
    SDL_DestroyRenderer(app->ren);
  if (app->surface)
    SDL_FreeSurface(app->surface);
  if (app->window)
    SDL_DestroyWindow(app->window);
  ls_vlayout_free(&app->layout);
  free(app->mini_phase);
  ls_vmodel_free(&app->model);
  free(app->path);
  TTF_Quit();
  SDL_Quit();
}

static int load_thread(void *arg) {
  ls_vapp *app = arg;
  return ls_vmodel_load(&app->model, app->path);
}

int ls_vapp_load(ls_vapp *app, const char *path) {
  app->path = strdup(path);
  if (app->window) {
    char title[512];
    snprintf(title, sizeof title, "loopscope - %s",
             app->title ? app->title : path);
    SDL_SetWindowTitle(app->window, title);
  }
  app->loader = SDL_CreateThread(load_thread, "loader", app);
  if (app->loader == NULL) {
    fprintf(stderr, "loopscope-view: thread: %s\n", SDL_GetError());
    return -1;
  }
  return 0;
}

void ls_vapp_wait_loaded(ls_vapp *app) {
  if (app->loader) {
    SDL_WaitThread(app->loader, NULL);
    app->loader = NULL;
  }
  ls_vmodel *m = &app->model;
  if (app->want_window) {
    uint64_t a = m->t_min + app->want_from;
    uint64_t b = app->want_to > app->want_from ? m->t_min + app->want_to
                                               : m->t_max;
    app->follow_load = false;
    ls_vapp_set_view(app, a, b > a ? b : a + 1000);
  } else if (app->follow_load) {
    ls_vapp_fit_all(app);
  }
  if (app->want_cursor_set) {
    app->cursor = m->t_min + app->want_cursor;
    app->has_cursor = true;
  }
  /* Replay crosses the whole trace in about ten seconds by default. */
  if (m->t_max > m->t_min)
    app->speed = (double)(m->t_max - m->t_min) / 1e9 / 10.0;
}

int ls_vapp_resize(ls_vapp *app, int w, int h) {
  if (w == app->w && h == app->h)
    return 0;
  return make_surface(app, w, h);
}

void ls_vapp_set_view(ls_vapp *app, uint64_t t0, uint64_t t1) {
  if (t1 <= t0)
    t1 = t0 + 1;
  /* Below 100 ns per window nothing more can be told apart. */
  if (t1 - t0 < 100) {
    uint64_t c = t0 / 2 + t1 / 2;
    t0 = c > 50 ? c - 50 : 0;
    t1 = t0 + 100;
  }
  app->t0 = t0;
  app->t1 = t1;
}

void ls__vapp_fit_all_locked(ls_vapp *app) {
  ls_vmodel *m = &app->model;
  uint64_t a = m->t_min, b = m->t_max;
  if (a == UINT64_MAX || b <= a) {
    a = a == UINT64_MAX ? 0 : a;
    b = a + 1000000;
  }
  uint64_t pad = (b - a) / 50;
  ls_vapp_set_view(app, a > pad ? a - pad : 0, b + pad);
}

void ls_vapp_fit_all(ls_vapp *app) {
  pthread_mutex_lock(&app->model.lock);
  ls__vapp_fit_all_locked(app);
  pthread_mutex_unlock(&app->model.lock);
}

void ls_vapp_frame(ls_vapp *app) {
  if (app->follow_load && atomic_load(&app->model.state) != LS_VLOAD_DONE)
    ls_vapp_fit_all(app);
  pthread_mutex_lock(&app->model.lock);
  ls_vrender(app);
  pthread_mutex_unlock(&app->model.lock);
  SDL_RenderPresent(app->ren);
  if (app->window) {
    SDL_Surface *ws = SDL_GetWindowSurface(app->window);
    if (ws) {
      SDL_BlitSurface(app->surface, NULL, ws, NULL);
      SDL_UpdateWindowSurface(app->window);
    }
  }
}

int ls_vapp_screenshot(ls_vapp *app, const char *path) {
  char err[512];
  if (SDL_MUSTLOCK(app->surface))
    SDL_LockSurface(app->surface);
  int rc = ls_png_write(path, app->surface->pixels, app->surface->w,
                        app->surface->h, app->surface->pitch, err, sizeof err);
  if (SDL_MUSTLOCK(app->surface))
    SDL_UnlockSurface(app->surface);
  if (rc)
    fprintf(stderr, "loopscope-view: %s\n", err);
  return rc;
}

void ls_vapp_run(ls_vapp *app) {
  uint64_t last = SDL_GetTicks64();
  while (!app->quit) {
    SDL_Event ev;
    /* Block while idle; redraw at ~60 Hz while loading or playing. */
    bool busy = app->playing ||
                atomic_load(&app->model.state) == LS_VLOAD_RUNNING ||
                app->loader;
    if (busy ? SDL_WaitEventTimeout(&ev, 16) : SDL_WaitEvent(&ev)) {
      do {
        if (ev.type == SDL_QUIT)
          app->quit = true;
        else if (ev.type == SDL_WINDOWEVENT &&
                 ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
          ls_vapp_resize(app, ev.window.data1, ev.window.data2);
        else
          ls_vapp_handle(app, &ev);
      } while (SDL_PollEvent(&ev));
    }
    if (app->loader && atomic_load(&app->model.state) >= LS_VLOAD_DONE)
      ls_vapp_wait_loaded(app);
    uint64_t now = SDL_GetTicks64();
    ls_vapp_tick(app, (double)(now - last) / 1000.0);
    last = now;
    ls_vapp_frame(app);
  }
}
