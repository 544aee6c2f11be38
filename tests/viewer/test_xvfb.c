/* A real window: the viewer under Xvfb, driven by xdotool (wheel zoom, drag
 * pan, click, keys), checked on a screenshot taken with ImageMagick's
 * `import`; then the same view in a window and headless, pixel for pixel.
 * Skipped, saying why, when Xvfb, xdotool or ImageMagick is missing. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "synth.h"

#define VIEW_BIN LS_BINARY_DIR "/viewer/loopscope-view"

static bool have(const char *tool) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
  return system(cmd) == 0;
}

static pid_t spawn(char *const argv[], const char *display) {
  pid_t pid = fork();
  if (pid == 0) {
    if (display)
      setenv("DISPLAY", display, 1);
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static void stop(pid_t pid) {
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 50; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid)
      return;
    usleep(100000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* What the test started, stopped and removed by the suite's fini even when
 * an assertion ends the test early: a leftover Xvfb or viewer would keep
 * ctest's output pipe open and hold the whole run. */
static pid_t xvfb = -1, view = -1;
static char trace[128], shot[128], png[128];

static void cleanup(void) {
  stop(view);
  stop(xvfb);
  view = xvfb = -1;
  unlink(trace);
  unlink(shot);
  unlink(png);
}

static int sh(const char *display, const char *cmd) {
  char full[1024];
  snprintf(full, sizeof full, "DISPLAY=%s timeout 30 sh -c '%s'", display, cmd);
  return system(full);
}

/* How many pixels of colour rgb a binary PPM (P6, maxval 255) has, in row
 * `row` only when row >= 0. */
static long count_color_in(const char *ppm, uint32_t rgb, int row) {
  FILE *f = fopen(ppm, "rb");
  cr_assert_not_null(f, "%s", ppm);
  int w, h, maxv;
  cr_assert_eq(fscanf(f, "P6 %d %d %d", &w, &h, &maxv), 3);
  fgetc(f);
  cr_assert_eq(maxv, 255);
  long n = 0;
  unsigned char px[3];
  for (long i = 0; i < (long)w * h && fread(px, 1, 3, f) == 3; i++)
    n += ((uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2]) == rgb &&
         (row < 0 || i / w == row);
  fclose(f);
  return n;
}

static long count_color(const char *ppm, uint32_t rgb) {
  return count_color_in(ppm, rgb, -1);
}

/* The first x in [x0, x1) of row y whose pixel is rgb, or -1. */
static int find_x(const char *ppm, uint32_t rgb, int y, int x0, int x1) {
  FILE *f = fopen(ppm, "rb");
  cr_assert_not_null(f, "%s", ppm);
  int w, h, maxv;
  cr_assert_eq(fscanf(f, "P6 %d %d %d", &w, &h, &maxv), 3);
  fgetc(f);
  cr_assert(y >= 0 && y < h && x1 <= w);
  fseek(f, ((long)y * w + x0) * 3, SEEK_CUR);
  int at = -1;
  unsigned char px[3];
  for (int x = x0; x < x1 && at < 0 && fread(px, 1, 3, f) == 3; x++)
    if (((uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2]) == rgb)
      at = x;
  fclose(f);
  return at;
}

