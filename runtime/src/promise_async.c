/* async / await: an async function is a coroutine; await attaches a
 * reaction to the promise and yields; the reaction's microtask resumes it. */
#include "promise_internal.h"

#include <stddef.h>
#include <string.h>

#include "coro_internal.h"

/* Lives on the coroutine's own stack for the coroutine's whole life. */
typedef struct ls__async {
  ls_loop *loop;
  ls_promise *promise; /* the async function's own (counted) */
  ls_async_fn fn;
  void *arg;
  ls_coro *co;
  uint64_t co_id; /* ls_coro_id(co), the await slices' id */
  ls_value resumed_with; /* set by the reaction before it resumes us */
  /* Resumed by its own plain-value await job, straight from the drain:
   * when this coroutine yields, the drain runs the next microtask. */
  bool from_drain;
  /* The reaction of the current await: one await at a time per async
   * function, so it lives here instead of being allocated per await. */
  ls__reaction reaction;
} ls__async;

/* The async function running on this thread (innermost), NULL outside. */
static LS__TLS ls__async *current_async;

bool ls_in_async(void) { return current_async != NULL; }

/* Resumes co and frees it if it returned. Nothing on co's stack may be
 * touched afterwards: it may be gone. */
static void run(ls__async *a, bool from_drain) {
  ls_coro *co = a->co;
  a->from_drain = from_drain;
  ls__async *outer = current_async;
  current_async = a;
  ls_coro_resume(co);
  current_async = outer;
  if (ls_coro_finished(co))
    ls_coro_free(co);
}

static void body(ls_coro *co, void *init) {
  ls__async a = *(ls__async *)init;
  a.co = co;
  a.co_id = ls_coro_id(co);
  current_async = &a;
  ls_value out = a.fn(a.arg);
  if (ls_thrown(out))
    ls__promise_reject(a.promise, ls_caught(out));
  else
    ls__promise_resolve(a.promise, out); /* a promise value is adopted */
  ls_promise_unref(a.promise);
}

ls_promise *ls_async(ls_loop *loop, ls_async_fn fn, void *arg) {
  ls_promise *p = ls__promise_alloc(loop, 0);
  p->locked = true; /* only the function's outcome settles it */
  ls__async init = {.loop = loop, .promise = ls_promise_ref(p), .fn = fn, .arg = arg};
  ls_coro *co = ls_coro_new(body, &init);
  if (!co) {
    ls_promise_unref(p);
    ls__promise_reject(p, ls_error(LS_ENOMEM, "no memory for a coroutine stack"));
    return p;
  }
  /* body copies init before its first await, so init may live here. */
  ls__async starter = {.co = co};
  run(&starter, false);
  return p;
}

static ls_value resume_fulfilled(ls_value v, void *arg) {
  ls__async *a = arg;
  a->resumed_with = ls__value_ref(v);
  run(a, false);
  return ls_undefined();
}

static ls_value resume_rejected(ls_value v, void *arg) {
  ls__async *a = arg;
  a->resumed_with = ls_throw(ls__value_ref(v));
  run(a, false);
  return ls_undefined();
}

static ls__async *check_in_async(void) {
  ls__async *a = current_async;
  return a && ls__coro_running == a->co ? a : NULL;
}

/* Suspends until the reaction (or the plain job) resumes us. */
static ls_value suspend(ls__async *a) {
  uint64_t id = a->co_id;
  LS_TRACE_ASYNC_BEGIN(LS_CAT_AWAIT, "await", id);
  ls_coro_yield();
  /* `a` is current again: run() set it, whoever resumed us. */
  LS_TRACE_ASYNC_END(LS_CAT_AWAIT, "await", id);
  ls_value v = a->resumed_with;
  a->resumed_with = ls_undefined();
  return v;
}

static ls_value not_in_async(void) {
  return ls_throw(ls_error(LS_EINVAL, "ls_await called outside an async function"));
}

ls_value ls_await(ls_promise *p) {
  ls__async *a = check_in_async();
  if (!a) {
    ls_promise_unref(p);
    return not_in_async();
  }
  /* V8 awaits a native promise directly: PerformPromiseThen, one hop. The
   * reference to p stays on this frame while we wait, which keeps p (and
   * so the reaction in its list) alive. */
  ls__reaction *r = &a->reaction;
  ls__reaction_init(r, LS__R_IN_AWAIT);
  r->job.label = "await";
  r->on_fulfilled = resume_fulfilled;
  r->on_rejected = resume_rejected;
  r->arg = a;
  ls__promise_attach(p, r);
  ls_value v = suspend(a);
  ls_promise_unref(p);
  return v;
}

static void resume_plain(ls_job *job) {
  run((ls__async *)((char *)job - offsetof(ls__async, reaction.job)), true);
}

/* Everything but the in-place await (below): promises, thenables, errors
 * and the queued plain await. Out of line, so that the in-place path makes
 * no call and saves no registers. */
static __attribute__((noinline)) ls_value await_value_queued(ls_value v) {
  ls_promise *p = ls__as_promise(v);
  if (p)
    return ls_await(p);
  ls__async *a = check_in_async();
  if (!a) {
    ls_value_drop(v);
    return not_in_async();
  }
  /* await of a thenable is await Promise.resolve(thenable): its then is
   * called from a job, and the await reacts to the adopting promise. */
  if (v.type == LS_VAL_THENABLE)
    return ls_await(ls_promise_resolved(a->loop, v));
  /* await of a plain value: V8 wraps it in a fulfilled promise and reacts
   * to it, one hop. Nothing else can see that promise, so the job carries
   * the value itself. */
  a->resumed_with = ls_caught(v);
  memset(&a->reaction.job, 0, sizeof a->reaction.job);
  a->reaction.job.cb = resume_plain;
  a->reaction.job.label = "await";
  ls__queue_micro(a->loop, &a->reaction.job);
  return suspend(a);
}

ls_value ls_await_value(ls_value v) {
  ls__async *a = check_in_async();
  ls_loop *loop;
  if (a && !ls__value_is_heap(v) && a->from_drain && !(loop = a->loop)->micro_head &&
      !loop->failed && !LS_TRACE_ON()) {
    /* A plain value, and the job would be the only one queued: yielding
     * would go straight back to the drain, which would pop it and resume
     * us; nothing else can run in between (ticks wait for an empty
     * microtask queue, and so does the after-microtasks hook). So run it
     * in place, without the two switches: the same hooks (USDT probes), the
     * same async ids, only the queue and the coroutine switches are
     * skipped. The switches were most of an await: every return after one
     * misses the return stack buffer. With tracing on, the job goes
     * through the queue as before.
     *
     * Tracing is off here, so of the hooks the queued path passes
     * (ls__trace_sched, LS_TRACE_ASYNC_BEGIN, ls__cb_leave, ls__cb_enter,
     * LS_TRACE_ASYNC_END) only their USDT probes could fire: one probe
     * stands for all seven (trace.h), so the untraced path pays one nop and
     * three registers instead of seven nops and their fourteen arguments,
     * and an attached tracer one trap instead of seven. */
    uint64_t id = ++loop->async_id_counter; /* as ls_queue_job stamps it */
    LS_TRACE_PROBE_AWAIT_IN_PLACE(id, loop->current_async_id, a->co_id);
    loop->current_async_id = id;
    return ls_caught(v);
  }
  return await_value_queued(v);
}
