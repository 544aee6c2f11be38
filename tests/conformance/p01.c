/* p01: the nextTick queue drains before the promise (microtask) queue. */
#include "twin.h"

#include "loopscope/promise.h"

static ls_timer timeout;

static void on_timeout(ls_timer *t) {
  (void)t;
  log_line("timeout");
}

/* () => log(arg) as a promise reaction */
static ls_value log_reaction(ls_value v, void *arg) {
  (void)v;
  log_line(arg);
  return ls_undefined();
}

int main(void) {
  ls_loop_init(&loop);
  log_line("sync 1");
  ls_timer_init(&loop, &timeout);
  ls_set_timeout(&timeout, on_timeout, 0);
  ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), log_reaction, NULL, "promise"));
  ls_queue_microtask(&loop, log_line, "queueMicrotask");
  ls_next_tick(&loop, log_line, "nextTick");
  log_line("sync 2");
  return twin_run();
}
