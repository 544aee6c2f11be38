/* The tests' independent reading of a trace (expect.h). */
#include "expect.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loopscope/format.h"

bool ls_expect_is_callback(const ev_fact *f) {
  return f->type == LS_EV_BEGIN && ls_kind_from_name(f->cat) >= 0;
}

static int cmp_run(const void *a, const void *b) {
  const struct run_at *x = a, *y = b;
  return x->id != y->id ? (x->id > y->id) - (x->id < y->id)
                        : (x->ts > y->ts) - (x->ts < y->ts);
}

void ls_expect_read(ls_expect *x, const char *path) {
  memset(x, 0, sizeof *x);
  ls_reader *r;
  char err[256];
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof err), 0, "%s", err);
  ls_record rec;
  size_t cap = 0;
  while (ls_reader_next(r, &rec) == LS_FMT_OK) {
    if (rec.kind != LS_REC_EVENT)
      continue;
    const ls_event *e = &rec.event;
    if (x->nfacts == cap) {
      cap = cap ? cap * 2 : 1024;
      x->facts = realloc(x->facts, cap * sizeof *x->facts);
    }
    ev_fact *f = &x->facts[x->nfacts++];
    memset(f, 0, sizeof *f);
    f->ts = ls_ticks_to_ns(r, e->ts);
    const ls_arg *id = ls_event_arg(e, "id");
    f->id = id ? ls_arg_u64(id) : e->id;
    snprintf(f->name, sizeof f->name, "%s", e->name ? e->name : "");
    snprintf(f->cat, sizeof f->cat, "%s", e->category ? e->category : "");
    f->type = e->type;
    /* A timer is due at its "due" argument (ticks), else delay_ms later. */
    const ls_arg *due = ls_event_arg(e, "due");
    const ls_arg *delay = ls_event_arg(e, "delay_ms");
    f->due = due     ? ls_ticks_to_ns(r, ls_arg_u64(due))
             : delay ? f->ts + (uint64_t)(ls_arg_number(delay) * 1e6)
                     : f->ts;
  }
  ls_reader_close(r);
  x->runs = malloc((x->nfacts + 1) * sizeof *x->runs);
  for (size_t i = 0; i < x->nfacts; i++)
    if (ls_expect_is_callback(&x->facts[i]))
      x->runs[x->nruns++] = (struct run_at){x->facts[i].id, x->facts[i].ts};
  qsort(x->runs, x->nruns, sizeof *x->runs, cmp_run);
  x->pools = malloc((x->nfacts + 1) * sizeof *x->pools);
  for (size_t i = 0; i < x->nfacts; i++)
    if ((x->facts[i].type == LS_EV_BEGIN ||
         x->facts[i].type == LS_EV_COMPLETE) &&
        strcmp(x->facts[i].cat, LS_CAT_POOL) == 0)
      x->pools[x->npools++] = (struct run_at){x->facts[i].id, x->facts[i].ts};
  qsort(x->pools, x->npools, sizeof *x->pools, cmp_run);
}

void ls_expect_free(ls_expect *x) {
  free(x->facts);
  free(x->runs);
  free(x->pools);
  memset(x, 0, sizeof *x);
}

static int queue_of(const char *sched_name) {
  if (strcmp(sched_name, "setTimeout") == 0 ||
      strcmp(sched_name, "setInterval") == 0)
    return LS_VQ_TIMERS;
  if (strcmp(sched_name, "setImmediate") == 0)
    return LS_VQ_IMMEDIATES;
  if (strcmp(sched_name, "nextTick") == 0)
    return LS_VQ_TICKS;
  if (strcmp(sched_name, "then") == 0 ||
      strcmp(sched_name, "queueMicrotask") == 0)
    return LS_VQ_MICROTASKS;
  return LS_VQ_IO;
}

/* The first entry of runs (sorted by id, ts) for id at or after ts, or
 * NULL. */
