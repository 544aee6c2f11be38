/* The event loop: Node.js semantics on an epoll backend.
 *
 * One iteration, exactly the libuv 1.46 order Node 20 runs
 * (../shared/SEMANTICS.md):
 *
 *   (first call only: update clock, run due timers)
 *   pending -> idle -> prepare -> poll -> pending (bounded) -> check
 *   -> close -> update clock -> timers -> alive?
 *
 * After every macrotask callback (timer, immediate, I/O, close, fs) the loop
 * drains the nextTick queue, then the microtask queue, until both are empty
 * (microtask.h). The loop is caller-owned: embed or allocate an ls_loop and
 * call ls_loop_init on it. Fields marked private are the runtime's.
 */
#ifndef LOOPSCOPE_LOOP_H
#define LOOPSCOPE_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "loopscope/error.h"
#include "loopscope/queue.h"
#include "loopscope/vocab.h"

typedef struct ls_loop ls_loop;
typedef struct ls_handle ls_handle;
typedef struct ls_job ls_job;
typedef struct ls__io ls__io;
typedef struct ls__timer_list ls__timer_list;
typedef struct ls__task ls__task;

typedef enum ls_run_mode {
  LS_RUN_DEFAULT, /* until nothing ref'd is alive or ls_stop */
  LS_RUN_ONCE,    /* one iteration, blocking in poll if nothing is runnable */
  LS_RUN_NOWAIT   /* one iteration, never blocking */
} ls_run_mode;

/* beforeExit / exit listeners: `code` is the exit code so far. */
typedef void (*ls_exit_cb)(ls_loop *loop, int code, void *arg);
/* Called after each microtask drain (the promise layer processes unhandled
 * rejections here); returns nonzero when it queued more ticks or jobs. */
typedef int (*ls_after_microtasks_cb)(ls_loop *loop, void *arg);

#define LS__TIMER_MAP_SIZE 64
#define LS__MAX_EXIT_HOOKS 8

typedef struct ls__exit_hook {
  ls_exit_cb cb;
  void *arg;
} ls__exit_hook;

struct ls_loop {
  void *data; /* for the user */

  /* private: clock, in ms like uv_now(); refreshed at the phase points of
   * libuv and when a timer is created (Node's getLibuvNow()). Read through
   * the TSC, within a few us of CLOCK_MONOTONIC, and never backwards
   * (ls__update_time in internal.h). */
  uint64_t time;
  uint64_t iteration;
  unsigned stop_flag;
  bool running; /* inside ls_run: a nested call is refused */
  bool failed;  /* ls_loop_fail: no more user code runs */
  int exit_code;

  /* private: handles and requests */
  ls__queue handle_queue;
  unsigned active_handles; /* active and ref'd */
  unsigned active_reqs;
  ls__queue pending_queue; /* ls__io watchers with a deferred completion */
  ls__queue idle_handles;
  ls__queue prepare_handles;
  ls__queue check_handles;
  ls_handle *closing_handles; /* LIFO, like libuv */

  /* private: Node's timers (timer.h): lists by delay in a binary heap */
  ls__timer_list **timer_heap;
  unsigned timer_heap_len;
  unsigned timer_heap_cap;
  ls__timer_list *timer_map[LS__TIMER_MAP_SIZE];
  ls__timer_list *timer_list_free;
  uint64_t timer_list_next_id;
  uint64_t timer_next_expiry; /* Node's nextExpiry; UINT64_MAX = none */
  uint64_t timer_due;         /* when Node's single uv timer fires */
  bool timer_active;          /* that uv timer is armed */
  ls__timer_list *timer_running; /* list being run: not freed under us */
  unsigned timer_count;       /* armed timers */
  unsigned timer_refcount;    /* armed ref'd timers */

  /* private: setImmediate (immediate.h) */
  ls__queue immediate_queue;
  unsigned immediate_count;
  unsigned immediate_refcount;

  /* private: nextTick and microtask queues (microtask.h) */
  ls_job *tick_head, *tick_tail;
  ls_job *micro_head, *micro_tail;
  unsigned tick_count;
  unsigned micro_count;
  bool draining;
  ls__task *task_free;
  ls_after_microtasks_cb after_microtasks;
  void *after_microtasks_arg;

  /* private: async ids (Node's async_hooks ids): 1 is the main program */
  uint64_t async_id_counter;
  uint64_t current_async_id;

  /* private: epoll backend (io.h) */
  int backend_fd;
  ls__io **watchers; /* indexed by fd */
  ls__queue watcher_queue; /* interest changes not yet given to epoll */
  unsigned nwatchers;
  void *poll_events; /* the batch being dispatched, for fd invalidation */
  int poll_nevents;
  int poll_index;
  int emfile_fd; /* reserve fd for accepting when out of fds */

  /* private: thread-pool completions (pool.h) */
  int wq_fd; /* eventfd the workers write to */
  ls__io *wq_io;
  pthread_mutex_t wq_mutex;
  ls__queue wq_done;

  /* private: beforeExit / exit listeners */
  ls__exit_hook before_exit[LS__MAX_EXIT_HOOKS];
  ls__exit_hook on_exit[LS__MAX_EXIT_HOOKS];
  unsigned n_before_exit, n_on_exit;

  /* private: counters last emitted to the trace, and utilisation */
  int64_t counter_last[LS_COUNTER_COUNT];
  uint64_t idle_ns;     /* blocked in epoll_wait this iteration */
  int64_t elu_permille; /* -1 until measured */
  int64_t lag_us;       /* lateness of the last timers run, -1 until known */
};

int ls_loop_init(ls_loop *loop);
/* Frees the loop's resources. LS_EBUSY while handles are open or requests
 * are in flight (close them and run the loop first). Timers still armed and
 * immediates still queued (unref'd ones) are disarmed, tasks dropped. */
int ls_loop_close(ls_loop *loop);
/* A process-wide loop, initialised on first use. */
ls_loop *ls_default_loop(void);

/* Runs the loop; returns nonzero if something is still alive (like uv_run).
 * Drains nextTicks and microtasks queued before the call first, as Node does
 * after the main script. LS_EBUSY when called from one of its callbacks. */
int ls_run(ls_loop *loop, ls_run_mode mode);
/* Node's process lifetime: ls_run(DEFAULT), then 'beforeExit' listeners
 * (which may restart the loop) until nothing is alive, then 'exit'
 * listeners (work they schedule never runs). Returns the exit code. */
int ls_run_main(ls_loop *loop);
/* Makes ls_run return after the current iteration. */
void ls_stop(ls_loop *loop);
/* Ends the process the way an uncaught error ends Node: no further user
 * callback, tick or microtask runs, ls_run returns at once and ls_run_main
 * calls the 'exit' listeners with `exit_code` and returns it. */
void ls_loop_fail(ls_loop *loop, int exit_code);
int ls_loop_exit_code(const ls_loop *loop);
bool ls_loop_alive(const ls_loop *loop);

int ls_loop_on_before_exit(ls_loop *loop, ls_exit_cb cb, void *arg);
int ls_loop_on_exit(ls_loop *loop, ls_exit_cb cb, void *arg);

/* The cached loop clock in ms, and a refresh of it. */
uint64_t ls_now(const ls_loop *loop);
void ls_update_time(ls_loop *loop);

/* Async ids: a new id for something scheduled, and the id of the callback
 * running now (1 = the main program), used as the trigger of what it
 * schedules. */
uint64_t ls_new_async_id(ls_loop *loop);
uint64_t ls_current_async_id(const ls_loop *loop);

#endif
