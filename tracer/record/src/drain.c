/* The writer thread: drains the rings into the trace file.
 *
 * Discard mode wakes at least every LS__PERIOD_MS, drains every ring (merged
 * by timestamp) and hands the bytes to the kernel with write(2), so a
 * kill -9 loses at most one period plus the drain; it wakes sooner when a
 * ring was filling fast. Flight-recorder mode only writes when asked
 * (SIGUSR2, a crash signal, the stop), and then only the slots younger than
 * the window, merged the same way. Costs per event here: a timestamp conversion (one
 * 128-bit multiply), a classification by category (cached per category
 * index) and ls_writer_event. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

#define LS__PERIOD_MS 20
#define LS__FLIGHT_PERIOD_MS 1000 /* clock refinement and reaping only */
#define LS__TAIL_STEP 4096 /* free room for the producer every this many */
#define LS__FLOW_CAT "flow"

/* What a category means for the arguments of its events (vocab.h). */
typedef enum cat_class {
  CAT_UNKNOWN = 0, /* not classified yet */
  CAT_LOOP,
  CAT_PHASE,
  CAT_CALLBACK,    /* one of ls_kind_names */
  CAT_POOL,
  CAT_SCHED,
  CAT_PROMISE,
  CAT_MARK,
  CAT_OTHER
} cat_class;

static cat_class cat_classes[LS__CAT_MAX]; /* writer thread only */

static cat_class classify(unsigned index) {
  cat_class c = cat_classes[index];
  if (c != CAT_UNKNOWN)
    return c;
  const char *cat = ls__cat_name(index);
  if (cat == NULL)
    c = CAT_OTHER;
  else if (strcmp(cat, LS_CAT_LOOP) == 0)
    c = CAT_LOOP;
  else if (strcmp(cat, LS_CAT_PHASE) == 0)
    c = CAT_PHASE;
  else if (ls_kind_from_name(cat) >= 0)
    c = CAT_CALLBACK;
  else if (strcmp(cat, LS_CAT_POOL) == 0)
    c = CAT_POOL;
  else if (strcmp(cat, LS_CAT_SCHED) == 0)
    c = CAT_SCHED;
  else if (strcmp(cat, LS_CAT_PROMISE) == 0)
    c = CAT_PROMISE;
  else if (strcmp(cat, LS_CAT_MARK) == 0)
    c = CAT_MARK;
  else
    c = CAT_OTHER;
  return cat_classes[index] = c;
}

static bool name_is(const char *name, const char *want) {
  return name == want || (name != NULL && strcmp(name, want) == 0);
}

/* The writer stores each integer in the smallest FXT type that holds it. */
static void arg_u(ls_event *ev, const char *name, uint64_t v) {
  ev->args[ev->nargs++] = (ls_arg){.name = name, .type = LS_ARG_U64, .v.u = v};
}
static void arg_i(ls_event *ev, const char *name, int64_t v) {
  ev->args[ev->nargs++] = (ls_arg){.name = name, .type = LS_ARG_I64, .v.i = v};
}

/* Arguments of slices and instants by category, as vocab.h lists them. */
static void slice_args(ls_event *ev, cat_class c, ls__slot_type t,
                       const ls__slot *s) {
  bool begin = t == LS__SLOT_BEGIN;
  switch (c) {
  case CAT_LOOP:
    if (begin)
      arg_u(ev, "n", s->id);
    return;
  case CAT_PHASE:
    if (name_is(ev->name, ls_phase_names[LS_PHASE_POLL]))
      arg_i(ev, begin ? "timeout_ms" : "events", (int64_t)s->arg);
    return;
  case CAT_CALLBACK:
    if (begin) {
      arg_u(ev, "id", s->id);
      arg_u(ev, "trigger", s->arg);
    }
    return;
  case CAT_POOL:
    if (begin)
      arg_u(ev, "id", s->id);
    return;
  default:
    if (begin && s->id)
      arg_u(ev, "id", s->id);
    if (s->arg)
      arg_u(ev, "arg", s->arg);
    return;
  }
}

static void instant_args(ls_event *ev, cat_class c, const ls__slot *s) {
  switch (c) {
  case CAT_SCHED:
    arg_u(ev, "id", s->id);
    if (s->arg)
      arg_u(ev, "delay_ms", s->arg);
    return;
  case CAT_PROMISE:
    arg_u(ev, "id", s->id);
    arg_u(ev, "parent", s->arg);
    return;
  case CAT_MARK:
    if (name_is(ev->name, LS_MARK_BLOCKED)) {
      arg_u(ev, "dur_ns", s->arg);
      return;
    }
    if (name_is(ev->name, LS_MARK_LOST)) {
      arg_u(ev, "count", s->arg);
      return;
    }
    break;
  default:
    break;
  }
  if (s->id)
    arg_u(ev, "id", s->id);
  if (s->arg)
    arg_u(ev, "arg", s->arg);
}

