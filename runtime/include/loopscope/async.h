/* async / await on stackful coroutines (coro.h).
 *
 *   static ls_value body(void *arg) {
 *     ls_value v = ls_await(ls_sleep(loop, 10));
 *     if (ls_thrown(v)) return v;          // rethrow: rejects our promise
 *     ls_value_drop(v);
 *     return ls_int(42);                   // fulfils our promise
 *   }
 *   ls_promise *p = ls_async(loop, body, NULL);
 *
 * ls_async runs fn synchronously on a new coroutine until its first await,
 * like calling an async function in JS, and returns its promise. ls_await
 * suspends the coroutine; the loop resumes it from a microtask once the
 * promise settles, exactly one microtask after settling, also when the
 * promise was already settled (`await` of a settled promise still yields).
 * Returning a promise value from fn adopts it (2 extra microtasks, as in V8).
 *
 * Each await is an async slice (category "await", id = coroutine id) from
 * suspend to resume in the trace.
 *
 * Costs: an await allocates nothing (its reaction lives in the coroutine's
 * record) and switches stacks twice, a few ns each (coro.h). An async
 * function whose awaited promise never settles stays suspended for good:
 * its stack, and whatever its frames own, is not reclaimed (a garbage
 * collector would; C cannot know the frames' contents).
 */
#ifndef LOOPSCOPE_ASYNC_H
#define LOOPSCOPE_ASYNC_H

#include "loopscope/promise.h"

/* The body of an async function: returns its outcome (owned), ls_throw(x)
 * to reject. */
typedef ls_value (*ls_async_fn)(void *arg);

/* Returns the async function's promise (one reference). If no coroutine
 * stack can be mapped, the promise is rejected with an LS_ENOMEM error. */
ls_promise *ls_async(ls_loop *loop, ls_async_fn fn, void *arg);
/* await p (consumed): the value (owned), or the reason with the thrown flag
 * set. Outside an async function it returns a thrown LS_EINVAL error. */
ls_value ls_await(ls_promise *p);
/* await v for any value (consumed): a promise value is awaited, a thenable
 * is adopted first (its then is called from a microtask, as in V8), anything
 * else behaves as an already fulfilled promise. */
ls_value ls_await_value(ls_value v);
/* True while running inside an ls_async body on this thread. */
bool ls_in_async(void);

#endif
