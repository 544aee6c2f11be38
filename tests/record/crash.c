/* Crash safety: a traced child killed with SIGKILL leaves a file that reads
 * without error (a torn last record at most) and holds every event it
 * recorded up to 100 ms before the kill.
 *
 * Labelled novalgrind: the 100 ms promise is about a writer thread that
 * runs when its period is due; valgrind runs one thread at a time, slowly
 * enough that the writer can legitimately be more than 100 ms behind. */
#include "helpers.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define LOG_MAX 100000
#define BURST 100

/* The child's own account of what it recorded: entry i says "every id up
 * to id was recorded before t". In shared memory, so it survives the kill. */
typedef struct shared_log {
  _Atomic uint64_t n;
  struct {
    uint64_t id, t;
  } e[LOG_MAX];
} shared_log;

static void child(const char *path, shared_log *log) {
  if (ls_trace_start(path, NULL) != 0)
    _exit(2);
  ls_trace_thread_name("loop");
  uint64_t id = 0;
  /* loop-shaped: a burst of events, then a 1 ms wait, until killed */
  for (;;) {
    for (int i = 0; i < BURST; i++) {
      id++;
      LS_TRACE_BEGIN(ls_kind_names[LS_KIND_IMMEDIATE], "setImmediate", id, 0);
      LS_TRACE_END(ls_kind_names[LS_KIND_IMMEDIATE], "setImmediate", 0);
    }
    uint64_t n = atomic_load(&log->n);
    if (n < LOG_MAX) {
      log->e[n].id = id;
      log->e[n].t = now_ns();
      atomic_store(&log->n, n + 1);
    }
    usleep(1000);
  }
}

Test(record_crash, kill_9_keeps_all_but_the_last_100ms) {
  char *path = tmp_trace("crash");
  shared_log *log = mmap(NULL, sizeof *log, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert(log != MAP_FAILED);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0)
    child(path, log);
  usleep(400000);
  uint64_t kill_t = now_ns();
  cr_assert_eq(kill(pid, SIGKILL), 0);
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
            "the child did not run until killed (status %d)", status);

  uint64_t required = 0; /* every id up to this one must be in the file */
  for (uint64_t i = 0; i < atomic_load(&log->n); i++)
    if (log->e[i].t + 100000000 <= kill_t)
      required = log->e[i].id;
  cr_assert_gt(required, 0, "the child logged nothing in 300 ms");

  /* trace_load fails the test on any error other than a torn tail */
  trace tr;
  trace_load(&tr, path);
  uint64_t begins = 0, ends = 0;
  for (size_t j = 0; j < tr.n; j++) {
    const ls_record *rec = &tr.recs[j];
    cr_assert_neq(rec->kind, LS_REC_LOST);
    if (rec->kind != LS_REC_EVENT)
      continue;
    cr_assert_lt(rec->event.ts, kill_t);
    if (rec->event.type == LS_EV_BEGIN)
      cr_assert_eq(arg_u(&rec->event, "id"), ++begins, "ids not contiguous");
    else
      cr_assert_eq(++ends, begins);
  }
  cr_assert_geq(begins, required,
                "the file ends at id %llu; id %llu was recorded 100 ms "
                "before the kill",
                (unsigned long long)begins, (unsigned long long)required);
  trace_free(&tr);
  munmap(log, sizeof *log);
  unlink(path);
  free(path);
}
