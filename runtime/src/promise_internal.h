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

struct ls_promise {
  ls__obj h; /* first: an LS_VAL_PROMISE value points here */
  uint8_t state;   /* ls_promise_state */
  bool locked;     /* resolve/reject already called ("already resolved") */
  bool handled;    /* a reaction was attached ([[PromiseIsHandled]]) */
  bool in_pending; /* on rt->pending: rejected, unhandled, not checked yet */
  bool reported;   /* unhandled reported; a later handler is "late" */
  ls_loop *loop;
  ls__promise_rt *rt;
  uint64_t id;
  ls_value result;
  ls__reaction *reactions, *reactions_tail; /* while pending, FIFO */
  ls_promise *rej_prev, *rej_next;           /* on rt->pending or rt->late */
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
  ls_job job;
  ls__reaction *next; /* in the source's reaction list */
  ls__reaction_kind kind;
  ls__reaction_storage storage;
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
  ls__slab_chunk *cur;     /* allocations come from here */
  ls__slab_chunk *partial; /* other chunks with free room */
} ls__slab_pool;
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

#endif
