/* Started by tests/record/record.c with LOOPSCOPE_TRACE set: records 100
 * loop iterations and returns from main, leaving the stop to the atexit
 * handler. Exit 3: tracing was not on; 4: the variable was left for
 * children. */
#include <stdlib.h>

#include "loopscope/trace.h"

int main(void) {
  if (!ls_trace_active())
    return 3;
  if (getenv("LOOPSCOPE_TRACE") != NULL)
    return 4;
  ls_trace_thread_name("loop");
  for (uint64_t i = 0; i < 100; i++) {
    LS_TRACE_BEGIN(LS_CAT_LOOP, "iteration", i, 0);
    LS_TRACE_BEGIN(LS_CAT_PHASE, ls_phase_names[LS_PHASE_CHECK], 0, 0);
    LS_TRACE_END(LS_CAT_PHASE, ls_phase_names[LS_PHASE_CHECK], 0);
    LS_TRACE_END(LS_CAT_LOOP, "iteration", 0);
  }
  return 0;
}
