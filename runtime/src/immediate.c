/* setImmediate, after Node's processImmediate(). */
#include "internal.h"

void ls_immediate_init(ls_immediate *imm) {
  if (!imm)
    return;
  imm->data = NULL;
  imm->label = NULL;
  imm->loop = NULL;
  imm->cb = NULL;
  ls__queue_init(&imm->node);
  imm->queued = false;
  imm->refed = true;
  imm->async_id = 0;
  imm->trigger_id = 0;
}

int ls_set_immediate(ls_loop *loop, ls_immediate *imm, ls_immediate_cb cb) {
  if (!loop || !imm || !cb)
    return LS_EINVAL;
  if (imm->loop == loop && imm->queued)
    return LS_EBUSY;
  imm->loop = loop;
  imm->cb = cb;
  imm->queued = true;
  imm->refed = true;
  imm->async_id = ls_new_async_id(loop);
  imm->trigger_id = loop->current_async_id;
  ls__queue_insert_tail(&loop->immediate_queue, &imm->node);
  loop->immediate_count++;
  loop->immediate_refcount++;
  ls__trace_sched(imm->label ? imm->label : "setImmediate", imm->async_id, 0);
  return 0;
}

static void dequeue(ls_loop *loop, ls_immediate *imm) {
  ls__queue_remove(&imm->node);
  imm->queued = false;
  loop->immediate_count--;
  if (imm->refed)
    loop->immediate_refcount--;
}

void ls_clear_immediate(ls_immediate *imm) {
  if (imm && imm->loop && imm->queued)
    dequeue(imm->loop, imm);
}

void ls_immediate_ref(ls_immediate *imm) {
  if (imm->queued && !imm->refed)
    imm->loop->immediate_refcount++;
  imm->refed = true;
}

void ls_immediate_unref(ls_immediate *imm) {
  if (imm->queued && imm->refed)
    imm->loop->immediate_refcount--;
  imm->refed = false;
}

/* The queue is detached first: immediates queued by these callbacks wait for
 * the next check phase. Clearing one that is still in the detached queue
 * unlinks it from there. */
void ls__run_immediates(ls_loop *loop) {
  if (ls__queue_empty(&loop->immediate_queue) || loop->failed)
    return;
  ls__queue queue;
  ls__queue_move(&loop->immediate_queue, &queue);
  bool ran = false;
  while (!ls__queue_empty(&queue)) {
    if (ran)
      ls__drain_if_queued(loop);
    ran = true;
    if (loop->failed || ls__queue_empty(&queue))
      break;
    ls_immediate *imm =
        ls__queue_data(ls__queue_head(&queue), ls_immediate, node);
    dequeue(loop, imm);
    const char *label = imm->label ? imm->label : "setImmediate";
    uint64_t prev = ls__cb_enter(loop, LS_KIND_IMMEDIATE, label, imm->async_id,
                                 imm->trigger_id);
    imm->cb(imm);
    ls__cb_leave(loop, LS_KIND_IMMEDIATE, label, prev);
  }
  /* Only after a failure: keep the rest queued (never run, never dangling). */
  ls__queue_prepend(&queue, &loop->immediate_queue);
  ls__drain_if_queued(loop);
}

/* Loop close: immediates still queued (unref'd, or left by a failure) are
 * dropped. */
void ls__immediates_free(ls_loop *loop) {
  while (!ls__queue_empty(&loop->immediate_queue))
    dequeue(loop, ls__queue_data(ls__queue_head(&loop->immediate_queue),
                                 ls_immediate, node));
}
