/* p07: delays 0, 0.5, 1.7, NaN, -5 and 1 share the 1 ms list and run in
 * insertion order; other delays run by expiry.
 * twin: timed -- the 10 ms and 5 ms lists must be created within 1 ms of the 1
 * ms list. */
#include <math.h>

#include "twin.h"

static ls_timer timers[8];

static void on_timer(ls_timer *t) { log_line(t->data); }

static void after(int i, double delay, const char *line) {
  ls_timer_init(&loop, &timers[i]);
  timers[i].data = (void *)line;
  ls_set_timeout(&timers[i], on_timer, delay);
}

int main(void) {
  ls_loop_init(&loop);
  after(0, 10, "t 10ms");
  after(1, 1, "t 1ms  #1");
  after(2, 0, "t 0ms  #2");
  after(3, 5, "t 5ms");
  after(4, 0.5, "t 0.5ms #3");
  after(5, 1.7, "t 1.7ms #4");
  after(6, NAN, "t \"abc\"ms #5 (NaN -> 1)"); /* 'abc' * 1 is NaN */
  after(7, -5, "t -5ms #6");
  return twin_run();
}
