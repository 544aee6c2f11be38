/* Promise.all / allSettled / race / any, written like the spec: each item
 * goes through Promise.resolve, gets one reaction, and a shared record
 * counts the items still outstanding (starting at 1, so a combinator over
 * already settled items cannot finish before every item was visited). */
#include "promise_internal.h"

#include <stdio.h>
#include <stdlib.h>

typedef enum { ALL, ALL_SETTLED, RACE, ANY } combinator;

typedef struct {
  unsigned refs; /* one per element reaction, one for the setup */
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
static LS__TLS ls__slab_pool element_pool = {.size = sizeof(element_rec)};

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
                                            ls_value_ref(s->values)));
  else if (s->kind != RACE)
    ls_resolve(s->result, ls_value_ref(s->values));
}

static ls_value on_fulfilled(ls_value v, void *arg) {
  element_rec *e = arg;
  shared_rec *s = e->shared;
  switch (s->kind) {
  case ALL:
    ls_array_set(s->values, e->index, ls_value_ref(v));
    count_down(s);
    break;
  case ALL_SETTLED:
    ls_array_set(s->values, e->index, ls_settled(true, ls_value_ref(v)));
    count_down(s);
    break;
  case RACE:
  case ANY:
    ls_resolve(s->result, ls_value_ref(v));
    break;
  }
  return ls_undefined();
}

static ls_value on_rejected(ls_value reason, void *arg) {
  element_rec *e = arg;
  shared_rec *s = e->shared;
  switch (s->kind) {
  case ALL:
  case RACE:
    ls_reject(s->result, ls_value_ref(reason));
    break;
  case ALL_SETTLED:
    ls_array_set(s->values, e->index, ls_settled(false, ls_value_ref(reason)));
    count_down(s);
    break;
  case ANY:
    ls_array_set(s->values, e->index, ls_value_ref(reason));
    count_down(s);
    break;
  }
  return ls_undefined();
}

static ls_promise *combine(ls_loop *loop, combinator kind, ls_value *items, size_t n) {
  shared_rec *s = malloc(sizeof *s);
  if (!s) {
    fprintf(stderr, "loopscope: out of memory in the promise layer\n");
    abort();
  }
  s->refs = 1;
  s->kind = kind;
  s->result = ls__promise_alloc(loop, 0);
  s->values = kind == RACE ? ls_undefined() : ls_array_new(n);
  s->remaining = 1;
  for (size_t i = 0; i < n; i++) {
    ls_promise *item = ls_promise_resolved(loop, items[i]);
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
