/* The thread pool: process-wide workers, per-loop completion queues.
 *
 * A worker runs the work, puts the request on its loop's done queue and
 * writes the loop's eventfd; the loop reads the eventfd in its poll phase
 * and runs the after-callbacks there, like libuv's uv_async wakeup.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>


#define DEFAULT_THREADS 4
#define MAX_THREADS 128

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static ls__queue pool_queue;
static pthread_t *threads;
static unsigned nthreads;
static bool pool_exiting;
static atomic_uint pool_waiting; /* queued, not started */

typedef struct worker_arg {
  unsigned index;
} worker_arg;

/* Thread names must outlive the trace: one static slot per worker. */
static char thread_names[MAX_THREADS][16];

static void *worker(void *p) {
  worker_arg *arg = p;
  char *name = thread_names[arg->index];
  snprintf(name, sizeof(thread_names[0]), "pool-%u", arg->index + 1);
  free(arg);
  ls_trace_thread_name(name);
  pthread_mutex_lock(&pool_mutex);
  for (;;) {
    while (ls__queue_empty(&pool_queue) && !pool_exiting)
      pthread_cond_wait(&pool_cond, &pool_mutex);
    if (pool_exiting)
      break;
    ls__queue *q = ls__queue_head(&pool_queue);
    ls__queue_remove(q);
    atomic_fetch_sub(&pool_waiting, 1);
    pthread_mutex_unlock(&pool_mutex);

    ls_work *req = ls__queue_data(q, ls_work, queue);
    const char *label = req->label ? req->label : "work";
    /* The flow goes queued -> worker slice -> completion callback: it ends
     * here and begins again for the loop thread. */
    LS_TRACE_BEGIN_FLOW_END(LS_CAT_POOL, label, req->async_id, 0);
    req->work_cb(req);
    LS_TRACE_FLOW_BEGIN(req->async_id);
    LS_TRACE_END(LS_CAT_POOL, label, 0);

    ls_loop *loop = req->loop;
    pthread_mutex_lock(&loop->wq_mutex);
    ls__queue_insert_tail(&loop->wq_done, &req->queue);
    pthread_mutex_unlock(&loop->wq_mutex);
    uint64_t one = 1;
    ssize_t r;
    do
      r = write(loop->wq_fd, &one, sizeof(one));
    while (r < 0 && errno == EINTR);

    pthread_mutex_lock(&pool_mutex);
  }
  pthread_mutex_unlock(&pool_mutex);
  return NULL;
}

/* Stops the workers at exit so leak checkers see a clean process. */
static void pool_cleanup(void) {
  pthread_mutex_lock(&pool_mutex);
  pool_exiting = true;
  pthread_cond_broadcast(&pool_cond);
  pthread_mutex_unlock(&pool_mutex);
  for (unsigned i = 0; i < nthreads; i++)
    pthread_join(threads[i], NULL);
  free(threads);
  threads = NULL;
  nthreads = 0;
}

static void pool_init(void) {
  unsigned n = DEFAULT_THREADS;
  const char *env = getenv("LOOPSCOPE_THREADPOOL_SIZE");
  if (env && *env) {
    long v = strtol(env, NULL, 10);
    n = v < 1 ? 1 : v > MAX_THREADS ? MAX_THREADS : (unsigned)v;
  }
  ls__queue_init(&pool_queue);
  threads = calloc(n, sizeof(*threads));
  if (!threads)
    return;
  for (unsigned i = 0; i < n; i++) {
    worker_arg *arg = malloc(sizeof(*arg));
    if (!arg)
      break;
    arg->index = i;
    if (pthread_create(&threads[nthreads], NULL, worker, arg) != 0) {
      free(arg);
      break;
    }
    nthreads++;
  }
  atexit(pool_cleanup);
}

unsigned ls_pool_size(void) {
  pthread_once(&pool_once, pool_init);
  return nthreads;
}

unsigned ls__pool_queued(void) { return atomic_load(&pool_waiting); }

