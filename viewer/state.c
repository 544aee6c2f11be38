/* Loop state at an instant (state.h). */
#include "state.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

int ls_vstate_loop_thread(const ls_vmodel *m) {
  int best = -1;
  uint64_t most = 0;
  for (unsigned i = 0; i < m->nthreads; i++)
    if (m->threads[i].nphases > most) {
      most = m->threads[i].nphases;
      best = (int)i;
    }
  return best;
}

/* Keeps the LS_VSTATE_ITEMS smallest by key (due time for timers, schedule
 * time otherwise) in order: insertion into a short sorted array. */
static void qlist_add(ls_vqlist *l, const ls_vpend *p, bool by_due) {
  l->total++;
  uint64_t key = by_due ? p->t_due : p->t_sched;
  uint32_t at = l->n;
  while (at > 0 && (by_due ? l->v[at - 1].t_due : l->v[at - 1].t_sched) > key)
    at--;
  if (at >= LS_VSTATE_ITEMS)
    return;
  uint32_t keep = l->n < LS_VSTATE_ITEMS ? l->n : LS_VSTATE_ITEMS - 1;
  memmove(&l->v[at + 1], &l->v[at], (keep - at) * sizeof l->v[0]);
  l->v[at] = (ls_vqitem){p->t_sched, p->t_due, p->id, p->label};
  if (l->n < LS_VSTATE_ITEMS)
    l->n++;
}

static bool pend_waiting(const ls_vpend *p, uint64_t t, int loop_thread,
                         unsigned sched_thread) {
  if (p->t_sched > t || (p->t_run != LS_VT_NEVER && p->t_run <= t))
    return false;
  if (p->t_run == LS_VT_NEVER)
    return (int)sched_thread == loop_thread;
  return p->run_thread == loop_thread;
}

static void add_pend(const ls_vpend *p, ls_vstate *st) {
  qlist_add(&st->q[p->queue], p, p->queue == LS_VQ_TIMERS);
  if (p->t_pool != LS_VT_NEVER && st->t < p->t_pool)
    qlist_add(&st->pool_queued, p, false);
}

void ls_vstate_at(const ls_vmodel *m, int loop_thread, uint64_t t,
                  ls_vstate *st) {
  memset(st, 0, sizeof *st);
  st->t = t;
  st->phase = -1;
  st->callback.thread = -1;
  if (loop_thread < 0)
    loop_thread = ls_vstate_loop_thread(m);
  st->loop_thread = loop_thread;

  if (loop_thread >= 0 && (unsigned)loop_thread < m->nthreads) {
    const ls_vthread *lt = &m->threads[loop_thread];
    for (unsigned r = 0; r < lt->nrows; r++) {
      const ls_vrow *row = &lt->rows[r];
      uint32_t i = ls_vrow_first_after(row, t);
      if (i >= row->n || row->v[i].t0 > t)
        continue;
      const ls_vslice *s = &row->v[i];
      if (s->cls == LS_VC_ITERATION) {
        st->in_iteration = true;
        st->iteration = s->id;
      } else if (ls_vc_is_phase(s->cls) && st->phase < 0) {
        st->phase = (int)(s->cls - LS_VC_PHASE);
      } else if (ls_vc_is_callback(s->cls)) {
        st->callback = (ls_vref){loop_thread, (int)r, i};
      }
    }
  }

  for (unsigned ti = 0; ti < m->nthreads; ti++) {
    const ls_vthread *th = &m->threads[ti];
    /* Short waits: scheduled within pend_span before t. */
    uint32_t lo = 0, hi = th->npend;
    while (lo < hi) { /* first pend with t_sched > t */
      uint32_t mid = lo + (hi - lo) / 2;
      if (th->pend[mid].t_sched > t)
        hi = mid;
      else
        lo = mid + 1;
    }
    uint64_t from = t > th->pend_span ? t - th->pend_span : 0;
    for (uint32_t i = lo; i-- > 0 && th->pend[i].t_sched >= from;) {
      const ls_vpend *p = &th->pend[i];
      uint64_t end = p->t_run == LS_VT_NEVER ? UINT64_MAX : p->t_run;
      if (end - p->t_sched > th->pend_span)
        continue; /* a long wait: counted from pend_long below */
      if (pend_waiting(p, t, loop_thread, ti))
        add_pend(p, st);
    }
    for (uint32_t k = 0; k < th->npend_long; k++) {
      const ls_vpend *p = &th->pend[th->pend_long[k]];
      if (pend_waiting(p, t, loop_thread, ti))
        add_pend(p, st);
    }
    /* Thread-pool work running at t. */
    if (th->npool) {
      for (unsigned r = 0; r < th->nrows; r++) {
        const ls_vrow *row = &th->rows[r];
        uint32_t i = ls_vrow_first_after(row, t);
        if (i < row->n && row->v[i].t0 <= t && row->v[i].cls == LS_VC_POOL &&
            st->npool < LS_VSTATE_ITEMS)
          st->pool[st->npool++] = (ls_vpool_item){(int)ti, row->v[i].label,
                                                  row->v[i].t0, row->v[i].id};
      }
    }
  }

  for (unsigned ci = 0; ci < m->ncounters && st->nstreams < LS_VSTATE_ITEMS;
       ci++) {
    const ls_vcounter *c = &m->counters[ci];
    if (!c->stream)
      continue;
    ls_vstream_item *it = &st->streams[st->nstreams];
    memset(it, 0, sizeof *it);
    it->name = c->name;
    bool seen = false;
    for (unsigned s = 0; s < c->nseries; s++) {
      uint32_t i = ls_vseries_at(&c->series[s], t);
      if (i == UINT32_MAX)
        continue;
      const char *sn = ls_vmodel_str(m, c->series[s].name);
      if (strcmp(sn, "hwm") == 0)
        it->hwm = c->series[s].v[i].v;
      else
        it->buffered = c->series[s].v[i].v;
      seen = true;
    }
    uint32_t b = ls_vrow_first_after(&c->backpressure, t);
    it->backpressure =
        b < c->backpressure.n && c->backpressure.v[b].t0 <= t;
    if (seen || it->backpressure)
      st->nstreams++;
  }
}

