/* From ring-buffer records to loopscope events.
 *
 * The BPF side only reports function entries and returns; the event loop's
 * shape is rebuilt here, per thread:
 *
 *   uv_run:  [timers]  ( pending idle prepare poll [pending] check close timers )*
 *                       `------------------- one iteration -------------------'
 *
 * libuv 1.46 runs timers at the end of an iteration (after a first pass
 * before the loop). Pending and close callbacks run from functions the
 * compiler inlined into uv_run, so those phases are the gaps between the
 * phases we do see: pending from the end of timers (or poll) to the next
 * phase, close from the end of check to timers.
 *
 * Some slices can only be decided later: after timers we do not know yet
 * whether another iteration follows, and a pending phase after poll is worth
 * showing only if callbacks ran in it. Their begin goes into a placeholder in a per-thread queue;
 * everything after it waits in the queue until the decision, so the file
 * stays in time order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* What an open slice is, to end the right one when records were lost or the
 * tracer attached in the middle of something. */
enum slice_tag {
  TAG_ITER = 1,
  TAG_PHASE,
  TAG_IO,      /* key = enum ls_raw_io */
  TAG_JS,      /* key = the InternalCallbackScope */
  TAG_MICRO,
  TAG_CLOSE_CB,
  TAG_DONE,    /* key = the uv__work */
  TAG_POOL,
  TAG_SYNC,    /* thread-pool work function called on the loop thread */
  TAG_USDT,
};

typedef struct open_slice {
  enum slice_tag tag;
  uint64_t key;
  const char *cat;
  const char *name;
  uint64_t ts;
  uint64_t marks;  /* the thread's blocked marks when it began */
  int phase;       /* TAG_PHASE: enum ls_phase */
  size_t placeholder; /* queue index + 1 while undecided, else 0 */
} open_slice;

typedef struct queued {
  ls_event ev;
  bool keep;
} queued;

#define MAX_OPEN 64
#define MAX_SCOPES 64

typedef struct thread {
  struct thread *next;
  uint32_t tid;
  bool named, role_named; /* role_named: by what it does, not its comm */
  bool loop;           /* runs a uv loop (node also has a helper-thread loop) */
  open_slice open[MAX_OPEN];
  unsigned nopen;
  unsigned deep;       /* begins not recorded because the stack was full */
  uint64_t marks;      /* blocked marks written on this thread */
  /* loop state */
  bool in_iter;
  uint64_t iter_n;
  int64_t poll_timeout;
  uint64_t poll_events;
  /* events waiting for a placeholder's decision */
  queued *q;
  size_t qlen, qcap;
  unsigned undecided;
  /* InternalCallbackScope objects open, and Close() calls in progress */
  uint64_t scopes[MAX_SCOPES];
  unsigned nscopes;
} thread;

#define THREAD_BUCKETS 64

/* A stream write-queue counter, per file descriptor: fds are reused, so the
 * set stays as small as the process's fd table. */
typedef struct stream_counter {
  struct stream_counter *next;
  int fd;
  uint64_t last;
  char name[32];
} stream_counter;

#define STREAM_BUCKETS 256

/* USDT strings by their address in the target (see usdt.bpf.c). */
typedef struct target_str {
  struct target_str *next;
  uint64_t ptr;
  char text[LS_RAW_STR];
} target_str;

#define STR_BUCKETS 256

struct ls__conv {
  ls__conv_opts o;
  target_str *strs[STR_BUCKETS];
  thread *threads[THREAD_BUCKETS];
  stream_counter *streams[STREAM_BUCKETS];
  unsigned pool_threads;
  unsigned loop_threads;  /* besides the main one */
  int64_t pool_waiting;
  uint64_t last_ts;
  uint64_t events;
  bool lateness_checked;
  bool bad_streams;    /* stream offsets failed their check */
  int err;
};

static const char *const io_names[LS_IO_COUNT] = {
  [LS_IO_STREAM] = "uv__stream_io",  [LS_IO_SERVER] = "uv__server_io",
  [LS_IO_ASYNC] = "uv__async_io",    [LS_IO_WORK] = "uv__work_done",
  [LS_IO_UDP] = "uv__udp_io",        [LS_IO_POLL] = "uv__poll_io",
  [LS_IO_SIGNAL] = "uv__signal_event",
};
/* fs work is named by its operation instead (ls__uv_fs_name). */
static const char *const work_names[LS_WORK_COUNT] = {
  [LS_WORK_USER] = "work",
  [LS_WORK_GETADDRINFO] = "getaddrinfo", [LS_WORK_GETNAMEINFO] = "getnameinfo",
  [LS_WORK_RANDOM] = "random",
};
static const char *const done_names[LS_WORK_COUNT] = {
  [LS_WORK_USER] = "uv__queue_done",
  [LS_WORK_GETADDRINFO] = "uv__getaddrinfo_done",
  [LS_WORK_GETNAMEINFO] = "uv__getnameinfo_done",
  [LS_WORK_RANDOM] = "uv__random_done",
};

