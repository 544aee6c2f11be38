/* A program on the loopscope runtime whose async function awaits plain
 * values: untraced, all but the first resume in place (promise_async.c) and
 * fire the await_in_place probe; recorded in-process, every await is queued.
 * The eBPF test compares the two traces. */
#include <stdio.h>

#include "loopscope/async.h"
#include "loopscope/loop.h"

static ls_value body(void *arg) {
  (void)arg;
  long sum = 0;
  for (int i = 0; i < 20; i++)
    sum += (long)ls_as_int(ls_await_value(ls_int(i)));
  printf("sum %ld\n", sum);
  return ls_undefined();
}

int main(void) {
  ls_loop *loop = ls_default_loop();
  ls_promise_unref(ls_async(loop, body, NULL));
  return ls_run_main(loop);
}
