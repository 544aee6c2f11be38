/* Shared by the C twins of the node programs in ../shared/conformance: one
 * loop per program, console.log and Date.now. Each twin keeps the JS delays
 * and structure so its output can be compared byte for byte with what node
 * printed. */
#ifndef LOOPSCOPE_TWIN_H
#define LOOPSCOPE_TWIN_H

#include <stdio.h>
#include <time.h>

#include "loopscope/runtime.h"

static ls_loop loop;

/* console.log(s), usable as a tick / microtask callback. */
static inline void log_line(void *s) { puts((const char *)s); }

/* Date.now() */
static inline long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* const end = Date.now() + ms; while (Date.now() < end) {} */
static inline void busy_wait_ms(int ms) {
  long long end = now_ms() + ms;
  while (now_ms() < end) {
  }
}

/* Runs the program the way node does (main, loop, beforeExit, exit) and
 * returns its exit code. */
static inline int twin_run(void) {
  int code = ls_run_main(&loop);
  int err = ls_loop_close(&loop);
  if (err)
    fprintf(stderr, "ls_loop_close: %s\n", ls_strerror(err));
  fflush(stdout);
  return err ? 70 : code;
}

#endif