static const struct run_at *first_at(const struct run_at *v, size_t n,
                                     uint64_t id, uint64_t ts) {
  struct run_at key = {id, ts};
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cmp_run(&v[mid], &key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && v[lo].id == id ? &v[lo] : NULL;
}

/* A sched instant at or before t whose callback has not begun by t. */
static bool waiting(const ls_expect *x, const ev_fact *s, uint64_t t) {
  if (s->type != LS_EV_INSTANT || strcmp(s->cat, "sched") != 0 || s->ts > t)
    return false;
  const struct run_at *run = first_at(x->runs, x->nruns, s->id, s->ts);
  return run == NULL || run->ts > t;
}

void ls_expect_queues(const ls_expect *x, uint64_t t,
                      uint64_t counts[LS_VQ_COUNT]) {
  memset(counts, 0, LS_VQ_COUNT * sizeof counts[0]);
  for (size_t i = 0; i < x->nfacts; i++)
    if (waiting(x, &x->facts[i], t))
      counts[queue_of(x->facts[i].name)]++;
}


size_t ls_expect_queue_items(const ls_expect *x, uint64_t t, int q,
                             ls_expect_item *out, size_t max) {
  size_t n = 0;
  ls_expect_item *all = malloc((x->nfacts + 1) * sizeof *all);
  for (size_t i = 0; i < x->nfacts; i++) {
    const ev_fact *s = &x->facts[i];
    if (waiting(x, s, t) && queue_of(s->name) == q)
      all[n++] = (ls_expect_item){s->id, q == LS_VQ_TIMERS ? s->due : s->ts};
  }
  /* file order for equal keys: a stable sort (insertion, lists are short) */
  for (size_t i = 1; i < n; i++)
    for (size_t k = i; k > 0 && all[k - 1].key > all[k].key; k--) {
      ls_expect_item tmp = all[k];
      all[k] = all[k - 1];
      all[k - 1] = tmp;
    }
  memcpy(out, all, (n < max ? n : max) * sizeof *out);
  free(all);
  return n;
}

uint64_t ls_expect_pool_queued(const ls_expect *x, uint64_t t) {
  uint64_t n = 0;
  for (size_t i = 0; i < x->nfacts; i++) {
    const ev_fact *s = &x->facts[i];
    if (!waiting(x, s, t))
      continue;
    const struct run_at *work = first_at(x->pools, x->npools, s->id, s->ts);
    n += work != NULL && work->ts > t;
  }
  return n;
}

/* Where id sits in the expected items e[0..n), or -1. */
static long find_item(const ls_expect_item *e, size_t n, uint64_t id) {
  for (size_t i = 0; i < n; i++)
    if (e[i].id == id)
      return (long)i;
  return -1;
}

unsigned ls_expect_check_state(const ls_vmodel *m, int lt, const ls_expect *x,
                               uint64_t t, unsigned *pool_queued) {
  static ls_vstate st;
  static ls_vline lines[LS_VSTATE_LINES];
  static ls_expect_item want[LS_VSTATE_ITEMS];
  ls_vstate_at(m, lt, t, &st);
  unsigned n = ls_vstate_lines(m, &st, lines, LS_VSTATE_LINES), nonempty = 0;
  unsigned at = 0; /* the line being read */
  if (at < n && lines[at].kind == LS_VLINE_RUNNING)
    at++;
  for (int q = 0; q < LS_VQ_COUNT; q++) {
    size_t total = ls_expect_queue_items(x, t, q, want, LS_VSTATE_ITEMS);
    size_t kept = total < LS_VSTATE_ITEMS ? total : LS_VSTATE_ITEMS;
    nonempty += total > 0;
    /* The state keeps the first items by key, in order, and counts all. */
    cr_assert_eq(st.q[q].total, total, "t=%lu %s: %lu, want %zu",
                 (unsigned long)t, ls_vqueue_names[q],
                 (unsigned long)st.q[q].total, total);
    cr_assert_eq(st.q[q].n, kept);
    for (uint32_t i = 0; i < st.q[q].n; i++) {
      long k = total > kept ? 0 : find_item(want, kept, st.q[q].v[i].id);
      cr_assert_geq(k, 0, "t=%lu %s: #%lu is not queued", (unsigned long)t,
                    ls_vqueue_names[q], (unsigned long)st.q[q].v[i].id);
      /* equal keys may come in any order; otherwise the trace's order */
      cr_assert_eq(q == LS_VQ_TIMERS ? st.q[q].v[i].t_due
                                     : st.q[q].v[i].t_sched,
                   want[i].key, "t=%lu %s item %u", (unsigned long)t,
                   ls_vqueue_names[q], i);
    }
    /* The panel: "name (total)", the first items, "... N more". */
    char head[64];
    snprintf(head, sizeof head, "%s (%zu)", ls_vqueue_names[q], total);
    cr_assert_lt(at, n);
    cr_assert_eq(lines[at].kind, LS_VLINE_QUEUE);
    cr_assert_str_eq(lines[at].text, head);
    at++;
    size_t shown = total < LS_VSTATE_SHOWN ? total : LS_VSTATE_SHOWN;
    for (size_t i = 0; i < shown; i++, at++) {
      cr_assert_lt(at, n);
      cr_assert_eq(lines[at].kind, LS_VLINE_ITEM);
      cr_assert_eq(lines[at].id, st.q[q].v[i].id);
      char id[32];
      snprintf(id, sizeof id, "#%lu ", (unsigned long)lines[at].id);
      cr_assert(strncmp(lines[at].text, id, strlen(id)) == 0, "%s",
                lines[at].text);
    }
    if (total > shown) {
      char more[64];
      snprintf(more, sizeof more, "... %zu more", total - shown);
      cr_assert_str_eq(lines[at].text, more);
      at++;
    }
  }
  uint64_t pq = ls_expect_pool_queued(x, t);
  cr_assert_eq(st.pool_queued.total, pq, "t=%lu pool queue",
               (unsigned long)t);
  char pool[64];
  snprintf(pool, sizeof pool, "thread pool (%lu queued, ", (unsigned long)pq);
  cr_assert_lt(at, n);
  cr_assert(strncmp(lines[at].text, pool, strlen(pool)) == 0, "%s",
            lines[at].text);
  *pool_queued += pq > 0;
  return nonempty;
}
