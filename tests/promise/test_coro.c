/* Coroutines: resume / yield order, nesting, ids, stack reuse, many live
 * coroutines. The switch's registers and the stack overflow report are
 * coro_abi.c's, which also runs as an AArch64 binary. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loopscope/coro.h"

#ifdef LS_VALGRIND
#include <valgrind/valgrind.h>
#endif

static char trail[256];

static void mark(const char *s) { strcat(trail, s); }

static void counter(ls_coro *co, void *arg) {
  (void)co;
  int *n = arg;
  for (int i = 0; i < 3; i++) {
    (*n)++;
    ls_coro_yield();
  }
}

Test(coro, resume_runs_until_yield_then_finishes) {
  int n = 0;
  ls_coro *co = ls_coro_new(counter, &n);
  cr_assert_not_null(co);
  cr_assert_null(ls_coro_current());
  for (int i = 1; i <= 3; i++) {
    ls_coro_resume(co);
    cr_assert_eq(n, i);
    cr_assert_not(ls_coro_finished(co));
  }
  ls_coro_resume(co);
  cr_assert(ls_coro_finished(co));
  cr_assert_eq(ls_coro_pool_in_use(), 1);
  ls_coro_free(co);
  cr_assert_eq(ls_coro_pool_in_use(), 0);
}

static void inner(ls_coro *co, void *arg) {
  (void)arg;
  cr_assert_eq(ls_coro_current(), co);
  mark("i1 ");
  ls_coro_yield();
  mark("i2 ");
}

static void outer(ls_coro *co, void *arg) {
  ls_coro *in = arg;
  mark("o1 ");
  ls_coro_resume(in); /* in yields back to us, not to main */
  cr_assert_eq(ls_coro_current(), co);
  mark("o2 ");
  ls_coro_yield();
  ls_coro_resume(in);
  mark("o3 ");
}

Test(coro, nested_resume_yields_to_the_resumer) {
  trail[0] = 0;
  ls_coro *in = ls_coro_new(inner, NULL);
  ls_coro *out = ls_coro_new(outer, in);
  ls_coro_resume(out);
  mark("m1 ");
  ls_coro_resume(out);
  cr_assert(ls_coro_finished(out));
  cr_assert(ls_coro_finished(in));
  cr_assert_str_eq(trail, "o1 i1 o2 m1 i2 o3 ");
  cr_assert_neq(ls_coro_id(in), ls_coro_id(out));
  cr_assert_neq(ls_coro_id(in), 0);
  ls_coro_free(in);
  ls_coro_free(out);
}

static void deep(ls_coro *co, void *arg) {
  (void)co;
  /* Touch most of the stack, so reuse of a dirty stack is exercised. */
  volatile char buf[64 * 1024];
  memset((char *)buf, 0xab, sizeof buf);
  *(int *)arg += buf[100] != 0;
}

Test(coro, stacks_are_pooled_and_reused) {
  int ran = 0;
  for (int i = 0; i < 200; i++) {
    ls_coro *co = ls_coro_new(deep, &ran);
    ls_coro_resume(co);
    ls_coro_free(co);
  }
  cr_assert_eq(ran, 200);
  cr_assert_eq(ls_coro_pool_mapped(), 64, "one slab serves sequential coroutines");
}

static void parked(ls_coro *co, void *arg) {
  (void)co;
  (*(int *)arg)++;
  ls_coro_yield();
  (*(int *)arg)--;
}

/* 100 000 suspended coroutines at once: stacks come from slabs whose guards
 * do not split mappings, so vm.max_map_count (65530) is not the limit.
 * Valgrind tracks every registered stack on each switch, so it gets fewer. */
Test(coro, hundred_thousand_live_coroutines, .timeout = 120) {
  int n = 100000;
#ifdef LS_VALGRIND
  if (RUNNING_ON_VALGRIND)
    n = 2000;
#endif
  ls_coro **all = malloc(sizeof *all * (size_t)n);
  int live = 0;
  for (int i = 0; i < n; i++) {
    all[i] = ls_coro_new(parked, &live);
    cr_assert_not_null(all[i], "coroutine %d: %s", i, strerror(errno));
    ls_coro_resume(all[i]);
  }
  cr_assert_eq(live, n);
  cr_assert_eq(ls_coro_pool_in_use(), (size_t)n);
  for (int i = 0; i < n; i++) {
    ls_coro_resume(all[i]);
    cr_assert(ls_coro_finished(all[i]));
    ls_coro_free(all[i]);
  }
  cr_assert_eq(live, 0);
  cr_assert_eq(ls_coro_pool_in_use(), 0);
  free(all);
}

Test(coro, stack_size_is_rounded_and_bounded) {
  size_t old = ls_coro_stack_size();
  ls_coro_set_stack_size(1);
  cr_assert_eq(ls_coro_stack_size(), 16 * 1024);
  ls_coro_set_stack_size(100000);
  cr_assert_eq(ls_coro_stack_size() % 4096, 0);
  cr_assert_geq(ls_coro_stack_size(), 100000);
  ls_coro_set_stack_size(old);
}
