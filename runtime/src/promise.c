/* The promise state machine: settle, reactions as microtask jobs, adoption
 * of promises with V8's hop counts, then / catch / finally. */
#include "promise_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *must(void *p) {
  if (!p) {
    fprintf(stderr, "loopscope: out of memory in the promise layer\n");
    abort();
  }
  return p;
}

/* Promises and reactions are made and dropped at microtask rate, and a
 * long .then chain makes a million of them up front, so malloc was a third
 * of a chain link's cost. Each thread carves them out of 64 KiB chunks
 * instead: one pool per object size, a free list per chunk, and a chunk goes
 * back to malloc as soon as its last object is freed (so a finished chain
 * does not keep its memory). Each object has its chunk's address in the
 * word before it. (Aligned chunks, found by masking the address, wasted a
 * quarter of the memory in glibc's alignment slack, and each page costs a
 * fault on first touch.) Objects are freed on the thread that made them (a
 * value belongs to one loop thread). 64 KiB stays under glibc's mmap
 * threshold, so chunks come from its heap. Sanitizer builds use malloc /
 * free directly so ASan still sees every use after free. */
enum { LS__CHUNK = 64 * 1024 };

/* Forced inline: each runs once or twice per chain link, and as calls
 * their register saves and restores were a fifth of a link's instructions. */
#define LS__HOT static inline __attribute__((always_inline))

typedef struct slab_obj {
  struct slab_obj *next;
} slab_obj;
struct ls__slab_chunk {
  ls__slab_pool *pool;
  ls__slab_chunk *prev, *next; /* on pool->partial, if listed */
  slab_obj *free;              /* freed objects of this chunk */
  char *bump, *end;            /* never used yet: [bump, end) */
  unsigned live;
  bool listed;
};
/* What precedes each object in a chunk. */
typedef struct {
  ls__slab_chunk *chunk;
} slab_header;
static LS__TLS ls__slab_pool promise_pool = LS__SLAB_POOL(ls_promise);
static LS__TLS ls__slab_pool reaction_pool = LS__SLAB_POOL(ls__reaction);

/* A then's derived promise and the reaction that will settle it, in one
 * allocation: a 1M-link chain makes 1M of each up front. */
typedef struct {
  ls_promise p; /* first: freeing the promise frees the block */
  ls__reaction r;
} then_block;
static LS__TLS ls__slab_pool block_pool = LS__SLAB_POOL(then_block);

#ifndef LS_SANITIZE
static void partial_unlink(ls__slab_pool *pool, ls__slab_chunk *c) {
  if (c->prev)
    c->prev->next = c->next;
  else
    pool->partial = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->listed = false;
}

/* Makes pool->cur a chunk with room: a partial one, else a new one. */
static ls__slab_chunk *slab_refill(ls__slab_pool *pool) {
  ls__slab_chunk *c = pool->partial;
  if (c) {
    partial_unlink(pool, c);
  } else {
    c = must(malloc(LS__CHUNK));
    c->pool = pool;
    c->free = NULL;
    c->bump = (char *)(c + 1);
    c->end = (char *)c + LS__CHUNK;
    c->live = 0;
    c->listed = false;
  }
  c->prev = c->next = NULL;
  pool->cur = c;
  return c;
}
#endif

/* An object from the current chunk, or NULL when it has no room left. */
LS__HOT void *slab_try_get(ls__slab_pool *pool) {
#ifndef LS_SANITIZE
  ls__slab_chunk *c = pool->cur;
  void *obj;
  if (c && c->free) {
    obj = c->free;
    c->free = c->free->next;
  } else if (c && (size_t)(c->end - c->bump) >= pool->stride) {
    slab_header *h = (slab_header *)c->bump;
    h->chunk = c;
    obj = h + 1;
    c->bump += pool->stride;
  } else {
    return NULL;
  }
  c->live++;
  return obj;
#else
  return must(malloc(pool->size));
#endif
}

LS__HOT void *slab_get(ls__slab_pool *pool) {
  void *obj;
#ifndef LS_SANITIZE
  while (!(obj = slab_try_get(pool)))
    slab_refill(pool);
#else
  obj = slab_try_get(pool); /* malloc: never NULL */
#endif
  return obj;
}

