/* starvation: a recursive nextTick chain keeps the loop from ever reaching
 * its timers, however overdue they are. Node behaves the same: ticks and
 * microtasks drain completely after every callback. In a trace the chain
 * is one long burst of tick slices inside a single phase.
 */
#include <stdio.h>

#include "loopscope/runtime.h"

static ls_loop loop;
static ls_timer timeout;
static uint64_t scheduled_at, chain_end;
static long ticks;

static void on_timeout(ls_timer *t) {
  (void)t;
  printf("setTimeout(0) ran %llu ms after it was scheduled,\n"
         "after the %ld-tick chain that starved it (ended at +%llu ms)\n",
         (unsigned long long)(ls_now(&loop) - scheduled_at), ticks,
         (unsigned long long)(chain_end - scheduled_at));
}

/* Each tick queues the next until 20 ms have passed. */
static void tick(void *arg) {
  (void)arg;
  ticks++;
  ls_update_time(&loop);
  if (ls_now(&loop) - scheduled_at < 20)
    ls_next_tick(&loop, tick, NULL);
  else
    chain_end = ls_now(&loop);
}

int main(void) {
  ls_loop_init(&loop);
  ls_timer_init(&loop, &timeout);
  ls_set_timeout(&timeout, on_timeout, 0);
  scheduled_at = ls_now(&loop);
  ls_next_tick(&loop, tick, NULL);
  ls_run_main(&loop);
  ls_loop_close(&loop);
  return 0;
}
