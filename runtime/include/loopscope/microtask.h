/* nextTick and microtask queues, and the drain that runs them.
 *
 * After every macrotask callback the loop runs Node's
 * processTicksAndRejections():
 *
 *   do { run every nextTick; run every microtask; }
 *   while (nextTicks queued || after_microtasks hook queued more);
 *
 * so every nextTick runs before any microtask, and a nextTick queued by a
 * microtask runs after the whole microtask queue (jobs chained meanwhile
 * included). Recursive chains starve the loop, as in Node.
 *
 * ls_job is the primitive the promise layer builds on: caller-owned, FIFO,
 * no allocation. `label` names the trace slice; async_id 0 means "give it a
 * new one" and trigger_id 0 means "the running callback".
 */
#ifndef LOOPSCOPE_MICROTASK_H
#define LOOPSCOPE_MICROTASK_H

#include <stdint.h>

#include "loopscope/loop.h"

typedef void (*ls_job_cb)(ls_job *job);

struct ls_job {
  ls_job *next;
  ls_job_cb cb;
  const char *label;
  uint64_t async_id;
  uint64_t trigger_id;
};

/* Appends to the microtask queue (a promise reaction job). The job memory
 * must stay valid until its callback starts; it may be re-queued from it. */
void ls_queue_job(ls_loop *loop, ls_job *job);
/* Appends to the nextTick queue. */
void ls_queue_tick_job(ls_loop *loop, ls_job *job);

typedef void (*ls_task_cb)(void *arg);
/* queueMicrotask(fn) and process.nextTick(fn) for plain callbacks; they
 * allocate a small job (LS_ENOMEM when that fails). */
int ls_queue_microtask(ls_loop *loop, ls_task_cb cb, void *arg);
int ls_next_tick(ls_loop *loop, ls_task_cb cb, void *arg);

/* Registers the hook the drain calls each time the microtask queue is empty
 * (one hook per loop; NULL removes it). */
void ls_loop_set_after_microtasks(ls_loop *loop, ls_after_microtasks_cb fn,
                                  void *arg);

/* Runs the drain now (the loop calls it after every macrotask callback). A
 * no-op when called from inside a drain. */
void ls_drain_microtasks(ls_loop *loop);

#endif
