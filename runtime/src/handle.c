/* Handle life cycle (init, start/stop, ref, close) and the idle, prepare and
 * check hooks. */
#include "internal.h"

void ls__handle_init(ls_loop *loop, ls_handle *h, ls_handle_type type,
                     const char *label) {
  h->data = NULL;
  h->label = label;
  h->loop = loop;
  h->type = type;
  h->flags = LS__HANDLE_REF;
  h->close_cb = NULL;
  h->next_closing = NULL;
  h->async_id = ls_new_async_id(loop);
  h->trigger_id = loop->current_async_id;
  ls__queue_insert_tail(&loop->handle_queue, &h->handle_queue);
}

void ls__handle_start(ls_handle *h) {
  if (h->flags & LS__HANDLE_ACTIVE)
    return;
  h->flags |= LS__HANDLE_ACTIVE;
  if (h->flags & LS__HANDLE_REF)
    h->loop->active_handles++;
}

void ls__handle_stop(ls_handle *h) {
  if (!(h->flags & LS__HANDLE_ACTIVE))
    return;
  h->flags &= ~LS__HANDLE_ACTIVE;
  if (h->flags & LS__HANDLE_REF)
    h->loop->active_handles--;
}

void ls_ref(ls_handle *h) {
  if (h->flags & LS__HANDLE_REF)
    return;
  h->flags |= LS__HANDLE_REF;
  if (h->flags & LS__HANDLE_ACTIVE)
    h->loop->active_handles++;
}

void ls_unref(ls_handle *h) {
  if (!(h->flags & LS__HANDLE_REF))
    return;
  h->flags &= ~LS__HANDLE_REF;
  if (h->flags & LS__HANDLE_ACTIVE)
    h->loop->active_handles--;
}

bool ls_has_ref(const ls_handle *h) { return h->flags & LS__HANDLE_REF; }

bool ls_is_active(const ls_handle *h) { return h->flags & LS__HANDLE_ACTIVE; }

bool ls_is_closing(const ls_handle *h) {
  return h->flags & (LS__HANDLE_CLOSING | LS__HANDLE_CLOSED);
}

/* The hooks share one implementation: a queue per phase, started newest
 * first like libuv's loop-watcher.c. */
#define LS__HOOK_IMPL(name, TYPE, LABEL)                                       \
  int ls_##name##_init(ls_loop *loop, ls_##name *h) {                          \
    if (!loop || !h)                                                           \
      return LS_EINVAL;                                                        \
    ls__handle_init(loop, (ls_handle *)h, TYPE, LABEL);                        \
    h->cb = NULL;                                                              \
    ls__queue_init(&h->node);                                                  \
    return 0;                                                                  \
  }                                                                            \
  int ls_##name##_start(ls_##name *h, ls_##name##_cb cb) {                     \
    if (!h || !cb || h->type != TYPE)                                          \
      return LS_EINVAL;                                                        \
    if (!ls__handle_usable((ls_handle *)h))                                    \
      return LS_EINVAL;                                                        \
    if (h->flags & LS__HANDLE_ACTIVE)                                          \
      return 0;                                                                \
    h->cb = cb;                                                                \
    ls__queue_insert_head(&h->loop->name##_handles, &h->node);                 \
    ls__handle_start((ls_handle *)h);                                          \
    return 0;                                                                  \
  }                                                                            \
  int ls_##name##_stop(ls_##name *h) {                                         \
    if (!h || h->type != TYPE)                                                 \
      return LS_EINVAL;                                                        \
    if (!(h->flags & LS__HANDLE_ACTIVE))                                       \
      return 0;                                                                \
    ls__queue_remove(&h->node);                                                \
    ls__handle_stop((ls_handle *)h);                                           \
    return 0;                                                                  \
  }                                                                            \
  void ls__run_##name(ls_loop *loop) {                                         \
    ls__queue queue;                                                           \
    ls__queue_move(&loop->name##_handles, &queue);                             \
    while (!ls__queue_empty(&queue)) {                                         \
      ls__queue *q = ls__queue_head(&queue);                                   \
      ls__queue_remove(q);                                                     \
      ls__queue_insert_tail(&loop->name##_handles, q);                         \
      if (loop->failed)                                                        \
        continue;                                                              \
      ls_##name *h = ls__queue_data(q, ls_##name, node);                       \
      uint64_t prev = ls__cb_enter(loop, LS_KIND_USER, h->label, h->async_id,  \
                                   h->trigger_id);                             \
      h->cb(h);                                                                \
      ls__cb_leave(loop, LS_KIND_USER, h->label, prev);                        \
      ls__drain_if_queued(loop);                                               \
    }                                                                          \
  }

LS__HOOK_IMPL(idle, LS_HANDLE_IDLE, "idle")
LS__HOOK_IMPL(prepare, LS_HANDLE_PREPARE, "prepare")
LS__HOOK_IMPL(check, LS_HANDLE_CHECK, "check")

int ls_close(ls_handle *h, ls_close_cb cb) {
  if (!h || h->type <= LS_HANDLE_UNKNOWN || h->type >= LS_HANDLE_TYPE_COUNT)
    return LS_EINVAL;
  if (!ls__handle_usable(h))
    return LS_EINVAL;
  h->flags |= LS__HANDLE_CLOSING;
  h->close_cb = cb;
  switch (h->type) {
  case LS_HANDLE_IDLE:
    ls_idle_stop((ls_idle *)h);
    break;
  case LS_HANDLE_PREPARE:
    ls_prepare_stop((ls_prepare *)h);
    break;
  case LS_HANDLE_CHECK:
    ls_check_stop((ls_check *)h);
    break;
  case LS_HANDLE_IO:
    ls__io_close_handle((ls_io *)h);
    break;
  case LS_HANDLE_TCP:
    ls__tcp_close((ls_tcp *)h);
    break;
  default:
    break;
  }
  ls__handle_stop(h);
  h->next_closing = h->loop->closing_handles;
  h->loop->closing_handles = h;
  return 0;
}

static void finish_close(ls_loop *loop, ls_handle *h) {
  h->flags |= LS__HANDLE_CLOSED;
  h->flags &= ~LS__HANDLE_CLOSING;
  if (h->type == LS_HANDLE_TCP)
    ls__tcp_destroy((ls_tcp *)h);
  ls__queue_remove(&h->handle_queue);
  if (h->close_cb && !loop->failed) {
    const char *label = h->label ? h->label : "close";
    uint64_t prev =
        ls__cb_enter(loop, LS_KIND_CLOSE, label, h->async_id, h->trigger_id);
    h->close_cb(h);
    ls__cb_leave(loop, LS_KIND_CLOSE, label, prev);
    ls__drain_if_queued(loop);
  }
}

/* Handles closed while this phase runs wait for the next close phase. */
void ls__run_closing_handles(ls_loop *loop) {
  ls_handle *p = loop->closing_handles;
  loop->closing_handles = NULL;
  while (p) {
    ls_handle *next = p->next_closing;
    finish_close(loop, p);
    p = next;
  }
}
