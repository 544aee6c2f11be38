/* What the promise layer needs of the coroutines beyond coro.h. */
#ifndef LOOPSCOPE_CORO_INTERNAL_H
#define LOOPSCOPE_CORO_INTERNAL_H

#include "loopscope/coro.h"

/* The running coroutine of this thread (NULL on the thread's own stack),
 * what ls_coro_current() returns. Read inline by every await, which asks
 * whether it runs on its async function's coroutine: the call was a fifth
 * of an await that resumes in place. initial-exec: see promise_internal.h. */
extern __thread ls_coro *ls__coro_running
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

#endif
