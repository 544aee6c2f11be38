/* Synthetic traces (synth.h): a tiny simulated event loop with Node's order
 * (timers, pending, idle, prepare, poll, check, close; nextTicks then
 * microtasks drained after every callback) that writes what it does. */
#include "synth.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopscope/format.h"

#define PID 100
#define LOOP_TID 101
#define WORKER_TID0 200
#define EXTRA_TID0 300
#define STREAM_ID 7
#define HWM 16384.0

typedef struct item {
  uint64_t id, trigger, due, ready; /* ready: pool work done (fs) */
  int kind;
  const char *label;
} item;

typedef struct fifo {
  item *v;
  size_t head, n, cap;
} fifo;

typedef struct sim {
  ls_writer *w;
  ls_synth_stats *st;
  const ls_synth_opts *o;
  uint64_t now, next_id, rng;
  fifo timers, immediates, ticks, micro, fs;
  uint64_t *worker_free;
  double buffered;
  int backpressure;
  int err;
} sim;

static void push(fifo *f, item it) {
  if (f->head + f->n == f->cap) {
    if (f->head) {
      memmove(f->v, f->v + f->head, f->n * sizeof *f->v);
      f->head = 0;
    }
    if (f->n == f->cap) {
      f->cap = f->cap ? f->cap * 2 : 64;
      f->v = realloc(f->v, f->cap * sizeof *f->v);
    }
  }
  f->v[f->head + f->n++] = it;
}

static item pop(fifo *f) {
  item it = f->v[f->head++];
  f->n--;
  return it;
}

static uint32_t rnd(sim *s) { /* xorshift64* */
  s->rng ^= s->rng >> 12;
  s->rng ^= s->rng << 25;
  s->rng ^= s->rng >> 27;
  return (uint32_t)((s->rng * UINT64_C(2685821657736338717)) >> 32);
}

static int chance(sim *s, unsigned pct) { return rnd(s) % 100 < pct; }

static void emit(sim *s, ls_event *e) {
  e->pid = PID;
  if (e->tid == 0)
    e->tid = LOOP_TID;
  if (ls_writer_event(s->w, e) != 0)
    s->err = 1;
  s->st->events++;
  if (e->ts > s->st->t_end)
    s->st->t_end = e->ts;
}

static ls_arg u64arg(const char *name, uint64_t v) {
  return (ls_arg){.name = name, .type = LS_ARG_U64, .v.u = v};
}

/* A slice's begin or end (type) on the loop thread, now. */
static void slice_edge(sim *s, ls_event_type type, const char *cat,
                       const char *name, unsigned nargs, const ls_arg *args) {
  ls_event e = {.type = type, .ts = s->now, .category = cat, .name = name,
                .nargs = nargs};
  if (nargs) /* args may be NULL then */
    memcpy(e.args, args, nargs * sizeof *args);
  emit(s, &e);
}

static void counter(sim *s, const char *name, double v) {
  ls_event e = {.type = LS_EV_COUNTER, .ts = s->now, .category = LS_CAT_COUNTER,
                .name = name, .nargs = 1};
  e.args[0] = (ls_arg){.name = "value", .type = LS_ARG_DOUBLE, .v.d = v};
  emit(s, &e);
}

static void stream_counter(sim *s) {
  ls_event e = {.type = LS_EV_COUNTER, .ts = s->now, .category = LS_CAT_COUNTER,
                .name = "stream:socket", .nargs = 2};
  e.args[0] = (ls_arg){.name = "buffered", .type = LS_ARG_DOUBLE,
                       .v.d = s->buffered};
  e.args[1] = (ls_arg){.name = "hwm", .type = LS_ARG_DOUBLE, .v.d = HWM};
  emit(s, &e);
}

static void backpressure(sim *s, bool begin) {
  ls_event e = {.type = begin ? LS_EV_ASYNC_BEGIN : LS_EV_ASYNC_END,
                .ts = s->now, .category = LS_CAT_BACKPRESSURE,
                .name = "socket", .id = STREAM_ID};
  emit(s, &e);
}

