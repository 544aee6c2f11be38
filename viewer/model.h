/* The viewer's model: a trace loaded into per-thread, per-depth sorted arrays
 * of compact records, built for drawing millions of events.
 *
 * Everything here is plain C without SDL so it can be tested (and run under
 * valgrind) on its own. Loading runs in a background thread: the loader takes
 * `lock` for one batch of records at a time and the renderer takes it for one
 * frame, so a window is usable as soon as the first batch is in.
 *
 * Times are nanoseconds on the trace's clock (ticks converted at load).
 */
#ifndef LOOPSCOPE_VIEWER_MODEL_H
#define LOOPSCOPE_VIEWER_MODEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loopscope/vocab.h"

/* What a record is, for colour and meaning: one byte in every record. */
enum {
  LS_VC_OTHER = 0,
  LS_VC_ITERATION = 1,
  LS_VC_PHASE = 2,                        /* + ls_phase */
  LS_VC_KIND = LS_VC_PHASE + LS_PHASE_COUNT, /* + ls_kind: callbacks */
  LS_VC_POOL = LS_VC_KIND + LS_KIND_COUNT,
  LS_VC_AWAIT,
  LS_VC_BACKPRESSURE,
  LS_VC_SCHED,
  LS_VC_PROMISE,
  LS_VC_UNHANDLED,
  LS_VC_COUNT
};

static inline bool ls_vc_is_phase(unsigned c) {
  return c >= LS_VC_PHASE && c < LS_VC_PHASE + LS_PHASE_COUNT;
}
static inline bool ls_vc_is_callback(unsigned c) {
  return c >= LS_VC_KIND && c < LS_VC_KIND + LS_KIND_COUNT;
}

/* A slice: 32 bytes. Within one row (one depth of one thread) slices never
 * overlap, so they are sorted by t0 and by t1 alike: one binary search finds
 * the first visible one. */
typedef struct ls_vslice {
  uint64_t t0, t1;
  uint64_t id;          /* async id, iteration number, pool request id */
  uint32_t label : 24;  /* string index */
  uint32_t cls : 8;     /* LS_VC_* */
  uint32_t args;        /* index into ls_vmodel.args, 0 = none */
} ls_vslice;

/* An instant (sched, promise, unhandled rejection): 24 bytes. */
typedef struct ls_vinstant {
  uint64_t t;
  uint64_t id;
  uint32_t label : 24;
  uint32_t cls : 8;
  uint32_t args;
} ls_vinstant;

typedef struct ls_vsample {
  uint64_t t;
  double v;
} ls_vsample;

/* Queues of the loop-state panel. */
typedef enum ls_vqueue {
  LS_VQ_TIMERS,
  LS_VQ_IMMEDIATES,
  LS_VQ_TICKS,
  LS_VQ_MICROTASKS,
  LS_VQ_IO,
  LS_VQ_COUNT
} ls_vqueue;

extern const char *const ls_vqueue_names[LS_VQ_COUNT];

#define LS_VT_NEVER UINT64_MAX

/* Something scheduled (a sched instant) and the callback that later ran it,
 * paired by async id: what waits in a queue between t_sched and t_run. */
typedef struct ls_vpend {
  uint64_t t_sched;
  uint64_t t_due;       /* timers: when it was due; else t_sched */
  uint64_t t_run;       /* callback start, or LS_VT_NEVER */
  uint64_t t_pool;      /* I/O done on the thread pool: when a worker took
                           it (pool slice of the same id), or LS_VT_NEVER */
  uint64_t id;
  uint32_t label : 24;
  uint32_t queue : 8;   /* ls_vqueue */
  uint16_t run_thread;  /* thread index of the callback */
  uint16_t run_depth;   /* its row there */
} ls_vpend;

typedef struct ls_vrow {
  ls_vslice *v;
  uint32_t n, cap;
  bool unsorted;
} ls_vrow;

