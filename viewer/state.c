/* Loop state at an instant (state.h). */
#include "state.h"

#include <string.h>

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
