/* The loop state at an instant, rebuilt from the trace: which phase the loop
 * is in and what waits in each queue. Drives the replay panel.
 *
 * Something is queued from its sched instant up to the start of the callback
 * that ran it (paired by async id), so the state at any instant is the set of
 * pends spanning it. Cost: a binary search plus a scan of pends scheduled in
 * the last `pend_span` (1/512 of the trace) and of the few longer waits.
 */
#ifndef LOOPSCOPE_VIEWER_STATE_H
#define LOOPSCOPE_VIEWER_STATE_H

#include "model.h"

/* Items kept per queue (the panel cannot show more; the count is exact). */
#define LS_VSTATE_ITEMS 64

typedef struct ls_vqitem {
  uint64_t t_sched, t_due, id;
  uint32_t label;
} ls_vqitem;

typedef struct ls_vqlist {
  ls_vqitem v[LS_VSTATE_ITEMS];
  uint32_t n;       /* kept (<= LS_VSTATE_ITEMS) */
  uint64_t total;   /* queued in all */
} ls_vqlist;

typedef struct ls_vpool_item {
  int thread;
  uint32_t label;
  uint64_t t0, id;
} ls_vpool_item;

typedef struct ls_vstream_item {
  uint32_t name;    /* counter name "stream:<label>" */
  double buffered, hwm;
  bool backpressure;
} ls_vstream_item;

typedef struct ls_vstate {
  uint64_t t;
  int loop_thread;          /* -1: the trace has no event loop */
  int phase;                /* ls_phase, -1 between phases / outside */
  uint64_t iteration;
  bool in_iteration;
  ls_vref callback;         /* innermost callback running at t */
  ls_vqlist q[LS_VQ_COUNT]; /* timers by due time, the rest FIFO */
  ls_vpool_item pool[LS_VSTATE_ITEMS];
  unsigned npool;
  ls_vstream_item streams[LS_VSTATE_ITEMS];
  unsigned nstreams;
} ls_vstate;

/* The thread that runs the event loop (most phase slices), or -1. */
int ls_vstate_loop_thread(const ls_vmodel *m);
/* Fills st for instant t on loop_thread (-1: ls_vstate_loop_thread). */
void ls_vstate_at(const ls_vmodel *m, int loop_thread, uint64_t t,
                  ls_vstate *st);

#endif
