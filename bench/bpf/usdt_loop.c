/* A stand-in for a loop on the loopscope runtime, for bench_bpf: each
 * iteration polls an epoll set without waiting (a real iteration's syscall)
 * and passes the eight trace hooks of an iteration with one callback. Built
 * twice, with the USDT probes and with -DLS_NO_USDT. Prints the ns taken. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loopscope/trace.h"

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    uint64_t id = (uint64_t)i + 1;
    LS_TRACE_BEGIN(LS_CAT_LOOP, "iteration", id, 0);
    LS_TRACE_BEGIN(LS_CAT_PHASE, ls_phase_names[LS_PHASE_POLL], 0, 0);
    int got = epoll_wait(ep, &ev, 1, 0);
    LS_TRACE_END(LS_CAT_PHASE, ls_phase_names[LS_PHASE_POLL], (uint64_t)got);
    LS_TRACE_BEGIN(LS_CAT_PHASE, ls_phase_names[LS_PHASE_TIMERS], 0, 0);
    LS_TRACE_BEGIN(ls_kind_names[LS_KIND_TIMER], "setTimeout", id, 0);
    LS_TRACE_END(ls_kind_names[LS_KIND_TIMER], "setTimeout", 0);
    LS_TRACE_END(LS_CAT_PHASE, ls_phase_names[LS_PHASE_TIMERS], 0);
    LS_TRACE_END(LS_CAT_LOOP, "iteration", 0);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  close(ep);
  printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
                       (t1.tv_nsec - t0.tv_nsec));
  return 0;
}
