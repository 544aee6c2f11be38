/* A program on the loopscope runtime (libloopscope.so, with its USDT probes):
 * an interval of 5 ms, 20 ticks, then an immediate. The eBPF test traces it
 * through those probes without LOOPSCOPE_TRACE. */
#include <stdio.h>

#include "loopscope/immediate.h"
#include "loopscope/loop.h"
#include "loopscope/timer.h"

static int ticks;
static ls_immediate done;

static void finish(ls_immediate *im) {
  (void)im;
  printf("ticks %d\n", ticks);
}

static void tick(ls_timer *t) {
  if (++ticks == 20) {
    ls_clear_timer(t);
    ls_set_immediate(ls_default_loop(), &done, finish);
  }
}

int main(void) {
  ls_loop *loop = ls_default_loop();
  ls_timer t;
  ls_timer_init(loop, &t);
  ls_set_interval(&t, tick, 5);
  return ls_run_main(loop);
}
