/* The thread pool and fs requests: results and errors on the loop thread. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "loopscope/runtime.h"

static ls_loop loop;
static pthread_t loop_thread;
static char path[64];

static void setup(void) {
  cr_assert_eq(ls_loop_init(&loop), 0);
  loop_thread = pthread_self();
  snprintf(path, sizeof(path), "/tmp/loopscope-fs-%d", (int)getpid());
}

static void teardown(void) {
  unlink(path);
  cr_assert_eq(ls_loop_close(&loop), 0);
}

TestSuite(fs, .init = setup, .fini = teardown, .timeout = 30);

/* open -> write -> read back -> stat -> close, each step from the
 * previous one's callback. */
static ls_fs req;
static int fd = -1;
static char readback[16];
static int steps;

static void step(ls_fs *r);

static void start_next(int which) {
  int err = 0;
  switch (which) {
  case 1:
    err = ls_fs_write(&loop, &req, fd, ls_buf_init("loopscope", 9), 0, step);
    break;
  case 2:
    err = ls_fs_read(&loop, &req, fd, ls_buf_init(readback, sizeof(readback)),
                     0, step);
    break;
  case 3:
    err = ls_fs_stat(&loop, &req, path, step);
    break;
  case 4:
    err = ls_fs_close(&loop, &req, fd, step);
    break;
  }
  cr_assert_eq(err, 0);
}

static void step(ls_fs *r) {
  cr_assert(pthread_equal(pthread_self(), loop_thread));
  cr_assert_geq(r->result, 0, "step %d: %s", steps, ls_strerror((int)r->result));
  switch (r->type) {
  case LS_FS_OPEN:
    fd = (int)r->result;
    break;
  case LS_FS_WRITE:
    cr_expect_eq(r->result, 9);
    break;
  case LS_FS_READ:
    cr_expect_eq(r->result, 9);
    cr_expect(memcmp(readback, "loopscope", 9) == 0);
    break;
  case LS_FS_STAT:
    cr_expect_eq(r->statbuf.st_size, 9);
    break;
  default:
    break;
  }
  ls_fs_cleanup(r);
  steps++;
  if (steps < 5)
    start_next(steps);
}

Test(fs, open_write_read_stat_close_chain) {
  cr_assert_eq(
      ls_fs_open(&loop, &req, path, O_RDWR | O_CREAT | O_TRUNC, 0600, step), 0);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(steps, 5);
  cr_expect_eq(loop.active_reqs, 0);
}

static ls_fs file_req;

static void on_file(ls_fs *r) {
  cr_assert_gt(r->result, 0);
  cr_expect(strstr(r->contents, "Name:") != NULL);
  cr_expect_eq(strlen(r->contents), (size_t)r->result);
  ls_fs_cleanup(r);
  cr_expect_null(r->contents);
}

/* /proc files say size 0: the whole file is read anyway. */
Test(fs, read_file_of_unknown_size) {
  cr_assert_eq(ls_fs_read_file(&loop, &file_req, "/proc/self/status", on_file),
               0);
  ls_run(&loop, LS_RUN_DEFAULT);
}

static ssize_t results[3];
static int nresults;

static void collect(ls_fs *r) {
  results[nresults++] = r->result;
  ls_fs_cleanup(r);
}

Test(fs, errors_reach_the_callback) {
  static ls_fs reqs[3];
  cr_assert_eq(ls_fs_read_file(&loop, &reqs[0], "/nonexistent/x", collect), 0);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_assert_eq(ls_fs_read(&loop, &reqs[1], 1000, ls_buf_init(readback, 4), -1,
                          collect),
               0);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_assert_eq(ls_fs_read_file(&loop, &reqs[2], "/tmp", collect), 0);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(results[0], LS_ENOENT);
  cr_expect_eq(results[1], LS_EBADF);
  cr_expect_eq(results[2], LS_EISDIR);
  cr_expect_eq(ls_fs_read(&loop, &reqs[0], -1, ls_buf_init(readback, 4), 0,
                          collect),
               LS_EBADF);
  cr_expect_eq(ls_fs_open(&loop, &reqs[0], NULL, 0, 0, collect), LS_EINVAL);
  cr_expect_eq(ls_fs_stat(&loop, &reqs[0], path, NULL), LS_EINVAL);
}

/* ---- the pool itself ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int running, max_running, done;

/* Every job waits until 4 run at once: proves 4 workers run in parallel. */
static void parallel_work(ls_work *w) {
  (void)w;
  pthread_mutex_lock(&mu);
  running++;
  if (running > max_running)
    max_running = running;
  pthread_cond_broadcast(&cv);
  while (max_running < 4)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
}

static void after_parallel(ls_work *w, int status) {
  cr_expect_eq(status, 0);
  cr_expect(pthread_equal(pthread_self(), loop_thread));
  (void)w;
  done++;
}

Test(fs, four_workers_by_default) {
  cr_expect_eq(ls_pool_size(), 4);
  static ls_work work[4];
  for (int i = 0; i < 4; i++)
    cr_assert_eq(ls_queue_work(&loop, &work[i], parallel_work, after_parallel),
                 0);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(done, 4);
  cr_expect_eq(max_running, 4);
}

static void blocking_work(ls_work *w) {
  (void)w;
  pthread_mutex_lock(&mu);
  running++;
  pthread_cond_broadcast(&cv);
  while (done == 0)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
}

static int cancel_status = 1;

static void after_cancelled(ls_work *w, int status) {
  (void)w;
  cancel_status = status;
  pthread_mutex_lock(&mu);
  done = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void after_blocking(ls_work *w, int status) {
  (void)w;
  cr_expect_eq(status, 0);
}

/* One worker, busy: the second job is still queued and can be cancelled. */
Test(fs, size_from_environment_and_cancel) {
  setenv("LOOPSCOPE_THREADPOOL_SIZE", "1", 1);
  cr_assert_eq(ls_pool_size(), 1);
  static ls_work busy, queued;
  ls_queue_work(&loop, &busy, blocking_work, after_blocking);
  pthread_mutex_lock(&mu);
  while (running == 0)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  ls_queue_work(&loop, &queued, parallel_work, after_cancelled);
  cr_expect_eq(ls_cancel_work(&queued), 0);
  cr_expect_eq(ls_cancel_work(&busy), LS_EBUSY);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(cancel_status, LS_ECANCELED);
}

/* A request on the heap may be freed in its own callback, as in libuv: the
 * loop must not touch it afterwards (ASan and valgrind see it if it does). */
static int freed;

static void free_in_callback(ls_fs *r) {
  cr_expect_eq(r->result, 0);
  ls_fs_cleanup(r);
  free(r);
  freed++;
}

Test(fs, request_freed_in_its_callback) {
  for (int i = 0; i < 4; i++) {
    ls_fs *r = calloc(1, sizeof(*r));
    cr_assert_not_null(r);
    cr_assert_eq(ls_fs_stat(&loop, r, "/", free_in_callback), 0);
  }
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(freed, 4);
}
