/* pool_queue: eight blocking jobs on a pool of four workers. The first four
 * run at once, the others wait in the pool queue (the pool_queue counter in
 * a trace); every completion runs on the loop thread, in the poll phase.
 * LOOPSCOPE_THREADPOOL_SIZE=8 lets them all run at once.
 */
#include <stdio.h>
#include <time.h>

#include "loopscope/runtime.h"

#define JOBS 8

static ls_loop loop;
static ls_work work[JOBS];
static uint64_t start;

static void job(ls_work *w) {
  (void)w;
  struct timespec ts = {0, 20 * 1000000}; /* 20 ms of blocking work */
  nanosleep(&ts, NULL);
}

static void done(ls_work *w, int status) {
  ls_update_time(&loop);
  printf("job %ld done after %3llu ms (%s)\n", (long)(w - work),
         (unsigned long long)(ls_now(&loop) - start),
         status ? ls_strerror(status) : "ok");
}

int main(void) {
  ls_loop_init(&loop);
  printf("%d jobs of 20 ms on %u workers\n", JOBS, ls_pool_size());
  start = ls_now(&loop);
  for (int i = 0; i < JOBS; i++) {
    work[i].label = "sleep 20ms";
    ls_queue_work(&loop, &work[i], job, done);
  }
  ls_run_main(&loop);
  ls_loop_close(&loop);
  return 0;
}
