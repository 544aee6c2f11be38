/* Shared helpers of the recorder tests: temporary trace paths, the clock,
 * and a trace read back whole. */
#ifndef LS_TEST_RECORD_HELPERS_H
#define LS_TEST_RECORD_HELPERS_H

#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loopscope/format.h"
#include "loopscope/trace.h"

static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A fresh empty file's path (malloc'd); the caller unlinks it. */
static inline char *tmp_trace(const char *tag) {
  char *path;
  cr_assert(asprintf(&path, "/tmp/ls-record-%s-XXXXXX", tag) > 0);
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  return path;
}

/* Every record of a trace file; strings stay valid until trace_free. */
typedef struct trace {
  ls_reader *r;
  ls_record *recs;
  size_t n;
  uint64_t dropped;  /* torn tail */
} trace;

static inline void trace_load(trace *t, const char *path) {
  char err[512];
  memset(t, 0, sizeof *t);
  int rc = ls_reader_open(&t->r, path, err, sizeof err);
  cr_assert_eq(rc, 0, "open %s: %s", path, err);
  size_t cap = 1024;
  t->recs = malloc(cap * sizeof *t->recs);
  cr_assert(t->recs != NULL);
  for (;;) {
    if (t->n == cap) {
      cap *= 2;
      t->recs = realloc(t->recs, cap * sizeof *t->recs);
      cr_assert(t->recs != NULL);
    }
    rc = ls_reader_next(t->r, &t->recs[t->n]);
    if (rc == LS_FMT_EOF)
      break;
    cr_assert_eq(rc, LS_FMT_OK, "%s", ls_reader_error(t->r));
    t->n++;
  }
  t->dropped = ls_reader_dropped(t->r);
}

static inline void trace_free(trace *t) {
  free(t->recs);
  ls_reader_close(t->r);
}

static inline uint64_t arg_u(const ls_event *ev, const char *name) {
  const ls_arg *a = ls_event_arg(ev, name);
  cr_assert(a != NULL, "event %s/%s has no argument %s", ev->category,
            ev->name, name);
  return ls_arg_u64(a);
}

#endif