LS__HOT void slab_put(void *obj) {
#ifndef LS_SANITIZE
  ls__slab_chunk *c = ((slab_header *)obj - 1)->chunk;
  ls__slab_pool *pool = c->pool;
  slab_obj *o = obj;
  o->next = c->free;
  c->free = o;
  c->live--;
  if (c == pool->cur)
    return;
  if (c->live == 0) {
    if (c->listed)
      partial_unlink(pool, c);
    free(c);
  } else if (!c->listed) {
    c->prev = NULL;
    c->next = pool->partial;
    if (c->next)
      c->next->prev = c;
    pool->partial = c;
    c->listed = true;
  }
#else
  free(obj);
#endif
}

void *ls__slab_get(ls__slab_pool *pool) { return slab_get(pool); }
void ls__slab_put(void *obj) { slab_put(obj); }

/* Inlined: as a call it cost more than the disabled hook it wraps. */
LS__HOT void trace_ev(const ls_promise *p, ls_promise_ev ev, uint64_t arg) {
  LS_TRACE_INSTANT(LS_CAT_PROMISE, ls_promise_ev_names[ev], p->id, arg);
}

/* The same where the caller saw the recorder off: only the USDT probe, so
 * no call (see ls_promise_resolved). */
LS__HOT void probe_ev(const ls_promise *p, ls_promise_ev ev, uint64_t arg) {
  (void)p, (void)ev, (void)arg; /* builds without USDT probes */
  LS__USDT(instant, LS_CAT_PROMISE, ls_promise_ev_names[ev], p->id, arg);
}

/* rt: the loop's promise state, which a derived promise takes from its
 * parent instead of looking it up. recorder_off: the caller saw it off. */
LS__HOT void promise_init_as(ls_promise *p, ls__promise_rt *rt, uint64_t parent,
                             bool recorder_off) {
  p->h.refs = 1;
  p->state = LS_PENDING;
  p->locked = p->handled = p->in_pending = p->reported = false;
  p->rt = rt;
  p->id = ++rt->loop->async_id_counter; /* ls_new_async_id, without the PLT hop */
  p->result = ls_undefined();
  p->reactions = p->reactions_tail = NULL;
  (recorder_off ? probe_ev : trace_ev)(p, LS_PROMISE_CREATED, parent);
}

LS__HOT void promise_init(ls_promise *p, ls__promise_rt *rt, uint64_t parent) {
  promise_init_as(p, rt, parent, false);
}

LS__HOT ls_promise *promise_alloc(ls_loop *loop, uint64_t parent) {
  ls_promise *p = slab_get(&promise_pool);
  promise_init(p, ls__promise_rt_get(loop), parent);
  return p;
}

ls_promise *ls__promise_alloc(ls_loop *loop, uint64_t parent) {
  return promise_alloc(loop, parent);
}

ls_promise *ls_promise_ref(ls_promise *p) {
  p->h.refs++;
  return p;
}

/* The derived promise goes last: r may live inside it. */
LS__HOT void reaction_free(ls__reaction *r) {
  ls_promise *source = r->source, *derived = r->derived;
  void (*arg_free)(void *) = r->arg_free;
  void *arg = r->arg;
  if (r->kind == LS__R_FOREIGN)
    ls_value_drop(r->thenable);
  if (r->storage == LS__R_HEAP)
    slab_put(r);
  if (source)
    ls_promise_unref(source);
  if (arg_free)
    arg_free(arg);
  if (derived)
    ls_promise_unref(derived);
}

/* Freeing a promise can free the next one (its pending reactions hold the
 * promises they would settle), so a dropped chain of a million pending
 * thens would recurse a million deep, on what may be a coroutine's small
 * stack. Promises whose count hits zero queue here instead, and the
 * outermost unref frees them one by one. */
static LS__TLS ls_promise *dying;
static LS__TLS bool freeing;

static void promise_free(ls_promise *p) {
  /* Only a pending promise can still hold reactions: nothing can settle it
   * any more, so they can never run. (A settled one's list room may hold
   * its rejection-list or dying-list links.) */
  ls__reaction *r = p->state == LS_PENDING ? p->reactions : NULL;
  while (r) {
    ls__reaction *next = (ls__reaction *)r->job.next;
    reaction_free(r);
    r = next;
  }
  ls_value_drop(p->result);
  slab_put(p);
}

static void promise_free_all(ls_promise *p);

