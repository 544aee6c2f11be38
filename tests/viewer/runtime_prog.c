/* A program on the runtime for the viewer's tests, traced with
 * LOOPSCOPE_TRACE: timeouts that queue a microtask, a nextTick and an
 * immediate each; an interval that reads a file on the thread pool and is
 * cleared on its 6th run; a burst of nextTicks queued from a microtask. */
#include "loopscope/fs.h"
#include "loopscope/immediate.h"
#include "loopscope/loop.h"
#include "loopscope/microtask.h"
#include "loopscope/timer.h"

#define TIMEOUTS 4
#define READS 6

static ls_timer timeouts[TIMEOUTS], interval;
static ls_immediate immediates[TIMEOUTS];
static ls_fs reads[READS];
static const char *self;
static int fired, runs, ticks;

static void nothing(void *arg) { (void)arg; }

static void tick_chain(void *arg) {
  (void)arg;
  if (++ticks % 8)
    ls_next_tick(ls_default_loop(), tick_chain, NULL);
}

static void burst(void *arg) {
  (void)arg;
  ls_next_tick(ls_default_loop(), tick_chain, NULL);
}

static void on_immediate(ls_immediate *im) {
  ls_next_tick(im->loop, nothing, NULL);
}

static void on_timeout(ls_timer *t) {
  ls_queue_microtask(t->loop, burst, NULL);
  ls_next_tick(t->loop, nothing, NULL);
  ls_set_immediate(t->loop, &immediates[fired++], on_immediate);
}

static void on_read(ls_fs *req) { ls_fs_cleanup(req); }

static void on_interval(ls_timer *t) {
  ls_fs_read_file(t->loop, &reads[runs], self, on_read);
  volatile unsigned long x = 0;
  for (unsigned long k = 0; k < 20000; k++)
    x += k;
  if (++runs == READS)
    ls_clear_timer(t);
}

int main(int argc, char **argv) {
  (void)argc;
  self = argv[0];
  ls_loop *loop = ls_default_loop();
  for (int i = 0; i < TIMEOUTS; i++) {
    ls_timer_init(loop, &timeouts[i]);
    ls_set_timeout(&timeouts[i], on_timeout, 1 + 3 * i);
  }
  ls_timer_init(loop, &interval);
  ls_set_interval(&interval, on_interval, 2);
  return ls_run_main(loop);
}
