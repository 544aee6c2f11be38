/* The event-loop vocabulary of a loopscope trace.
 *
 * This is the contract between everything that writes a trace (the runtime's
 * recorder, the eBPF tracer, the JSON importer) and everything that reads one
 * (the viewer, `loopscope report`, the JSON exporter). tracer/format/FORMAT.md
 * describes the same conventions in prose for people writing their own reader.
 *
 * Every FXT event carries a category and a name (both interned strings):
 *
 *   category   name                        kind of event, meaning
 *   --------   -------------------------   ---------------------------------
 *   "loop"     "iteration"                 slice; arg "n" = iteration number
 *   "phase"    one of ls_phase_names[]     slice; poll: begin arg "timeout_ms",
 *                                          end arg "events"
 *   a kind     a label ("setTimeout", a    callback slice nested in a phase;
 *   from       user label, ...)            args "id" (async id) and "trigger"
 *   ls_kind_                               (async id of the cause). Followed
 *   names[]                                by a flow end with id = async id.
 *   "sched"    what was scheduled          instant at the scheduling point;
 *              ("setTimeout", "nextTick")  args "id", optional "delay_ms",
 *                                          "due"; followed by a flow begin with
 *                                          id = async id
 *   "promise"  ls_promise_ev_names[]       instant; args "id", "parent"
 *   "await"    label                       async slice on the coroutine, id =
 *                                          coroutine id
 *   "pool"     operation ("fs.read")       slice on a worker thread; arg "id"
 *   "counter"  ls_counter_names[] or       counter event; arg "value"
 *              "stream:<label>"            (streams: "buffered", "hwm")
 *   "backpressure" stream label            async slice, write() false -> drain
 *   "mark"     "lost" / "blocked" /        instant; "lost" arg "count",
 *              "unhandled_rejection"       "blocked" arg "dur_ns"
 *
 * Flows (FXT flow begin / end) bind to the enclosing slice on their thread, so
 * a flow begun inside callback A and ended inside callback B (right after its
 * begin) draws A -> B.
 */
#ifndef LOOPSCOPE_VOCAB_H
#define LOOPSCOPE_VOCAB_H

/* The libuv phases, in the order one loop iteration runs them. */
typedef enum ls_phase {
  LS_PHASE_TIMERS,
  LS_PHASE_PENDING,
  LS_PHASE_IDLE,
  LS_PHASE_PREPARE,
  LS_PHASE_POLL,
  LS_PHASE_CHECK,
  LS_PHASE_CLOSE,
  LS_PHASE_COUNT
} ls_phase;

/* What ran: the category of a callback slice. */
typedef enum ls_kind {
  LS_KIND_TIMER,
  LS_KIND_INTERVAL,
  LS_KIND_IMMEDIATE,
  LS_KIND_IO,
  LS_KIND_FS,
  LS_KIND_CLOSE,
  LS_KIND_TICK,
  LS_KIND_MICROTASK,
  LS_KIND_STREAM,
  LS_KIND_USER,
  LS_KIND_COUNT
} ls_kind;

/* Queue depths and other sampled values: the name of a "counter" event. */
typedef enum ls_counter {
  LS_COUNTER_TIMERS,      /* timers armed */
  LS_COUNTER_IMMEDIATES,  /* immediates queued */
  LS_COUNTER_TICKS,       /* nextTicks queued */
  LS_COUNTER_MICROTASKS,  /* microtasks queued */
  LS_COUNTER_HANDLES,     /* active ref'd handles */
  LS_COUNTER_REQUESTS,    /* active requests (fs, connect, write) */
  LS_COUNTER_POOL_QUEUE,  /* thread-pool work waiting for a worker */
  LS_COUNTER_ELU,         /* event-loop utilisation, per mille */
  LS_COUNTER_LAG_US,      /* timer lateness at the last timers phase, µs */
  LS_COUNTER_COUNT
} ls_counter;

/* Promise lifecycle instants ("promise" category). */
typedef enum ls_promise_ev {
  LS_PROMISE_CREATED,
  LS_PROMISE_RESOLVED,
  LS_PROMISE_REJECTED,
  LS_PROMISE_HANDLED_LATE,
  LS_PROMISE_UNHANDLED,
  LS_PROMISE_EV_COUNT
} ls_promise_ev;

extern const char *const ls_phase_names[LS_PHASE_COUNT];
extern const char *const ls_kind_names[LS_KIND_COUNT];
extern const char *const ls_counter_names[LS_COUNTER_COUNT];
extern const char *const ls_promise_ev_names[LS_PROMISE_EV_COUNT];

/* Category strings. */
#define LS_CAT_LOOP "loop"
#define LS_CAT_PHASE "phase"
#define LS_CAT_SCHED "sched"
#define LS_CAT_PROMISE "promise"
#define LS_CAT_AWAIT "await"
#define LS_CAT_POOL "pool"
#define LS_CAT_COUNTER "counter"
#define LS_CAT_BACKPRESSURE "backpressure"
#define LS_CAT_MARK "mark"

/* Mark names. */
#define LS_MARK_LOST "lost"
#define LS_MARK_BLOCKED "blocked"
#define LS_MARK_UNHANDLED "unhandled_rejection"

/* Returns the enum value for a name, or -1 when the name is not one of ours. */
int ls_phase_from_name(const char *name);
int ls_kind_from_name(const char *category);
int ls_counter_from_name(const char *name);

#endif