Test(xvfb, window_driven_by_xdotool, .fini = cleanup, .timeout = 120) {
  if (!have("Xvfb") || !have("xdotool") || !have("import") ||
      !have("compare"))
    cr_skip_test("Xvfb, xdotool or ImageMagick is not installed");

  char display[16];
  snprintf(trace, sizeof trace, "/tmp/ls-viewer-xvfb-%d.fxt", (int)getpid());
  snprintf(shot, sizeof shot, "/tmp/ls-viewer-xvfb-%d.ppm", (int)getpid());
  ls_synth_opts o = {.iterations = 200, .seed = 9, .workers = 2, .marks = 1};
  ls_synth_stats st;
  cr_assert_eq(ls_synth_write(trace, &o, &st), 0);

  /* A free display number: one whose lock file does not exist. */
  int n = 99 + getpid() % 300;
  for (;; n++) {
    char lock[64];
    snprintf(lock, sizeof lock, "/tmp/.X%d-lock", n);
    if (access(lock, F_OK) != 0)
      break;
  }
  snprintf(display, sizeof display, ":%d", n);
  char *xargv[] = {"Xvfb", display, "-screen", "0", "1100x760x24",
                   "-nolisten", "tcp", NULL};
  xvfb = spawn(xargv, NULL);
  int up = 1;
  for (int i = 0; i < 100 && up != 0; i++) {
    usleep(100000);
    up = sh(display, "xdpyinfo >/dev/null 2>&1 || xdotool getmouselocation "
                     ">/dev/null 2>&1");
  }
  if (up != 0)
    cr_skip_test("Xvfb did not start on %s", display);
  char *vargv[] = {VIEW_BIN, trace, "--size", "1000x700", NULL};
  view = spawn(vargv, display);
  int found = sh(display, "xdotool search --sync --name loopscope >/dev/null");
  cr_assert_eq(found, 0, "the viewer window appeared");
  usleep(500000);

  /* A search typed on the keyboard: "/", the text, Return. The match is
   * selected and the replay cursor put on it, so the cursor's colour
   * appears where nothing had it (a search that took the "/" as text would
   * match nothing). */
  char grab[768];
  snprintf(grab, sizeof grab, "import -window root -depth 8 PPM:%s", shot);
  cr_assert_eq(sh(display, "W=$(xdotool search --name loopscope | head -1); "
                           "xdotool windowmove $W 0 0 mousemove 5 5"),
               0);
  usleep(300000);
  cr_assert_eq(sh(display, grab), 0);
  cr_assert_lt(count_color(shot, 0xffd84a), 5, "no cursor before the search");
  cr_assert_eq(sh(display, "xdotool key slash; sleep 0.1; "
                           "xdotool type --delay 20 fs.read; sleep 0.1; "
                           "xdotool key Return"),
               0, "xdotool typed the search");
  long found_px = 0;
  for (int tries = 0; tries < 20 && found_px <= 20; tries++) {
    usleep(300000);
    cr_assert_eq(sh(display, grab), 0);
    found_px = count_color(shot, 0xffd84a);
  }
  cr_assert_gt(found_px, 20, "the search found fs.read (cursor: %ld px)",
               found_px);

  /* Space plays: the replay cursor (a vertical line through the lanes)
   * moves on its own; space again pauses. */
  cr_assert_eq(sh(display, "xdotool key space"), 0);
  int xa = -1, xb = -1;
  for (int tries = 0; tries < 20 && (xa < 0 || xb < 0 || xa == xb); tries++) {
    usleep(300000);
    cr_assert_eq(sh(display, grab), 0);
    xa = find_x(shot, 0xffd84a, 400, 140, 960);
    usleep(500000);
    cr_assert_eq(sh(display, grab), 0);
    xb = find_x(shot, 0xffd84a, 400, 140, 960);
  }
  cr_assert(xa >= 0 && xb >= 0 && xa != xb, "the cursor moved: %d -> %d", xa,
            xb);
  cr_assert_eq(sh(display, "xdotool key space"), 0);

  /* zoom in twice at the middle, drag left, select, fit, step, scroll */
  int rc = sh(display,
              "W=$(xdotool search --name loopscope | head -1); "
              "xdotool windowmove $W 0 0; sleep 0.3; "
              "xdotool mousemove 500 300 click 4 click 4; sleep 0.2; "
              "xdotool mousemove 600 300 mousedown 1 mousemove 500 310 "
              "mousemove 400 320 mouseup 1; sleep 0.2; "
              "xdotool key n; sleep 0.2; xdotool key f; sleep 0.2; "
              "xdotool key Right; sleep 0.2; "
              "xdotool mousemove 500 250 click 1; sleep 0.5");
  cr_assert_eq(rc, 0, "xdotool drove the window");
  /* The timeline is there: poll bands in their colour and the replay
   * cursor that Right put down. A loaded machine may take a moment to draw
   * the last input: look again for a while before failing. */
  char cmd[768];
  snprintf(cmd, sizeof cmd, "import -window root -depth 8 PPM:%s", shot);
  long poll = 0, cursor = 0;
  for (int tries = 0; tries < 20 && (poll <= 50 || cursor <= 20); tries++) {
    if (tries)
      usleep(500000);
    cr_assert_eq(sh(display, cmd), 0, "import took a screenshot");
    poll = count_color(shot, 0x3d7fd9);
    cursor = count_color(shot, 0xffd84a);
  }
  cr_assert_gt(poll, 50, "poll bands on screen (%ld px)", poll);
  cr_assert_gt(cursor, 20, "the replay cursor set by Right (%ld px)", cursor);

  /* Resized by the window system, it draws at the new size: the window's
   * own picture is 640x420 and still has its poll bands. */
  cr_assert_eq(sh(display, "W=$(xdotool search --name loopscope | head -1); "
                          "xdotool windowsize $W 640 420"),
               0, "resized the window");
  snprintf(cmd, sizeof cmd,
           "import -window $(xdotool search --name loopscope | head -1) "
           "-depth 8 PPM:%s", shot);
  int w = 0, h = 0;
  long bands = 0, status = 0;
  for (int tries = 0; tries < 20; tries++) { /* a loaded machine: retry */
    usleep(500000);
    cr_assert_eq(sh(display, cmd), 0, "import took the window");
    FILE *f = fopen(shot, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "P6 %d %d", &w, &h), 2);
    fclose(f);
    bands = count_color(shot, 0x3d7fd9);
    /* laid out for that size: the status bar is the window's bottom line */
    status = count_color_in(shot, 0x23262e, h - 3);
    if (w == 640 && h == 420 && bands > 50 && status > w / 2)
      break;
  }
  cr_assert(w == 640 && h == 420, "the window is %dx%d", w, h);
  cr_assert_gt(bands, 50, "poll bands after resizing");
  cr_assert_gt(status, w / 2, "the status bar at the bottom");

  /* Still alive after all that: quits cleanly on q. */
  cr_assert_eq(waitpid(view, NULL, WNOHANG), 0, "the viewer is running");
  sh(display, "xdotool search --name loopscope windowactivate --sync %1 "
              "key q >/dev/null 2>&1; sleep 0.5");
  stop(view);
  view = -1;

  /* A headless screenshot is exactly what the window shows: the same view
   * opened in a window (the pointer on the top bar, where it changes
   * nothing) and with --screenshot give the same pixels. */
  snprintf(png, sizeof png, "/tmp/ls-viewer-xvfb-%d.png", (int)getpid());
  char *wargv[] = {VIEW_BIN, trace, "--size", "800x500", "--from", "20ms",
                   "--to", "30ms", "--cursor", "25ms", NULL};
  view = spawn(wargv, display);
  cr_assert_eq(sh(display, "xdotool search --sync --name loopscope >/dev/null"),
               0, "the second window appeared");
  snprintf(cmd, sizeof cmd,
           "W=$(xdotool search --name loopscope | head -1); "
           "xdotool windowmove $W 0 0; xdotool mousemove 3 3; sleep 1; "
           "import -window $W -depth 8 PPM:%s", shot);
  cr_assert_eq(sh(display, cmd), 0, "import took the window");
  stop(view);
  view = -1;
  snprintf(cmd, sizeof cmd,
           "%s %s --size 800x500 --from 20ms --to 30ms --cursor 25ms "
           "--screenshot %s",
           VIEW_BIN, trace, png);
  cr_assert_eq(system(cmd), 0);
  /* ImageMagick counts the pixels that differ (AE) on stderr. */
  snprintf(cmd, sizeof cmd, "compare -metric AE %s %s null: 2>&1", png, shot);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  char out[128] = "";
  cr_assert_not_null(fgets(out, sizeof out, p));
  pclose(p);
  cr_assert_eq(atol(out), 0, "pixels that differ: %s", out);
  cr_assert_eq(out[0], '0', "compare said: %s", out);
}
