/* p02: a nextTick queued from a microtask runs only after the whole
 * microtask queue, including .then jobs chained meanwhile. */
#include "twin.h"

#include "loopscope/promise.h"

static ls_value log_reaction(ls_value v, void *arg) {
  (void)v;
  log_line(arg);
  return ls_undefined();
}

static ls_value p1(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  log_line("p1");
  ls_next_tick(&loop, log_line, "tick from p1");
  return ls_undefined();
}

static void tick_a(void *arg) {
  (void)arg;
  log_line("tick A");
  ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), log_reaction, NULL,
                           "promise from tick A"));
  ls_next_tick(&loop, log_line, "tick from tick A");
}

int main(void) {
  ls_loop_init(&loop);
  ls_promise *p = ls_then(ls_promise_resolved(&loop, ls_undefined()), p1, NULL, NULL);
  p = ls_then(p, log_reaction, NULL, "p2");
  ls_promise_unref(ls_then(p, log_reaction, NULL, "p3"));
  ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), log_reaction, NULL, "q1"));
  ls_next_tick(&loop, tick_a, NULL);
  ls_next_tick(&loop, log_line, "tick B");
  return twin_run();
}
