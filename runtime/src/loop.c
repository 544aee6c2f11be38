/* The loop: init, the phase list, liveness, process lifetime. */
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* The liveness test (twice per iteration) has an inline body for run();
 * ls_loop_alive wraps it. */
/* Node keeps the loop alive through its timer handle while a ref'd timer is
 * armed, and through an idle handle while a ref'd immediate is queued. */
static inline bool loop_alive(const ls_loop *loop) {
  return loop->active_handles > 0 || loop->active_reqs > 0 ||
         loop->closing_handles != NULL ||
         (loop->timer_active && loop->timer_refcount > 0) ||
         loop->immediate_refcount > 0;
}

int ls_loop_init(ls_loop *loop) {
  if (!loop)
    return LS_EINVAL;
  memset(loop, 0, sizeof(*loop));
  ls__queue_init(&loop->handle_queue);
  ls__queue_init(&loop->pending_queue);
  ls__queue_init(&loop->watcher_queue);
  ls__queue_init(&loop->idle_handles);
  ls__queue_init(&loop->prepare_handles);
  ls__queue_init(&loop->check_handles);
  ls__queue_init(&loop->immediate_queue);
  ls__queue_init(&loop->wq_done);
  loop->timer_next_expiry = UINT64_MAX;
  loop->timer_list_next_id = 1;
  loop->async_id_counter = 1;
  loop->current_async_id = 1;
  loop->backend_fd = -1;
  loop->emfile_fd = -1;
  loop->wq_fd = -1;
  for (int i = 0; i < LS_COUNTER_COUNT; i++)
    loop->counter_last[i] = -1;
  loop->lag_us = -1;
  loop->elu_permille = -1;
  int err = ls__io_backend_init(loop);
  if (err)
    return err;
  err = ls__pool_loop_init(loop);
  if (err) {
    ls__io_backend_close(loop);
    return err;
  }
  ls_update_time(loop);
  ls_trace_thread_name("loop");
  return 0;
}

int ls_loop_close(ls_loop *loop) {
  if (!loop || loop->backend_fd < 0)
    return LS_EINVAL;
  if (loop->running || loop->active_reqs || loop->closing_handles)
    return LS_EBUSY;
  for (ls__queue *q = ls__queue_head(&loop->handle_queue);
       q != &loop->handle_queue; q = q->next) {
    ls_handle *h = ls__queue_data(q, ls_handle, handle_queue);
    if (!(h->flags & LS__HANDLE_CLOSED))
      return LS_EBUSY;
  }
  ls__pool_loop_close(loop);
  ls__io_backend_close(loop);
  ls__timers_free(loop);
  ls__immediates_free(loop);
  ls__tasks_free(loop);
  if (loop->emfile_fd >= 0)
    close(loop->emfile_fd);
  loop->emfile_fd = -1;
  return 0;
}

static ls_loop default_loop;
static bool default_loop_ready;

ls_loop *ls_default_loop(void) {
  if (!default_loop_ready) {
    if (ls_loop_init(&default_loop))
      return NULL;
    default_loop_ready = true;
  }
  return &default_loop;
}

uint64_t ls_now(const ls_loop *loop) { return loop->time; }

void ls_update_time(ls_loop *loop) { ls__update_time(loop); }

uint64_t ls_new_async_id(ls_loop *loop) { return ++loop->async_id_counter; }

uint64_t ls_current_async_id(const ls_loop *loop) {
  return loop->current_async_id;
}

void ls_stop(ls_loop *loop) { loop->stop_flag = 1; }

void ls_loop_fail(ls_loop *loop, int exit_code) {
  loop->failed = true;
  loop->exit_code = exit_code;
  loop->stop_flag = 1;
}

int ls_loop_exit_code(const ls_loop *loop) { return loop->exit_code; }

bool ls_loop_alive(const ls_loop *loop) { return loop_alive(loop); }

static int add_hook(ls__exit_hook *hooks, unsigned *n, ls_exit_cb cb,
                    void *arg) {
  if (!cb)
    return LS_EINVAL;
  if (*n == LS__MAX_EXIT_HOOKS)
    return LS_ENOSPC;
  hooks[*n].cb = cb;
  hooks[*n].arg = arg;
  (*n)++;
  return 0;
}

int ls_loop_on_before_exit(ls_loop *loop, ls_exit_cb cb, void *arg) {
  return add_hook(loop->before_exit, &loop->n_before_exit, cb, arg);
}

int ls_loop_on_exit(ls_loop *loop, ls_exit_cb cb, void *arg) {
  return add_hook(loop->on_exit, &loop->n_on_exit, cb, arg);
}

/* uv__backend_timeout(): 0 when something is runnable now, -1 when only I/O
 * can wake us, else the ms until Node's timer is due. */
