/* p08: setInterval re-arms from the time its callback started and
 * interleaves with other timers by expiry.
 * twin: timed -- interval and timeouts interleave by elapsed time. */
#include "twin.h"

static ls_timer iv, t50, t30;
static int n;

static void on_interval(ls_timer *t) {
  char line[32];
  n++;
  snprintf(line, sizeof(line), "interval %d", n);
  log_line(line);
  if (n == 3)
    ls_clear_timer(t);
}

static void on_timeout(ls_timer *t) { log_line(t->data); }

int main(void) {
  ls_loop_init(&loop);
  ls_timer_init(&loop, &iv);
  ls_timer_init(&loop, &t50);
  ls_timer_init(&loop, &t30);
  ls_set_interval(&iv, on_interval, 20);
  t50.data = "timeout 50";
  ls_set_timeout(&t50, on_timeout, 50);
  t30.data = "timeout 30";
  ls_set_timeout(&t30, on_timeout, 30);
  return twin_run();
}
