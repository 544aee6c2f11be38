/* Synthetic event-loop traces for the viewer's tests and benchmark, written
 * with ls_writer following vocab.h: iterations and phases, callbacks of each
 * kind with async ids and triggers, sched instants + flows, nextTick and
 * microtask drains after each callback, thread-pool work on a worker,
 * counters, a stream with highWaterMark and backpressure, lost and blocked
 * marks. A small simulated loop decides what runs when, so what the trace
 * says was queued really was. Times are ns (1e9 ticks per second). */
#ifndef LOOPSCOPE_TESTS_VIEWER_SYNTH_H
#define LOOPSCOPE_TESTS_VIEWER_SYNTH_H

#include <stdint.h>

typedef struct ls_synth_opts {
  uint64_t iterations;   /* loop iterations to write */
  uint64_t max_events;   /* stop after about this many events (0: no cap) */
  unsigned seed;
  unsigned workers;      /* thread-pool worker threads */
  unsigned extra_threads;/* idle threads with one slice each (lane stress) */
  int marks;             /* write lost / blocked marks */
} ls_synth_opts;

typedef struct ls_synth_stats {
  uint64_t events;       /* events written (records of type event) */
  uint64_t t_end;        /* last timestamp (ns) */
  uint64_t callbacks;
} ls_synth_stats;

/* Writes a trace to path. Returns 0 or -1. */
int ls_synth_write(const char *path, const ls_synth_opts *o,
                   ls_synth_stats *st);

#endif
