/* Loading a trace into the viewer's model (model.h).
 *
 * Costs: one hash lookup per string a record names (interning), one stack
 * push/pop per slice, amortised O(1) appends. Nothing is sorted unless a
 * producer wrote a thread's events out of order; then the affected rows are
 * sorted once at the end.
 */
#include "model.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loopscope/format.h"

const char *const ls_vqueue_names[LS_VQ_COUNT] = {
    [LS_VQ_TIMERS] = "timers",         [LS_VQ_IMMEDIATES] = "immediates",
    [LS_VQ_TICKS] = "nextTicks",       [LS_VQ_MICROTASKS] = "microtasks",
    [LS_VQ_IO] = "pending I/O",
};

/* Records handled between two releases of the lock: long enough to make the
 * lock cheap, short enough (well under a millisecond) not to stall a frame. */
#define LOAD_BATCH 4096

/* Grows an array of elements of size sz to hold at least n+1. Exits on OOM:
 * the viewer cannot do anything useful without memory. */
static void *grow(void *p, uint32_t *cap, uint32_t n, size_t sz) {
  if (n < *cap)
    return p;
  uint32_t nc = *cap ? *cap * 2 : 16;
  void *q = realloc(p, (size_t)nc * sz);
  if (q == NULL) {
    fprintf(stderr, "loopscope-view: out of memory\n");
    abort();
  }
  *cap = nc;
  return q;
}

static void *xcalloc(size_t n, size_t sz) {
  void *p = calloc(n ? n : 1, sz);
  if (p == NULL) {
    fprintf(stderr, "loopscope-view: out of memory\n");
    abort();
  }
  return p;
}

static void *xrealloc(void *p, size_t sz) {
  void *q = realloc(p, sz ? sz : 1);
  if (q == NULL) {
    fprintf(stderr, "loopscope-view: out of memory\n");
    abort();
  }
  return q;
}

/* ------------------------------------------------------------ u64 map */

/* Open addressing, linear probing. Entries leave when what they wait for
 * happens (map_del), so the map holds only what is pending and stays in
 * cache however long the trace. */
struct ls_u64map {
  uint64_t *keys, *vals;
  uint8_t *used;
  size_t cap, n;
};

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  return x;
}

static ls_u64map *map_new(void) {
  ls_u64map *h = xcalloc(1, sizeof *h);
  h->cap = 1024;
  h->keys = xcalloc(h->cap, sizeof *h->keys);
  h->vals = xcalloc(h->cap, sizeof *h->vals);
  h->used = xcalloc(h->cap, 1);
  return h;
}

static void map_free(ls_u64map *h) {
  if (h == NULL)
    return;
  free(h->keys);
  free(h->vals);
  free(h->used);
  free(h);
}

static uint64_t *map_slot(ls_u64map *h, uint64_t key, bool insert);

static void map_grow(ls_u64map *h) {
  ls_u64map old = *h;
  h->cap *= 2;
  h->n = 0;
  h->keys = xcalloc(h->cap, sizeof *h->keys);
  h->vals = xcalloc(h->cap, sizeof *h->vals);
  h->used = xcalloc(h->cap, 1);
  for (size_t i = 0; i < old.cap; i++)
    if (old.used[i])
      *map_slot(h, old.keys[i], true) = old.vals[i];
  free(old.keys);
  free(old.vals);
  free(old.used);
}

static uint64_t *map_slot(ls_u64map *h, uint64_t key, bool insert) {
  if (insert && (h->n + 1) * 2 > h->cap)
    map_grow(h);
  size_t mask = h->cap - 1;
  for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
    if (!h->used[i]) {
      if (!insert)
        return NULL;
      h->used[i] = 1;
      h->keys[i] = key;
      h->n++;
      return &h->vals[i];
    }
    if (h->keys[i] == key)
      return &h->vals[i];
  }
}

/* Removes the entry whose value is *slot (from map_slot), shifting later
 * entries of the probe run back so lookups never stop early. */
static void map_del(ls_u64map *h, uint64_t *slot) {
  size_t mask = h->cap - 1, i = (size_t)(slot - h->vals), j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (!h->used[j])
      break;
    size_t k = mix64(h->keys[j]) & mask;
    /* j may move to i unless its home k lies cyclically in (i, j] */
    bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
    if (!stays) {
      h->keys[i] = h->keys[j];
      h->vals[i] = h->vals[j];
      i = j;
    }
  }
  h->used[i] = 0;
  h->n--;
}

/* ------------------------------------------------------------ strings */

static uint32_t str_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

static char *arena_copy(ls_vstrings *t, const char *s, size_t len) {
  if (t->arena == NULL || t->arena_used + len + 1 > t->arena_cap) {
    size_t cap = len + 1 > 65536 ? len + 1 : 65536;
    t->arenas = xrealloc(t->arenas, (t->narenas + 1) * sizeof *t->arenas);
    t->arena = xcalloc(cap, 1);
    t->arenas[t->narenas++] = t->arena;
    t->arena_cap = cap;
    t->arena_used = 0;
  }
  char *p = t->arena + t->arena_used;
  memcpy(p, s, len);
  p[len] = 0;
  t->arena_used += len + 1;
  return p;
}

uint32_t ls_vmodel_intern(ls_vmodel *m, const char *s) {
  ls_vstrings *t = &m->strings;
  if (s == NULL || *s == 0)
    return 0;
  if ((t->n + 1) * 2 > t->hcap) {
    uint32_t nc = t->hcap ? t->hcap * 2 : 1024;
    uint32_t *nh = xcalloc(nc, sizeof *nh);
    for (uint32_t i = 1; i < t->n; i++) {
      uint32_t j = str_hash(t->s[i]) & (nc - 1);
      while (nh[j])
        j = (j + 1) & (nc - 1);
      nh[j] = i + 1;
    }
    free(t->hash);
    t->hash = nh;
    t->hcap = nc;
  }
  uint32_t j = str_hash(s) & (t->hcap - 1);
  for (; t->hash[j]; j = (j + 1) & (t->hcap - 1))
    if (strcmp(t->s[t->hash[j] - 1], s) == 0)
      return t->hash[j] - 1;
  /* A label index has 24 bits: past that, everything shares one name. */
  if (t->n >= (1u << 24) - 1)
    return 0;
  t->s = grow(t->s, &t->cap, t->n, sizeof *t->s);
  t->s[t->n] = arena_copy(t, s, strlen(s));
  t->hash[j] = t->n + 1;
  return t->n++;
}

const char *ls_vmodel_str(const ls_vmodel *m, uint32_t idx) {
  return idx < m->strings.n ? m->strings.s[idx] : "";
}

/* ------------------------------------------------------------ init/free */

void ls_vmodel_init(ls_vmodel *m) {
  memset(m, 0, sizeof *m);
  pthread_mutex_init(&m->lock, NULL);
  m->t_min = UINT64_MAX;
  /* String 0 is the empty string so a zero index means "none". */
  m->strings.s = grow(NULL, &m->strings.cap, 0, sizeof *m->strings.s);
  m->strings.s[0] = arena_copy(&m->strings, "", 0);
  m->strings.n = 1;
  m->args = xcalloc(1, sizeof *m->args);
  m->nargs = 1;
  m->capargs = 1;
}

