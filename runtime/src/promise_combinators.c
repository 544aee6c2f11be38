/* Promise.all / allSettled / race / any, written like the spec: each item
 * goes through Promise.resolve, gets one reaction (already settled items:
 * one place in a run, see settled_run), and a shared record counts the
 * items still outstanding (starting at 1, so a combinator over already
 * settled items cannot finish before every item was visited). */
#include "promise_internal.h"

#include <stdio.h>
#include <stdlib.h>

typedef enum { ALL, ALL_SETTLED, RACE, ANY } combinator;

typedef struct {
  unsigned refs; /* one per element reaction and settled run, one for the setup */
  combinator kind;
  ls_promise *result;
  ls_value values; /* all / allSettled: results; any: reasons */
  size_t remaining;
} shared_rec;

/* One item's reaction and where its outcome goes, in one allocation. */
typedef struct {
  ls__reaction reaction;
  shared_rec *shared;
  size_t index;
} element_rec;

/* 100 000 items make 100 000 of them at once: a chunk pool, not malloc. */
static LS__TLS ls__slab_pool element_pool = LS__SLAB_POOL(element_rec);

static const char *const labels[] = {"Promise.all", "Promise.allSettled",
                                     "Promise.race", "Promise.any"};

static void shared_release(shared_rec *s) {
  if (--s->refs != 0)
    return;
  ls_promise_unref(s->result);
  ls_value_drop(s->values);
  free(s);
}

static void element_free(void *arg) {
  element_rec *e = arg;
  shared_release(e->shared);
  ls__slab_put(e);
}

/* The last outstanding item settles the combinator. */
static void count_down(shared_rec *s) {
  if (--s->remaining != 0)
    return;
  if (s->kind == ANY)
    ls_reject(s->result, ls_aggregate_error("All promises were rejected",
                                            ls__value_ref(s->values)));
  else if (s->kind != RACE)
    ls_resolve(s->result, ls__value_ref(s->values));
}

/* One item's outcome: the body of its element job. */
static void element_settled(shared_rec *s, size_t index, bool fulfilled, ls_value v) {
  switch (s->kind) {
  case ALL:
    if (!fulfilled) {
      ls_reject(s->result, ls__value_ref(v));
      return;
    }
    ls__array_set(s->values, index, ls__value_ref(v));
    break;
  case ALL_SETTLED:
    ls__array_set(s->values, index, ls_settled(fulfilled, ls__value_ref(v)));
    break;
  case RACE:
    if (fulfilled)
      ls_resolve(s->result, ls__value_ref(v));
    else
      ls_reject(s->result, ls__value_ref(v));
    return;
  case ANY:
    if (fulfilled) {
      ls_resolve(s->result, ls__value_ref(v));
      return;
    }
    ls__array_set(s->values, index, ls__value_ref(v));
    break;
  }
  count_down(s);
}

static ls_value on_fulfilled(ls_value v, void *arg) {
  element_rec *e = arg;
  element_settled(e->shared, e->index, true, v);
  return ls_undefined();
}

static ls_value on_rejected(ls_value reason, void *arg) {
  element_rec *e = arg;
  element_settled(e->shared, e->index, false, reason);
  return ls_undefined();
}

/* Items that are already settled when the combinator looks at them: V8
 * queues one element job per item, and while the combinator iterates
 * nothing else is queued between them (but a thenable item's job), so they
 * would run back to back. Such a run is queued as one job that does each
 * element's work in turn, with the ids each element job would have had
 * (taken from the loop's counter at the same moments), their USDT probes
 * and their order; what it saves is a reaction record, a queue round trip
 * and a dispatch per item. Element work runs no user code (but the
 * destructor of a value released there, and what that queues goes after
 * the run, as it would go after the element jobs), so nothing can get
 * between two elements. With tracing on, each element stays its own job:
 * the trace shows one slice and flow per job. */
typedef struct {
  ls_promise *item; /* settled; counted */
  uint64_t id;      /* its element job's async id */
  size_t index;
} settled_el;

typedef struct {
  ls_job job; /* first */
  shared_rec *shared;
  size_t count, cap;
  settled_el *el;
} settled_run;

