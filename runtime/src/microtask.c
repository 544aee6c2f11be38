/* nextTick and microtask queues; the drain is Node's
 * processTicksAndRejections(). */
#include "internal.h"

#include <stdlib.h>


static ls_job *pop(ls_job **head, ls_job **tail) {
  ls_job *job = *head;
  if (job) {
    *head = job->next;
    if (!*head)
      *tail = NULL;
    job->next = NULL;
  }
  return job;
}

/* The body of ls_queue_tick_job: gcc does not inline the exported function
 * into ls_next_tick (measured, 151 -> 130 instructions per tick with it).
 * The microtask side is ls__queue_micro (internal.h). */
static inline void queue_tick(ls_loop *loop, ls_job *job) {
  ls__job_stamp(loop, job, "nextTick");
  ls__job_push(&loop->tick_head, &loop->tick_tail, job);
  loop->tick_count++;
}

void ls_queue_job(ls_loop *loop, ls_job *job) { ls__queue_micro(loop, job); }

void ls_queue_tick_job(ls_loop *loop, ls_job *job) { queue_tick(loop, job); }

/* The wrapper goes back to the free list before the callback runs, so a
 * callback that queues the next link of a chain reuses it. */
static void run_task(ls_job *job) {
  ls__task *task = (ls__task *)job;
  ls_task_cb cb = task->cb;
  void *arg = task->arg;
  task->job.next = (ls_job *)task->loop->task_free;
  task->loop->task_free = task;
  cb(arg);
}

static ls__task *task_new(ls_loop *loop, ls_task_cb cb, void *arg,
                          const char *label) {
  ls__task *task = loop->task_free;
  if (task)
    loop->task_free = (ls__task *)task->job.next;
  else if (!(task = malloc(sizeof(*task))))
    return NULL;
  task->job.next = NULL;
  task->job.cb = run_task;
  task->job.label = label;
  task->job.async_id = 0;
  task->job.trigger_id = 0;
  task->loop = loop;
  task->cb = cb;
  task->arg = arg;
  return task;
}

int ls_queue_microtask(ls_loop *loop, ls_task_cb cb, void *arg) {
  if (!loop || !cb)
    return LS_EINVAL;
  ls__task *task = task_new(loop, cb, arg, "queueMicrotask");
  if (!task)
    return LS_ENOMEM;
  ls__queue_micro(loop, &task->job);
  return 0;
}

int ls_next_tick(ls_loop *loop, ls_task_cb cb, void *arg) {
  if (!loop || !cb)
    return LS_EINVAL;
  ls__task *task = task_new(loop, cb, arg, "nextTick");
  if (!task)
    return LS_ENOMEM;
  queue_tick(loop, &task->job);
  return 0;
}

void ls_loop_set_after_microtasks(ls_loop *loop, ls_after_microtasks_cb fn,
                                  void *arg) {
  loop->after_microtasks = fn;
  loop->after_microtasks_arg = arg;
}

/* Inlined into both drain loops: a tick chain is nothing but this call. */
static inline __attribute__((always_inline)) void
run_job(ls_loop *loop, ls_job *job, ls_kind kind) {
  const char *label = job->label;
  uint64_t prev =
      ls__cb_enter(loop, kind, label, job->async_id, job->trigger_id);
  job->cb(job);
  ls__cb_leave(loop, kind, label, prev);
}

void ls_drain_microtasks(ls_loop *loop) {
  if (loop->draining)
    return;
  if (!loop->tick_head && !loop->micro_head && !loop->after_microtasks)
    return;
  loop->draining = true;
  if (LS_TRACE_ON())
    ls__trace_queue_counters(loop);
  bool more;
  do {
    ls_job *job;
    while (!loop->failed && (job = pop(&loop->tick_head, &loop->tick_tail))) {
      loop->tick_count--;
      run_job(loop, job, LS_KIND_TICK);
    }
    while (!loop->failed &&
           (job = pop(&loop->micro_head, &loop->micro_tail))) {
      loop->micro_count--;
      run_job(loop, job, LS_KIND_MICROTASK);
    }
    more = loop->tick_head != NULL;
    if (!more && loop->after_microtasks && !loop->failed)
      more = loop->after_microtasks(loop, loop->after_microtasks_arg) != 0;
  } while (more && !loop->failed);
  loop->draining = false;
}

/* Frees the wrappers, also those a failure left queued; jobs owned by
 * callers are just dropped. */
static void free_queued_tasks(ls_job *job) {
  while (job) {
    ls_job *next = job->next;
    if (job->cb == run_task)
      free(job);
    job = next;
  }
}

void ls__tasks_free(ls_loop *loop) {
  free_queued_tasks(loop->tick_head);
  free_queued_tasks(loop->micro_head);
  loop->tick_head = loop->tick_tail = loop->micro_head = loop->micro_tail = NULL;
  while (loop->task_free) {
    ls__task *next = (ls__task *)loop->task_free->job.next;
    free(loop->task_free);
    loop->task_free = next;
  }
}