static void say(ls__conv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(ls__conv *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ls__say(c->o.log, c->o.log_ctx, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------ writing */

static void write_event(ls__conv *c, const ls_event *ev) {
  int rc = ls_writer_event(c->o.w, ev);
  if (rc < 0 && !c->err)
    c->err = rc;
  c->events++;
}

static void flush_queue(ls__conv *c, thread *t) {
  for (size_t i = 0; i < t->qlen; i++)
    if (t->q[i].keep)
      write_event(c, &t->q[i].ev);
  t->qlen = 0;
}

/* Appends to the queue while a decision is pending, else writes. Returns the
 * queue index + 1 of a queued event, 0 when written. */
static size_t emit(ls__conv *c, thread *t, const ls_event *ev, bool keep) {
  if (!t->undecided) {
    write_event(c, ev);
    return 0;
  }
  if (t->qlen == t->qcap) {
    size_t cap = t->qcap ? 2 * t->qcap : 64;
    queued *q = realloc(t->q, cap * sizeof(*q));
    if (!q) {
      if (!c->err)
        c->err = LS_FMT_ENOMEM;
      return 0;
    }
    t->q = q;
    t->qcap = cap;
  }
  t->q[t->qlen].ev = *ev;
  t->q[t->qlen].keep = keep;
  return ++t->qlen;
}

static void ev_init(ls_event *ev, const thread *t, const ls__conv *c,
                    ls_event_type type, uint64_t ts, const char *cat,
                    const char *name) {
  ev->type = type;
  ev->ts = ts;
  ev->pid = c->o.tgid;
  ev->tid = t->tid;
  ev->category = cat;
  ev->name = name;
  ev->id = 0;
  ev->end_ts = 0;
  ev->nargs = 0;
}

static void arg_i(ls_event *ev, const char *name, int64_t v) {
  ls_arg *a = &ev->args[ev->nargs++];
  a->name = name;
  a->type = LS_ARG_I64;
  a->v.i = v;
}

static void arg_u(ls_event *ev, const char *name, uint64_t v) {
  ls_arg *a = &ev->args[ev->nargs++];
  a->name = name;
  a->type = LS_ARG_U64;
  a->v.u = v;
}

static void arg_s(ls_event *ev, const char *name, const char *v) {
  ls_arg *a = &ev->args[ev->nargs++];
  a->name = name;
  a->type = LS_ARG_STRING;
  a->v.s = v;
}

/* ------------------------------------------------------------ slices */

/* Begins a slice; ev carries its args. An undecided slice goes into a
 * placeholder that decide() keeps or drops. */
static void begin(ls__conv *c, thread *t, ls_event *ev, enum slice_tag tag,
                  uint64_t key, int phase, bool undecided) {
  if (t->nopen == MAX_OPEN) { /* runaway recursion: keep the file balanced */
    t->deep++;
    return;
  }
  if (undecided)
    t->undecided++;
  open_slice *s = &t->open[t->nopen++];
  s->tag = tag;
  s->key = key;
  s->cat = ev->category;
  s->name = ev->name;
  s->ts = ev->ts;
  s->marks = t->marks;
  s->phase = phase;
  size_t queued_at = emit(c, t, ev, !undecided);
  s->placeholder = undecided ? queued_at : 0;
}

static void begin_simple(ls__conv *c, thread *t, uint64_t ts, const char *cat,
                         const char *name, enum slice_tag tag, uint64_t key,
                         bool undecided) {
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_BEGIN, ts, cat, name);
  begin(c, t, &ev, tag, key, -1, undecided);
}

/* Keeps or drops the undecided slice open[i] (only the top one can be
 * dropped: what is nested in a dropped slice would lose its parent). */
static void settle(ls__conv *c, thread *t, unsigned i, bool keep) {
  open_slice *s = &t->open[i];
  if (!s->placeholder)
    return;
  t->q[s->placeholder - 1].keep = keep;
  s->placeholder = 0;
  if (!keep)
    t->nopen--;
  if (--t->undecided == 0)
    flush_queue(c, t);
}

static void decide(ls__conv *c, thread *t, bool keep) {
  settle(c, t, t->nopen - 1, keep);
}

/* Drops every guess still open on top of the stack. */
static void drop_guesses(ls__conv *c, thread *t) {
  while (t->nopen && t->open[t->nopen - 1].placeholder)
    decide(c, t, false);
}

static int find_open(const thread *t, enum slice_tag tag, uint64_t key,
                     bool match_key) {
  for (int i = (int)t->nopen - 1; i >= 0; i--)
    if (t->open[i].tag == tag && (!match_key || t->open[i].key == key))
      return i;
  return -1;
}

/* Whether this slice can block the loop: poll waits by design, so it only
 * counts the time beyond its requested timeout; code that runs before the
 * loop starts (node's main script, its require()s) blocks nothing yet. */
static bool blocks(const open_slice *s, bool in_loop, int64_t poll_timeout,
                   uint64_t dur, uint64_t threshold) {
  if (!in_loop)
    return false;
  switch (s->tag) {
  case TAG_PHASE:
    if (s->phase != LS_PHASE_POLL)
      return dur > threshold;
    return poll_timeout >= 0 &&
           dur > (uint64_t)poll_timeout * 1000000 + threshold;
  case TAG_IO: case TAG_JS: case TAG_MICRO: case TAG_CLOSE_CB: case TAG_DONE:
  case TAG_SYNC:
    return dur > threshold;
  default:
    return false;
  }
}

/* Ends the top slice at ts with ev's args (ev may be NULL). An undecided slice
 * is kept: something ended inside it. */
static void end_top(ls__conv *c, thread *t, uint64_t ts, ls_event *args) {
  open_slice *s = &t->open[t->nopen - 1];
  if (s->placeholder)
    decide(c, t, true);
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_END, ts, s->cat, s->name);
  if (args) {
    ev.nargs = args->nargs;
    memcpy(ev.args, args->args, args->nargs * sizeof(ls_arg));
  }
  emit(c, t, &ev, true);
  uint64_t dur = ts > s->ts ? ts - s->ts : 0;
  /* One mark per stall: the innermost slice that explains it. */
  bool in_loop = s->tag == TAG_PHASE || find_open(t, TAG_PHASE, 0, false) >= 0;
  if (s->marks == t->marks &&
      blocks(s, in_loop, t->poll_timeout, dur, c->o.threshold_ns)) {
    ls_event m;
    ev_init(&m, t, c, LS_EV_INSTANT, ts, LS_CAT_MARK, LS_MARK_BLOCKED);
    arg_u(&m, "dur_ns", dur);
    arg_s(&m, "what", s->name);
    emit(c, t, &m, true);
    t->marks++;
  }
  t->nopen--;
}

/* Ends the innermost slice with this tag (and key), and first everything
 * nested in it that lost its end. False when no such slice is open: its begin
 * came before we attached, or was lost. */
static bool end_slice(ls__conv *c, thread *t, uint64_t ts, enum slice_tag tag,
                      uint64_t key, bool match_key, ls_event *args) {
  if (t->deep) { /* the matching begin was never recorded */
    t->deep--;
    return false;
  }
  int i = find_open(t, tag, key, match_key);
  if (i < 0)
    return false;
  while ((int)t->nopen > i + 1)
    end_top(c, t, ts, NULL);
  end_top(c, t, ts, args);
  return true;
}

/* ------------------------------------------------------------ threads */

static thread *get_thread(ls__conv *c, uint32_t tid) {
  thread **b = &c->threads[tid % THREAD_BUCKETS];
  for (thread *t = *b; t; t = t->next)
    if (t->tid == tid)
      return t;
  thread *t = calloc(1, sizeof(*t));
  if (!t) {
    c->err = LS_FMT_ENOMEM;
    return NULL;
  }
  t->tid = tid;
  t->poll_timeout = -1;
  t->next = *b;
  *b = t;
  return t;
}

/* Names a thread by its role ("loop", "pool-1": FORMAT.md), else by its
 * kernel name. */
static void name_thread(ls__conv *c, thread *t, const char *role) {
  char path[64], comm[32] = "";
  t->named = true;
  t->role_named = role != NULL;
  if (!role) {
    snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", c->o.tgid, t->tid);
    FILE *f = fopen(path, "re");
    if (f) {
      if (fgets(comm, sizeof(comm), f))
        comm[strcspn(comm, "\n")] = 0;
      fclose(f);
    }
    role = comm[0] ? comm : "thread";
  }
  int rc = ls_writer_thread_name(c->o.w, c->o.tgid, t->tid, role);
  if (rc < 0 && !c->err)
    c->err = rc;
}

/* ------------------------------------------------------------ the loop */

static int current_phase(const thread *t) {
  int i = find_open(t, TAG_PHASE, 0, false);
  return i < 0 ? -1 : t->open[i].phase;
}

static void phase_begin(ls__conv *c, thread *t, uint64_t ts, int phase,
                        bool undecided, ls_event *ev_args) {
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_BEGIN, ts, LS_CAT_PHASE, ls_phase_names[phase]);
  if (ev_args) {
    ev.nargs = ev_args->nargs;
    memcpy(ev.args, ev_args->args, ev_args->nargs * sizeof(ls_arg));
  }
  begin(c, t, &ev, TAG_PHASE, 0, phase, undecided);
}

