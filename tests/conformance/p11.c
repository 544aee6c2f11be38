/* p11: a throw rejects the derived promise, rejections skip fulfilment
 * handlers until a rejection handler, finally passes the outcome through,
 * an executor that throws rejects. */
#include "twin.h"

#include "loopscope/promise.h"

static ls_value then1(ls_value v, void *arg) {
  (void)arg;
  printf("then1 %lld\n", (long long)ls_as_int(v));
  return ls_throw(ls_error(0, "boom"));
}

static ls_value then2(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  log_line("then2 (skipped)");
  return ls_undefined();
}

static ls_value catch_boom(ls_value e, void *arg) {
  (void)arg;
  printf("catch %s\n", ls_error_message(e));
  return ls_string("recovered");
}

static ls_value finally_log(void *arg) {
  (void)arg;
  log_line("finally (no args)");
  return ls_undefined();
}

static ls_value then3(ls_value v, void *arg) {
  (void)arg;
  printf("then3 %s\n", ls_str(v));
  return ls_undefined();
}

static ls_value reject_second(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  return ls_promise_value(ls_promise_rejected(&loop, ls_error(0, "second")));
}

static ls_value on_rejected(ls_value e, void *arg) {
  (void)arg;
  printf("onRejected %s\n", ls_error_message(e));
  return ls_undefined();
}

static ls_value executor_throws(ls_promise *p, void *arg) {
  (void)p;
  (void)arg;
  return ls_throw(ls_error(0, "executor throw"));
}

static ls_value executor_caught(ls_value e, void *arg) {
  (void)arg;
  printf("executor error caught: %s\n", ls_error_message(e));
  return ls_undefined();
}

int main(void) {
  ls_loop_init(&loop);
  ls_promise *p = ls_promise_resolved(&loop, ls_int(1));
  p = ls_then(p, then1, NULL, NULL);
  p = ls_then(p, then2, NULL, NULL);
  p = ls_catch(p, catch_boom, NULL);
  p = ls_finally(p, finally_log, NULL);
  p = ls_then(p, then3, NULL, NULL);
  p = ls_then(p, reject_second, NULL, NULL);
  ls_promise_unref(ls_then(p, NULL, on_rejected, NULL));
  p = ls_promise_create(&loop, executor_throws, NULL);
  ls_promise_unref(ls_catch(p, executor_caught, NULL));
  return twin_run();
}
