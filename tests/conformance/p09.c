/* p09: the classic async/await ordering puzzle. */
#include "twin.h"

#include "loopscope/async.h"

static ls_timer timeout;

static void on_timeout(ls_timer *t) {
  (void)t;
  log_line("setTimeout");
}

static ls_value async2(void *arg) {
  (void)arg;
  log_line("async2");
  return ls_undefined();
}

static ls_value async1(void *arg) {
  (void)arg;
  log_line("async1 start");
  ls_value_drop(ls_await(ls_async(&loop, async2, NULL)));
  log_line("async1 end");
  return ls_undefined();
}

static ls_value promise1(ls_promise *p, void *arg) {
  (void)arg;
  log_line("promise1");
  ls_resolve(p, ls_undefined());
  return ls_undefined();
}

static ls_value promise2(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  log_line("promise2");
  return ls_undefined();
}

int main(void) {
  ls_loop_init(&loop);
  log_line("script start");
  ls_timer_init(&loop, &timeout);
  ls_set_timeout(&timeout, on_timeout, 0);
  ls_promise_unref(ls_async(&loop, async1, NULL));
  ls_promise_unref(ls_then(ls_promise_create(&loop, promise1, NULL), promise2, NULL, NULL));
  ls_next_tick(&loop, log_line, "nextTick");
  log_line("script end");
  return twin_run();
}