typedef struct ls_vinstants {
  ls_vinstant *v;
  uint32_t n, cap;
  bool unsorted;
} ls_vinstants;

/* A gap where events were lost, or a span where the loop was blocked. */
typedef struct ls_vmark {
  uint64_t t0, t1;
  uint64_t count;       /* lost: events dropped; blocked: 0 */
} ls_vmark;

typedef struct ls_vmarks {
  ls_vmark *v;
  uint32_t n, cap;
} ls_vmarks;

typedef struct ls_vthread {
  uint64_t pid, tid;
  uint32_t name;            /* string index, 0 = unnamed */
  ls_vrow *rows;            /* slices by nesting depth */
  unsigned nrows;
  ls_vinstants instants;    /* sched, promise, unhandled */
  ls_vrow *async_rows;      /* await spans, rows assigned first-fit */
  unsigned nasync_rows;
  ls_vpend *pend;           /* sorted by t_sched */
  uint32_t npend, cappend;
  uint32_t *pend_long;      /* indexes of pends waiting longer than pend_span */
  uint32_t npend_long;
  uint64_t pend_span;
  uint32_t **timer_rows;    /* timers lane: pend indexes, rows first-fit */
  uint32_t *ntimer_rows_n;
  unsigned ntimer_rows;
  ls_vmarks lost, blocked;
  ls_vrow bursts;           /* nextTick / microtask drains: id = callbacks in
                               the run, cls = tick if any tick ran in it */
  uint64_t nphases;         /* > 0: this thread runs an event loop */
  uint64_t npool;           /* > 0: a thread-pool worker */
  uint64_t last_ts;
  /* loader state */
  bool lost_open;           /* the last lost gap ends at the next event */
  ls_vslice *open;
  unsigned nopen, capopen;
  bool pinned, collapsed;   /* view state, kept here so lanes keep it */
} ls_vthread;

typedef struct ls_vseries {
  uint32_t name;            /* argument name: "value", "buffered", "hwm" */
  ls_vsample *v;
  uint32_t n, cap;
  double vmax;
} ls_vseries;

/* A counter lane: one counter name in one process; streams ("stream:<x>")
 * carry "buffered" and "hwm" series and their backpressure spans. */
typedef struct ls_vcounter {
  uint64_t pid;
  uint32_t name;
  bool stream;
  ls_vseries *series;
  unsigned nseries;
  ls_vrow backpressure;
  bool pinned, collapsed;
} ls_vcounter;

typedef struct ls_vstrings {
  char **s;
  uint32_t n, cap;
  uint32_t *hash;           /* open addressing, index+1, 0 = empty */
  uint32_t hcap;
  char *arena;
  size_t arena_used, arena_cap;
  char **arenas;
  unsigned narenas;
} ls_vstrings;

typedef enum ls_vload_state {
  LS_VLOAD_IDLE,
  LS_VLOAD_RUNNING,
  LS_VLOAD_DONE,
  LS_VLOAD_FAILED
} ls_vload_state;

typedef struct ls_u64map ls_u64map;

typedef struct ls_vmodel {
  pthread_mutex_t lock;     /* held by the loader per batch, by a frame */
  ls_vstrings strings;
  ls_vthread *threads;
  unsigned nthreads, capthreads;
  ls_vcounter *counters;
  unsigned ncounters, capcounters;
  uint64_t *args;           /* packed arguments; [0] unused */
  size_t nargs, capargs;
  uint64_t t_min, t_max;    /* extent of what is loaded */
  uint64_t nevents;         /* records that became part of the model */
  uint64_t nlost;           /* events the trace says were dropped */
  uint32_t file_name;       /* string index */
  uint32_t source;          /* string index: runtime | ebpf | import */
  /* progress, readable without the lock */
  _Atomic uint64_t bytes_done, bytes_total;
  _Atomic int state;        /* ls_vload_state */
  _Atomic bool cancel;
  char error[512];          /* FAILED: what went wrong; DONE: warnings */
  uint64_t dropped_bytes;   /* torn tail of a truncated file */
  /* loader-private */
  ls_u64map *pend_by_id, *async_by_id;
  double ns_per_tick;
} ls_vmodel;

