/* p22: recursive nextTicks and microtasks run to completion before a 0 ms
 * timer. */
#include "twin.h"

static ls_timer timeout;
static int n, m;

static void on_timeout(ls_timer *t) {
  (void)t;
  log_line("timeout (after all ticks & microtasks)");
}

static void tick(void *arg) {
  (void)arg;
  if (++n < 1000)
    ls_next_tick(&loop, tick, NULL);
  else
    printf("tick chain done n=%d\n", n);
}

static void micro(void *arg) {
  (void)arg;
  if (++m < 1000)
    ls_queue_microtask(&loop, micro, NULL);
  else
    printf("promise chain done m=%d\n", m);
}

int main(void) {
  ls_loop_init(&loop);
  ls_timer_init(&loop, &timeout);
  ls_set_timeout(&timeout, on_timeout, 0);
  ls_next_tick(&loop, tick, NULL);
  ls_queue_microtask(&loop, micro, NULL);
  return twin_run();
}
