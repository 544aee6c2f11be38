/* A loop on the loopscope runtime for bench_bpf: a chain of N setImmediate
 * callbacks, one per loop iteration, so every iteration passes the runtime's
 * trace hooks (USDT probes). Built against libloopscope twice: as is, and
 * compiled with -DLS_NO_USDT. Prints the ns the chain took. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loopscope/immediate.h"
#include "loopscope/loop.h"

static long left;
static ls_immediate im;

static void next(ls_immediate *i) {
  if (--left > 0)
    ls_set_immediate(ls_default_loop(), i, next);
}

int main(int argc, char **argv) {
  struct timespec t0, t1;
  left = argc > 1 ? atol(argv[1]) : 100000;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  ls_set_immediate(ls_default_loop(), &im, next);
  int rc = ls_run_main(ls_default_loop());
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
                       (t1.tv_nsec - t0.tv_nsec));
  return rc;
}
