/* Shared by the promise layer's sources (promise*.c): the promise record,
 * reactions, and the per-loop state of the unhandled-rejection tracker. */
#ifndef LOOPSCOPE_PROMISE_INTERNAL_H
#define LOOPSCOPE_PROMISE_INTERNAL_H

#include "internal.h"
#include "loopscope/async.h"
#include "loopscope/promise.h"

/* Per-thread state of the promise layer. initial-exec: libloopscope is
 * linked at startup, and the default model for a shared library would cost
 * a __tls_get_addr call on every access (12% of an await, measured). */
#define LS__TLS __thread __attribute__((tls_model("initial-exec")))

typedef struct ls__promise_rt ls__promise_rt;
typedef struct ls__reaction ls__reaction;

/* A .then chain makes a promise and a reaction per link up front and the
 * run is bound by memory traffic, so every byte here counts (see
 * then_block in promise.c): the flags share a word with the count, the
 * loop is rt->loop, and the rejection-list links share the room of the
 * reaction list. */
struct ls_promise {
  ls__obj h; /* first: an LS_VAL_PROMISE value points here */
  /* Bytes for what every settle writes, bits for the rejection tracker:
   * all of it fits beside the 4-byte count. */
  uint8_t state; /* ls_promise_state */
  bool locked;   /* resolve/reject already called ("already resolved") */
  bool handled;  /* a reaction was attached ([[PromiseIsHandled]]) */
  bool in_pending : 1; /* on rt->pending: rejected, unhandled, not checked yet */
  bool reported : 1;   /* unhandled reported; a later handler is "late" */
  ls__promise_rt *rt;  /* the loop's promise state; rt->loop is the loop */
  uint64_t id;
  ls_value result;
  union {
    /* While pending: the reactions, FIFO, linked through job.next. */
    struct {
      ls__reaction *reactions, *reactions_tail;
    };
    /* Once rejected: the place on rt->pending or rt->late (a settled
     * promise has no reactions). Also the link of a pending promise on the
     * list of promises being freed (promise.c), which leaves `reactions`
     * intact. */
    struct {
      ls_promise *rej_prev, *rej_next;
    };
  };
};

/* One queued-or-waiting reaction: a user then, an await, a combinator
 * element, the adoption of a promise, or the job that starts it. */
/* Where a reaction's memory lives. */
typedef enum {
  LS__R_HEAP,       /* its own allocation */
  LS__R_IN_PROMISE, /* inside the derived promise it settles (then) */
  LS__R_IN_ARG,     /* inside its arg, which arg_free frees (combinators) */
  LS__R_IN_AWAIT    /* inside an awaiting coroutine's record: the callback
                       resumes the coroutine, which may reuse or free it */
} ls__reaction_storage;

typedef enum {
  LS__R_THEN,    /* run cb, settle derived with its outcome */
  LS__R_FOREIGN, /* call a foreign thenable's then on derived */
  LS__R_THENABLE /* NewPromiseResolveThenableJob: next it attaches itself
                    to `source` as an adoption (pass-through to derived) */
} ls__reaction_kind;

struct ls__reaction {
  /* job.next links it in the source's reaction list until it is queued:
   * a reaction is never on both. */
  ls_job job;
  uint8_t kind;    /* ls__reaction_kind */
  uint8_t storage; /* ls__reaction_storage */
  ls_promise *source;  /* counted reference only while queued */
  ls_promise *derived; /* counted reference; NULL: outcome dropped */
  /* A foreign thenable's reaction has no callbacks: sharing their room
   * keeps a 1M-link chain 16 MB smaller. */
  union {
    struct {
      ls_promise_cb on_fulfilled, on_rejected; /* NULL: pass through */
    };
    ls_value thenable; /* LS__R_FOREIGN: the thenable (counted) */
  };
  void *arg;
  void (*arg_free)(void *arg); /* after the run, or when discarded */
};

struct ls__promise_rt {
  ls_loop *loop;
  ls__promise_rt *next; /* this thread's list (see promise_rejections.c) */
  ls_rejection_mode mode;
  ls_unhandled_cb on_unhandled;
  void *unhandled_arg;
  ls_handled_cb on_handled;
  void *handled_arg;
  /* Rejected without a handler since the last check (counted refs). */
  ls_promise *pending_head, *pending_tail;
  /* Reported, then handled: 'rejectionHandled' due (counted refs). */
  ls_promise *late_head, *late_tail;
};