static int backend_timeout(const ls_loop *loop) {
  if (loop->stop_flag)
    return 0;
  if (!loop_alive(loop))
    return 0;
  if (!ls__queue_empty(&loop->pending_queue) ||
      !ls__queue_empty(&loop->idle_handles) || loop->immediate_refcount > 0 ||
      loop->closing_handles)
    return 0;
  return ls__timer_timeout(loop);
}

/* Each phase is one call; this wrapper puts its slice in the trace. The
 * wrappers are inlined into run() so the probes' arguments and the trace
 * flag are loaded once per iteration instead of once per phase; a phase
 * whose queue is empty costs its slice only, not a call into the runner
 * (they live in other files, so those calls are never inlined). */
#define LS__PHASE_FN static inline __attribute__((always_inline)) void

LS__PHASE_FN phase_begin(ls_phase p) {
  LS_TRACE_BEGIN(LS_CAT_PHASE, ls_phase_names[p], 0, 0);
}

LS__PHASE_FN phase_end(ls_loop *loop, ls_phase p) {
  LS_TRACE_END(LS_CAT_PHASE, ls_phase_names[p], 0);
  if (LS_TRACE_ON())
    ls__trace_counters(loop);
}

LS__PHASE_FN run_timers_phase(ls_loop *loop) {
  phase_begin(LS_PHASE_TIMERS);
  if (loop->timer_active && loop->timer_due <= loop->time)
    ls__run_timers(loop);
  phase_end(loop, LS_PHASE_TIMERS);
}

LS__PHASE_FN run_pending_phase(ls_loop *loop) {
  phase_begin(LS_PHASE_PENDING);
  if (!ls__queue_empty(&loop->pending_queue))
    ls__run_pending(loop);
  phase_end(loop, LS_PHASE_PENDING);
}

LS__PHASE_FN run_idle_phase(ls_loop *loop) {
  phase_begin(LS_PHASE_IDLE);
  if (!ls__queue_empty(&loop->idle_handles))
    ls__run_idle(loop);
  phase_end(loop, LS_PHASE_IDLE);
}

LS__PHASE_FN run_prepare_phase(ls_loop *loop) {
  phase_begin(LS_PHASE_PREPARE);
  if (!ls__queue_empty(&loop->prepare_handles))
    ls__run_prepare(loop);
  phase_end(loop, LS_PHASE_PREPARE);
}

LS__PHASE_FN run_poll_phase(ls_loop *loop, int timeout) {
  LS_TRACE_BEGIN(LS_CAT_PHASE, ls_phase_names[LS_PHASE_POLL], 0,
                 (uint64_t)(int64_t)timeout);
  int events = ls__io_poll(loop, timeout);
  LS_TRACE_END(LS_CAT_PHASE, ls_phase_names[LS_PHASE_POLL], (uint64_t)events);
  if (LS_TRACE_ON())
    ls__trace_counters(loop);
}

/* Completions deferred while polling (a write finished, a connect failed at
 * once) run right after poll; bounded so a busy peer cannot pin us here. */
LS__PHASE_FN run_pending_after_poll(ls_loop *loop) {
  for (int i = 0; i < 8 && !ls__queue_empty(&loop->pending_queue); i++)
    run_pending_phase(loop);
}

LS__PHASE_FN run_check_phase(ls_loop *loop) {
  phase_begin(LS_PHASE_CHECK);
  if (!ls__queue_empty(&loop->check_handles))
    ls__run_check(loop);
  if (!ls__queue_empty(&loop->immediate_queue))
    ls__run_immediates(loop);
  phase_end(loop, LS_PHASE_CHECK);
}

LS__PHASE_FN run_close_phase(ls_loop *loop) {
  phase_begin(LS_PHASE_CLOSE);
  if (loop->closing_handles)
    ls__run_closing_handles(loop);
  phase_end(loop, LS_PHASE_CLOSE);
}

/* Event-loop utilisation of the iteration that just ended: the share of it
 * not spent blocked in epoll_wait. Only measured while tracing. */
static void update_utilisation(ls_loop *loop, uint64_t iteration_start) {
  uint64_t total = ls__hrtime() - iteration_start;
  if (total == 0)
    return;
  uint64_t busy = total > loop->idle_ns ? total - loop->idle_ns : 0;
  loop->elu_permille = (int64_t)(busy * 1000 / total);
  ls__trace_counters(loop);
}

static int run(ls_loop *loop, ls_run_mode mode);

int ls_run(ls_loop *loop, ls_run_mode mode) {
  if (!loop || loop->backend_fd < 0)
    return LS_EINVAL;
  if (loop->running)
    return LS_EBUSY;
  loop->running = true;
  int r = run(loop, mode);
  loop->running = false;
  return r;
}

