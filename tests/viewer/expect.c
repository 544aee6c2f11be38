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
  }
  ls_reader_close(r);
  x->runs = malloc((x->nfacts + 1) * sizeof *x->runs);
  for (size_t i = 0; i < x->nfacts; i++)
    if (ls_expect_is_callback(&x->facts[i]))
      x->runs[x->nruns++] = (struct run_at){x->facts[i].id, x->facts[i].ts};
  qsort(x->runs, x->nruns, sizeof *x->runs, cmp_run);
}

void ls_expect_free(ls_expect *x) {
  free(x->facts);
  free(x->runs);
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

void ls_expect_queues(const ls_expect *x, uint64_t t,
                      uint64_t counts[LS_VQ_COUNT]) {
  memset(counts, 0, LS_VQ_COUNT * sizeof counts[0]);
  for (size_t i = 0; i < x->nfacts; i++) {
    const ev_fact *s = &x->facts[i];
    if (s->type != LS_EV_INSTANT || strcmp(s->cat, "sched") != 0 || s->ts > t)
      continue;
    struct run_at key = {s->id, s->ts};
    size_t lo = 0, hi = x->nruns;
    while (lo < hi) { /* first run of this id at or after the schedule */
      size_t mid = (lo + hi) / 2;
      if (cmp_run(&x->runs[mid], &key) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    bool ran = lo < x->nruns && x->runs[lo].id == s->id && x->runs[lo].ts <= t;
    if (!ran)
      counts[queue_of(s->name)]++;
  }
}