static void note_error(ls__session *s, int rc) {
  if (rc < 0 && s->error == 0)
    s->error = rc;
}

static void emit_flow(ls__session *s, const ls__ring *r, ls_event_type type,
                      uint64_t ts, uint64_t id) {
  ls_event ev = {.type = type, .ts = ts, .pid = s->pid, .tid = r->tid,
                 .category = LS__FLOW_CAT, .name = LS__FLOW_CAT, .id = id};
  note_error(s, ls_writer_event(s->w, &ev));
}

/* One slot becomes one record, or two for the paired slot types: the flow
 * half follows at the same timestamp, so a flow end lands inside the
 * callback slice it binds to (FORMAT.md). */
static void emit(ls__session *s, const ls__ring *r, const ls__slot *slot) {
  ls__slot_type t = ls__slot_type_of(slot->word);
  uint64_t ts = ls__clock_to_ns(&s->clock, slot->ts);
  if (t == LS__SLOT_LOST) {
    note_error(s, ls_writer_lost(s->w, s->pid, r->tid, ts, slot->arg));
    return;
  }
  unsigned cat = ls__slot_cat(slot->word);
  ls_event ev; /* not zeroed whole: args past nargs are never read */
  ev.ts = ts;
  ev.pid = s->pid;
  ev.tid = r->tid;
  ev.category = ls__cat_name(cat);
  ev.name = ls__slot_name(slot->word);
  ev.id = ev.end_ts = 0;
  ev.nargs = 0;
  switch (t) {
  case LS__SLOT_BEGIN:
  case LS__SLOT_BEGIN_FLOW_END:
    ev.type = LS_EV_BEGIN;
    slice_args(&ev, classify(cat), LS__SLOT_BEGIN, slot);
    break;
  case LS__SLOT_END:
    ev.type = LS_EV_END;
    slice_args(&ev, classify(cat), t, slot);
    break;
  case LS__SLOT_INSTANT:
  case LS__SLOT_INSTANT_FLOW_BEGIN:
    ev.type = LS_EV_INSTANT;
    instant_args(&ev, classify(cat), slot);
    break;
  case LS__SLOT_COUNTER:
    ev.type = LS_EV_COUNTER;
    arg_i(&ev, "value", (int64_t)slot->arg);
    break;
  case LS__SLOT_FLOW_BEGIN:
  case LS__SLOT_FLOW_END:
    emit_flow(s, r, t == LS__SLOT_FLOW_BEGIN ? LS_EV_FLOW_BEGIN : LS_EV_FLOW_END,
              ts, slot->id);
    return;
  case LS__SLOT_ASYNC_BEGIN:
  case LS__SLOT_ASYNC_END:
    ev.type = t == LS__SLOT_ASYNC_BEGIN ? LS_EV_ASYNC_BEGIN : LS_EV_ASYNC_END;
    ev.id = slot->id;
    break;
  default:
    return; /* not a type we push: cannot happen short of memory corruption */
  }
  note_error(s, ls_writer_event(s->w, &ev));
  if (t == LS__SLOT_BEGIN_FLOW_END)
    emit_flow(s, r, LS_EV_FLOW_END, ts, slot->id);
  else if (t == LS__SLOT_INSTANT_FLOW_BEGIN)
    emit_flow(s, r, LS_EV_FLOW_BEGIN, ts, slot->id);
}

/* Drops not yet followed by a slot: the thread ended, or the session stops,
 * with its ring still full. */
static void emit_pending_lost(ls__session *s, ls__ring *r) {
  uint64_t n = atomic_load_explicit(&r->pending_lost, memory_order_relaxed);
  if (n == 0)
    return;
  uint64_t ts = atomic_load_explicit(&r->first_lost_ts, memory_order_relaxed);
  ls__slot lost = {.ts = ts,
                   .word = ls__slot_word(LS__SLOT_LOST, LS__CAT_NONE, NULL),
                   .arg = n};
  emit(s, r, &lost);
}

static void write_thread_name(ls__session *s, ls__ring *r) {
  const char *name = atomic_load_explicit(&r->name, memory_order_acquire);
  if (name != NULL && name != r->name_written) {
    note_error(s, ls_writer_thread_name(s->w, s->pid, r->tid, name));
    r->name_written = name;
  }
}