static void free_rows(ls_vrow *rows, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    free(rows[i].v);
  free(rows);
}

void ls_vmodel_free(ls_vmodel *m) {
  for (unsigned i = 0; i < m->nthreads; i++) {
    ls_vthread *t = &m->threads[i];
    free_rows(t->rows, t->nrows);
    free_rows(t->async_rows, t->nasync_rows);
    free(t->instants.v);
    free(t->pend);
    free(t->pend_long);
    for (unsigned r = 0; r < t->ntimer_rows; r++)
      free(t->timer_rows[r]);
    free(t->timer_rows);
    free(t->ntimer_rows_n);
    free(t->lost.v);
    free(t->blocked.v);
    free(t->bursts.v);
    free(t->open);
  }
  free(m->threads);
  for (unsigned i = 0; i < m->ncounters; i++) {
    ls_vcounter *c = &m->counters[i];
    for (unsigned s = 0; s < c->nseries; s++)
      free(c->series[s].v);
    free(c->series);
    free(c->backpressure.v);
  }
  free(m->counters);
  free(m->args);
  for (unsigned i = 0; i < m->strings.narenas; i++)
    free(m->strings.arenas[i]);
  free(m->strings.arenas);
  free(m->strings.s);
  free(m->strings.hash);
  map_free(m->pend_by_id);
  map_free(m->async_by_id);
  pthread_mutex_destroy(&m->lock);
  memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ building */

static int thread_index(ls_vmodel *m, uint64_t pid, uint64_t tid) {
  static _Thread_local unsigned last; /* records come in per-thread chunks */
  if (last < m->nthreads && m->threads[last].tid == tid &&
      m->threads[last].pid == pid)
    return (int)last;
  for (unsigned i = 0; i < m->nthreads; i++)
    if (m->threads[i].tid == tid && m->threads[i].pid == pid)
      return (int)(last = i);
  /* pend.run_thread is 16 bits; a trace with more threads folds the rest
   * into the last one rather than failing. */
  if (m->nthreads >= UINT16_MAX)
    return (int)(last = m->nthreads - 1);
  if (m->nthreads == m->capthreads) {
    m->capthreads = m->capthreads ? m->capthreads * 2 : 8;
    m->threads = xrealloc(m->threads, m->capthreads * sizeof *m->threads);
  }
  ls_vthread *t = &m->threads[m->nthreads];
  memset(t, 0, sizeof *t);
  t->pid = pid;
  t->tid = tid;
  return (int)(last = m->nthreads++);
}

static void row_push(ls_vrow *r, const ls_vslice *s) {
  r->v = grow(r->v, &r->cap, r->n, sizeof *r->v);
  if (r->n && s->t0 < r->v[r->n - 1].t0)
    r->unsorted = true;
  r->v[r->n++] = *s;
}

static ls_vrow *thread_row(ls_vthread *t, unsigned depth) {
  if (depth >= t->nrows) {
    t->rows = xrealloc(t->rows, (depth + 1) * sizeof *t->rows);
    memset(t->rows + t->nrows, 0, (depth + 1 - t->nrows) * sizeof *t->rows);
    t->nrows = depth + 1;
  }
  return &t->rows[depth];
}

static void instant_push(ls_vinstants *r, const ls_vinstant *in) {
  r->v = grow(r->v, &r->cap, r->n, sizeof *r->v);
  if (r->n && in->t < r->v[r->n - 1].t)
    r->unsorted = true;
  r->v[r->n++] = *in;
}

static void mark_push(ls_vmarks *r, uint64_t t0, uint64_t t1, uint64_t count) {
  r->v = grow(r->v, &r->cap, r->n, sizeof *r->v);
  r->v[r->n++] = (ls_vmark){t0, t1, count};
}

typedef struct open_async {
  ls_vslice s;
  int thread;
  uint64_t pid;
} open_async;

/* The reader interns every string it returns (equal text, equal pointer,
 * stable until it closes), so the loader keys small direct-mapped caches on
 * the pointer: a hit skips hashing the text and the classifying strcmps; a
 * miss just takes the slow path, so a reader that did not intern would only
 * be slower. */
#define PTR_CACHE 4096

typedef struct ptr_entry {
  const char *k1, *k2;
  uint32_t v;
} ptr_entry;

typedef struct loader {
  ls_vmodel *m;
  ls_reader *r;
  ptr_entry str_cache[PTR_CACHE];   /* text -> string index */
  ptr_entry cls_cache[PTR_CACHE];   /* (category, name) -> LS_VC_* */
  ptr_entry queue_cache[PTR_CACHE]; /* sched name -> ls_vqueue */
  uint32_t str_id, str_n;           /* "id", "n": ids kept in the record */
  uint32_t str_due, str_delay;      /* sched arguments */
  double ns_per_tick;
  open_async *asyncs; /* open async spans; async_by_id maps to index */
  uint32_t nasync, capasync;
  uint64_t orphan_ends;
} loader;

/* Cache slot of a pointer: Fibonacci hashing of all its bits (the reader
 * packs short strings a few bytes apart, so low bits alone collide). */
static unsigned ptr_slot(const void *a, const void *b) {
  uint64_t k = (uint64_t)(uintptr_t)a * 31 + (uint64_t)(uintptr_t)b;
  return (unsigned)((k * UINT64_C(0x9E3779B97F4A7C15)) >> 52) &
         (PTR_CACHE - 1);
}

static uint32_t intern_fast(loader *L, const char *s) {
  if (s == NULL)
    return 0;
  ptr_entry *e = &L->str_cache[ptr_slot(s, NULL)];
  if (e->k1 != s) {
    e->k1 = s;
    e->v = ls_vmodel_intern(L->m, s);
  }
  return e->v;
}

static uint64_t arg_key(loader *L, const ls_arg *a) {
  return (uint64_t)intern_fast(L, a->name) << 8 | (unsigned)a->type;
}

/* Packs arguments (except `skip`, already stored in the record) into the
 * args array: [n, (key<<8|type, value) * n]. Strings become string indexes. */
/* Packs an event's arguments into the args array as [n, (key<<8|type,
 * value) * n] after those of `prev` (a slice's end adds to its begin).
 * The argument named skip (string index, 0: none) is stored in the record
 * itself: it is left out and its integer value returned in *skipped.
 * Names are compared as string indexes (intern_fast), never as text. */
static uint32_t pack_args(loader *L, const ls_event *e, uint32_t skip,
                          uint64_t *skipped, uint32_t prev) {
  ls_vmodel *m = L->m;
  uint64_t keys[LS_MAX_ARGS];
  unsigned nprev = prev ? (unsigned)m->args[prev] : 0, n = nprev;
  int skip_at = -1;
  for (unsigned i = 0; i < e->nargs; i++) {
    keys[i] = arg_key(L, &e->args[i]);
    if (skip && skip_at < 0 && keys[i] >> 8 == skip)
      skip_at = (int)i;
    else
      n++;
  }
  if (skipped)
    *skipped = skip_at >= 0 ? ls_arg_u64(&e->args[skip_at]) : 0;
  if (n == nprev || m->nargs + 1 + 2 * (size_t)n > UINT32_MAX)
    return prev;
  if (m->nargs + 1 + 2 * n > m->capargs) {
    while (m->nargs + 1 + 2 * n > m->capargs)
      m->capargs *= 2;
    m->args = xrealloc(m->args, m->capargs * sizeof *m->args);
  }
  uint32_t at = (uint32_t)m->nargs;
  uint64_t *w = m->args + at;
  *w++ = n;
  if (nprev) {
    memmove(w, m->args + prev + 1, 2 * nprev * sizeof *w);
    w += 2 * nprev;
  }
  for (unsigned i = 0; i < e->nargs; i++) {
    const ls_arg *a = &e->args[i];
    if ((int)i == skip_at)
      continue;
    *w++ = keys[i];
    switch (a->type) {
    case LS_ARG_DOUBLE:
      memcpy(w, &a->v.d, sizeof a->v.d);
      break;
    case LS_ARG_STRING:
      *w = intern_fast(L, a->v.s);
      break;
    case LS_ARG_I32:
    case LS_ARG_I64:
      *w = (uint64_t)a->v.i;
      break;
    case LS_ARG_BOOL:
      *w = a->v.b;
      break;
    default:
      *w = a->v.u;
      break;
    }
    w++;
  }
  m->nargs = (size_t)(w - m->args);
  return at;
}

size_t ls_vmodel_format_args(const ls_vmodel *m, uint32_t args, char *buf,
                             size_t len) {
  size_t used = 0;
  if (len)
    buf[0] = 0;
  if (args == 0 || args >= m->nargs)
    return 0;
  unsigned n = (unsigned)m->args[args];
  const uint64_t *w = m->args + args + 1;
  for (unsigned i = 0; i < n && used + 1 < len; i++, w += 2) {
    const char *k = ls_vmodel_str(m, (uint32_t)(w[0] >> 8));
    const char *sep = i ? ", " : "";
    int wrote;
    switch ((ls_arg_type)(w[0] & 0xff)) {
    case LS_ARG_DOUBLE: {
      double d;
      memcpy(&d, &w[1], sizeof d);
      wrote = snprintf(buf + used, len - used, "%s%s=%g", sep, k, d);
      break;
    }
    case LS_ARG_STRING:
      wrote = snprintf(buf + used, len - used, "%s%s=%s", sep, k,
                       ls_vmodel_str(m, (uint32_t)w[1]));
      break;
    case LS_ARG_I32:
    case LS_ARG_I64:
      wrote = snprintf(buf + used, len - used, "%s%s=%" PRId64, sep, k,
                       (int64_t)w[1]);
      break;
    case LS_ARG_POINTER:
      wrote = snprintf(buf + used, len - used, "%s%s=0x%" PRIx64, sep, k, w[1]);
      break;
    default:
      wrote = snprintf(buf + used, len - used, "%s%s=%" PRIu64, sep, k, w[1]);
      break;
    }
    if (wrote < 0)
      break;
    used += (size_t)wrote;
    if (used >= len)
      used = len - 1;
  }
  return used;
}

static unsigned classify_text(const char *cat, const char *name) {
  if (cat == NULL)
    return LS_VC_OTHER;
  int k = ls_kind_from_name(cat);
  if (k >= 0)
    return LS_VC_KIND + (unsigned)k;
  if (strcmp(cat, LS_CAT_PHASE) == 0) {
    int p = ls_phase_from_name(name);
    return p >= 0 ? LS_VC_PHASE + (unsigned)p : LS_VC_OTHER;
  }
  if (strcmp(cat, LS_CAT_LOOP) == 0)
    return LS_VC_ITERATION;
  if (strcmp(cat, LS_CAT_POOL) == 0)
    return LS_VC_POOL;
  if (strcmp(cat, LS_CAT_SCHED) == 0)
    return LS_VC_SCHED;
  if (strcmp(cat, LS_CAT_PROMISE) == 0)
    return LS_VC_PROMISE;
  if (strcmp(cat, LS_CAT_AWAIT) == 0)
    return LS_VC_AWAIT;
  if (strcmp(cat, LS_CAT_BACKPRESSURE) == 0)
    return LS_VC_BACKPRESSURE;
  return LS_VC_OTHER;
}

static unsigned classify(loader *L, const char *cat, const char *name) {
  ptr_entry *e = &L->cls_cache[ptr_slot(cat, name)];
  if (e->k1 != cat || e->k2 != name || cat == NULL) {
    e->k1 = cat;
    e->k2 = name;
    e->v = classify_text(cat, name);
  }
  return e->v;
}

/* Which queue a scheduled thing waits in, from the sched instant's name;
 * refined by the kind of the callback that eventually runs it. */
static ls_vqueue queue_of_sched(const char *name) {
  if (name == NULL)
    return LS_VQ_IO;
  if (strstr(name, "Timeout") || strstr(name, "Interval") ||
      strstr(name, "timer"))
    return LS_VQ_TIMERS;
  if (strstr(name, "Immediate") || strstr(name, "immediate"))
    return LS_VQ_IMMEDIATES;
  if (strstr(name, "nextTick") || strstr(name, "tick"))
    return LS_VQ_TICKS;
  if (strstr(name, "icrotask") || strstr(name, "promise") ||
      strstr(name, "then") || strstr(name, "await"))
    return LS_VQ_MICROTASKS;
  return LS_VQ_IO;
}

static int queue_of_kind(int kind) {
  switch (kind) {
  case LS_KIND_TIMER:
  case LS_KIND_INTERVAL:
    return LS_VQ_TIMERS;
  case LS_KIND_IMMEDIATE:
    return LS_VQ_IMMEDIATES;
  case LS_KIND_TICK:
    return LS_VQ_TICKS;
  case LS_KIND_MICROTASK:
    return LS_VQ_MICROTASKS;
  case LS_KIND_IO:
  case LS_KIND_FS:
  case LS_KIND_CLOSE:
  case LS_KIND_STREAM:
    return LS_VQ_IO;
  default:
    return -1; /* user: keep what the sched name said */
  }
}

static uint64_t id_arg(const ls_event *e, const char *name) {
  const ls_arg *a = ls_event_arg(e, name);
  return a ? ls_arg_u64(a) : 0;
}

static void on_callback_start(ls_vmodel *m, int ti, unsigned depth,
                              const ls_vslice *s) {
  if (m->pend_by_id == NULL)
    return;
  uint64_t *v = map_slot(m->pend_by_id, s->id, false);
  if (v == NULL)
    return;
  ls_vthread *st = &m->threads[*v >> 32];
  ls_vpend *p = &st->pend[(uint32_t)*v];
  /* Its first run ends the wait (an interval firing again finds nothing). */
  map_del(m->pend_by_id, v);
  p->t_run = s->t0;
  p->run_thread = (uint16_t)ti;
  p->run_depth = (uint16_t)(depth > UINT16_MAX ? UINT16_MAX : depth);
  int q = queue_of_kind((int)s->cls - LS_VC_KIND);
  if (q >= 0)
    p->queue = (unsigned)q;
}

static void on_sched(loader *L, int ti, const ls_event *e, uint64_t t,
                     uint32_t label, uint64_t id) {
  ls_vmodel *m = L->m;
  ls_vthread *th = &m->threads[ti];
  th->pend = grow(th->pend, &th->cappend, th->npend, sizeof *th->pend);
  ls_vpend *p = &th->pend[th->npend];
  memset(p, 0, sizeof *p);
  p->t_sched = t;
  p->t_due = t;
  p->t_run = LS_VT_NEVER;
  p->t_pool = LS_VT_NEVER;
  p->id = id;
  p->label = label;
  ptr_entry *qc = &L->queue_cache[ptr_slot(e->name, NULL)];
  if (qc->k1 != e->name || e->name == NULL) {
    qc->k1 = e->name;
    qc->v = queue_of_sched(e->name);
  }
  p->queue = qc->v;
  const ls_arg *due = NULL, *delay = NULL;
  for (unsigned i = 0; i < e->nargs; i++) {
    uint32_t k = intern_fast(L, e->args[i].name);
    if (k == L->str_due)
      due = &e->args[i];
    else if (k == L->str_delay)
      delay = &e->args[i];
  }
  if (due)
    p->t_due = (uint64_t)((double)ls_arg_u64(due) * L->ns_per_tick);
  else if (delay)
    p->t_due = t + (uint64_t)(ls_arg_number(delay) * 1e6);
  if (m->pend_by_id == NULL)
    m->pend_by_id = map_new();
  *map_slot(m->pend_by_id, p->id, true) = (uint64_t)ti << 32 | th->npend;
  th->npend++;
}

static ls_vcounter *counter_of(ls_vmodel *m, uint64_t pid, uint32_t name) {
  for (unsigned i = 0; i < m->ncounters; i++)
    if (m->counters[i].name == name && m->counters[i].pid == pid)
      return &m->counters[i];
  if (m->ncounters == m->capcounters) {
    m->capcounters = m->capcounters ? m->capcounters * 2 : 8;
    m->counters = xrealloc(m->counters, m->capcounters * sizeof *m->counters);
  }
  ls_vcounter *c = &m->counters[m->ncounters++];
  memset(c, 0, sizeof *c);
  c->pid = pid;
  c->name = name;
  c->stream = strncmp(ls_vmodel_str(m, name), "stream:", 7) == 0;
  return c;
}

static void counter_sample(ls_vmodel *m, ls_vcounter *c, uint32_t sname,
                           uint64_t t, double v) {
  ls_vseries *s = NULL;
  for (unsigned i = 0; i < c->nseries; i++)
    if (c->series[i].name == sname)
      s = &c->series[i];
  if (s == NULL) {
    c->series = xrealloc(c->series, (c->nseries + 1) * sizeof *c->series);
    s = &c->series[c->nseries++];
    memset(s, 0, sizeof *s);
    s->name = sname;
  }
  (void)m;
  s->v = grow(s->v, &s->cap, s->n, sizeof *s->v);
  /* Samples arrive in time order per writer thread; a late one keeps the
   * array sorted by insertion (rare, so the memmove is fine). */
  uint32_t at = s->n;
  while (at > 0 && s->v[at - 1].t > t)
    at--;
  memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof *s->v);
  s->v[at] = (ls_vsample){t, v};
  s->n++;
  if (v > s->vmax)
    s->vmax = v;
}

