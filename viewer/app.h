/* The viewer application: one model, one view onto it, the fonts and the
 * offscreen surface every frame is drawn into. A window only shows that
 * surface, so a headless screenshot is exactly what the window would show.
 */
#ifndef LOOPSCOPE_VIEWER_APP_H
#define LOOPSCOPE_VIEWER_APP_H

#include <SDL.h>
#include <SDL_ttf.h>

#include "layout.h"
#include "model.h"
#include "state.h"

enum { LS_VFONT_SANS, LS_VFONT_MONO, LS_VFONT_COUNT };
#define LS_VGLYPHS 95 /* printable ASCII; anything else draws as '?' */

typedef struct ls_vfont {
  TTF_Font *ttf;
  SDL_Texture *glyph[LS_VGLYPHS];
  int advance[LS_VGLYPHS];
  int height;
} ls_vfont;

typedef struct ls_vapp {
  ls_vmodel model;
  SDL_Thread *loader;
  char *path;
  const char *title;         /* shown instead of path (an imported JSON) */

  SDL_Window *window;        /* NULL when headless */
  SDL_Surface *surface;      /* what every frame is drawn into */
  SDL_Renderer *ren;         /* software renderer on `surface` */
  ls_vfont fonts[LS_VFONT_COUNT];
  int w, h;

  /* asked for on the command line, applied once the trace is in; ns from
   * the trace start (window: when want_to > want_from) */
  uint64_t want_from, want_to, want_cursor;
  bool want_window, want_cursor_set;

  /* view */
  uint64_t t0, t1;           /* visible window (ns) */
  bool follow_load;          /* fit the view to what is loaded so far */
  int scroll_y;
  bool show_panel;
  ls_vlayout layout;
  ls_vxmap xm;
  /* The minimap's phase per column: the whole trace does not move with the
   * view, so it is sampled again only when the width or the model change
   * (a sample is a search per row: a sixth of a frame, done every frame). */
  signed char *mini_phase;
  int mini_w;
  uint64_t mini_nevents, mini_t0, mini_t1;

  /* interaction */
  int mouse_x, mouse_y;
  bool button_down, dragging;
  int down_x, down_y, down_scroll;
  uint64_t down_t0, down_t1;
  bool down_in_minimap;
  ls_vref hover, selected;
  /* what scheduled the selection: found once per selection (a scan) */
  ls_vref cause_of;
  uint64_t cause_nevents;
  int cause_thread;
  int64_t cause_idx;         /* index in that thread's pends, -1: none */
  uint64_t cursor;
  bool has_cursor, playing;
  double speed;              /* trace seconds per wall second */
  uint64_t long_ns;          /* n / N jump to callbacks at least this long */
  bool searching;
  char search[128];
  char message[256];
  bool quit;
} ls_vapp;

/* Window and picture sizes the viewer accepts (--size, resize). */
#define LS_VSIZE_MIN 64
#define LS_VSIZE_MAX 16384

/* Sets up fonts and a w x h drawing surface; with `window` also opens a
 * resizable window. Returns 0 or -1 with a message on stderr. */
int ls_vapp_init(ls_vapp *app, int w, int h, bool window);
void ls_vapp_free(ls_vapp *app);
/* Starts loading path on a background thread (SDL_CreateThread). */
int ls_vapp_load(ls_vapp *app, const char *path);
/* Waits for the loader to finish, then shows the window and cursor asked
 * for (want_*), or the whole trace. */
void ls_vapp_wait_loaded(ls_vapp *app);
/* Resizes the drawing surface (and the window's view of it). */
int ls_vapp_resize(ls_vapp *app, int w, int h);
/* Shows [t0, t1] (ns on the trace clock). */
void ls_vapp_set_view(ls_vapp *app, uint64_t t0, uint64_t t1);
void ls_vapp_fit_all(ls_vapp *app);
/* The same for callers already holding model.lock (input handling). */
void ls__vapp_fit_all_locked(ls_vapp *app);
/* Draws one frame into the surface (and the window, if any). */
void ls_vapp_frame(ls_vapp *app);
/* Writes the surface as PNG. */
int ls_vapp_screenshot(ls_vapp *app, const char *path);
/* Window mode: events and frames until the user quits. */
void ls_vapp_run(ls_vapp *app);

/* input.c: everything the user can do goes through here, the scripted mode
 * included (it synthesises SDL events). Both take model.lock: the loader
 * may be growing the arrays they read. */
void ls_vapp_handle(ls_vapp *app, const SDL_Event *ev);
/* Advances replay by dt seconds of wall time. */
void ls_vapp_tick(ls_vapp *app, double dt);
/* Runs a script (see main.c --help); returns 0 or -1 with a message naming
 * the file and line on stderr. */
int ls_vapp_script(ls_vapp *app, const char *path);

/* Parses "12.5ms", "300us", "2s", "500ns" (a bare number: ms) into ns. */
int ls_vparse_time(const char *s, uint64_t *ns);

/* render.c */
void ls_vrender(ls_vapp *app);
int ls_vfont_open(ls_vfont *f, SDL_Renderer *ren, const char *file, int size);
void ls_vfont_close(ls_vfont *f);
int ls_vtext_width(const ls_vfont *f, const char *s);
/* The loading progress bar: its track and the part done (tests find it). */
#define LS_VLOADING_TRACK 0x30343d
#define LS_VLOADING_DONE 0x3d7fd9
/* Timers lane: waiting until due, then late (due -> ran). */
#define LS_VCOLOR_WAIT 0xd0943a
#define LS_VCOLOR_LATE 0xec5454
/* A counter lane's background, and under a stream's backpressure span. */
#define LS_VCOLOR_COUNTER_BG 0x1f2229
#define LS_VCOLOR_BACKPRESSURE_BG 0x573035
/* Flow arrows of the selection: from its cause, to what it scheduled. */
#define LS_VCOLOR_FLOW_IN 0xffd84a
#define LS_VCOLOR_FLOW_OUT 0x7fd3ff
/* Class colour (LS_VC_*), 0xRRGGBB: the legend and tests use it too. */
uint32_t ls_vcolor_of_class(unsigned cls);
/* A phase (ls_phase) in the minimap. */
uint32_t ls_vcolor_minimap(unsigned phase);
/* The colour of a folded block whose first slice has class cls. */
uint32_t ls_vcolor_folded(unsigned cls);

#endif
