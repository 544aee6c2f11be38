/* `loopscope report`: figures computed from a trace's events, in one pass.
 * Split from the printing so tests can check the numbers. */
#ifndef LOOPSCOPE_CLI_REPORT_H
#define LOOPSCOPE_CLI_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "loopscope/format.h"

struct ls_cli_progress;

#define LS_REPORT_LONGEST 10

/* Nearest-rank percentiles: pN is the smallest sample with at least N% of
 * the samples at or below it. */
typedef struct ls_report_dist {
  uint64_t count, total_ns, p50_ns, p99_ns, max_ns;
} ls_report_dist;

typedef struct ls_report_callback {
  uint64_t dur_ns, ts_ns, tid, id;
  const char *kind, *label; /* reader memory: valid until it is closed */
} ls_report_callback;

/* One thread that runs an event loop (it has iterations or phases). Each
 * loop has its own figures: node runs a second loop (worker threads, the
 * inspector) whose poll wait would otherwise mix with the main loop's, and
 * node's own performance.eventLoopUtilization() is per loop too. */
typedef struct ls_report_loop {
  uint64_t pid, tid;
  const char *name;                  /* thread name (reader memory) or NULL */
  bool main;                         /* named "loop" or the process's first
                                        thread, not just the busiest */
  uint64_t first_ns, last_ns;        /* its first and last event */
  uint64_t iterations;
  uint64_t iterations_ns;            /* time inside loop iterations */
  uint64_t phases_outside_ns;        /* phases outside any iteration: the
                                        timers run before the first one */
  uint64_t loop_ns;                  /* the two above, or the thread's span
                                        if no iteration */
  uint64_t phase_ns[LS_PHASE_COUNT];
  uint64_t phase_count[LS_PHASE_COUNT];
  uint64_t callback_ns;              /* its callbacks not nested in one, in
                                        its iterations and phases */
  uint64_t poll_idle_ns;             /* poll phases minus their callbacks */
  double elu;                        /* (loop - poll idle) / loop */
} ls_report_loop;

typedef struct ls_report {
  const char *source;
  uint64_t events, records;
  uint64_t first_ns, last_ns;        /* span of timed records */
  ls_report_loop *loops;             /* the main loop first, then the others
                                        by loop time; ls_report_free */
  size_t nloops;
  ls_report_dist kinds[LS_KIND_COUNT]; /* callback durations (inclusive),
                                          all threads */
  ls_report_callback longest[LS_REPORT_LONGEST];
  unsigned nlongest;
  uint64_t callback_ns;              /* callbacks not nested in a callback,
                                        all threads */
  ls_report_dist lateness;           /* timer callback begin - due */
  uint64_t timers_unscheduled;       /* timer callbacks with no sched seen */
  uint64_t lost, lost_records;
  uint64_t unmatched_ends;
  uint64_t dropped_bytes;
} ls_report;

/* Reads r to the end. Returns 0, or the reader's (negative) error after
 * computing figures from everything before it. */
int ls_report_compute(ls_reader *r, ls_report *rep,
                      struct ls_cli_progress *progress /* or NULL */);
void ls_report_print(const ls_report *rep, const char *path, FILE *out);
void ls_report_free(ls_report *rep);

#endif
