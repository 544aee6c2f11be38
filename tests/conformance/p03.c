/* p03: nextTicks and microtasks drain after EACH timer callback. */
#include "twin.h"

static ls_timer t1, t2;

static void on_t1(ls_timer *t) {
  (void)t;
  log_line("timeout 1");
  ls_next_tick(&loop, log_line, "  tick in t1");
  ls_queue_microtask(&loop, log_line, "  promise in t1");
}

static void on_t2(ls_timer *t) {
  (void)t;
  log_line("timeout 2");
  ls_next_tick(&loop, log_line, "  tick in t2");
  ls_queue_microtask(&loop, log_line, "  promise in t2");
}

int main(void) {
  ls_loop_init(&loop);
  ls_timer_init(&loop, &t1);
  ls_timer_init(&loop, &t2);
  ls_set_timeout(&t1, on_t1, 0);
  ls_set_timeout(&t2, on_t2, 0);
  return twin_run();
}