static int run(ls_loop *loop, ls_run_mode mode) {
  ls_drain_microtasks(loop);
  bool alive = loop_alive(loop);
  if (!alive)
    ls__update_time(loop);
  /* Node runs due timers once before the first iteration (libuv's
   * backwards-compatibility run). The trace shows it as it is: a timers
   * phase outside any iteration, so iteration slices count what libuv
   * counts. */
  if (mode == LS_RUN_DEFAULT && alive && !loop->stop_flag) {
    ls__update_time(loop);
    run_timers_phase(loop);
  }
  while (alive && !loop->stop_flag) {
    uint64_t n = ++loop->iteration;
    LS_TRACE_BEGIN(LS_CAT_LOOP, "iteration", n, 0);
    uint64_t iteration_start = LS_TRACE_ON() ? ls__hrtime() : 0;
    loop->idle_ns = 0;
    bool can_sleep = ls__queue_empty(&loop->pending_queue) &&
                     ls__queue_empty(&loop->idle_handles);
    run_pending_phase(loop);
    run_idle_phase(loop);
    run_prepare_phase(loop);
    int timeout = 0;
    if ((mode == LS_RUN_ONCE && can_sleep) || mode == LS_RUN_DEFAULT)
      timeout = backend_timeout(loop);
    run_poll_phase(loop, timeout);
    run_pending_after_poll(loop);
    run_check_phase(loop);
    run_close_phase(loop);
    ls__update_time(loop);
    run_timers_phase(loop);
    alive = loop_alive(loop);
    if (LS_TRACE_ON() && iteration_start)
      update_utilisation(loop, iteration_start);
    LS_TRACE_END(LS_CAT_LOOP, "iteration", 0);
    if (mode != LS_RUN_DEFAULT)
      break;
  }
  if (loop->stop_flag && !loop->failed)
    loop->stop_flag = 0;
  return alive && !loop->failed;
}

static void emit_exit_hooks(ls_loop *loop, ls__exit_hook *hooks, unsigned n,
                            const char *label, bool drain) {
  for (unsigned i = 0; i < n && !loop->failed; i++) {
    uint64_t prev = ls__cb_enter(loop, LS_KIND_USER, label, 1, 0);
    hooks[i].cb(loop, loop->exit_code, hooks[i].arg);
    ls__cb_leave(loop, LS_KIND_USER, label, prev);
    if (drain)
      ls_drain_microtasks(loop);
  }
}

/* node::SpinEventLoop(): beforeExit may make the loop alive again. */
int ls_run_main(ls_loop *loop) {
  if (!loop || loop->backend_fd < 0)
    return LS_EINVAL;
  if (loop->running)
    return LS_EBUSY;
  ls_drain_microtasks(loop);
  do {
    if (loop->failed)
      break;
    ls_run(loop, LS_RUN_DEFAULT);
    if (loop->failed)
      break;
    if (ls_loop_alive(loop))
      continue;
    emit_exit_hooks(loop, loop->before_exit, loop->n_before_exit, "beforeExit",
                    true);
  } while (ls_loop_alive(loop) && !loop->failed);
  /* 'exit' listeners run once; whatever they schedule never runs. */
  bool failed = loop->failed;
  loop->failed = false;
  emit_exit_hooks(loop, loop->on_exit, loop->n_on_exit, "exit", false);
  loop->failed = failed;
  return loop->exit_code;
}

static void emit_counter(ls_loop *loop, ls_counter c, int64_t value) {
  if (value < 0 || value == loop->counter_last[c])
    return;
  loop->counter_last[c] = value;
  ls__trace_counter(ls_counter_names[c], value);
}

void ls__trace_queue_counters(ls_loop *loop) {
  emit_counter(loop, LS_COUNTER_TICKS, loop->tick_count);
  emit_counter(loop, LS_COUNTER_MICROTASKS, loop->micro_count);
}

void ls__trace_counters(ls_loop *loop) {
  emit_counter(loop, LS_COUNTER_TIMERS, loop->timer_count);
  emit_counter(loop, LS_COUNTER_IMMEDIATES, loop->immediate_count);
  ls__trace_queue_counters(loop);
  emit_counter(loop, LS_COUNTER_HANDLES, loop->active_handles);
  emit_counter(loop, LS_COUNTER_REQUESTS, loop->active_reqs);
  emit_counter(loop, LS_COUNTER_POOL_QUEUE, ls__pool_queued());
  emit_counter(loop, LS_COUNTER_ELU, loop->elu_permille);
  emit_counter(loop, LS_COUNTER_LAG_US, loop->lag_us);
}
