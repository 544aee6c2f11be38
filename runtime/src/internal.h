/* Internal glue shared by the runtime's source files. */
#ifndef LOOPSCOPE_INTERNAL_H
#define LOOPSCOPE_INTERNAL_H

/* First include of every runtime source: accept4, strerrordesc_np, ... */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "loopscope/runtime.h"
#include "loopscope/trace.h"

/* Handle flags. */
enum {
  LS__HANDLE_ACTIVE = 1u << 0,
  LS__HANDLE_REF = 1u << 1,
  LS__HANDLE_CLOSING = 1u << 2,
  LS__HANDLE_CLOSED = 1u << 3,
};

/* One list of timers sharing a delay (Node's TimersList). */
struct ls__timer_list {
  uint64_t expiry;
  uint64_t id;
  uint64_t msecs;
  unsigned heap_index; /* UINT32_MAX when not in the heap */
  ls__timer_list *map_next;
  ls__queue timers;
};

/* ls_next_tick / ls_queue_microtask wrapper job. */
struct ls__task {
  ls_job job;
  ls_loop *loop;
  ls_task_cb cb;
  void *arg;
};

/* ---- clock ---- */
/* The recorder's clock (tracer/record/src, linked into libloopscope). */
#include "../../tracer/record/src/clock.h"

/* CLOCK_MONOTONIC, ns, exact: the utilisation the trace shows. */
static inline uint64_t ls__hrtime(void) { return ls__mono_ns(); }

/* libuv's uv_update_time(): the loop clock in ms. ls__clock_now is within
 * a few us of CLOCK_MONOTONIC for an rdtsc; the clamp keeps the loop time
 * from stepping back a ms when a new anchor lands just behind the last
 * extrapolation. Inline: Node reads it at every setTimeout. */
static inline void ls__update_time(ls_loop *loop) {
  uint64_t ms = ls__clock_now() / 1000000u;
  if (ms > loop->time)
    loop->time = ms;
}

/* ---- handles ---- */
void ls__handle_init(ls_loop *loop, ls_handle *h, ls_handle_type type,
                     const char *label);
void ls__handle_start(ls_handle *h);
void ls__handle_stop(ls_handle *h);
static inline bool ls__handle_usable(const ls_handle *h) {
  return !(h->flags & (LS__HANDLE_CLOSING | LS__HANDLE_CLOSED));
}
void ls__run_closing_handles(ls_loop *loop);
void ls__run_idle(ls_loop *loop);
void ls__run_prepare(ls_loop *loop);
void ls__run_check(ls_loop *loop);

/* ---- timers / immediates ---- */
void ls__run_timers(ls_loop *loop);
int ls__timer_timeout(const ls_loop *loop); /* ms until the timer is due, -1 */
void ls__timers_free(ls_loop *loop);
void ls__run_immediates(ls_loop *loop);
void ls__immediates_free(ls_loop *loop);

/* ---- ticks / microtasks ---- */
void ls__tasks_free(ls_loop *loop);
/* The drain after a macrotask callback. Most callbacks queue nothing: the
 * test is inline, the call into microtask.c only when there is work (the
 * same test ls_drain_microtasks starts with). */
static inline void ls__drain_if_queued(ls_loop *loop) {
  if (loop->tick_head || loop->micro_head || loop->after_microtasks)
    ls_drain_microtasks(loop);
}

/* ---- io ---- */
int ls__io_backend_init(ls_loop *loop);
void ls__io_backend_close(ls_loop *loop);
void ls__io_init(ls__io *w, ls__io_cb cb, int fd);
int ls__io_start(ls_loop *loop, ls__io *w, unsigned events);
void ls__io_stop(ls_loop *loop, ls__io *w, unsigned events);
void ls__io_close(ls_loop *loop, ls__io *w);
void ls__io_feed(ls_loop *loop, ls__io *w);
bool ls__io_active(const ls__io *w, unsigned events);
int ls__io_poll(ls_loop *loop, int timeout);
void ls__run_pending(ls_loop *loop);
void ls__io_close_handle(ls_io *handle);
void ls__tcp_close(ls_tcp *tcp);
void ls__tcp_destroy(ls_tcp *tcp);

/* ---- pool ---- */
int ls__pool_loop_init(ls_loop *loop);
void ls__pool_loop_close(ls_loop *loop);
unsigned ls__pool_queued(void);
int ls__pool_submit(ls_loop *loop, ls_work *req, ls_kind kind,
                    ls_work_cb work_cb, ls_after_work_cb after_cb);

/* ---- tracing helpers ---- */
/* A scheduling point: instant "sched"/name with the id of what will run,
 * and the flow that binds it to that callback. */
static inline void ls__trace_sched(const char *name, uint64_t id,
                                   uint64_t delay_ms) {
  LS_TRACE_INSTANT_FLOW_BEGIN(LS_CAT_SCHED, name, id, delay_ms);
}

/* Brackets one user callback: trace slice, current async id. The caller runs
 * the callback between the two and then the drain (ls__callback_done). */
static inline uint64_t ls__cb_enter(ls_loop *loop, ls_kind kind,
                                    const char *label, uint64_t id,
                                    uint64_t trigger) {
  uint64_t prev = loop->current_async_id;
  loop->current_async_id = id;
  LS_TRACE_BEGIN_FLOW_END(ls_kind_names[kind], label, id, trigger);
  return prev;
}

static inline void ls__cb_leave(ls_loop *loop, ls_kind kind, const char *label,
                                uint64_t prev) {
  LS_TRACE_END(ls_kind_names[kind], label, 0);
  loop->current_async_id = prev;
}

/* Emits the counters that changed since they were last emitted. Called at
 * phase ends, so a counter costs nothing per callback. */
void ls__trace_counters(ls_loop *loop);
/* Only the nextTick and microtask depths: what a drain changes. */
void ls__trace_queue_counters(ls_loop *loop);

/* ---- the job queues (microtask.c), inline ----
 * The promise layer queues a job per settled reaction; as a call into
 * microtask.c that was a tenth of a Promise.all element. */
static inline void ls__job_push(ls_job **head, ls_job **tail, ls_job *job) {
  job->next = NULL;
  if (*tail)
    (*tail)->next = job;
  else
    *head = job;
  *tail = job;
}

/* A job's defaults (microtask.h), then its scheduling point in the trace.
 * The id is taken here: ls_new_async_id() lives in loop.c, and a call into
 * another file is never inlined. */
static inline void ls__job_stamp(ls_loop *loop, ls_job *job,
                                 const char *default_label) {
  if (!job->label)
    job->label = default_label;
  if (!job->async_id)
    job->async_id = ++loop->async_id_counter;
  if (!job->trigger_id)
    job->trigger_id = loop->current_async_id;
  ls__trace_sched(job->label, job->async_id, 0);
}

/* ls_queue_job. */
static inline void ls__queue_micro(ls_loop *loop, ls_job *job) {
  ls__job_stamp(loop, job, "queueMicrotask");
  ls__job_push(&loop->micro_head, &loop->micro_tail, job);
  loop->micro_count++;
}

#endif