void ls_vmodel_init(ls_vmodel *m);
void ls_vmodel_free(ls_vmodel *m);

/* Loads path into m (the model must be freshly initialised). Safe to call on
 * a background thread while another thread draws under m->lock. Returns 0 or
 * -1 with m->error set; a truncated file loads and says so in m->error. A
 * Chrome JSON file is converted to a trace first (main.c, via the importer). */
int ls_vmodel_load(ls_vmodel *m, const char *path);

const char *ls_vmodel_str(const ls_vmodel *m, uint32_t idx);
uint32_t ls_vmodel_intern(ls_vmodel *m, const char *s);

/* Arguments of a record: n pairs (name string index, text). Writes a
 * readable "k=v, k=v" into buf. */
size_t ls_vmodel_format_args(const ls_vmodel *m, uint32_t args, char *buf,
                             size_t len);

/* Index of the first slice in row whose t1 > t (rows are sorted). */
uint32_t ls_vrow_first_after(const ls_vrow *r, uint64_t t);
/* The same, knowing the answer is at or after `from`: a galloping search
 * whose first probes sit next to `from`. Sweeps that move forward (one
 * query per pixel column) touch a few cache lines per query instead of a
 * whole binary search's worth. */
uint32_t ls_vrow_first_after_from(const ls_vrow *r, uint64_t t, uint32_t from);
/* Index of the first slice whose t0 >= t. */
uint32_t ls_vrow_first_start_at(const ls_vrow *r, uint64_t t);
/* Index of the first instant whose t >= t. */
uint32_t ls_vinstants_first_at(const ls_vinstants *r, uint64_t t);
/* Index of the last sample at or before t, or UINT32_MAX. */
uint32_t ls_vseries_at(const ls_vseries *s, uint64_t t);
/* The same for a forward sweep: the answer is known to be >= from (from may
 * be UINT32_MAX: no sample yet). */
uint32_t ls_vseries_at_from(const ls_vseries *s, uint64_t t, uint32_t from);

/* A slice located in the model. */
typedef struct ls_vref {
  int thread;     /* -1: none */
  int row;        /* depth; LS_VREF_ASYNC_ROW + k for async row k */
  uint32_t idx;
} ls_vref;
#define LS_VREF_ASYNC_ROW 1000

const ls_vslice *ls_vmodel_slice(const ls_vmodel *m, ls_vref ref);
/* The pend whose callback or thread-pool work is ref (how it got there),
 * or NULL. A scan of every pend: callers cache it (render.c does per
 * selection). */
const ls_vpend *ls_vmodel_pend_of(const ls_vmodel *m, ls_vref ref,
                                  int *sched_thread);

/* The thread-pool slice that did p's work (see ls_vpend.t_pool), or a ref
 * with thread -1. */
ls_vref ls_vmodel_pool_work(const ls_vmodel *m, const ls_vpend *p);

/* Next / previous callback (by start time, across threads) after / before t
 * whose duration is at least min_ns; returns a ref with thread -1 if none. */
ls_vref ls_vmodel_next_long(const ls_vmodel *m, uint64_t t, uint64_t min_ns,
                            bool forward);
/* Next slice whose label contains needle (case-insensitive), starting after
 * time t; wraps around. */
ls_vref ls_vmodel_search(const ls_vmodel *m, const char *needle, uint64_t t,
                         bool forward);
/* The next / previous slice start (any thread) strictly after / before t:
 * stepping event by event. Returns t when there is none. */
uint64_t ls_vmodel_step(const ls_vmodel *m, uint64_t t, bool forward);

#endif