static void unlink_ring(ls__ring *r) {
  pthread_mutex_lock(&ls__rings_lock);
  ls__ring *p = atomic_load_explicit(&ls__rings, memory_order_relaxed);
  if (p == r) {
    atomic_store_explicit(&ls__rings, r->next, memory_order_relaxed);
  } else {
    while (p->next != r)
      p = p->next;
    p->next = r->next;
  }
  pthread_mutex_unlock(&ls__rings_lock);
  ls__ring_free(r);
}

/* Both modes write up to LS__MERGE_MAX rings at a time merged by
 * timestamp, so a file reads in time order across threads (up to the rare
 * slot published late after its timestamp was taken). */
#define LS__MERGE_MAX 64
#define LS__WINDOW_CHUNK 1024 /* flight mode: slots copied per ring per step */

/* One ring in a merge. Slot i is base[i & mask] for i in [next, head). In
 * discard mode that is the ring itself, which the producer leaves alone up
 * to the tail; in flight mode the producer may overwrite anything, so the
 * window [pos, end) is copied out in chunks into buf as the merge goes. */
typedef struct cursor {
  ls__ring *r;
  const ls__slot *base;
  uint64_t mask, next, head;
  bool done; /* read before head: then head holds everything */
  ls__slot *buf;
  uint64_t pos, end, cutoff_ns;
} cursor;

/* Flight mode: the next chunk of the window still intact and young enough.
 * False when the window is used up. */
static bool refill(ls__session *s, cursor *c) {
  while (c->buf != NULL && c->pos < c->end) {
    uint64_t from = c->pos;
    uint64_t to = c->end - from > LS__WINDOW_CHUNK ? from + LS__WINDOW_CHUNK
                                                     : c->end;
    uint64_t n = 0;
    for (uint64_t i = ls__ring_copy(c->r, from, to, c->buf); i < to; i++)
      if (ls__clock_to_ns(&s->clock, c->buf[i - from].ts) >= c->cutoff_ns)
        c->buf[n++] = c->buf[i - from];
    c->pos = to;
    if (n > 0) {
      c->next = 0;
      c->head = n;
      return true;
    }
  }
  return false;
}

static void merge(ls__session *s, cursor *c, size_t n) {
  for (;;) {
    cursor *min = NULL;
    uint64_t min_ts = 0;
    for (size_t i = 0; i < n; i++) {
      if (c[i].next == c[i].head && !refill(s, &c[i]))
        continue;
      uint64_t ts = c[i].base[c[i].next & c[i].mask].ts;
      if (min == NULL || ts < min_ts) {
        min = &c[i];
        min_ts = ts;
      }
    }
    if (min == NULL)
      return;
    emit(s, min->r, &min->base[min->next & min->mask]);
    /* discard mode: room for the producer before the drain ends */
    if (++min->next % LS__TAIL_STEP == 0 && min->buf == NULL)
      atomic_store_explicit(&min->r->tail, min->next, memory_order_release);
  }
}

/* Takes the session's rings in batches: fills c with up to LS__MERGE_MAX of
 * them from *r on, and returns how many. */
static size_t next_batch(ls__session *s, ls__ring **r, cursor *c) {
  size_t n = 0;
  for (; *r != NULL && n < LS__MERGE_MAX; *r = (*r)->next) {
    if ((*r)->gen != s->gen)
      continue;
    c[n] = (cursor){.r = *r, .base = (*r)->slots, .mask = (*r)->mask};
    c[n].done = atomic_load_explicit(&(*r)->done, memory_order_acquire);
    c[n].head = atomic_load_explicit(&(*r)->head, memory_order_acquire);
    n++;
  }
  return n;
}

/* Discard mode: everything published so far, and the end of rings whose
 * thread is done (or of all rings, `last`). Returns how full the fullest
 * ring was, in 1/1024ths of its capacity. */
static uint64_t drain_all(ls__session *s, bool last) {
  uint64_t fullest = 0;
  ls__ring *r = atomic_load_explicit(&ls__rings, memory_order_acquire);
  cursor c[LS__MERGE_MAX];
  size_t n;
  while ((n = next_batch(s, &r, c)) > 0) {
    for (size_t i = 0; i < n; i++) {
      c[i].next = atomic_load_explicit(&c[i].r->tail, memory_order_relaxed);
      uint64_t fill = ((c[i].head - c[i].next) << 10) / (c[i].mask + 1);
      fullest = fill > fullest ? fill : fullest;
      if (c[i].head != c[i].next)
        write_thread_name(s, c[i].r);
    }
    merge(s, c, n);
    for (size_t i = 0; i < n; i++) {
      atomic_store_explicit(&c[i].r->tail, c[i].head, memory_order_release);
      if (c[i].done || last)
        emit_pending_lost(s, c[i].r);
      if (c[i].done)
        unlink_ring(c[i].r);
    }
  }
  return fullest;
}