/* Async spans: the open begin is remembered by (id, category) until its end. */
static uint64_t async_key(uint64_t id, unsigned cls) {
  return id * 4 + (cls == LS_VC_BACKPRESSURE);
}


static void place_async(ls_vmodel *m, const open_async *oa) {
  if (oa->s.cls == LS_VC_BACKPRESSURE) {
    char key[256];
    snprintf(key, sizeof key, "stream:%s", ls_vmodel_str(m, oa->s.label));
    ls_vcounter *c = counter_of(m, oa->pid, ls_vmodel_intern(m, key));
    row_push(&c->backpressure, &oa->s);
    return;
  }
  ls_vthread *t = &m->threads[oa->thread];
  unsigned r = 0;
  for (; r < t->nasync_rows; r++) {
    ls_vrow *row = &t->async_rows[r];
    if (row->n == 0 || row->v[row->n - 1].t1 <= oa->s.t0)
      break;
  }
  if (r == t->nasync_rows) {
    t->async_rows =
        xrealloc(t->async_rows, (r + 1) * sizeof *t->async_rows);
    memset(&t->async_rows[r], 0, sizeof *t->async_rows);
    t->nasync_rows++;
  }
  row_push(&t->async_rows[r], &oa->s);
}


static uint64_t to_ns(loader *L, uint64_t ticks) {
  return (uint64_t)((double)ticks * L->ns_per_tick);
}