static void after_work(ls_loop *loop, ls_work *req) {
  loop->active_reqs--;
  if (loop->failed)
    return;
  /* The callback may free req (libuv allows it for fs requests): nothing
   * after it reads req. */
  const char *label = req->label ? req->label : "work";
  ls_kind kind = req->kind;
  uint64_t prev =
      ls__cb_enter(loop, kind, label, req->async_id, req->trigger_id);
  req->after_cb(req, req->status);
  ls__cb_leave(loop, kind, label, prev);
  ls__drain_if_queued(loop);
}

/* The eventfd became readable: run every finished request's callback. */
static void wq_io_cb(ls_loop *loop, ls__io *w, unsigned events) {
  (void)events;
  uint64_t count;
  while (read(w->fd, &count, sizeof(count)) < 0 && errno == EINTR)
    ;
  ls__queue done;
  pthread_mutex_lock(&loop->wq_mutex);
  ls__queue_move(&loop->wq_done, &done);
  pthread_mutex_unlock(&loop->wq_mutex);
  while (!ls__queue_empty(&done)) {
    ls__queue *q = ls__queue_head(&done);
    ls__queue_remove(q);
    after_work(loop, ls__queue_data(q, ls_work, queue));
  }
}

int ls__pool_loop_init(ls_loop *loop) {
  loop->wq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->wq_fd < 0)
    return -errno;
  loop->wq_io = malloc(sizeof(*loop->wq_io));
  if (!loop->wq_io) {
    close(loop->wq_fd);
    return LS_ENOMEM;
  }
  ls__io_init(loop->wq_io, wq_io_cb, loop->wq_fd);
  int err = ls__io_start(loop, loop->wq_io, EPOLLIN);
  if (err) {
    free(loop->wq_io);
    close(loop->wq_fd);
    return err;
  }
  pthread_mutex_init(&loop->wq_mutex, NULL);
  return 0;
}

void ls__pool_loop_close(ls_loop *loop) {
  ls__io_close(loop, loop->wq_io);
  free(loop->wq_io);
  loop->wq_io = NULL;
  close(loop->wq_fd);
  loop->wq_fd = -1;
  pthread_mutex_destroy(&loop->wq_mutex);
}

int ls__pool_submit(ls_loop *loop, ls_work *req, ls_kind kind,
                    ls_work_cb work_cb, ls_after_work_cb after_cb) {
  if (!loop || !req || !work_cb || !after_cb)
    return LS_EINVAL;
  if (ls_pool_size() == 0)
    return LS_ENOMEM;
  req->loop = loop;
  req->work_cb = work_cb;
  req->after_cb = after_cb;
  req->kind = kind;
  req->status = 0;
  req->async_id = ls_new_async_id(loop);
  req->trigger_id = loop->current_async_id;
  loop->active_reqs++;
  ls__trace_sched(req->label ? req->label : "work", req->async_id, 0);
  pthread_mutex_lock(&pool_mutex);
  ls__queue_insert_tail(&pool_queue, &req->queue);
  atomic_fetch_add(&pool_waiting, 1);
  pthread_cond_signal(&pool_cond);
  pthread_mutex_unlock(&pool_mutex);
  return 0;
}

int ls_queue_work(ls_loop *loop, ls_work *req, ls_work_cb work_cb,
                  ls_after_work_cb after_cb) {
  return ls__pool_submit(loop, req, LS_KIND_USER, work_cb, after_cb);
}

int ls_cancel_work(ls_work *req) {
  if (!req || !req->loop)
    return LS_EINVAL;
  ls_loop *loop = req->loop;
  pthread_mutex_lock(&pool_mutex);
  /* Still on the pool queue iff no worker took it: workers unlink it under
   * this mutex before running it. */
  bool queued = false;
  for (ls__queue *q = ls__queue_head(&pool_queue); q != &pool_queue;
       q = q->next)
    if (q == &req->queue) {
      queued = true;
      break;
    }
  if (queued) {
    ls__queue_remove(&req->queue);
    atomic_fetch_sub(&pool_waiting, 1);
  }
  pthread_mutex_unlock(&pool_mutex);
  if (!queued)
    return LS_EBUSY;
  req->status = LS_ECANCELED;
  pthread_mutex_lock(&loop->wq_mutex);
  ls__queue_insert_tail(&loop->wq_done, &req->queue);
  pthread_mutex_unlock(&loop->wq_mutex);
  ls__io_feed(loop, loop->wq_io);
  return 0;
}
