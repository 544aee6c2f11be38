/* The thread pool: blocking work (file system calls) runs on worker threads;
 * its completion callback runs on the loop thread in the poll phase, like
 * libuv's threadpool. The pool is process-wide with 4 workers, or
 * LOOPSCOPE_THREADPOOL_SIZE (1..128) read when the first work is queued.
 * Queued work counts as an active request: it keeps the loop alive.
 */
#ifndef LOOPSCOPE_POOL_H
#define LOOPSCOPE_POOL_H

#include <stdint.h>

#include "loopscope/loop.h"

typedef struct ls_work ls_work;
/* Runs on a worker thread: must not touch the loop. */
typedef void (*ls_work_cb)(ls_work *req);
/* Runs on the loop thread; status is 0 or LS_ECANCELED. */
typedef void (*ls_after_work_cb)(ls_work *req, int status);

/* Zero it (or set label) before ls_queue_work. */
struct ls_work {
  void *data;        /* for the user */
  const char *label; /* worker slice and callback label; NULL = "work" */
  ls_loop *loop;
  /* private */
  ls_work_cb work_cb;
  ls_after_work_cb after_cb;
  ls__queue queue;
  ls_kind kind; /* callback slice category: LS_KIND_USER or LS_KIND_FS */
  int status;
  uint64_t async_id;
  uint64_t trigger_id;
};

int ls_queue_work(ls_loop *loop, ls_work *req, ls_work_cb work_cb,
                  ls_after_work_cb after_cb);
/* Cancels work that no worker has started: its after_cb then gets
 * LS_ECANCELED. LS_EBUSY once it started. */
int ls_cancel_work(ls_work *req);
/* Number of workers (starts the pool). */
unsigned ls_pool_size(void);

#endif
