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
  ls_vqlist pool_queued;    /* I/O waiting for a pool worker (also in IO) */
  ls_vpool_item pool[LS_VSTATE_ITEMS]; /* pool work running at t */
  unsigned npool;
  ls_vstream_item streams[LS_VSTATE_ITEMS];
  unsigned nstreams;
} ls_vstate;

/* The panel's list under the phase wheel, as lines of text: the callback
 * running, each queue with its count and first items, the thread pool, the
 * stream buffers. render.c draws them; tests read them. */
typedef enum ls_vline_kind {
  LS_VLINE_RUNNING,   /* the callback running at t; cls is its class */
  LS_VLINE_QUEUE,     /* "timers (2)"; queue says which (ls_vqueue) */
  LS_VLINE_ITEM,      /* "#id label", timers "... due in 3 ms"; id */
  LS_VLINE_MORE,      /* "... N more" */
  LS_VLINE_HEADING,   /* "thread pool (...)", "stream buffers" */
  LS_VLINE_DETAIL,    /* a pool job, a stream's fill */
  LS_VLINE_ALERT      /* a stream under backpressure */
} ls_vline_kind;

typedef struct ls_vline {
  char text[120];
  uint8_t kind;       /* ls_vline_kind */
  uint8_t queue;
  uint8_t cls;
  uint64_t id;
} ls_vline;

/* Items listed per queue; the rest are counted in a MORE line. */
#define LS_VSTATE_SHOWN 4
#define LS_VSTATE_LINES 64

/* Writes st as panel lines into out (at most max); returns how many. */
unsigned ls_vstate_lines(const ls_vmodel *m, const ls_vstate *st,
                         ls_vline *out, unsigned max);

/* The thread that runs the event loop (most phase slices), or -1. */
int ls_vstate_loop_thread(const ls_vmodel *m);
/* Fills st for instant t on loop_thread (-1: ls_vstate_loop_thread). */
void ls_vstate_at(const ls_vmodel *m, int loop_thread, uint64_t t,
                  ls_vstate *st);

#endif
