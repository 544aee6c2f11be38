/* p10: resolving with a promise costs 2 extra microtask hops, awaiting a
 * native promise or a plain value costs 1. */
#include "twin.h"

#include "loopscope/async.h"

static ls_value log_reaction(ls_value v, void *arg) {
  (void)v;
  log_line(arg);
  return ls_undefined();
}

static ls_value a1(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  log_line("a1");
  return ls_promise_value(ls_promise_resolved(&loop, ls_string("x")));
}

static ls_value a2(ls_value v, void *arg) {
  (void)arg;
  printf("a2 got %s\n", ls_str(v));
  return ls_undefined();
}

static ls_value c(void *arg) {
  (void)arg;
  ls_value_drop(ls_await_value(ls_null()));
  log_line("c1 (await null: 1 tick)");
  return ls_undefined();
}

static ls_value d(void *arg) {
  (void)arg;
  ls_value_drop(ls_await(ls_promise_resolved(&loop, ls_undefined())));
  log_line("d1 (await resolved promise: 1 tick)");
  return ls_undefined();
}

static ls_value ret_p(void *arg) {
  (void)arg;
  return ls_promise_value(ls_promise_resolved(&loop, ls_string("r")));
}

static ls_value e1(ls_value v, void *arg) {
  (void)arg;
  printf("e1 async-return-promise resolved %s\n", ls_str(v));
  return ls_undefined();
}

int main(void) {
  ls_loop_init(&loop);
  ls_promise *a = ls_then(ls_promise_resolved(&loop, ls_undefined()), a1, NULL, NULL);
  ls_promise_unref(ls_then(a, a2, NULL, NULL));
  ls_promise *b = ls_promise_resolved(&loop, ls_undefined());
  static const char *const bs[] = {"b1", "b2", "b3", "b4", "b5"};
  for (int i = 0; i < 5; i++)
    b = ls_then(b, log_reaction, NULL, (void *)bs[i]);
  ls_promise_unref(b);
  ls_promise_unref(ls_async(&loop, c, NULL));
  ls_promise_unref(ls_async(&loop, d, NULL));
  ls_promise_unref(ls_then(ls_async(&loop, ret_p, NULL), e1, NULL, NULL));
  return twin_run();
}