static void phase_end(ls__conv *c, thread *t, uint64_t ts, ls_event *args) {
  end_slice(c, t, ts, TAG_PHASE, 0, false, args);
}

static void iteration_begin(ls__conv *c, thread *t, uint64_t ts,
                            bool undecided) {
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_BEGIN, ts, LS_CAT_LOOP, "iteration");
  arg_u(&ev, "n", t->iter_n + 1);
  begin(c, t, &ev, TAG_ITER, 0, -1, undecided);
}

/* A phase we can see begins: settle the gap before it. After timers the gap
 * is the next iteration's pending phase (so there is an iteration); after
 * poll it is a second pending phase, shown only when callbacks ran in it. */
static void enter_phase(ls__conv *c, thread *t, uint64_t ts) {
  int it = find_open(t, TAG_ITER, 0, false);
  bool new_iter = it >= 0 && t->open[it].placeholder;
  if (new_iter)
    settle(c, t, (unsigned)it, true);
  int i = find_open(t, TAG_PHASE, 0, false);
  if (i >= 0) {
    const open_slice *p = &t->open[i];
    if (!new_iter && p->phase == LS_PHASE_PENDING && p->placeholder &&
        i == (int)t->nopen - 1 && t->qlen == p->placeholder)
      decide(c, t, false); /* nothing ran in it */
    else
      phase_end(c, t, ts, NULL);
  }
  if (it < 0) /* attached mid-iteration: start counting here */
    iteration_begin(c, t, ts, false);
  if (new_iter || it < 0) {
    t->in_iter = true;
    t->iter_n++;
  }
}

