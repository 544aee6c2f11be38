/* async / await: ordering, errors, loops, nesting, and many coroutines
 * suspended at once. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "helpers.h"
#include "loopscope/coro.h"

#ifdef LS_VALGRIND
#include <valgrind/valgrind.h>
#endif

TestSuite(async, .init = setup_loop);

static ls_value await_settled(void *arg) {
  (void)arg;
  note("before");
  ls_value v = ls_await(ls_promise_resolved(&loop, ls_int(1)));
  note("after:%lld", (long long)ls_as_int(v));
  return v;
}

Test(async, awaiting_a_settled_promise_still_yields) {
  ls_promise *p = ls_async(&loop, await_settled, NULL);
  note("sync");
  cr_assert_eq(ls_promise_state_of(p), LS_PENDING);
  ls_promise_unref(ls_then(p, note_value, NULL, "result"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "before sync after:1 result:1 ");
}

static ls_value sum_in_a_loop(void *arg) {
  int64_t sum = 0;
  for (int i = 1; i <= *(int *)arg; i++) {
    ls_value v = i % 2 ? ls_await(ls_promise_resolved(&loop, ls_int(i))) : ls_await_value(ls_int(i));
    sum += ls_as_int(v);
    ls_value_drop(v);
  }
  return ls_int(sum);
}

Test(async, await_inside_a_loop) {
  int n = 1000;
  ls_promise_unref(ls_then(ls_async(&loop, sum_in_a_loop, &n), note_value, NULL, "sum"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "sum:500500 ");
}

static ls_value sleepy_steps(void *arg) {
  for (int i = 0; i < 3; i++) {
    ls_value_drop(ls_await(ls_sleep(&loop, 2)));
    note("%s%d", (const char *)arg, i);
  }
  return ls_undefined();
}

Test(async, two_async_functions_sleeping_in_turn) {
  ls_promise_unref(ls_async(&loop, sleepy_steps, "a"));
  ls_promise_unref(ls_async(&loop, sleepy_steps, "b"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "a0 b0 a1 b1 a2 b2 ");
}

static ls_value nested(void *arg) {
  intptr_t depth = (intptr_t)arg;
  if (depth == 0)
    return ls_await(ls_sleep(&loop, 1)), ls_int(0);
  ls_value v = ls_await(ls_async(&loop, nested, (void *)(depth - 1)));
  if (ls_thrown(v))
    return v;
  return ls_int(ls_as_int(v) + depth);
}

Test(async, nested_async_functions_await_each_other) {
  ls_promise_unref(ls_then(ls_async(&loop, nested, (void *)(intptr_t)50), note_value, NULL, "sum"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "sum:1275 ");
  cr_assert_eq(ls_coro_pool_in_use(), 0);
}

static ls_value fails(void *arg) {
  ls_value_drop(ls_await(ls_sleep(&loop, 1)));
  return ls_throw(ls_error(-22, arg));
}

static ls_value catches_and_rethrows(void *arg) {
  (void)arg;
  ls_value e = ls_await(ls_async(&loop, fails, "first"));
  cr_assert(ls_thrown(e));
  note("caught:%s", ls_error_message(e));
  ls_value_drop(e);
  ls_value again = ls_await(ls_async(&loop, fails, "second"));
  return again; /* still thrown: rejects our promise */
}

Test(async, rejections_come_back_as_thrown_values) {
  ls_promise_unref(ls_then(ls_async(&loop, catches_and_rethrows, NULL), note_value, note_error,
                           "outer"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "caught:first outer:second ");
}

Test(async, await_outside_an_async_function_is_an_error) {
  cr_assert_not(ls_in_async());
  ls_value v = ls_await(ls_promise_resolved(&loop, ls_int(1)));
  cr_assert(ls_thrown(v));
  cr_assert_eq(ls_error_code(v), LS_EINVAL);
  ls_value_drop(v);
  cr_assert_eq(run_loop(), 0);
}

static ls_promise *gate;
static int finished;

static ls_value wait_at_gate(void *arg) {
  (void)arg;
  ls_value v = ls_await(ls_promise_ref(gate));
  finished++;
  return v;
}

/* Every async function is suspended at the same time: 100 000 coroutine
 * stacks are live before the gate opens. */
Test(async, hundred_thousand_suspended_async_functions, .timeout = 120) {
  int n = 100000;
#ifdef LS_VALGRIND
  if (RUNNING_ON_VALGRIND)
    n = 2000;
#endif
  gate = ls_promise_new(&loop);
  finished = 0;
  for (int i = 0; i < n; i++)
    ls_promise_unref(ls_async(&loop, wait_at_gate, NULL));
  cr_assert_eq(ls_coro_pool_in_use(), (size_t)n);
  ls_resolve(gate, ls_int(1));
  ls_promise_unref(gate);
  cr_assert_eq(run_loop(), 0);
  cr_assert_eq(finished, n);
  cr_assert_eq(ls_coro_pool_in_use(), 0);
}

static ls_value drop_a_long_pending_chain(void *arg) {
  (void)arg;
  ls_promise *head = ls_promise_new(&loop);
  ls_promise *p = ls_promise_ref(head);
  for (int i = 0; i < 100000; i++)
    p = ls_then(p, NULL, NULL, NULL);
  ls_promise_unref(p);
  ls_promise_unref(head); /* frees 100 001 promises, iteratively */
  return ls_int(1);
}

Test(async, dropping_a_long_pending_chain_on_a_coroutine_stack) {
  ls_promise_unref(ls_then(ls_async(&loop, drop_a_long_pending_chain, NULL), note_value, NULL,
                           "done"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "done:1 ");
}