/* Schedules one thing from the running callback `cause`. */
static void schedule(sim *s, uint64_t cause, int kind) {
  item it = {.id = s->next_id++, .trigger = cause, .kind = kind};
  ls_arg args[3];
  unsigned n = 0;
  args[n++] = u64arg("id", it.id);
  switch (kind) {
  case LS_KIND_TIMER: {
    uint64_t delay = 1 + rnd(s) % 4;
    it.label = "setTimeout";
    it.due = s->now + delay * 1000000;
    args[n++] = u64arg("delay_ms", delay);
    break;
  }
  case LS_KIND_IMMEDIATE:
    it.label = "setImmediate";
    break;
  case LS_KIND_TICK:
    it.label = "nextTick";
    break;
  case LS_KIND_MICROTASK:
    it.label = chance(s, 50) ? "then" : "queueMicrotask";
    break;
  default: /* fs: the request runs on a worker, its callback in poll */
    it.label = "fs.read";
    break;
  }
  ls_event e = {.type = LS_EV_INSTANT, .ts = s->now, .category = LS_CAT_SCHED,
                .name = it.label, .nargs = n};
  memcpy(e.args, args, n * sizeof *args);
  emit(s, &e);
  ls_event fb = {.type = LS_EV_FLOW_BEGIN, .ts = s->now, .category = "flow",
                 .name = "flow", .id = it.id};
  emit(s, &fb);
  s->now += 150;
  switch (kind) {
  case LS_KIND_TIMER:
    push(&s->timers, it);
    break;
  case LS_KIND_IMMEDIATE:
    push(&s->immediates, it);
    break;
  case LS_KIND_TICK:
    push(&s->ticks, it);
    break;
  case LS_KIND_MICROTASK:
    push(&s->micro, it);
    break;
  default: {
    unsigned wk = rnd(s) % s->o->workers;
    uint64_t start = s->now + 3000;
    if (s->worker_free[wk] > start)
      start = s->worker_free[wk];
    uint64_t end = start + 20000 + rnd(s) % 180000;
    s->worker_free[wk] = end;
    uint64_t saved = s->now;
    s->now = start;
    ls_event fe = {.type = LS_EV_FLOW_END, .ts = start, .category = "flow",
                   .name = "flow", .id = it.id, .tid = WORKER_TID0 + wk};
    emit(s, &fe);
    ls_event pb = {.type = LS_EV_BEGIN, .ts = start, .category = LS_CAT_POOL,
                   .name = "fs.read", .nargs = 1, .tid = WORKER_TID0 + wk};
    pb.args[0] = u64arg("id", it.id);
    emit(s, &pb);
    ls_event pe = {.type = LS_EV_END, .ts = end, .category = LS_CAT_POOL,
                   .name = "fs.read", .tid = WORKER_TID0 + wk};
    emit(s, &pe);
    s->now = saved;
    it.ready = end;
    it.kind = LS_KIND_FS;
    push(&s->fs, it);
    break;
  }
  }
}

static void run(sim *s, const item *it, bool macrotask);

static void drain(sim *s) {
  while (s->ticks.n || s->micro.n) {
    while (s->ticks.n) {
      item t = pop(&s->ticks);
      run(s, &t, false);
    }
    while (s->micro.n && !s->ticks.n) {
      item t = pop(&s->micro);
      run(s, &t, false);
    }
  }
}

static void run(sim *s, const item *it, bool macrotask) {
  ls_event fe = {.type = LS_EV_FLOW_END, .ts = s->now, .category = "flow",
                 .name = "flow", .id = it->id};
  emit(s, &fe);
  ls_arg args[2] = {u64arg("id", it->id), u64arg("trigger", it->trigger)};
  const char *cat = ls_kind_names[it->kind];
  slice_edge(s, LS_EV_BEGIN, cat, it->label, 2, args);
  s->st->callbacks++;
  s->now += 2000 + rnd(s) % 30000;
  if (macrotask) {
    /* Keep the population steady: a macrotask schedules ~1.2 things. */
    if (chance(s, 35) && s->timers.n < 40)
      schedule(s, it->id, LS_KIND_TIMER);
    if (chance(s, 25) && s->immediates.n < 16)
      schedule(s, it->id, LS_KIND_IMMEDIATE);
    if (chance(s, 25))
      schedule(s, it->id, LS_KIND_TICK);
    if (chance(s, 30))
      schedule(s, it->id, LS_KIND_MICROTASK);
    if (chance(s, 15) && s->fs.n < 8)
      schedule(s, it->id, LS_KIND_FS);
    if (it->kind == LS_KIND_IO) {
      s->buffered += 2000 + rnd(s) % 6000;
      stream_counter(s);
      if (s->buffered >= HWM && !s->backpressure) {
        backpressure(s, true);
        s->backpressure = 1;
      }
    }
    s->now += 1000;
  } else if (chance(s, 12)) {
    schedule(s, it->id, chance(s, 50) ? LS_KIND_TICK : LS_KIND_MICROTASK);
  }
  slice_edge(s, LS_EV_END, cat, it->label, 0, NULL);
  s->now += 300;
  if (macrotask)
    drain(s);
}