static void extend(ls_vmodel *m, uint64_t t) {
  if (t < m->t_min)
    m->t_min = t;
  if (t > m->t_max)
    m->t_max = t;
}

static void on_event(loader *L, const ls_event *e) {
  ls_vmodel *m = L->m;
  uint64_t t = to_ns(L, e->ts);
  int ti = thread_index(m, e->pid, e->tid);
  ls_vthread *th = &m->threads[ti];
  extend(m, t);
  if (t > th->last_ts)
    th->last_ts = t;
  if (th->lost_open) {
    th->lost.v[th->lost.n - 1].t1 = t;
    th->lost_open = false;
  }
  m->nevents++;

  switch (e->type) {
  case LS_EV_BEGIN:
  case LS_EV_COMPLETE: {
    unsigned cls = classify(L, e->category, e->name);
    ls_vslice s = {.t0 = t, .t1 = t, .cls = cls};
    s.label = intern_fast(L, e->name);
    uint32_t idname = cls == LS_VC_ITERATION ? L->str_n : L->str_id;
    s.args = pack_args(L, e, idname, &s.id, 0);
    if (ls_vc_is_phase(cls))
      th->nphases++;
    if (cls == LS_VC_POOL)
      th->npool++;
    if (ls_vc_is_callback(cls))
      on_callback_start(m, ti, th->nopen, &s);
    if (e->type == LS_EV_COMPLETE) {
      s.t1 = to_ns(L, e->end_ts);
      if (s.t1 < s.t0)
        s.t1 = s.t0;
      extend(m, s.t1);
      row_push(thread_row(th, th->nopen), &s);
    } else {
      th->open = grow(th->open, &th->capopen, th->nopen, sizeof *th->open);
      th->open[th->nopen++] = s;
    }
    break;
  }
  case LS_EV_END: {
    if (th->nopen == 0) {
      L->orphan_ends++; /* its begin was lost or before a flight window */
      break;
    }
    ls_vslice s = th->open[--th->nopen];
    s.t1 = t;
    if (e->nargs)
      s.args = pack_args(L, e, 0, NULL, s.args);
    row_push(thread_row(th, th->nopen), &s);
    break;
  }
  case LS_EV_INSTANT:
  case LS_EV_ASYNC_INSTANT: {
    unsigned cls = classify(L, e->category, e->name);
    /* "mark" is not a class of its own: only unclassified instants can be
     * marks, so the common ones (sched) skip the string compare. */
    if (cls == LS_VC_OTHER && e->category &&
        strcmp(e->category, LS_CAT_MARK) == 0 && e->name) {
      if (strcmp(e->name, LS_MARK_LOST) == 0) {
        uint64_t n = id_arg(e, "count");
        mark_push(&th->lost, t, t, n);
        th->lost_open = true;
        m->nlost += n;
        break;
      }
      if (strcmp(e->name, LS_MARK_BLOCKED) == 0) {
        uint64_t d = id_arg(e, "dur_ns");
        mark_push(&th->blocked, d < t ? t - d : 0, t, 0);
        break;
      }
      if (strcmp(e->name, LS_MARK_UNHANDLED) == 0)
        cls = LS_VC_UNHANDLED;
    }
    ls_vinstant in = {.t = t, .cls = cls};
    in.label = intern_fast(L, e->name);
    in.args = pack_args(L, e, L->str_id, &in.id, 0);
    if (e->id)
      in.id = e->id;
    instant_push(&th->instants, &in);
    if (cls == LS_VC_SCHED)
      on_sched(L, ti, e, t, in.label, in.id);
    break;
  }
  case LS_EV_COUNTER: {
    ls_vcounter *c = counter_of(m, e->pid, intern_fast(L, e->name));
    for (unsigned i = 0; i < e->nargs; i++) {
      const ls_arg *a = &e->args[i];
      if (a->type == LS_ARG_STRING || a->type == LS_ARG_NULL)
        continue;
      counter_sample(m, c, intern_fast(L, a->name), t,
                     ls_arg_number(a));
    }
    break;
  }
  case LS_EV_ASYNC_BEGIN: {
    unsigned cls = classify(L, e->category, e->name);
    ls_vslice s = {.t0 = t, .t1 = t, .cls = cls, .id = e->id};
    s.label = intern_fast(L, e->name);
    s.args = pack_args(L, e, 0, NULL, 0);
    L->asyncs = grow(L->asyncs, &L->capasync, L->nasync, sizeof *L->asyncs);
    L->asyncs[L->nasync] = (open_async){s, ti, e->pid};
    if (m->async_by_id == NULL)
      m->async_by_id = map_new();
    *map_slot(m->async_by_id, async_key(e->id, cls), true) = L->nasync++;
    break;
  }
  case LS_EV_ASYNC_END: {
    unsigned cls = classify(L, e->category, e->name);
    uint64_t *v = m->async_by_id
                      ? map_slot(m->async_by_id, async_key(e->id, cls), false)
                      : NULL;
    if (v == NULL) {
      L->orphan_ends++;
      break;
    }
    open_async *oa = &L->asyncs[*v];
    map_del(m->async_by_id, v);
    oa->s.t1 = t < oa->s.t0 ? oa->s.t0 : t;
    place_async(m, oa);
    break;
  }
  default:
    /* Flow records bind sched instants to callbacks; the async id on both
     * ends already pairs them (on_sched / on_callback_start). */
    break;
  }
}

