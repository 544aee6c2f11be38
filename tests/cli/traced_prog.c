/* A small program on the runtime for `loopscope record`: two timeouts that
 * each queue a microtask and an immediate (which queues a nextTick), and an
 * interval that busy-waits and is cleared on its 5th run. Exits with the
 * number given as argv[1] (default 0). */
#include <stdlib.h>

#include "loopscope/immediate.h"
#include "loopscope/loop.h"
#include "loopscope/microtask.h"
#include "loopscope/timer.h"

static ls_timer timeouts[2], interval;
static ls_immediate immediates[2];
static int fired, runs;

static void nothing(void *arg) { (void)arg; }

static void on_immediate(ls_immediate *im) {
  ls_next_tick(im->loop, nothing, NULL);
}

static void on_timeout(ls_timer *t) {
  ls_queue_microtask(t->loop, nothing, NULL);
  ls_set_immediate(t->loop, &immediates[fired++], on_immediate);
}

static void on_interval(ls_timer *t) {
  volatile unsigned long x = 0;
  for (unsigned long k = 0; k < 100000; k++)
    x += k;
  if (++runs == 5)
    ls_clear_timer(t);
}

int main(int argc, char **argv) {
  ls_loop *loop = ls_default_loop();
  for (int i = 0; i < 2; i++) {
    ls_timer_init(loop, &timeouts[i]);
    ls_set_timeout(&timeouts[i], on_timeout, 2 + 3 * i);
  }
  ls_timer_init(loop, &interval);
  ls_set_interval(&interval, on_interval, 3);
  int rc = ls_run_main(loop);
  return rc ? rc : argc > 1 ? atoi(argv[1]) : 0;
}