static void phase(sim *s, int p, bool begin, unsigned nargs,
                  const ls_arg *args) {
  if (begin)
    slice_edge(s, LS_EV_BEGIN, LS_CAT_PHASE, ls_phase_names[p], nargs, args);
  else
    slice_edge(s, LS_EV_END, LS_CAT_PHASE, ls_phase_names[p], nargs, args);
  s->now += 400;
}

static void iteration(sim *s, uint64_t n) {
  ls_arg na = u64arg("n", n);
  slice_edge(s, LS_EV_BEGIN, LS_CAT_LOOP, "iteration", 1, &na);
  s->now += 300;

  /* timers: every due timer, in due order (one list per delay is Node's
   * rule; due order is what a single delay class gives) */
  phase(s, LS_PHASE_TIMERS, true, 0, NULL);
  for (;;) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < s->timers.n; i++) {
      item *t = &s->timers.v[s->timers.head + i];
      if (t->due <= s->now &&
          (best == SIZE_MAX || t->due < s->timers.v[s->timers.head + best].due))
        best = i;
    }
    if (best == SIZE_MAX)
      break;
    item t = s->timers.v[s->timers.head + best];
    memmove(&s->timers.v[s->timers.head + best],
            &s->timers.v[s->timers.head + best + 1],
            (s->timers.n - best - 1) * sizeof t);
    s->timers.n--;
    run(s, &t, true);
  }
  phase(s, LS_PHASE_TIMERS, false, 0, NULL);
  for (int p = LS_PHASE_PENDING; p <= LS_PHASE_PREPARE; p++) {
    phase(s, p, true, 0, NULL);
    phase(s, p, false, 0, NULL);
  }

  /* poll: wait for the next timer or fs completion, then dispatch */
  uint64_t wake = s->now + 2000000;
  for (size_t i = 0; i < s->timers.n; i++)
    if (s->timers.v[s->timers.head + i].due < wake)
      wake = s->timers.v[s->timers.head + i].due;
  for (size_t i = 0; i < s->fs.n; i++)
    if (s->fs.v[s->fs.head + i].ready < wake)
      wake = s->fs.v[s->fs.head + i].ready;
  int64_t timeout = s->immediates.n ? 0 : (int64_t)((wake - s->now) / 1000000);
  ls_arg ta = {.name = "timeout_ms", .type = LS_ARG_I64, .v.i = timeout};
  phase(s, LS_PHASE_POLL, true, 1, &ta);
  if (!s->immediates.n && wake > s->now)
    s->now = wake;
  uint64_t events = 0;
  for (size_t k = s->fs.n; k > 0; k--) {
    item f = pop(&s->fs);
    if (f.ready <= s->now) {
      run(s, &f, true);
      events++;
    } else {
      push(&s->fs, f);
    }
  }
  if (chance(s, 60)) {
    item io = {.id = s->next_id++, .trigger = 1, .kind = LS_KIND_IO,
               .label = "socket.data"};
    run(s, &io, true);
    events++;
  }
  ls_arg ea = u64arg("events", events);
  phase(s, LS_PHASE_POLL, false, 1, &ea);

  /* check: the immediates queued before the phase started */
  phase(s, LS_PHASE_CHECK, true, 0, NULL);
  for (size_t k = s->immediates.n; k > 0; k--) {
    item im = pop(&s->immediates);
    run(s, &im, true);
  }
  phase(s, LS_PHASE_CHECK, false, 0, NULL);
  phase(s, LS_PHASE_CLOSE, true, 0, NULL);
  if (s->backpressure && chance(s, 40)) {
    s->buffered = 0;
    stream_counter(s);
    backpressure(s, false); /* 'drain' */
    s->backpressure = 0;
  }
  phase(s, LS_PHASE_CLOSE, false, 0, NULL);
  slice_edge(s, LS_EV_END, LS_CAT_LOOP, "iteration", 0, NULL);

  counter(s, ls_counter_names[LS_COUNTER_TIMERS], (double)s->timers.n);
  counter(s, ls_counter_names[LS_COUNTER_IMMEDIATES], (double)s->immediates.n);
  counter(s, ls_counter_names[LS_COUNTER_POOL_QUEUE], (double)s->fs.n);
  s->now += 500;
}

