/* p25: inside a timer callback setImmediate always beats setTimeout(0): the
 * new timer starts "now" and cannot be due in the same timers run. */
#include "twin.h"

static ls_timer outer, inner;
static ls_immediate immediate;

static void on_inner(ls_timer *t) {
  (void)t;
  log_line("inner timeout 0");
}

static void on_immediate(ls_immediate *i) {
  (void)i;
  log_line("inner immediate");
}

static void on_outer(ls_timer *t) {
  (void)t;
  log_line("outer timeout");
  ls_set_timeout(&inner, on_inner, 0);
  ls_set_immediate(&loop, &immediate, on_immediate);
}

int main(void) {
  ls_loop_init(&loop);
  ls_timer_init(&loop, &outer);
  ls_timer_init(&loop, &inner);
  ls_set_timeout(&outer, on_outer, 0);
  return twin_run();
}