static int cmp_slice(const void *a, const void *b) {
  const ls_vslice *x = a, *y = b;
  return (x->t0 > y->t0) - (x->t0 < y->t0);
}

static int cmp_instant(const void *a, const void *b) {
  const ls_vinstant *x = a, *y = b;
  return (x->t > y->t) - (x->t < y->t);
}

static void row_finish(ls_vrow *r) {
  if (r->unsorted)
    qsort(r->v, r->n, sizeof *r->v, cmp_slice);
  r->unsorted = false;
  if (r->n < r->cap) {
    r->v = xrealloc(r->v, (r->n ? r->n : 1) * sizeof *r->v);
    r->cap = r->n ? r->n : 1;
  }
}

/* Timers lane rows: each pend (scheduled -> ran) goes into the row that
 * freed up first (a min-heap on row end times), O(n log rows). */
static void build_timer_rows(ls_vmodel *m, ls_vthread *t) {
  uint64_t *heap_end = NULL;
  unsigned *heap_row = NULL, nheap = 0;
  for (uint32_t i = 0; i < t->npend; i++) {
    ls_vpend *p = &t->pend[i];
    if (p->queue != LS_VQ_TIMERS)
      continue;
    uint64_t end = p->t_run == LS_VT_NEVER ? m->t_max : p->t_run;
    if (p->t_due > end)
      end = p->t_due;
    unsigned row;
    if (nheap && heap_end[0] <= p->t_sched) {
      row = heap_row[0];
      /* replace the top and sift down */
      unsigned k = 0;
      for (;;) {
        unsigned c = 2 * k + 1;
        if (c >= nheap)
          break;
        if (c + 1 < nheap && heap_end[c + 1] < heap_end[c])
          c++;
        if (heap_end[c] >= end)
          break;
        heap_end[k] = heap_end[c];
        heap_row[k] = heap_row[c];
        k = c;
      }
      heap_end[k] = end;
      heap_row[k] = row;
    } else {
      row = t->ntimer_rows++;
      t->timer_rows = xrealloc(t->timer_rows, t->ntimer_rows * sizeof(void *));
      t->ntimer_rows_n =
          xrealloc(t->ntimer_rows_n, t->ntimer_rows * sizeof(uint32_t));
      t->timer_rows[row] = NULL;
      t->ntimer_rows_n[row] = 0;
      heap_end = xrealloc(heap_end, (nheap + 1) * sizeof *heap_end);
      heap_row = xrealloc(heap_row, (nheap + 1) * sizeof *heap_row);
      unsigned k = nheap++;
      while (k > 0 && heap_end[(k - 1) / 2] > end) {
        heap_end[k] = heap_end[(k - 1) / 2];
        heap_row[k] = heap_row[(k - 1) / 2];
        k = (k - 1) / 2;
      }
      heap_end[k] = end;
      heap_row[k] = row;
    }
    uint32_t n = t->ntimer_rows_n[row];
    if ((n & (n - 1)) == 0) /* grows at powers of two */
      t->timer_rows[row] =
          xrealloc(t->timer_rows[row], (n ? 2 * n : 1) * sizeof(uint32_t));
    t->timer_rows[row][n] = i;
    t->ntimer_rows_n[row] = n + 1;
  }
  free(heap_end);
  free(heap_row);
}