void ls_promise_unref(ls_promise *p) {
  if (--p->h.refs != 0)
    return;
  if (p->state != LS_PENDING && !ls__value_is_heap(p->result)) {
    /* Settled (no reactions) with a scalar: only memory to give back, and
     * nothing else can be freed from here. No call on this path, so it
     * saves no registers. */
    slab_put(p);
    return;
  }
  promise_free_all(p);
}

/* p and every promise its freeing lets go, one by one. */
static __attribute__((noinline)) void promise_free_all(ls_promise *p) {
  if (freeing) {
    p->rej_next = dying; /* free of the rejection lists: they hold a ref */
    dying = p;
    return;
  }
  freeing = true;
  for (;;) {
    promise_free(p);
    if (!(p = dying))
      break;
    dying = p->rej_next;
  }
  freeing = false;
}

static void reaction_job(ls_job *job);

/* Field by field: a compound literal became a `rep stos`, whose start-up
 * cost is most of a then() on a 104-byte record. */
void ls__reaction_init(ls__reaction *r, ls__reaction_storage storage) {
  r->job.next = NULL;
  r->job.cb = reaction_job;
  r->job.label = "then";
  r->job.async_id = 0;
  r->job.trigger_id = 0;
  r->kind = LS__R_THEN;
  r->storage = (uint8_t)storage;
  r->source = NULL;
  r->derived = NULL;
  r->on_fulfilled = NULL;
  r->on_rejected = NULL;
  r->arg = NULL;
  r->arg_free = NULL;
}

ls__reaction *ls__reaction_new(void) {
  ls__reaction *r = slab_get(&reaction_pool);
  ls__reaction_init(r, LS__R_HEAP);
  return r;
}

/* The job takes a reference to its source: the value must outlive it. */
static void queue_reaction(ls_promise *src, ls__reaction *r) {
  r->source = ls_promise_ref(src);
  r->job.async_id = 0;
  r->job.trigger_id = 0;
  ls__queue_micro(src->rt->loop, &r->job);
}

/* The state change of a settlement, without the reactions: all that a
 * promise made already fulfilled needs. */
LS__HOT void set_outcome_as(ls_promise *p, ls_promise_state state, ls_value v,
                            bool recorder_off) {
  p->state = (uint8_t)state;
  p->locked = true;
  p->result = ls_caught(v);
  (recorder_off ? probe_ev : trace_ev)(
      p, state == LS_FULFILLED ? LS_PROMISE_RESOLVED : LS_PROMISE_REJECTED, 0);
}

LS__HOT void set_outcome(ls_promise *p, ls_promise_state state, ls_value v) {
  set_outcome_as(p, state, v, false);
}

LS__HOT void settle(ls_promise *p, ls_promise_state state, ls_value v) {
  set_outcome(p, state, v);
  ls__reaction *r = p->reactions;
  p->reactions = p->reactions_tail = NULL;
  while (r) {
    ls__reaction *next = (ls__reaction *)r->job.next;
    queue_reaction(p, r);
    r = next;
  }
  if (state == LS_REJECTED && !p->handled)
    ls__rejection_untracked(p->rt, p);
}

void ls__promise_fulfill(ls_promise *p, ls_value v) {
  if (p->state != LS_PENDING) {
    ls_value_drop(v);
    return;
  }
  settle(p, LS_FULFILLED, v);
}

void ls__promise_reject(ls_promise *p, ls_value reason) {
  if (p->state != LS_PENDING) {
    ls_value_drop(reason);
    return;
  }
  settle(p, LS_REJECTED, reason);
}

LS__HOT void promise_resolve(ls_promise *p, ls_value v) {
  v = ls_caught(v);
  p->locked = true;
  if (p->state != LS_PENDING) {
    ls_value_drop(v);
    return;
  }
  if (v.type == LS_VAL_THENABLE) {
    /* A foreign thenable: its then runs from a job, one hop from now. */
    ls__reaction *r = ls__reaction_new();
    r->kind = LS__R_FOREIGN;
    r->job.label = "resolveThenable";
    r->thenable = v;
    r->derived = ls_promise_ref(p);
    ls__queue_micro(p->rt->loop, &r->job);
    return;
  }
  ls_promise *q = ls__as_promise(v);
  if (!q) {
    settle(p, LS_FULFILLED, v);
    return;
  }
  if (q == p) {
    ls_value_drop(v);
    settle(p, LS_REJECTED,
           ls_error(LS_EINVAL, "Chaining cycle detected for promise #<Promise>"));
    return;
  }
  /* NewPromiseResolveThenableJob: one hop to call then on q, one more for
   * that then's reaction. The value's reference to q becomes the job's. */
  ls__reaction *r = ls__reaction_new();
  r->kind = LS__R_THENABLE;
  r->job.label = "resolveThenable";
  r->source = q;
  r->derived = ls_promise_ref(p);
  ls__queue_micro(p->rt->loop, &r->job);
}