/* Flight mode: the slots not written by an earlier dump and younger than
 * the window; then rings whose thread is done are freed. */
static void dump_all(ls__session *s) {
  uint64_t now = ls__clock_to_ns(&s->clock, ls__clock_ticks());
  uint64_t cutoff = now > s->window_ns ? now - s->window_ns : 0;
  ls__ring *r = atomic_load_explicit(&ls__rings, memory_order_acquire);
  cursor c[LS__MERGE_MAX];
  size_t n;
  while ((n = next_batch(s, &r, c)) > 0) {
    ls__slot *bufs = malloc(n * LS__WINDOW_CHUNK * sizeof *bufs);
    if (bufs == NULL)
      note_error(s, LS_FMT_ENOMEM); /* this batch's windows are lost */
    for (size_t i = 0; bufs != NULL && i < n; i++) {
      ls__ring *ri = c[i].r;
      uint64_t cap = ri->mask + 1;
      c[i].pos = c[i].head > cap ? c[i].head - cap : 0;
      c[i].pos = c[i].pos > ri->dumped ? c[i].pos : ri->dumped;
      c[i].end = c[i].head;
      c[i].cutoff_ns = cutoff;
      c[i].buf = bufs + i * LS__WINDOW_CHUNK;
      c[i].base = c[i].buf;
      c[i].mask = UINT64_MAX;
      c[i].next = c[i].head = 0;
      ri->dumped = c[i].end;
      if (refill(s, &c[i]))
        write_thread_name(s, ri);
    }
    if (bufs != NULL)
      merge(s, c, n);
    for (size_t i = 0; i < n; i++)
      if (c[i].done)
        unlink_ring(c[i].r);
    free(bufs);
  }
}

/* Rings of an older session are freed once their thread is done. */
static void reap(ls__session *s) {
  ls__ring *r = atomic_load_explicit(&ls__rings, memory_order_acquire);
  while (r != NULL) {
    ls__ring *next = r->next;
    if (r->gen != s->gen && atomic_load_explicit(&r->done, memory_order_acquire))
      unlink_ring(r);
    r = next;
  }
}

/* Sleeps until the fullest ring would be a quarter full again at the rate
 * it filled since the last drain (fill in 1/1024ths of its capacity), and
 * at most one period. */
static int drain_timeout(uint64_t fill, uint64_t since_ns) {
  uint64_t period_ns = LS__PERIOD_MS * UINT64_C(1000000);
  if (fill == 0)
    return LS__PERIOD_MS;
  uint64_t ns = since_ns * 256 / fill;
  return ns >= period_ns ? LS__PERIOD_MS : (int)(ns / 1000000);
}

void *ls__writer_main(void *arg) {
  ls__session *s = arg;
  bool stop = false;
  int timeout = LS__PERIOD_MS;
  uint64_t last_drain = ls__mono_ns();
  atomic_store(&ls__writer_tid, gettid());
  pthread_setname_np(pthread_self(), "loopscope-wr"); /* 15 chars at most */
  reap(s); /* rings left by earlier sessions */
  while (!stop) {
    struct pollfd pfd = {.fd = s->wake_fd, .events = POLLIN};
    bool dump = false;
    unsigned crashes = 0;
    if (poll(&pfd, 1, timeout) > 0) {
      char buf[64];
      ssize_t n;
      while ((n = read(s->wake_fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++) {
          dump |= buf[i] == LS__WAKE_DUMP;
          crashes += buf[i] == LS__WAKE_CRASH;
        }
    }
    stop = atomic_load(&s->stop);
    /* a crash is the last chance: write everything */
    bool last = stop || crashes > 0;
    bool ready = ls__clock_update(&s->clock, last || dump);
    if (!s->flight) {
      uint64_t now = ls__mono_ns();
      uint64_t fullest = ready ? drain_all(s, last) : 0;
      reap(s);
      timeout = ready ? drain_timeout(fullest, now - last_drain)
                      : LS__PERIOD_MS / 4;
      last_drain = now;
    } else {
      if (dump || last)
        dump_all(s);
      reap(s);
      timeout = ready ? LS__FLIGHT_PERIOD_MS : LS__PERIOD_MS / 4;
    }
    note_error(s, ls_writer_flush(s->w));
    for (; crashes > 0; crashes--) {
      char c = LS__WAKE_CRASH;
      ssize_t n = write(s->ack_fd, &c, 1);
      (void)n; /* a full ack pipe: the crashing threads have acks to read */
    }
  }
  atomic_store(&ls__writer_tid, 0);
  return NULL;
}
