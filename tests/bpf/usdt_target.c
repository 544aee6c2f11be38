/* A stand-in for a program on the loopscope runtime: it makes the runtime's
 * trace hooks (trace.h, USDT provider "loopscope") fire in the shape of a
 * loop, N iterations given on the command line, untraced in-process. The
 * eBPF test attaches to its USDT probes and expects each hook 1:1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "loopscope/trace.h"

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  /* A label built at run time: the tracer must copy the text from the
   * target. Static: trace.h wants names that outlive the trace (the
   * in-process recorder reads them after main returns). */
  static char label[32];
  snprintf(label, sizeof(label), "tick-%d", n);
  for (int i = 1; i <= n; i++) {
    uint64_t id = (uint64_t)i * 10;
    LS_TRACE_BEGIN(LS_CAT_LOOP, "iteration", (uint64_t)i, 0);
    LS_TRACE_BEGIN(LS_CAT_PHASE, ls_phase_names[LS_PHASE_TIMERS], 0, 0);
    LS_TRACE_BEGIN_FLOW_END(ls_kind_names[LS_KIND_TIMER], label, id, id - 10);
    LS_TRACE_INSTANT_FLOW_BEGIN(LS_CAT_SCHED, "setTimeout", id + 10, 5);
    LS_TRACE_COUNTER(ls_counter_names[LS_COUNTER_TIMERS], i);
    LS_TRACE_END(ls_kind_names[LS_KIND_TIMER], label, 0);
    LS_TRACE_END(LS_CAT_PHASE, ls_phase_names[LS_PHASE_TIMERS], 0);
    LS_TRACE_BEGIN(LS_CAT_PHASE, ls_phase_names[LS_PHASE_POLL], 0, 7);
    LS_TRACE_ASYNC_BEGIN(LS_CAT_AWAIT, "sleep", id);
    LS_TRACE_ASYNC_END(LS_CAT_AWAIT, "sleep", id);
    LS_TRACE_END(LS_CAT_PHASE, ls_phase_names[LS_PHASE_POLL], 3);
    LS_TRACE_END(LS_CAT_LOOP, "iteration", 0);
  }
  printf("iterations %d\n", n);
  return 0;
}
