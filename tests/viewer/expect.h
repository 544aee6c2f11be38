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
  uint64_t due;       /* sched instants of timers: when due (ns), else ts */
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
  struct run_at *pools; /* thread-pool work starts, sorted the same way */
  size_t npools;
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

/* One queued item as the panel orders them: timers by due time, the rest
 * by schedule time (key), ties in file order. */
typedef struct ls_expect_item {
  uint64_t id, key;
} ls_expect_item;

/* The items waiting in queue q at t (as ls_expect_queues counts them),
 * ordered; writes at most max, returns how many there are. */
size_t ls_expect_queue_items(const ls_expect *x, uint64_t t, int q,
                             ls_expect_item *out, size_t max);
/* How many of the waiting I/O requests have not reached a pool worker yet:
 * a pool slice with their id starts after t. */
uint64_t ls_expect_pool_queued(const ls_expect *x, uint64_t t);

/* Asserts that the model's loop state at t, and the panel's lines for it,
 * say what the trace implies: each queue's count, its items in order (the
 * panel: the first LS_VSTATE_SHOWN and "... N more"), and the pool work
 * not yet taken by a worker. Returns how many queues held something;
 * *pool_queued grows by one when some pool work was waiting. */
unsigned ls_expect_check_state(const ls_vmodel *m, int lt, const ls_expect *x,
                               uint64_t t, unsigned *pool_queued);

#endif
