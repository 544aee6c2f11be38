/* async / await: an async function is a coroutine; await attaches a
 * reaction to the promise and yields; the reaction's microtask resumes it. */
#include "promise_internal.h"

#include "loopscope/coro.h"

/* Lives on the coroutine's own stack for the coroutine's whole life. */
typedef struct ls__async {
  ls_loop *loop;
  ls_promise *promise; /* the async function's own (counted) */
  ls_async_fn fn;
  void *arg;
  ls_coro *co;
  ls_promise *awaited;  /* counted while suspended */
  ls_value resumed_with; /* set by the reaction before it resumes us */
} ls__async;

/* The async function running on this thread (innermost), NULL outside. */
static __thread ls__async *current_async;

bool ls_in_async(void) { return current_async != NULL; }

/* Resumes co and frees it if it returned. Nothing on co's stack may be
 * touched afterwards: it may be gone. */
static void run(ls__async *a) {
  ls_coro *co = a->co;
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
  run(&starter);
  return p;
}

static ls_value resume_fulfilled(ls_value v, void *arg) {
  ls__async *a = arg;
  a->resumed_with = ls_value_ref(v);
  run(a);
  return ls_undefined();
}

static ls_value resume_rejected(ls_value v, void *arg) {
  ls__async *a = arg;
  a->resumed_with = ls_throw(ls_value_ref(v));
  run(a);
  return ls_undefined();
}

ls_value ls_await(ls_promise *p) {
  ls__async *a = current_async;
  if (!a || ls_coro_current() != a->co) {
    ls_promise_unref(p);
    return ls_throw(ls_error(LS_EINVAL, "ls_await called outside an async function"));
  }
  /* V8 awaits a native promise directly: PerformPromiseThen, one hop. */
  ls__reaction *r = ls__reaction_new();
  r->job.label = "await";
  r->on_fulfilled = resume_fulfilled;
  r->on_rejected = resume_rejected;
  r->arg = a;
  a->awaited = p; /* keeps p, and so this reaction, alive while we wait */
  ls__promise_attach(p, r);
  uint64_t id = ls_coro_id(a->co);
  LS_TRACE_ASYNC_BEGIN(LS_CAT_AWAIT, "await", id);
  ls_coro_yield();
  /* Resumed from the reaction: `a` is the same record, now current again
   * (run() set it), whoever resumed us. */
  LS_TRACE_ASYNC_END(LS_CAT_AWAIT, "await", id);
  ls_value v = a->resumed_with;
  a->resumed_with = ls_undefined();
  a->awaited = NULL;
  ls_promise_unref(p);
  return v;
}

ls_value ls_await_value(ls_value v) {
  ls__async *a = current_async;
  ls_promise *p = ls_as_promise(v);
  if (!p && a)
    p = ls_promise_resolved(a->loop, v);
  else if (!p) {
    ls_value_drop(v);
    return ls_throw(ls_error(LS_EINVAL, "ls_await called outside an async function"));
  }
  return ls_await(p);
}