void ls__promise_resolve(ls_promise *p, ls_value v) { promise_resolve(p, v); }

void ls__promise_attach(ls_promise *p, ls__reaction *r) {
  if (p->state == LS_PENDING) {
    r->job.next = NULL;
    if (p->reactions_tail)
      p->reactions_tail->job.next = &r->job;
    else
      p->reactions = r;
    p->reactions_tail = r;
  } else {
    ls__promise_set_handled(p);
    queue_reaction(p, r);
  }
  p->handled = true;
}

static void reaction_job(ls_job *job) {
  ls__reaction *r = (ls__reaction *)((char *)job - offsetof(ls__reaction, job));
  ls_promise *src = r->source;
  if (r->kind == LS__R_FOREIGN) {
    /* then(resolve, reject) with fresh resolving functions: the promise
     * takes one settlement again, from the thenable. */
    ls_promise *target = r->derived;
    ls_value out;
    target->locked = target->state != LS_PENDING;
    ls__thenable_call(r->thenable, target, &out);
    if (ls_thrown(out) && !target->locked)
      ls_reject(target, out);
    else
      ls_value_drop(out);
    reaction_free(r);
    return;
  }
  if (r->kind == LS__R_THENABLE) {
    /* Now the then() call on the adopted promise: the same record waits on
     * it and passes its outcome through to the adopting promise. */
    r->kind = LS__R_THEN;
    r->job.label = "adopt";
    r->source = NULL;
    ls__promise_attach(src, r);
    ls_promise_unref(src);
    return;
  }
  bool ok = src->state == LS_FULFILLED;
  ls_promise_cb cb = ok ? r->on_fulfilled : r->on_rejected;
  ls_promise *d = r->derived;
  if (r->storage == LS__R_IN_AWAIT) {
    /* An await's reaction lives on the coroutine's stack: the callback
     * resumes the coroutine, which may await again (reusing r) or finish
     * (freeing r). Nothing of r may be touched after the call. */
    ls_value_drop(cb(src->result, r->arg));
    ls_promise_unref(src);
    return;
  }
  if (!cb) {
    if (d) {
      ls_value v = ls__value_ref(src->result);
      if (ok)
        ls__promise_fulfill(d, v);
      else
        ls__promise_reject(d, v);
    }
  } else {
    ls_value out = cb(src->result, r->arg);
    if (!d)
      ls_value_drop(out);
    else if (ls_thrown(out))
      ls__promise_reject(d, ls_caught(out));
    else
      promise_resolve(d, out);
  }
  reaction_free(r);
}

/* ---- public API ---- */

ls_promise *ls_promise_new(ls_loop *loop) { return ls__promise_alloc(loop, 0); }

ls_promise *ls_promise_create(ls_loop *loop, ls_executor_cb executor, void *arg) {
  ls_promise *p = ls__promise_alloc(loop, 0);
  ls_value out = executor(p, arg);
  if (ls_thrown(out) && !p->locked)
    ls_reject(p, out);
  else
    ls_value_drop(out);
  return p;
}

/* Everything ls_promise_resolved does not do without a call: a thenable,
 * the recorder on, a full chunk, a loop's first promise. */
static __attribute__((noinline)) ls_promise *resolved_with_calls(ls_loop *loop, ls_value v) {
  ls_promise *p = ls__promise_alloc(loop, 0);
  if (v.type == LS_VAL_THENABLE)
    promise_resolve(p, v); /* its then is called from a job */
  else
    set_outcome(p, LS_FULFILLED, v); /* no reactions yet */
  return p;
}

/* Promise.resolve(x) of a plain value is every Promise.all item and the
 * start of every chain: its common case makes no call, so it saves and
 * restores no registers (they were a fifth of its cost). */