int ls_synth_write(const char *path, const ls_synth_opts *o,
                   ls_synth_stats *st) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return -1;
  memset(st, 0, sizeof *st);
  sim s = {.st = st, .o = o, .now = 1000000, .next_id = 2,
           .rng = 0x9e3779b97f4a7c15ull ^ o->seed};
  ls_synth_opts oo = *o;
  if (oo.workers == 0)
    oo.workers = 1;
  s.o = &oo;
  s.worker_free = calloc(oo.workers, sizeof *s.worker_free);
  if (ls_writer_open(&s.w, fd, 1000000000, "runtime") != 0) {
    close(fd);
    return -1;
  }
  ls_writer_process_name(s.w, PID, "synth");
  ls_writer_thread_name(s.w, PID, LOOP_TID, "loop");
  char name[32];
  for (unsigned i = 0; i < oo.workers; i++) {
    snprintf(name, sizeof name, "pool-%u", i + 1);
    ls_writer_thread_name(s.w, PID, WORKER_TID0 + i, name);
  }
  /* The main program: a user callback that schedules the first work. */
  ls_arg args[2] = {u64arg("id", 1), u64arg("trigger", 0)};
  slice_edge(&s, LS_EV_BEGIN, ls_kind_names[LS_KIND_USER], "main", 2, args);
  for (int k = 0; k < 3; k++)
    schedule(&s, 1, LS_KIND_TIMER);
  schedule(&s, 1, LS_KIND_IMMEDIATE);
  schedule(&s, 1, LS_KIND_TICK);
  schedule(&s, 1, LS_KIND_MICROTASK);
  schedule(&s, 1, LS_KIND_FS);
  slice_edge(&s, LS_EV_END, ls_kind_names[LS_KIND_USER], "main", 0, NULL);
  drain(&s);
  for (uint64_t n = 1; n <= oo.iterations && !s.err; n++) {
    if (oo.max_events && st->events >= oo.max_events)
      break;
    iteration(&s, n);
    if (oo.marks && n % 97 == 50) {
      /* A blocked loop (a 30 ms synchronous callback) and a lost burst. */
      ls_arg ha[2] = {u64arg("id", s.next_id++), u64arg("trigger", 1)};
      uint64_t t0 = s.now;
      const char *user = ls_kind_names[LS_KIND_USER];
      slice_edge(&s, LS_EV_BEGIN, user, "busyWait", 2, ha);
      s.now += 30000000;
      slice_edge(&s, LS_EV_END, user, "busyWait", 0, NULL);
      ls_event b = {.type = LS_EV_INSTANT, .ts = s.now, .category = LS_CAT_MARK,
                    .name = LS_MARK_BLOCKED, .nargs = 1};
      b.args[0] = u64arg("dur_ns", s.now - t0);
      emit(&s, &b);
      ls_writer_lost(s.w, PID, LOOP_TID, s.now + 1000, 42);
      s.now += 2000000;
    }
  }
  for (unsigned i = 0; i < oo.extra_threads; i++) {
    ls_event e = {.type = LS_EV_COMPLETE, .ts = 1000000 + i * 1000,
                  .end_ts = 1000000 + i * 1000 + 500000,
                  .category = ls_kind_names[LS_KIND_USER], .name = "work",
                  .tid = EXTRA_TID0 + i};
    emit(&s, &e);
  }
  int rc = ls_writer_close(s.w) != 0 || s.err ? -1 : 0;
  close(fd);
  free(s.worker_free);
  free(s.timers.v);
  free(s.immediates.v);
  free(s.ticks.v);
  free(s.micro.v);
  free(s.fs.v);
  return rc;
}
