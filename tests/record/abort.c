/* A traced program that crashes (here: abort(), whose SIGABRT no sanitizer
 * claims) still gets its last events into the file: the crash handler has
 * the writer thread drain, or dump the flight recorder, before dying. */
#include "helpers.h"

#include <signal.h>
#include <sys/wait.h>

#define EVENTS 20000

static void crash_after_events(const char *path, ls_trace_mode mode) {
  ls_trace_opts opts = {.mode = mode, .window_s = 60};
  if (ls_trace_start(path, &opts) != 0)
    _exit(2);
  for (uint64_t id = 1; id <= EVENTS; id++)
    LS_TRACE_INSTANT(LS_CAT_SCHED, "setImmediate", id, 0);
  abort(); /* at once: the last events are still in the ring */
}

static void check(ls_trace_mode mode) {
  char *path = tmp_trace("abort");
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0)
    crash_after_events(path, mode);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
            "the child did not die of its abort (status %d)", status);
  trace tr;
  trace_load(&tr, path);
  uint64_t n = 0;
  for (size_t j = 0; j < tr.n; j++)
    if (tr.recs[j].kind == LS_REC_EVENT)
      cr_assert_eq(arg_u(&tr.recs[j].event, "id"), ++n);
  cr_assert_eq(n, EVENTS);
  trace_free(&tr);
  unlink(path);
  free(path);
}

Test(record_abort, discard_mode_drains_everything) {
  check(LS_TRACE_DISCARD);
}

Test(record_abort, flight_recorder_writes_its_window) {
  check(LS_TRACE_FLIGHT_RECORDER);
}