static void timers_enter(ls__conv *c, thread *t, const struct ls_raw *r) {
  /* uv_run returned and was entered again without our seeing it. */
  if (find_open(t, TAG_ITER, 0, false) >= 0 && !t->in_iter)
    drop_guesses(c, t);
  if (current_phase(t) >= 0)
    phase_end(c, t, r->ts, NULL);
  phase_begin(c, t, r->ts, LS_PHASE_TIMERS, false, NULL);

  uint64_t loop_ms = r->a, due_ms = r->b;
  if (c->o.lateness && !c->lateness_checked) {
    /* loop->time is CLOCK_MONOTONIC(_COARSE) in ms, like our ts in ns: a
     * wrong offset reads something else entirely. */
    uint64_t now_ms = r->ts / 1000000;
    uint64_t diff = now_ms > loop_ms ? now_ms - loop_ms : loop_ms - now_ms;
    c->lateness_checked = true;
    if (diff > 1000) {
      say(c, "check failed: loop->time (offset %u in uv_loop_t) reads %" PRIu64
             " ms but CLOCK_MONOTONIC is %" PRIu64 " ms; the target's libuv "
             "does not match uv.h %s: no timer lateness or loop counters",
          ls__uv.loop_time, loop_ms, now_ms, ls__uv.version);
      c->o.lateness = false;
    }
  }
  if (!c->o.lateness)
    return;
  ls_event ev;
  if (due_ms != UINT64_MAX && loop_ms >= due_ms) {
    uint64_t due_ns = due_ms * 1000000;
    ev_init(&ev, t, c, LS_EV_COUNTER, r->ts, LS_CAT_COUNTER,
            ls_counter_names[LS_COUNTER_LAG_US]);
    arg_i(&ev, "value", r->ts > due_ns ? (int64_t)(r->ts - due_ns) / 1000 : 0);
    emit(c, t, &ev, true);
  }
  ev_init(&ev, t, c, LS_EV_COUNTER, r->ts, LS_CAT_COUNTER,
          ls_counter_names[LS_COUNTER_HANDLES]);
  arg_i(&ev, "value", (int64_t)r->c);
  emit(c, t, &ev, true);
  ev_init(&ev, t, c, LS_EV_COUNTER, r->ts, LS_CAT_COUNTER,
          ls_counter_names[LS_COUNTER_REQUESTS]);
  arg_i(&ev, "value", (int64_t)r->d);
  emit(c, t, &ev, true);
}

static void timers_exit(ls__conv *c, thread *t, uint64_t ts) {
  if (!end_slice(c, t, ts, TAG_PHASE, 0, false, NULL))
    return;
  if (t->in_iter)
    end_slice(c, t, ts, TAG_ITER, 0, false, NULL);
  t->in_iter = false;
  /* Maybe the next iteration, beginning with its pending phase. */
  iteration_begin(c, t, ts, true);
  phase_begin(c, t, ts, LS_PHASE_PENDING, true, NULL);
}

/* uv_run without the first timers pass (UV_RUN_ONCE, UV_RUN_NOWAIT) goes
 * straight into an iteration's pending phase; with it, timers_enter drops
 * these guesses again. */
static void run_enter(ls__conv *c, thread *t, uint64_t ts) {
  drop_guesses(c, t);
  if (find_open(t, TAG_ITER, 0, false) >= 0)
    return; /* nested uv_run: its iterations are part of the outer one */
  iteration_begin(c, t, ts, true);
  phase_begin(c, t, ts, LS_PHASE_PENDING, true, NULL);
}

static void run_exit(ls__conv *c, thread *t, uint64_t ts) {
  /* No iteration followed the last timers phase: drop the guesses. */
  drop_guesses(c, t);
  int it = find_open(t, TAG_ITER, 0, false);
  if (it >= 0)
    end_slice(c, t, ts, TAG_ITER, 0, false, NULL);
  t->in_iter = false;
}

/* ------------------------------------------------------------ callbacks */

/* The kind of a JS entry: what the loop was doing when it called into JS. */
static const char *js_kind(const thread *t, const char **label) {
  for (int i = (int)t->nopen - 1; i >= 0; i--) {
    const open_slice *s = &t->open[i];
    if (s->tag == TAG_DONE) {
      *label = "MakeCallback";
      return ls_kind_names[s->key == LS_WORK_FS ? LS_KIND_FS : LS_KIND_IO];
    }
    if (s->tag == TAG_CLOSE_CB) {
      *label = "onclose";
      return ls_kind_names[LS_KIND_CLOSE];
    }
    if (s->tag == TAG_IO) {
      *label = "MakeCallback";
      return ls_kind_names[LS_KIND_IO];
    }
    if (s->tag != TAG_PHASE)
      continue;
    switch (s->phase) {
    case LS_PHASE_TIMERS: *label = "processTimers"; return ls_kind_names[LS_KIND_TIMER];
    case LS_PHASE_CHECK: *label = "processImmediate"; return ls_kind_names[LS_KIND_IMMEDIATE];
    case LS_PHASE_CLOSE: *label = "onclose"; return ls_kind_names[LS_KIND_CLOSE];
    case LS_PHASE_PENDING: case LS_PHASE_POLL: *label = "MakeCallback"; return ls_kind_names[LS_KIND_IO];
    default: break;
    }
  }
  *label = "js";
  return ls_kind_names[LS_KIND_USER];
}

/* A double's bits as an id: node keeps async ids in doubles. */
static uint64_t async_id(uint64_t bits) {
  double d;
  memcpy(&d, &bits, sizeof(d));
  return d >= 1 && d < 9007199254740992.0 ? (uint64_t)d : 0;
}

/* Node's async ids (async_hooks: executionAsyncId, triggerAsyncId) as the
 * callback's id and trigger, when the scope was given them. */
