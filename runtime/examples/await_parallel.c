/* await_parallel: the same three waits, one after the other with await in a
 * loop, then all at once with ls_promise_all.
 *
 * The sequential version takes the sum of the delays, the parallel one the
 * longest. In a trace (LOOPSCOPE_TRACE=await.fxt) each await is a span on
 * its coroutine, so the two shapes are easy to tell apart.
 */
#include <stdio.h>
#include <time.h>

#include "loopscope/async.h"
#include "loopscope/runtime.h"

static ls_loop loop;
static const double delays[] = {30, 20, 10};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static ls_value sequential(void *arg) {
  (void)arg;
  double t0 = now_ms();
  for (int i = 0; i < 3; i++) {
    ls_value_drop(ls_await(ls_sleep(&loop, delays[i])));
    printf("  sequential: wait %d done at %3.0f ms\n", i, now_ms() - t0);
  }
  return ls_double(now_ms() - t0);
}

static ls_value parallel(void *arg) {
  (void)arg;
  double t0 = now_ms();
  ls_value waits[3];
  for (int i = 0; i < 3; i++)
    waits[i] = ls_promise_value(ls_sleep(&loop, delays[i]));
  ls_value_drop(ls_await(ls_promise_all(&loop, waits, 3)));
  printf("  parallel:   all three done at %3.0f ms\n", now_ms() - t0);
  return ls_double(now_ms() - t0);
}

static ls_value both(void *arg) {
  (void)arg;
  ls_value s = ls_await(ls_async(&loop, sequential, NULL));
  ls_value p = ls_await(ls_async(&loop, parallel, NULL));
  printf("sequential took ~%.0f ms (the sum), parallel ~%.0f ms (the longest)\n",
         ls_as_number(s), ls_as_number(p));
  return ls_undefined();
}

int main(void) {
  ls_loop_init(&loop);
  ls_promise_unref(ls_async(&loop, both, NULL));
  int code = ls_run_main(&loop);
  ls_loop_close(&loop);
  return code;
}