static void *must(void *p) {
  if (!p) {
    fprintf(stderr, "loopscope: out of memory in the promise layer\n");
    abort();
  }
  return p;
}

static void run_settled(ls_job *job) {
  settled_run *run = (settled_run *)job;
  shared_rec *s = run->shared;
  ls_loop *loop = s->result->rt->loop;
  for (size_t k = 0; k < run->count; k++) {
    settled_el *el = &run->el[k];
    if (k > 0) {
      /* The drain's brackets around the next element's job; the drain
       * itself closes the last one. */
      ls__cb_leave(loop, LS_KIND_MICROTASK, job->label, loop->current_async_id);
      ls__cb_enter(loop, LS_KIND_MICROTASK, job->label, el->id, job->trigger_id);
    }
    ls_promise *item = el->item;
    element_settled(s, el->index, item->state == LS_FULFILLED, item->result);
    ls_promise_unref(item);
  }
  free(run->el);
  free(run);
  shared_release(s);
}

/* Adds a settled item to the run at the queue's tail, or starts one. */
static settled_run *add_settled(ls_loop *loop, settled_run *run, shared_rec *s,
                                ls_promise *item, size_t index, size_t left) {
  ls__promise_set_handled(item);
  if (!run || loop->micro_tail != &run->job) {
    run = must(malloc(sizeof *run));
    run->job = (ls_job){.cb = run_settled, .label = labels[s->kind]};
    run->shared = s;
    run->count = run->cap = 0;
    run->el = NULL;
    s->refs++;
    ls__queue_micro(loop, &run->job); /* takes the first element's id */
  }
  if (run->count == run->cap) {
    /* doubling, but no further than the items left */
    size_t cap = run->cap ? run->cap * 2 : 16;
    if (cap > run->count + left)
      cap = run->count + left;
    run->el = must(realloc(run->el, cap * sizeof *run->el));
    run->cap = cap;
  }
  uint64_t id = run->count ? ++loop->async_id_counter : run->job.async_id;
  if (run->count)
    ls__trace_sched(run->job.label, id, 0);
  run->el[run->count++] = (settled_el){.item = item, .id = id, .index = index};
  s->remaining++;
  return run;
}

static ls_promise *combine(ls_loop *loop, combinator kind, ls_value *items, size_t n) {
  shared_rec *s = must(malloc(sizeof *s));
  s->refs = 1;
  s->kind = kind;
  s->result = ls__promise_alloc(loop, 0);
  s->values = kind == RACE ? ls_undefined() : ls_array_new(n);
  s->remaining = 1;
  settled_run *run = NULL;
  for (size_t i = 0; i < n; i++) {
    /* Promise.resolve, with its commonest case inline: a promise item */
    ls_promise *item = ls__as_promise(items[i]);
    if (!item)
      item = ls_promise_resolved(loop, items[i]);
    if (item->state != LS_PENDING && !LS_TRACE_ON()) {
      run = add_settled(loop, run, s, item, i, n - i);
      continue;
    }
    element_rec *e = ls__slab_get(&element_pool);
    e->shared = s;
    e->index = i;
    s->refs++;
    s->remaining++;
    ls__reaction *r = &e->reaction;
    ls__reaction_init(r, LS__R_IN_ARG);
    r->job.label = labels[kind];
    r->on_fulfilled = on_fulfilled;
    r->on_rejected = on_rejected;
    r->arg = e;
    r->arg_free = element_free;
    ls__promise_attach(item, r);
    ls_promise_unref(item);
  }
  ls_promise *result = ls_promise_ref(s->result);
  count_down(s);
  shared_release(s);
  return result;
}

ls_promise *ls_promise_all(ls_loop *loop, ls_value *items, size_t n) {
  return combine(loop, ALL, items, n);
}

ls_promise *ls_promise_all_settled(ls_loop *loop, ls_value *items, size_t n) {
  return combine(loop, ALL_SETTLED, items, n);
}

ls_promise *ls_promise_race(ls_loop *loop, ls_value *items, size_t n) {
  return combine(loop, RACE, items, n);
}

ls_promise *ls_promise_any(ls_loop *loop, ls_value *items, size_t n) {
  return combine(loop, ANY, items, n);
}