static void js_enter(ls__conv *c, thread *t, const struct ls_raw *r) {
  const char *label;
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_BEGIN, r->ts, js_kind(t, &label), NULL);
  ev.name = label;
  uint64_t id = async_id(r->b);
  if (id) {
    arg_u(&ev, "id", id);
    arg_u(&ev, "trigger", async_id(r->c));
  }
  if (t->nscopes < MAX_SCOPES)
    t->scopes[t->nscopes++] = r->a;
  begin(c, t, &ev, TAG_JS, r->a, -1, false);
}

/* The JS entry ends where InternalCallbackScope::Close() begins: Close runs
 * the nextTicks and microtasks queued meanwhile, which FORMAT.md puts beside
 * the callback, in the phase, not inside it (and probing Close's return
 * would cost one more hit per JS entry). The destructor calls Close() again:
 * its scope is no longer open then. */
static void js_close(ls__conv *c, thread *t, const struct ls_raw *r) {
  for (unsigned i = t->nscopes; i-- > 0;)
    if (t->scopes[i] == r->a) {
      t->scopes[i] = t->scopes[--t->nscopes];
      end_slice(c, t, r->ts, TAG_JS, r->a, true, NULL);
      return;
    }
}

/* ------------------------------------------------------------ full */

static void pool_counter(ls__conv *c, thread *t, uint64_t ts) {
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_COUNTER, ts, LS_CAT_COUNTER,
          ls_counter_names[LS_COUNTER_POOL_QUEUE]);
  arg_i(&ev, "value", c->pool_waiting > 0 ? c->pool_waiting : 0);
  emit(c, t, &ev, true);
}

static void flow(ls__conv *c, thread *t, ls_event_type type, uint64_t ts,
                 uint64_t id) {
  ls_event ev;
  ev_init(&ev, t, c, type, ts, "flow", "flow");
  ev.id = id;
  emit(c, t, &ev, true);
}

static void work_submit(ls__conv *c, thread *t, const struct ls_raw *r) {
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_INSTANT, r->ts, LS_CAT_SCHED, "threadpool");
  arg_u(&ev, "id", r->b);
  emit(c, t, &ev, true);
  flow(c, t, LS_EV_FLOW_BEGIN, r->ts, r->b);
  c->pool_waiting++;
  pool_counter(c, t, r->ts);
}

static void work_enter(ls__conv *c, thread *t, const struct ls_raw *r) {
  ls_event ev;
  if (r->which >= LS_WORK_COUNT)
    return;
  if (t->loop || t->tid == c->o.tgid) {
    /* Synchronous fs calls (fs.readFileSync, require) run the work function
     * right on the loop thread: the loop is blocked meanwhile. */
    ev_init(&ev, t, c, LS_EV_BEGIN, r->ts,
            ls_kind_names[r->which == LS_WORK_FS ? LS_KIND_FS : LS_KIND_USER],
            r->which == LS_WORK_FS ? ls__uv_fs_name((int)r->c, true)
                                   : "work (sync)");
    begin(c, t, &ev, TAG_SYNC, r->a, -1, false);
    return;
  }

  ev_init(&ev, t, c, LS_EV_BEGIN, r->ts, LS_CAT_POOL,
          r->which == LS_WORK_FS ? ls__uv_fs_name((int)r->c, false)
                                 : work_names[r->which]);
  arg_u(&ev, "id", r->a);
  begin(c, t, &ev, TAG_POOL, r->a, -1, false);
  /* FORMAT.md: the queueing flow ends inside the pool slice, at its start. */
  flow(c, t, LS_EV_FLOW_END, r->ts, r->a);
  if (c->pool_waiting > 0)
    c->pool_waiting--;
  pool_counter(c, t, r->ts);
}

static void work_exit(ls__conv *c, thread *t, uint64_t ts) {
  if (end_slice(c, t, ts, TAG_SYNC, 0, false, NULL))
    return;
  int i = find_open(t, TAG_POOL, 0, false);
  if (i < 0)
    return;
  /* A second arrow, from the work to its completion callback. */
  flow(c, t, LS_EV_FLOW_BEGIN, ts, t->open[i].key);
  end_slice(c, t, ts, TAG_POOL, 0, false, NULL);
}

static void done_enter(ls__conv *c, thread *t, const struct ls_raw *r) {
  ls_event ev;
  if (r->which >= LS_WORK_COUNT)
    return;
  ev_init(&ev, t, c, LS_EV_BEGIN, r->ts,
          ls_kind_names[r->which == LS_WORK_FS ? LS_KIND_FS : LS_KIND_IO],
          r->which == LS_WORK_FS ? ls__uv_fs_name((int)r->c, false)
                                 : done_names[r->which]);
  arg_u(&ev, "id", r->a);
  arg_i(&ev, "status", (int64_t)(int)r->b);
  begin(c, t, &ev, TAG_DONE, r->which, -1, false);
  /* vocab.h: a callback slice begins with the flow end of its cause. */
  flow(c, t, LS_EV_FLOW_END, r->ts, r->a);
}