/* Values on the heap have a reference count (value.c); a promise value's
 * object is the promise, whose count is its ls__obj header. This is
 * ls_value_ref with the scalar case inline, like ls_value_drop. */
static inline ls_value ls__value_ref(ls_value v) {
  if (ls__value_is_heap(v))
    v.u.obj->refs++;
  return v;
}

/* value.c's array, whose items the combinators store one per element. */
typedef struct ls__array {
  ls__obj h;
  size_t len;
  ls_value items[];
} ls__array;

/* ls_array_set for an array value and an index known to be in range:
 * inline, without the checks. */
static inline void ls__array_set(ls_value arr, size_t i, ls_value item) {
  ls__array *a = (ls__array *)arr.u.obj;
  ls_value_drop(a->items[i]);
  a->items[i] = ls_caught(item);
}

/* ls_as_promise, inlined: every await and every resolve asks it. */
static inline ls_promise *ls__as_promise(ls_value v) {
  return v.type == LS_VAL_PROMISE ? (ls_promise *)v.u.obj : NULL;
}

/* promise.c: fixed-size objects from per-thread chunks (see there). A
 * pool is a thread-local, zero but for its size; objects come
 * uninitialised (every user sets each field, so zeroing them first was
 * paid twice) and go back on the thread that made them. */
typedef struct ls__slab_chunk ls__slab_chunk;
typedef struct ls__slab_pool {
  size_t size;
  size_t stride;           /* size rounded up, plus the chunk pointer before it */
  ls__slab_chunk *cur;     /* allocations come from here */
  ls__slab_chunk *partial; /* other chunks with free room */
} ls__slab_pool;
#define LS__SLAB_POOL(type)                                                    \
  {.size = sizeof(type),                                                       \
   .stride = sizeof(ls__slab_chunk *) + ((sizeof(type) + 7) & ~(size_t)7)}
void *ls__slab_get(ls__slab_pool *pool);
void ls__slab_put(void *obj);

ls_promise *ls__promise_alloc(ls_loop *loop, uint64_t parent);
/* The resolve procedure, without the "already resolved" check. */
void ls__promise_resolve(ls_promise *p, ls_value v);
void ls__promise_fulfill(ls_promise *p, ls_value v);
void ls__promise_reject(ls_promise *p, ls_value reason);
/* PerformPromiseThen with a caller-built reaction (kind LS__R_THEN). */
ls__reaction *ls__reaction_new(void);
void ls__reaction_init(ls__reaction *r, ls__reaction_storage storage);
void ls__promise_attach(ls_promise *p, ls__reaction *r);

/* value.c: calls a thenable's then on p; -1 if v is not a thenable. */
int ls__thenable_call(ls_value v, ls_promise *p, ls_value *out);

/* promise_rejections.c */
/* The drain hook that checks for unhandled rejections; its argument is
 * the loop's ls__promise_rt. */
int ls__promise_after_microtasks(ls_loop *loop, void *arg);
/* Makes the loop's state (first promise of a loop at this address). */
ls__promise_rt *ls__promise_rt_setup(ls_loop *loop);
/* Inline: every new promise asks, and the answer is nearly always there. */
static inline ls__promise_rt *ls__promise_rt_get(ls_loop *loop) {
  if (loop->after_microtasks == ls__promise_after_microtasks)
    return loop->after_microtasks_arg;
  return ls__promise_rt_setup(loop);
}
void ls__rejection_untracked(ls__promise_rt *rt, ls_promise *p); /* reject, no handler */
void ls__rejection_handled(ls__promise_rt *rt, ls_promise *p);   /* handler added after */

/* [[PromiseIsHandled]] := true, as attaching a reaction does: a rejection
 * that had no handler is handled now (perhaps late). */
static inline void ls__promise_set_handled(ls_promise *p) {
  if (p->state == LS_REJECTED && !p->handled)
    ls__rejection_handled(p->rt, p);
  p->handled = true;
}

#endif