/* A drain runs nextTicks and microtasks back to back after a callback:
 * consecutive ones on a row (less than BURST_GAP_NS apart) form a burst,
 * the thing to see when a recursive chain starves the loop. */
#define BURST_GAP_NS 2000

static void build_bursts(ls_vthread *t) {
  for (unsigned r = 0; r < t->nrows; r++) {
    const ls_vrow *row = &t->rows[r];
    ls_vslice b = {0};
    for (uint32_t i = 0; i <= row->n; i++) {
      const ls_vslice *s = i < row->n ? &row->v[i] : NULL;
      bool drain = s && (s->cls == LS_VC_KIND + LS_KIND_TICK ||
                         s->cls == LS_VC_KIND + LS_KIND_MICROTASK);
      if (drain && b.id && s->t0 - b.t1 < BURST_GAP_NS) {
        b.t1 = s->t1;
        b.id++;
        if (s->cls == LS_VC_KIND + LS_KIND_TICK)
          b.cls = s->cls;
        continue;
      }
      if (b.id >= 2)
        row_push(&t->bursts, &b);
      b = (ls_vslice){0};
      if (drain)
        b = (ls_vslice){.t0 = s->t0, .t1 = s->t1, .id = 1, .cls = s->cls};
    }
  }
  /* Rows were scanned one after another: sort, then merge bursts of
   * several depths that overlap so the lane never overlaps itself. */
  row_finish(&t->bursts);
  uint32_t out = 0;
  for (uint32_t i = 0; i < t->bursts.n; i++) {
    ls_vslice *b = &t->bursts.v[i];
    if (out && b->t0 < t->bursts.v[out - 1].t1) {
      ls_vslice *p = &t->bursts.v[out - 1];
      p->t1 = b->t1 > p->t1 ? b->t1 : p->t1;
      p->id += b->id;
      if (b->cls == LS_VC_KIND + LS_KIND_TICK)
        p->cls = b->cls;
    } else {
      t->bursts.v[out++] = *b;
    }
  }
  t->bursts.n = out;
}

static int cmp_pend(const void *a, const void *b) {
  const ls_vpend *x = a, *y = b;
  return (x->t_sched > y->t_sched) - (x->t_sched < y->t_sched);
}

/* Splits pends into short waits (found by scanning back at most pend_span
 * from an instant) and long ones (always checked): see state.c. */
static void build_pend_index(ls_vmodel *m, ls_vthread *t) {
  bool sorted = true;
  for (uint32_t i = 1; i < t->npend && sorted; i++)
    sorted = t->pend[i - 1].t_sched <= t->pend[i].t_sched;
  if (!sorted)
    qsort(t->pend, t->npend, sizeof *t->pend, cmp_pend);
  uint64_t span = m->t_max > m->t_min ? (m->t_max - m->t_min) / 512 : 1;
  t->pend_span = span ? span : 1;
  for (uint32_t i = 0; i < t->npend; i++) {
    const ls_vpend *p = &t->pend[i];
    uint64_t end = p->t_run == LS_VT_NEVER ? UINT64_MAX : p->t_run;
    if (end - p->t_sched > t->pend_span) {
      t->pend_long = xrealloc(t->pend_long,
                              (t->npend_long + 1) * sizeof *t->pend_long);
      t->pend_long[t->npend_long++] = i;
    }
  }
}

/* Which I/O waits were thread-pool work, and when a worker took each: the
 * pool slice with the request's id that started after it was scheduled.
 * Done once everything is in, because a worker's records may reach the
 * file after the callback that ended the wait. */
static void pair_pool_work(ls_vmodel *m) {
  ls_u64map *io = NULL;
  for (unsigned ti = 0; ti < m->nthreads; ti++) {
    const ls_vthread *t = &m->threads[ti];
    for (uint32_t i = 0; i < t->npend; i++)
      if (t->pend[i].queue == LS_VQ_IO) {
        if (io == NULL)
          io = map_new();
        /* pends are sorted by t_sched: a reused id keeps its latest */
        *map_slot(io, t->pend[i].id, true) = (uint64_t)ti << 32 | i;
      }
  }
  if (io == NULL)
    return;
  for (unsigned ti = 0; ti < m->nthreads; ti++) {
    const ls_vthread *w = &m->threads[ti];
    for (unsigned r = 0; w->npool && r < w->nrows; r++)
      for (uint32_t k = 0; k < w->rows[r].n; k++) {
        const ls_vslice *s = &w->rows[r].v[k];
        uint64_t *v = s->cls == LS_VC_POOL ? map_slot(io, s->id, false) : NULL;
        if (v == NULL)
          continue;
        ls_vpend *p = &m->threads[*v >> 32].pend[(uint32_t)*v];
        if (p->t_sched <= s->t0 && s->t0 < p->t_pool &&
            (p->t_run == LS_VT_NEVER || s->t0 <= p->t_run))
          p->t_pool = s->t0;
      }
  }
  map_free(io);
}

static void finish(loader *L) {
  ls_vmodel *m = L->m;
  if (m->t_min == UINT64_MAX)
    m->t_min = m->t_max = 0;
  for (unsigned i = 0; i < m->nthreads; i++) {
    ls_vthread *t = &m->threads[i];
    /* Slices still open at the end of the trace (a loop killed mid-phase)
     * run to the end so they stay visible. */
    while (t->nopen) {
      ls_vslice s = t->open[--t->nopen];
      s.t1 = m->t_max;
      row_push(thread_row(t, t->nopen), &s);
    }
    free(t->open);
    t->open = NULL;
    t->capopen = 0;
    for (unsigned r = 0; r < t->nrows; r++)
      row_finish(&t->rows[r]);
    for (unsigned r = 0; r < t->nasync_rows; r++)
      row_finish(&t->async_rows[r]);
    if (t->instants.unsorted)
      qsort(t->instants.v, t->instants.n, sizeof *t->instants.v, cmp_instant);
    t->instants.unsorted = false;
    build_pend_index(m, t);
    build_timer_rows(m, t);
    build_bursts(t);
  }
  for (uint32_t i = 0; i < L->nasync; i++) {
    uint64_t *v = map_slot(m->async_by_id,
                           async_key(L->asyncs[i].s.id, L->asyncs[i].s.cls),
                           false);
    if (v && *v == i) { /* never ended: show it up to the end */
      L->asyncs[i].s.t1 = m->t_max;
      place_async(m, &L->asyncs[i]);
    }
  }
  pair_pool_work(m);
  for (unsigned i = 0; i < m->ncounters; i++)
    row_finish(&m->counters[i].backpressure);
  free(L->asyncs);
  map_free(m->pend_by_id);
  map_free(m->async_by_id);
  m->pend_by_id = m->async_by_id = NULL;
}