static void write_queue(ls__conv *c, thread *t, const struct ls_raw *r) {
  stream_counter *s;
  if (c->bad_streams)
    return;
  int fd = (int)(int32_t)r->b;
  if (fd == -1) /* write callbacks of a stream already closed */
    return;
  /* A file descriptor and a byte count: anything else means the offsets
   * from uv.h do not fit this libuv. */
  if (fd < 0 || fd > (1 << 24) || r->c > (1ULL << 40)) {
    say(c, "check failed: uv_stream_t at offsets %u (write_queue_size) and %u "
           "(fd) reads size %" PRIu64 ", fd %" PRId64 ": the target's libuv does "
           "not match uv.h %s; no write queue counters",
        ls__uv.stream_write_queue_size, ls__uv.stream_fd, (uint64_t)r->c,
        (int64_t)fd, ls__uv.version);
    c->bad_streams = true;
    return;
  }
  stream_counter **bucket = &c->streams[(unsigned)fd % STREAM_BUCKETS];
  for (s = *bucket; s; s = s->next)
    if (s->fd == fd)
      break;
  if (!s) {
    if (!(s = calloc(1, sizeof(*s))))
      return;
    s->fd = fd;
    s->last = UINT64_MAX;
    snprintf(s->name, sizeof(s->name), "stream:fd%d", fd);
    s->next = *bucket;
    *bucket = s;
  }
  if (s->last == r->c) /* a counter only changes when the value does */
    return;
  s->last = r->c;
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_COUNTER, r->ts, LS_CAT_COUNTER, s->name);
  arg_i(&ev, "buffered", (int64_t)r->c);
  emit(c, t, &ev, true);
}

static void timer_start(ls__conv *c, thread *t, const struct ls_raw *r) {
  ls_event ev;
  ev_init(&ev, t, c, LS_EV_INSTANT, r->ts, LS_CAT_SCHED, "uv_timer_start");
  arg_u(&ev, "id", r->a);
  arg_i(&ev, "delay_ms", (int64_t)r->c);
  emit(c, t, &ev, true);
}

/* ------------------------------------------------------------ USDT */

static target_str **str_bucket(ls__conv *c, uint64_t ptr) {
  return &c->strs[(ptr * UINT64_C(0x9E3779B97F4A7C15)) >> 56 & (STR_BUCKETS - 1)];
}

static void str_learn(ls__conv *c, uint64_t ptr, const char *text) {
  if (!ptr)
    return;
  target_str **b = str_bucket(c, ptr), *s;
  for (s = *b; s; s = s->next)
    if (s->ptr == ptr)
      break;
  if (!s) {
    if (!(s = malloc(sizeof(*s))))
      return;
    s->ptr = ptr;
    s->next = *b;
    *b = s;
  }
  snprintf(s->text, sizeof(s->text), "%s", text);
}

static const char *str_get(ls__conv *c, uint64_t ptr) {
  if (!ptr)
    return "";
  for (target_str *s = *str_bucket(c, ptr); s; s = s->next)
    if (s->ptr == ptr)
      return s->text;
  return "?"; /* its first record was lost */
}

/* Arguments by category, as tracer/record's writer gives them (drain.c), so
 * a trace taken through USDT reads like one the runtime recorded itself. */
static void usdt_slice_args(ls_event *ev, bool begin, uint64_t id, uint64_t arg) {
  if (!strcmp(ev->category, LS_CAT_LOOP)) {
    if (begin)
      arg_u(ev, "n", id);
  } else if (!strcmp(ev->category, LS_CAT_PHASE)) {
    if (!strcmp(ev->name, ls_phase_names[LS_PHASE_POLL]))
      arg_i(ev, begin ? "timeout_ms" : "events", (int64_t)arg);
  } else if (ls_kind_from_name(ev->category) >= 0) {
    if (begin) {
      arg_u(ev, "id", id);
      arg_u(ev, "trigger", arg);
    }
  } else if (!strcmp(ev->category, LS_CAT_POOL)) {
    if (begin)
      arg_u(ev, "id", id);
  } else {
    if (begin && id)
      arg_u(ev, "id", id);
    if (arg)
      arg_u(ev, "arg", arg);
  }
}

static void usdt_instant_args(ls_event *ev, uint64_t id, uint64_t arg) {
  if (!strcmp(ev->category, LS_CAT_SCHED)) {
    arg_u(ev, "id", id);
    if (arg)
      arg_u(ev, "delay_ms", arg);
    return;
  }
  if (!strcmp(ev->category, LS_CAT_PROMISE)) {
    arg_u(ev, "id", id);
    arg_u(ev, "parent", arg);
    return;
  }
  if (!strcmp(ev->category, LS_CAT_MARK) &&
      (!strcmp(ev->name, LS_MARK_BLOCKED) || !strcmp(ev->name, LS_MARK_LOST))) {
    arg_u(ev, !strcmp(ev->name, LS_MARK_BLOCKED) ? "dur_ns" : "count", arg);
    return;
  }
  if (id)
    arg_u(ev, "id", id);
  if (arg)
    arg_u(ev, "arg", arg);
}

/* One of trace.h's probes, its strings read: which, cat, name, a, b as the
 * record carries them (raw.h). */
