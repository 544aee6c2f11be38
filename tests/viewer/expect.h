/* What a trace says, read with the plain reader and nothing of the viewer:
 * the tests' independent side. Times are ns (ls_ticks_to_ns). */
#ifndef LOOPSCOPE_TESTS_VIEWER_EXPECT_H
#define LOOPSCOPE_TESTS_VIEWER_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

typedef struct ev_fact {
  uint64_t ts, id;
  char name[32];
  char cat[16];
  int type;
} ev_fact;

typedef struct ls_expect {
  ev_fact *facts;
  size_t nfacts;
  struct run_at {
    uint64_t id, ts;
  } *runs; /* callback starts sorted by (id, ts) */
  size_t nruns;
} ls_expect;

/* Reads every event of path (asserts it reads). */
void ls_expect_read(ls_expect *x, const char *path);
void ls_expect_free(ls_expect *x);
bool ls_expect_is_callback(const ev_fact *f);
/* What waits at t, per queue: each sched instant at or before t whose
 * callback (same async id, first start at or after the schedule) has not
 * begun by t. Queues from the sched name: setTimeout / setInterval,
 * setImmediate, nextTick, queueMicrotask / then, anything else is I/O. */
void ls_expect_queues(const ls_expect *x, uint64_t t,
                      uint64_t counts[LS_VQ_COUNT]);

#endif