static int load_from(ls_vmodel *m, ls_reader *r, const char *name) {
  /* The caches make it ~200 KB: not for a thread's stack. */
  loader *L = xcalloc(1, sizeof *L);
  L->m = m;
  L->r = r;
  const ls_trace_info *info = ls_reader_info(r);
  uint64_t tps = info && info->ticks_per_second ? info->ticks_per_second
                                                : UINT64_C(1000000000);
  L->ns_per_tick = 1e9 / (double)tps;
  atomic_store(&m->bytes_total, ls_reader_size(r));
  atomic_store(&m->state, LS_VLOAD_RUNNING);
  pthread_mutex_lock(&m->lock);
  m->file_name = ls_vmodel_intern(m, name);
  L->str_id = ls_vmodel_intern(m, "id");
  L->str_n = ls_vmodel_intern(m, "n");
  L->str_due = ls_vmodel_intern(m, "due");
  L->str_delay = ls_vmodel_intern(m, "delay_ms");
  ls_record rec;
  int rc;
  unsigned batch = 0;
  while ((rc = ls_reader_next(r, &rec)) == LS_FMT_OK) {
    switch (rec.kind) {
    case LS_REC_EVENT:
      on_event(L, &rec.event);
      break;
    case LS_REC_INIT:
      if (rec.ticks_per_second)
        L->ns_per_tick = 1e9 / (double)rec.ticks_per_second;
      break;
    case LS_REC_THREAD_NAME: {
      int ti = thread_index(m, rec.pid, rec.tid);
      m->threads[ti].name = ls_vmodel_intern(m, rec.name);
      break;
    }
    case LS_REC_LOST: {
      int ti = thread_index(m, rec.pid, rec.tid);
      ls_vthread *t = &m->threads[ti];
      uint64_t ts = to_ns(L, rec.ts);
      /* ts is the first dropped event; the gap runs to the next event kept
       * on that thread (on_event closes it). */
      mark_push(&t->lost, ts, ts, rec.count);
      t->lost_open = true;
      m->nlost += rec.count;
      extend(m, ts);
      break;
    }
    case LS_REC_META:
      if (rec.name && strcmp(rec.name, "source") == 0)
        m->source = ls_vmodel_intern(m, rec.value);
      break;
    case LS_REC_PROCESS_NAME:
      break;
    }
    if (++batch == LOAD_BATCH) {
      batch = 0;
      atomic_store(&m->bytes_done, ls_reader_offset(r));
      pthread_mutex_unlock(&m->lock);
      if (atomic_load(&m->cancel)) {
        pthread_mutex_lock(&m->lock);
        break;
      }
      pthread_mutex_lock(&m->lock);
    }
  }
  int ret = 0;
  if (rc < 0) {
    /* Everything before the bad record is shown; say what stopped us. */
    snprintf(m->error, sizeof m->error, "%s", ls_reader_error(r));
    if (m->nevents == 0)
      ret = -1;
  } else if (ls_reader_dropped(r)) {
    m->dropped_bytes = ls_reader_dropped(r);
    snprintf(m->error, sizeof m->error,
             "%s: truncated, the last %" PRIu64 " bytes (a torn record) were "
             "dropped",
             name, m->dropped_bytes);
  } else if (L->orphan_ends) {
    snprintf(m->error, sizeof m->error,
             "%s: %" PRIu64 " slice ends had no begin (lost or cut off)", name,
             L->orphan_ends);
  }
  finish(L);
  free(L);
  atomic_store(&m->bytes_done, ls_reader_size(r));
  pthread_mutex_unlock(&m->lock);
  atomic_store(&m->state, ret ? LS_VLOAD_FAILED : LS_VLOAD_DONE);
  return ret;
}

int ls_vmodel_load(ls_vmodel *m, const char *path) {
  ls_reader *r;
  int rc = ls_reader_open(&r, path, m->error, sizeof m->error);
  if (rc != LS_FMT_OK) {
    if (m->error[0] == 0)
      snprintf(m->error, sizeof m->error, "%s: cannot open (error %d)", path,
               rc);
    atomic_store(&m->state, LS_VLOAD_FAILED);
    return -1;
  }
  rc = load_from(m, r, path);
  ls_reader_close(r);
  return rc;
}

/* ------------------------------------------------------------ queries */

/* Binary search: the first index in [lo, hi) where pred holds (hi if none),
 * pred being false, then true, along the array. */
#define FIRST_WHERE(lo, hi, pred, out)                                       \
  do {                                                                       \
    uint32_t l_ = (lo), h_ = (hi);                                           \
    while (l_ < h_) {                                                        \
      uint32_t mid_ = l_ + (h_ - l_) / 2;                                    \
      if (pred(mid_))                                                        \
        h_ = mid_;                                                           \
      else                                                                   \
        l_ = mid_ + 1;                                                       \
    }                                                                        \
    (out) = l_;                                                              \
  } while (0)

/* Galloping: probes from, from+1, from+3, from+7, ... until the predicate
 * holds, then a binary search in the last gap. */
#define GALLOP(n, from, pred, out)                                           \
  do {                                                                       \
    uint32_t lo_ = (from), hi_;                                              \
    uint32_t step_ = 1;                                                      \
    if (lo_ >= (n) || pred(lo_)) {                                           \
      (out) = lo_ < (n) ? lo_ : (n);                                         \
      break;                                                                 \
    }                                                                        \
    for (;;) {                                                               \
      hi_ = (n) - lo_ > step_ ? lo_ + step_ : (n);                           \
      if (hi_ == (n) || pred(hi_))                                           \
        break;                                                               \
      lo_ = hi_;                                                             \
      step_ *= 2;                                                            \
    }                                                                        \
    FIRST_WHERE(lo_ + 1, hi_, pred, out); /* pred(lo_) is false */           \
  } while (0)

/* The predicates of the queries below, on element i. */
#define ENDS_AFTER(i) (r->v[i].t1 > t)
#define STARTS_AT_OR_AFTER(i) (r->v[i].t0 >= t)
#define AT_OR_AFTER(i) (r->v[i].t >= t)
#define AFTER(i) (s->v[i].t > t)

uint32_t ls_vrow_first_after_from(const ls_vrow *r, uint64_t t,
                                  uint32_t from) {
  uint32_t out;
  GALLOP(r->n, from, ENDS_AFTER, out);
  return out;
}

uint32_t ls_vseries_at_from(const ls_vseries *s, uint64_t t, uint32_t from) {
  uint32_t first_after;
  GALLOP(s->n, from == UINT32_MAX ? 0 : from, AFTER, first_after);
  return first_after ? first_after - 1 : UINT32_MAX;
}

uint32_t ls_vrow_first_after(const ls_vrow *r, uint64_t t) {
  uint32_t out;
  FIRST_WHERE(0, r->n, ENDS_AFTER, out);
  return out;
}

uint32_t ls_vrow_first_start_at(const ls_vrow *r, uint64_t t) {
  uint32_t out;
  FIRST_WHERE(0, r->n, STARTS_AT_OR_AFTER, out);
  return out;
}

uint32_t ls_vinstants_first_at(const ls_vinstants *r, uint64_t t) {
  uint32_t out;
  FIRST_WHERE(0, r->n, AT_OR_AFTER, out);
  return out;
}