static void usdt_event(ls__conv *c, thread *t, unsigned which, uint64_t ts,
                       const char *cat, const char *name, uint64_t a,
                       uint64_t b) {
  ls_event ev;
  switch (which) {
  case LS_USDT_BEGIN:
  case LS_USDT_END:
    if (which == LS_USDT_END && find_open(t, TAG_USDT, 0, false) < 0)
      return; /* its begin came before we attached */
    ev_init(&ev, t, c, which == LS_USDT_BEGIN ? LS_EV_BEGIN : LS_EV_END, ts,
            cat, name);
    usdt_slice_args(&ev, which == LS_USDT_BEGIN, a, b);
    if (which == LS_USDT_BEGIN)
      begin(c, t, &ev, TAG_USDT, 0, -1, false);
    else
      end_slice(c, t, ts, TAG_USDT, 0, false, &ev);
    break;
  case LS_USDT_INSTANT:
    ev_init(&ev, t, c, LS_EV_INSTANT, ts, cat, name);
    usdt_instant_args(&ev, a, b);
    emit(c, t, &ev, true);
    break;
  case LS_USDT_COUNTER:
    ev_init(&ev, t, c, LS_EV_COUNTER, ts, LS_CAT_COUNTER, name);
    arg_i(&ev, "value", (int64_t)b);
    emit(c, t, &ev, true);
    break;
  case LS_USDT_FLOW_BEGIN:
  case LS_USDT_FLOW_END: /* an end comes right after the begin it binds to */
    flow(c, t, which == LS_USDT_FLOW_BEGIN ? LS_EV_FLOW_BEGIN : LS_EV_FLOW_END,
         ts, a);
    break;
  case LS_USDT_ASYNC_BEGIN:
  case LS_USDT_ASYNC_END:
    ev_init(&ev, t, c,
            which == LS_USDT_ASYNC_BEGIN ? LS_EV_ASYNC_BEGIN : LS_EV_ASYNC_END,
            ts, cat, name);
    ev.id = a;
    emit(c, t, &ev, true);
    break;
  default:
    break;
  }
}

/* trace.h's probes: the hooks' 1:1, and await_in_place, which stands for
 * the seven the queued await fires (runtime/src/promise_async.c): the await
 * scheduled, the coroutine suspended, the microtask slice that ran it ended
 * and the one resuming it begun, the coroutine resumed. */
static void usdt(ls__conv *c, thread *t, const struct ls_raw *r) {
  if (r->which != LS_USDT_AWAIT_IN_PLACE) {
    usdt_event(c, t, r->which, r->ts, str_get(c, r->c), str_get(c, r->d), r->a,
               r->b);
    return;
  }
  const char *micro = ls_kind_names[LS_KIND_MICROTASK];
  uint64_t id = r->a, trigger = r->b, co_id = r->c;
  usdt_event(c, t, LS_USDT_INSTANT, r->ts, LS_CAT_SCHED, "await", id, 0);
  usdt_event(c, t, LS_USDT_FLOW_BEGIN, r->ts, NULL, NULL, id, 0);
  usdt_event(c, t, LS_USDT_ASYNC_BEGIN, r->ts, LS_CAT_AWAIT, "await", co_id, 0);
  usdt_event(c, t, LS_USDT_END, r->ts, micro, "await", 0, 0);
  usdt_event(c, t, LS_USDT_BEGIN, r->ts, micro, "await", id, trigger);
  usdt_event(c, t, LS_USDT_FLOW_END, r->ts, NULL, NULL, id, 0);
  usdt_event(c, t, LS_USDT_ASYNC_END, r->ts, LS_CAT_AWAIT, "await", co_id, 0);
}

/* ------------------------------------------------------------ dispatch */

int ls__conv_new(ls__conv **cp, const ls__conv_opts *o) {
  ls__conv *c = calloc(1, sizeof(*c));
  if (!c)
    return LS_FMT_ENOMEM;
  c->o = *o;
  if (!c->o.threshold_ns)
    c->o.threshold_ns = 50 * 1000000ULL;
  *cp = c;
  return 0;
}

uint64_t ls__conv_events(const ls__conv *c) { return c->events; }

void ls__conv_lost(ls__conv *c, uint64_t n) {
  int rc = ls_writer_lost(c->o.w, c->o.tgid, c->o.tgid, c->last_ts, n);
  if (rc < 0 && !c->err)
    c->err = rc;
}