ls_promise *ls_promise_resolved(ls_loop *loop, ls_value v) {
  ls_promise *q = ls__as_promise(v);
  if (q)
    return q; /* the value's reference is the caller's now */
  ls_promise *p;
  if (v.type == LS_VAL_THENABLE || LS_TRACE_ON() ||
      loop->after_microtasks != ls__promise_after_microtasks ||
      !(p = slab_try_get(&promise_pool)))
    return resolved_with_calls(loop, v);
  promise_init_as(p, loop->after_microtasks_arg, 0, true);
  set_outcome_as(p, LS_FULFILLED, v, true);
  return p;
}

ls_promise *ls_promise_rejected(ls_loop *loop, ls_value reason) {
  ls_promise *p = ls__promise_alloc(loop, 0);
  settle(p, LS_REJECTED, reason);
  return p;
}

void ls_resolve(ls_promise *p, ls_value v) {
  if (p->locked) {
    ls_value_drop(v);
    return;
  }
  ls__promise_resolve(p, v);
}

void ls_reject(ls_promise *p, ls_value reason) {
  if (p->locked) {
    ls_value_drop(reason);
    return;
  }
  p->locked = true;
  ls__promise_reject(p, reason);
}

static ls_promise *then_labelled(ls_promise *p, ls_promise_cb on_fulfilled,
                                 ls_promise_cb on_rejected, void *arg,
                                 void (*arg_free)(void *), const char *label) {
  then_block *b = slab_get(&block_pool);
  ls_promise *d = &b->p;
  promise_init(d, p->rt, p->id);
  ls__reaction *r = &b->r;
  ls__reaction_init(r, LS__R_IN_PROMISE);
  r->job.label = label;
  r->derived = ls_promise_ref(d);
  r->on_fulfilled = on_fulfilled;
  r->on_rejected = on_rejected;
  r->arg = arg;
  r->arg_free = arg_free;
  ls__promise_attach(p, r);
  ls_promise_unref(p);
  return d;
}

ls_promise *ls_then(ls_promise *p, ls_promise_cb on_fulfilled,
                    ls_promise_cb on_rejected, void *arg) {
  return then_labelled(p, on_fulfilled, on_rejected, arg, NULL, "then");
}

ls_promise *ls_catch(ls_promise *p, ls_promise_cb on_rejected, void *arg) {
  return then_labelled(p, NULL, on_rejected, arg, NULL, "catch");
}

/* finally(fn) is then(thenFinally, catchFinally) where each calls fn() and
 * returns resolve(fn()).then(() => outcome): the original outcome comes back
 * through an adopted promise, with the same hops as in V8. */
typedef struct {
  ls_loop *loop;
  ls_finally_cb fn;
  void *arg;
} finally_rec;

typedef struct {
  ls_value outcome;
  bool rejected;
} outcome_rec;

static ls_value outcome_thunk(ls_value ignored, void *arg) {
  (void)ignored;
  outcome_rec *o = arg;
  ls_value v = ls__value_ref(o->outcome);
  return o->rejected ? ls_throw(v) : v;
}

static void outcome_free(void *arg) {
  outcome_rec *o = arg;
  ls_value_drop(o->outcome);
  free(o);
}

static ls_value finally_run(ls_value outcome, finally_rec *f, bool rejected) {
  ls_value r = f->fn(f->arg);
  if (ls_thrown(r))
    return r;
  ls_promise *q = ls_promise_resolved(f->loop, r);
  outcome_rec *o = must(malloc(sizeof *o));
  o->outcome = ls__value_ref(outcome);
  o->rejected = rejected;
  return ls_promise_value(then_labelled(q, outcome_thunk, NULL, o, outcome_free, "finally"));
}

static ls_value finally_fulfilled(ls_value v, void *arg) { return finally_run(v, arg, false); }
static ls_value finally_rejected(ls_value v, void *arg) { return finally_run(v, arg, true); }

ls_promise *ls_finally(ls_promise *p, ls_finally_cb fn, void *arg) {
  finally_rec *f = must(malloc(sizeof *f));
  f->loop = p->rt->loop;
  f->fn = fn;
  f->arg = arg;
  return then_labelled(p, finally_fulfilled, finally_rejected, f, free, "finally");
}

ls_promise_state ls_promise_state_of(const ls_promise *p) {
  return (ls_promise_state)p->state;
}
ls_value ls_promise_result(const ls_promise *p) { return p->result; }
uint64_t ls_promise_id(const ls_promise *p) { return p->id; }
ls_loop *ls_promise_loop(const ls_promise *p) { return p->rt->loop; }
bool ls_promise_handled(const ls_promise *p) { return p->handled; }