typedef struct lines {
  ls_vline *v;
  unsigned n, max;
} lines;

static ls_vline *line_add(lines *L, ls_vline_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ls_vline *line_add(lines *L, ls_vline_kind kind, const char *fmt, ...) {
  static ls_vline spare; /* past max: written, never shown */
  ls_vline *l = L->n < L->max ? &L->v[L->n++] : &spare;
  memset(l, 0, sizeof *l);
  l->kind = (uint8_t)kind;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(l->text, sizeof l->text, fmt, ap);
  va_end(ap);
  return l;
}

/* The first LS_VSTATE_SHOWN items of a list, then how many more. */
static void list_items(lines *L, const ls_vmodel *m, const ls_vqlist *q,
                       bool timers, uint64_t t, const char *suffix) {
  uint32_t shown = q->n < LS_VSTATE_SHOWN ? q->n : LS_VSTATE_SHOWN;
  for (uint32_t i = 0; i < shown; i++) {
    const ls_vqitem *it = &q->v[i];
    char d[48] = "";
    if (timers) {
      char dur[24];
      ls_vfmt_dur(dur, sizeof dur, fabs((double)it->t_due - (double)t));
      snprintf(d, sizeof d, " %s %s", it->t_due >= t ? "due in" : "late by",
               dur);
    }
    line_add(L, LS_VLINE_ITEM, "#%" PRIu64 " %s%s%s", it->id,
             ls_vmodel_str(m, it->label), d, suffix)
        ->id = it->id;
  }
  if (q->total > shown)
    line_add(L, LS_VLINE_MORE, "... %" PRIu64 " more", q->total - shown);
}

unsigned ls_vstate_lines(const ls_vmodel *m, const ls_vstate *st,
                         ls_vline *out, unsigned max) {
  lines L = {out, 0, max};
  const ls_vslice *cb = ls_vmodel_slice(m, st->callback);
  if (cb)
    line_add(&L, LS_VLINE_RUNNING, "running: %s", ls_vmodel_str(m, cb->label))
        ->cls = (uint8_t)cb->cls;
  for (int q = 0; q < LS_VQ_COUNT; q++) {
    line_add(&L, LS_VLINE_QUEUE, "%s (%" PRIu64 ")", ls_vqueue_names[q],
             st->q[q].total)
        ->queue = (uint8_t)q;
    list_items(&L, m, &st->q[q], q == LS_VQ_TIMERS, st->t, "");
  }
  line_add(&L, LS_VLINE_HEADING, "thread pool (%" PRIu64 " queued, %u running)",
           st->pool_queued.total, st->npool);
  list_items(&L, m, &st->pool_queued, false, st->t, " waiting");
  for (unsigned i = 0; i < st->npool && i < LS_VSTATE_SHOWN; i++) {
    const ls_vthread *w = &m->threads[st->pool[i].thread];
    const char *name = ls_vmodel_str(m, w->name);
    char tid[32];
    snprintf(tid, sizeof tid, "tid %" PRIu64, w->tid);
    line_add(&L, LS_VLINE_DETAIL, "#%" PRIu64 " %s on %s", st->pool[i].id,
             ls_vmodel_str(m, st->pool[i].label), name[0] ? name : tid);
  }
  if (st->npool > LS_VSTATE_SHOWN)
    line_add(&L, LS_VLINE_MORE, "... %u more", st->npool - LS_VSTATE_SHOWN);
  if (st->nstreams)
    line_add(&L, LS_VLINE_HEADING, "stream buffers");
  for (unsigned i = 0; i < st->nstreams && i < 6; i++) {
    const ls_vstream_item *s = &st->streams[i];
    line_add(&L, s->backpressure ? LS_VLINE_ALERT : LS_VLINE_DETAIL,
             "%s %.0f/%.0f%s", ls_vmodel_str(m, s->name) + 7, s->buffered,
             s->hwm, s->backpressure ? " backpressure" : "");
  }
  return L.n;
}