void ls__conv_record(ls__conv *c, const void *data, size_t size) {
  const struct ls_raw *r = data;
  if (size < sizeof(*r) || r->tgid != c->o.tgid)
    return;
  thread *t = get_thread(c, r->tid);
  if (!t)
    return;
  if (r->ts > c->last_ts)
    c->last_ts = r->ts;
  if (r->kind >= LS_RAW_RUN_ENTER && r->kind <= LS_RAW_CHECK_EXIT)
    t->loop = true;
  /* FORMAT.md: the main thread runs the loop ("loop"), thread-pool workers
   * are "pool-N". Other loops (worker_threads, node's timer helper thread)
   * are "loop-N"; other threads go by their kernel name, until they turn
   * out to run a loop (a worker runs JS before its first uv_run): readers
   * take a thread's last name. */
  if (!t->named || (t->loop && !t->role_named)) {
    char role[32];
    const char *name = role;
    if (t->tid == c->o.tgid)
      name = "loop";
    else if (r->kind == LS_RAW_WORK_ENTER)
      snprintf(role, sizeof(role), "pool-%u", ++c->pool_threads);
    else if (t->loop)
      snprintf(role, sizeof(role), "loop-%u", ++c->loop_threads + 1);
    else
      name = NULL;
    if (name || !t->named)
      name_thread(c, t, name);
  }
  switch (r->kind) {
  case LS_RAW_RUN_ENTER: run_enter(c, t, r->ts); break;
  case LS_RAW_RUN_EXIT: run_exit(c, t, r->ts); break;
  case LS_RAW_TIMERS_ENTER: timers_enter(c, t, r); break;
  case LS_RAW_TIMERS_EXIT: timers_exit(c, t, r->ts); break;
  case LS_RAW_IDLE_ENTER:
    enter_phase(c, t, r->ts);
    phase_begin(c, t, r->ts, LS_PHASE_IDLE, false, NULL);
    break;
  case LS_RAW_PREPARE_ENTER:
    enter_phase(c, t, r->ts);
    phase_begin(c, t, r->ts, LS_PHASE_PREPARE, false, NULL);
    break;
  case LS_RAW_POLL_ENTER: {
    ls_event args;
    args.nargs = 0;
    t->poll_timeout = (int64_t)(int)r->b;
    t->poll_events = 0;
    arg_i(&args, "timeout_ms", t->poll_timeout);
    enter_phase(c, t, r->ts);
    phase_begin(c, t, r->ts, LS_PHASE_POLL, false, &args);
    break;
  }
  case LS_RAW_POLL_EXIT: {
    ls_event args;
    args.nargs = 0;
    if (c->o.poll_events)
      arg_u(&args, "events", t->poll_events);
    if (end_slice(c, t, r->ts, TAG_PHASE, 0, false, &args))
      phase_begin(c, t, r->ts, LS_PHASE_PENDING, true, NULL);
    break;
  }
  case LS_RAW_CHECK_ENTER:
    enter_phase(c, t, r->ts);
    phase_begin(c, t, r->ts, LS_PHASE_CHECK, false, NULL);
    break;
  case LS_RAW_CHECK_EXIT:
    if (end_slice(c, t, r->ts, TAG_PHASE, 0, false, NULL))
      phase_begin(c, t, r->ts, LS_PHASE_CLOSE, false, NULL);
    break;
  case LS_RAW_IO_ENTER:
    /* What poll returned, as libuv dispatched it: one callback per event.
     * (libc's epoll_wait would say it directly, but its first instruction
     * costs a single-step trap per poll.) */
    if (t->nopen && t->open[t->nopen - 1].tag == TAG_PHASE &&
        t->open[t->nopen - 1].phase == LS_PHASE_POLL)
      t->poll_events++;
    if (r->which < LS_IO_COUNT)
      begin_simple(c, t, r->ts, ls_kind_names[LS_KIND_IO], io_names[r->which],
                   TAG_IO, r->which, false);
    break;
  case LS_RAW_IO_EXIT: end_slice(c, t, r->ts, TAG_IO, r->which, true, NULL); break;
  case LS_RAW_JS_ENTER: js_enter(c, t, r); break;
  case LS_RAW_JS_CLOSE: js_close(c, t, r); break;
  case LS_RAW_MICROTASKS_ENTER:
    begin_simple(c, t, r->ts, ls_kind_names[LS_KIND_MICROTASK], "microtasks",
                 TAG_MICRO, 0, false);
    break;
  case LS_RAW_MICROTASKS_EXIT: end_slice(c, t, r->ts, TAG_MICRO, 0, false, NULL); break;
  case LS_RAW_CLOSE_CB_ENTER:
    begin_simple(c, t, r->ts, ls_kind_names[LS_KIND_CLOSE], "HandleWrap::OnClose",
                 TAG_CLOSE_CB, 0, false);
    break;
  case LS_RAW_CLOSE_CB_EXIT: end_slice(c, t, r->ts, TAG_CLOSE_CB, 0, false, NULL); break;
  case LS_RAW_WORK_SUBMIT: work_submit(c, t, r); break;
  case LS_RAW_WORK_ENTER: work_enter(c, t, r); break;
  case LS_RAW_WORK_EXIT: work_exit(c, t, r->ts); break;
  case LS_RAW_DONE_ENTER: done_enter(c, t, r); break;
  case LS_RAW_DONE_EXIT: end_slice(c, t, r->ts, TAG_DONE, r->which, true, NULL); break;
  case LS_RAW_WRITE_QUEUE: write_queue(c, t, r); break;
  case LS_RAW_TIMER_START: timer_start(c, t, r); break;
  case LS_RAW_USDT_STR:
    if (size < sizeof(struct ls_raw_usdt))
      break;
    str_learn(c, r->c, ((const struct ls_raw_usdt *)data)->cat);
    str_learn(c, r->d, ((const struct ls_raw_usdt *)data)->name);
    usdt(c, t, r);
    break;
  case LS_RAW_USDT: usdt(c, t, r); break;
  default:
    break;
  }
}

int ls__conv_finish(ls__conv *c, uint64_t *events) {
  for (unsigned b = 0; b < THREAD_BUCKETS; b++) {
    thread *t = c->threads[b];
    while (t) {
      /* Guesses still open when tracing stopped: the loop was in them. */
      for (unsigned i = t->nopen; i-- > 0;)
        settle(c, t, i, true);
      flush_queue(c, t);
      while (t->nopen)
        end_top(c, t, c->last_ts, NULL);
      thread *next = t->next;
      free(t->q);
      free(t);
      t = next;
    }
  }
  for (unsigned b = 0; b < STR_BUCKETS; b++)
    while (c->strs[b]) {
      target_str *next = c->strs[b]->next;
      free(c->strs[b]);
      c->strs[b] = next;
    }
  for (unsigned b = 0; b < STREAM_BUCKETS; b++)
    while (c->streams[b]) {
      stream_counter *next = c->streams[b]->next;
      free(c->streams[b]);
      c->streams[b] = next;
    }
  int err = c->err;
  if (events)
    *events = c->events;
  free(c);
  return err;
}
