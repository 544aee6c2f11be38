/* Shared by the promise tests: a loop per test and an event trail that a
 * test compares with the order Node would produce. */
#ifndef LOOPSCOPE_TEST_PROMISE_HELPERS_H
#define LOOPSCOPE_TEST_PROMISE_HELPERS_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "loopscope/async.h"
#include "loopscope/promise.h"
#include "loopscope/runtime.h"

extern ls_loop loop;
extern char trail[8192];

/* Appends the formatted text and then sep to the trail. */
static inline void trail_vappend(const char *sep, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static inline void trail_vappend(const char *sep, const char *fmt, va_list ap) {
  size_t len = strlen(trail);
  vsnprintf(trail + len, sizeof trail - len, fmt, ap);
  strncat(trail, sep, sizeof trail - strlen(trail) - 1);
}

/* Appends "text " to the trail. */
static inline void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  trail_vappend(" ", fmt, ap);
  va_end(ap);
}

/* Fixture: a fresh loop and an empty trail. */
void setup_loop(void);
/* Runs the loop like node (main, loop, exit) and closes it; returns the
 * exit code. */
int run_loop(void);

/* Reactions that note what they saw. */
ls_value note_value(ls_value v, void *label);  /* "label:JSON" */
ls_value note_error(ls_value e, void *label);  /* "label:message" */

#endif