uint32_t ls_vseries_at(const ls_vseries *s, uint64_t t) {
  uint32_t first_after;
  FIRST_WHERE(0, s->n, AFTER, first_after);
  return first_after ? first_after - 1 : UINT32_MAX;
}

#undef ENDS_AFTER
#undef STARTS_AT_OR_AFTER
#undef AT_OR_AFTER
#undef AFTER

const ls_vslice *ls_vmodel_slice(const ls_vmodel *m, ls_vref ref) {
  if (ref.thread < 0 || (unsigned)ref.thread >= m->nthreads)
    return NULL;
  const ls_vthread *t = &m->threads[ref.thread];
  const ls_vrow *row;
  if (ref.row >= LS_VREF_ASYNC_ROW) {
    if ((unsigned)(ref.row - LS_VREF_ASYNC_ROW) >= t->nasync_rows)
      return NULL;
    row = &t->async_rows[ref.row - LS_VREF_ASYNC_ROW];
  } else {
    if (ref.row < 0 || (unsigned)ref.row >= t->nrows)
      return NULL;
    row = &t->rows[ref.row];
  }
  return ref.idx < row->n ? &row->v[ref.idx] : NULL;
}

ls_vref ls_vmodel_pool_work(const ls_vmodel *m, const ls_vpend *p) {
  for (unsigned ti = 0; p->t_pool != LS_VT_NEVER && ti < m->nthreads; ti++) {
    const ls_vthread *w = &m->threads[ti];
    for (unsigned r = 0; w->npool && r < w->nrows; r++) {
      const ls_vrow *row = &w->rows[r];
      for (uint32_t i = ls_vrow_first_start_at(row, p->t_pool);
           i < row->n && row->v[i].t0 == p->t_pool; i++)
        if (row->v[i].cls == LS_VC_POOL && row->v[i].id == p->id)
          return (ls_vref){(int)ti, (int)r, i};
    }
  }
  return (ls_vref){-1, 0, 0};
}

const ls_vpend *ls_vmodel_pend_of(const ls_vmodel *m, ls_vref ref,
                                  int *sched_thread) {
  const ls_vslice *s = ls_vmodel_slice(m, ref);
  if (s == NULL || !(ls_vc_is_callback(s->cls) || s->cls == LS_VC_POOL))
    return NULL;
  for (unsigned ti = 0; ti < m->nthreads; ti++) {
    const ls_vthread *t = &m->threads[ti];
    for (uint32_t i = 0; i < t->npend; i++)
      if (t->pend[i].id == s->id &&
          (s->cls == LS_VC_POOL ? t->pend[i].t_pool : t->pend[i].t_run) ==
              s->t0) {
        if (sched_thread)
          *sched_thread = (int)ti;
        return &t->pend[i];
      }
  }
  return NULL;
}

ls_vref ls_vmodel_next_long(const ls_vmodel *m, uint64_t t, uint64_t min_ns,
                            bool forward) {
  ls_vref best = {-1, 0, 0};
  uint64_t best_t = forward ? UINT64_MAX : 0;
  for (unsigned ti = 0; ti < m->nthreads; ti++) {
    const ls_vthread *th = &m->threads[ti];
    for (unsigned r = 0; r < th->nrows; r++) {
      const ls_vrow *row = &th->rows[r];
      if (forward) {
        for (uint32_t i = ls_vrow_first_start_at(row, t + 1); i < row->n; i++) {
          const ls_vslice *s = &row->v[i];
          if (s->t0 >= best_t)
            break;
          if (ls_vc_is_callback(s->cls) && s->t1 - s->t0 >= min_ns) {
            best_t = s->t0;
            best = (ls_vref){(int)ti, (int)r, i};
            break;
          }
        }
      } else {
        for (uint32_t i = ls_vrow_first_start_at(row, t); i-- > 0;) {
          const ls_vslice *s = &row->v[i];
          if (best.thread >= 0 && s->t0 <= best_t)
            break;
          if (ls_vc_is_callback(s->cls) && s->t1 - s->t0 >= min_ns) {
            best_t = s->t0;
            best = (ls_vref){(int)ti, (int)r, i};
            break;
          }
        }
      }
    }
  }
  return best;
}

static bool contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if (strncasecmp(hay, needle, n) == 0)
      return true;
  return n == 0;
}

ls_vref ls_vmodel_search(const ls_vmodel *m, const char *needle, uint64_t t,
                         bool forward) {
  /* Match labels once (strings are few), then look for the nearest slice
   * carrying a matching label. */
  uint32_t ns = m->strings.n;
  uint8_t *match = xcalloc(ns, 1);
  bool any = false;
  for (uint32_t i = 1; i < ns; i++)
    any |= match[i] = contains_ci(m->strings.s[i], needle);
  ls_vref best = {-1, 0, 0}, wrap = {-1, 0, 0};
  uint64_t best_t = forward ? UINT64_MAX : 0, wrap_t = best_t;
  for (unsigned ti = 0; any && ti < m->nthreads; ti++) {
    const ls_vthread *th = &m->threads[ti];
    for (unsigned r = 0; r < th->nrows; r++) {
      const ls_vrow *row = &th->rows[r];
      for (uint32_t i = 0; i < row->n; i++) {
        const ls_vslice *s = &row->v[i];
        if (s->label >= ns || !match[s->label])
          continue;
        ls_vref ref = {(int)ti, (int)r, i};
        bool after = forward ? s->t0 > t : s->t0 < t;
        if (after && (forward ? s->t0 < best_t : s->t0 > best_t)) {
          best_t = s->t0;
          best = ref;
        }
        if (!after && (forward ? s->t0 < wrap_t : s->t0 > wrap_t)) {
          wrap_t = s->t0;
          wrap = ref;
        }
      }
    }
  }
  free(match);
  return best.thread >= 0 ? best : wrap;
}

uint64_t ls_vmodel_step(const ls_vmodel *m, uint64_t t, bool forward) {
  uint64_t best = forward ? UINT64_MAX : 0;
  bool found = false;
  for (unsigned ti = 0; ti < m->nthreads; ti++) {
    const ls_vthread *th = &m->threads[ti];
    for (unsigned r = 0; r < th->nrows; r++) {
      const ls_vrow *row = &th->rows[r];
      uint32_t i = ls_vrow_first_start_at(row, forward ? t + 1 : t);
      if (forward && i < row->n && row->v[i].t0 < best) {
        best = row->v[i].t0;
        found = true;
      }
      if (!forward && i > 0 && row->v[i - 1].t0 >= best) {
        best = row->v[i - 1].t0;
        found = true;
      }
    }
    const ls_vinstants *in = &th->instants;
    uint32_t i = ls_vinstants_first_at(in, forward ? t + 1 : t);
    if (forward && i < in->n && in->v[i].t < best) {
      best = in->v[i].t;
      found = true;
    }
    if (!forward && i > 0 && in->v[i - 1].t >= best) {
      best = in->v[i - 1].t;
      found = true;
    }
  }
  return found ? best : t;
}
