/* Timers, after Node's lib/internal/timers.js.
 *
 * Node drives every JS timer from one libuv timer. We keep the same two
 * levels: loop->timer_due / timer_active stand for that libuv timer, and the
 * lists below it decide which callbacks run and in what order. Keeping the
 * split (instead of a heap of timers) is what makes the orders match Node:
 * lists are drained one at a time, and a list's expiry moves forward only
 * when it is looked at.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>


#define NOT_IN_HEAP UINT32_MAX

/* ls_new_async_id() lives in loop.c, and a call into another file is never
 * inlined; this runs once per setTimeout. */
static inline uint64_t new_async_id(ls_loop *loop) {
  return ++loop->async_id_counter;
}

/* getLibuvNow(): Node refreshes the loop clock whenever it reads it. */
static inline uint64_t fresh_now(ls_loop *loop) {
  ls__update_time(loop);
  return loop->time;
}

/* ---- the priority queue of lists, ordered by (expiry, id) ---- */

static bool list_before(const ls__timer_list *a, const ls__timer_list *b) {
  if (a->expiry != b->expiry)
    return a->expiry < b->expiry;
  return a->id < b->id;
}

static void heap_set(ls_loop *loop, unsigned i, ls__timer_list *l) {
  loop->timer_heap[i] = l;
  l->heap_index = i;
}

static void heap_up(ls_loop *loop, unsigned i) {
  ls__timer_list *l = loop->timer_heap[i];
  while (i > 0) {
    unsigned parent = (i - 1) / 2;
    if (!list_before(l, loop->timer_heap[parent]))
      break;
    heap_set(loop, i, loop->timer_heap[parent]);
    i = parent;
  }
  heap_set(loop, i, l);
}

static void heap_down(ls_loop *loop, unsigned i) {
  ls__timer_list *l = loop->timer_heap[i];
  unsigned n = loop->timer_heap_len;
  for (;;) {
    unsigned child = 2 * i + 1;
    if (child >= n)
      break;
    if (child + 1 < n &&
        list_before(loop->timer_heap[child + 1], loop->timer_heap[child]))
      child++;
    if (!list_before(loop->timer_heap[child], l))
      break;
    heap_set(loop, i, loop->timer_heap[child]);
    i = child;
  }
  heap_set(loop, i, l);
}

static int heap_insert(ls_loop *loop, ls__timer_list *l) {
  if (loop->timer_heap_len == loop->timer_heap_cap) {
    unsigned cap = loop->timer_heap_cap ? loop->timer_heap_cap * 2 : 16;
    ls__timer_list **heap = realloc(loop->timer_heap, cap * sizeof(*heap));
    if (!heap)
      return LS_ENOMEM;
    loop->timer_heap = heap;
    loop->timer_heap_cap = cap;
  }
  heap_set(loop, loop->timer_heap_len++, l);
  heap_up(loop, l->heap_index);
  return 0;
}

static void heap_remove(ls_loop *loop, ls__timer_list *l) {
  unsigned i = l->heap_index;
  ls__timer_list *last = loop->timer_heap[--loop->timer_heap_len];
  l->heap_index = NOT_IN_HEAP;
  if (last == l)
    return;
  heap_set(loop, i, last);
  heap_up(loop, i);
  heap_down(loop, last->heap_index);
}

/* ---- the map from delay to list (Node's timerListMap) ---- */

static ls__timer_list **map_slot(ls_loop *loop, uint64_t msecs) {
  ls__timer_list **slot = &loop->timer_map[msecs % LS__TIMER_MAP_SIZE];
  while (*slot && (*slot)->msecs != msecs)
    slot = &(*slot)->map_next;
  return slot;
}

static void map_remove(ls_loop *loop, ls__timer_list *l) {
  ls__timer_list **slot = map_slot(loop, l->msecs);
  if (*slot == l)
    *slot = l->map_next;
  l->map_next = NULL;
}

static void list_free(ls_loop *loop, ls__timer_list *l) {
  l->map_next = loop->timer_list_free;
  loop->timer_list_free = l;
}

/* Drops an empty list from the map and the queue (Node's unenroll and the
 * end of listOnTimeout). The list being run is freed by its runner. */
static void list_retire(ls_loop *loop, ls__timer_list *l) {
  map_remove(loop, l);
  if (l->heap_index != NOT_IN_HEAP)
    heap_remove(loop, l);
  if (l != loop->timer_running)
    list_free(loop, l);
}

/* binding.scheduleTimer(): (re)arm Node's single libuv timer. */
static void schedule_timer(ls_loop *loop, uint64_t msecs) {
  loop->timer_due = loop->time + msecs;
  loop->timer_active = true;
}

static int insert(ls_loop *loop, ls_timer *t, uint64_t msecs, uint64_t start) {
  t->idle_start = start;
  ls__timer_list **slot = map_slot(loop, msecs);
  ls__timer_list *list = *slot;
  if (!list) {
    list = loop->timer_list_free;
    if (list)
      loop->timer_list_free = list->map_next;
    else if (!(list = malloc(sizeof(*list))))
      return LS_ENOMEM;
    list->expiry = start + msecs;
    list->id = loop->timer_list_next_id++;
    list->msecs = msecs;
    list->heap_index = NOT_IN_HEAP;
    list->map_next = NULL;
    ls__queue_init(&list->timers);
    int err = heap_insert(loop, list);
    if (err) {
      list_free(loop, list);
      return err;
    }
    *slot = list;
    if (loop->timer_next_expiry > list->expiry) {
      schedule_timer(loop, msecs);
      loop->timer_next_expiry = list->expiry;
    }
  }
  ls__queue_remove(&t->node);
  ls__queue_insert_tail(&list->timers, &t->node);
  return 0;
}

int ls_timer_init(ls_loop *loop, ls_timer *t) {
  if (!loop || !t)
    return LS_EINVAL;
  t->data = NULL;
  t->label = NULL;
  t->loop = loop;
  t->cb = NULL;
  ls__queue_init(&t->node);
  t->idle_start = 0;
  t->idle_timeout = -1;
  t->repeat = 0;
  t->refed = true;
  t->destroyed = true;
  t->async_id = 0;
  t->trigger_id = 0;
  return 0;
}

static const char *timer_label(const ls_timer *t) {
  if (t->label)
    return t->label;
  return t->repeat ? "setInterval" : "setTimeout";
}

/* A timer that stops counting as armed (it fired, or is replaced). */
static void forget(ls_loop *loop, ls_timer *t) {
  t->destroyed = true;
  loop->timer_count--;
  if (t->refed)
    loop->timer_refcount--;
}

/* A timer that starts counting as armed: a new Timeout for Node, so a new
 * async id, triggered by the running callback. */
static void remember(ls_loop *loop, ls_timer *t) {
  t->destroyed = false;
  t->async_id = new_async_id(loop);
  t->trigger_id = loop->current_async_id;
  loop->timer_count++;
  if (t->refed)
    loop->timer_refcount++;
}

/* Node's Timeout constructor + insert(). */
static int arm(ls_timer *t, ls_timer_cb cb, double delay_ms, bool repeat) {
  if (!t || !t->loop || !cb)
    return LS_EINVAL;
  /* Waiting in a list: busy. Running its own callback: the callback may
   * arm it again, which makes a new timer (Node would create a new
   * Timeout), so the one that is firing ends here. */
  if (!ls__queue_empty(&t->node))
    return LS_EBUSY;
  ls_loop *loop = t->loop;
  if (!t->destroyed)
    forget(loop, t);
  double after = delay_ms;
  if (!(after >= 1 && after <= LS_TIMEOUT_MAX))
    after = 1;
  uint64_t msecs = (uint64_t)trunc(after);
  int err = insert(loop, t, msecs, fresh_now(loop));
  if (err)
    return err;
  t->cb = cb;
  t->idle_timeout = (int64_t)msecs;
  t->repeat = repeat ? (uint32_t)msecs : 0;
  remember(loop, t);
  ls__trace_sched(timer_label(t), t->async_id, msecs);
  return 0;
}

int ls_set_timeout(ls_timer *t, ls_timer_cb cb, double delay_ms) {
  return arm(t, cb, delay_ms, false);
}

int ls_set_interval(ls_timer *t, ls_timer_cb cb, double delay_ms) {
  return arm(t, cb, delay_ms, true);
}

/* Node's unenroll(). */
void ls_clear_timer(ls_timer *t) {
  if (!t || t->destroyed)
    return;
  ls_loop *loop = t->loop;
  t->destroyed = true;
  ls__queue *only_in_list = NULL;
  if (t->node.next != &t->node && t->node.next == t->node.prev)
    only_in_list = t->node.next;
  ls__queue_remove(&t->node);
  loop->timer_count--;
  if (t->refed) {
    /* Node only retires lists of ref'd timers: unref'd ones (sockets'
     * timeouts) are likely to be re-created at once. A timer that was its
     * list's only one points at the list head: no map lookup needed (a
     * list holding a timer is always the one mapped for its delay). */
    ls__timer_list *list =
        only_in_list ? ls__queue_data(only_in_list, ls__timer_list, timers)
                     : *map_slot(loop, (uint64_t)t->idle_timeout);
    if (list && ls__queue_empty(&list->timers))
      list_retire(loop, list);
    loop->timer_refcount--;
  }
  t->idle_timeout = -1;
}

/* Node's insertGuarded() as used by refresh(). */
int ls_timer_refresh(ls_timer *t) {
  if (!t || !t->loop)
    return LS_EINVAL;
  if (t->idle_timeout < 0)
    return 0;
  ls_loop *loop = t->loop;
  int err = insert(loop, t, (uint64_t)t->idle_timeout, fresh_now(loop));
  if (err)
    return err;
  if (t->destroyed)
    remember(loop, t);
  ls__trace_sched(timer_label(t), t->async_id, (uint64_t)t->idle_timeout);
  return 0;
}

void ls_timer_ref(ls_timer *t) {
  if (t->refed)
    return;
  t->refed = true;
  if (!t->destroyed)
    t->loop->timer_refcount++;
}

void ls_timer_unref(ls_timer *t) {
  if (!t->refed)
    return;
  t->refed = false;
  if (!t->destroyed)
    t->loop->timer_refcount--;
}

bool ls_timer_has_ref(const ls_timer *t) { return t->refed; }

bool ls_timer_armed(const ls_timer *t) { return !t->destroyed; }

/* One timer callback; an interval re-arms from the time its callback
 * started, unless the callback cleared it. A callback that cleared and
 * re-armed its own struct made a new timer (a new async id): leave it. */
static void run_one(ls_loop *loop, ls_timer *t) {
  ls__queue_remove(&t->node);
  uint64_t start = t->repeat ? fresh_now(loop) : 0;
  uint64_t id = t->async_id;
  ls_kind kind = t->repeat ? LS_KIND_INTERVAL : LS_KIND_TIMER;
  const char *label = timer_label(t);
  uint64_t prev = ls__cb_enter(loop, kind, label, id, t->trigger_id);
  t->cb(t);
  ls__cb_leave(loop, kind, label, prev);
  if (t->async_id != id || t->destroyed)
    return;
  if (t->repeat && insert(loop, t, t->repeat, start) == 0) {
    ls__trace_sched(label, id, t->repeat);
    return;
  }
  if (ls__queue_empty(&t->node))
    forget(loop, t);
}

/* listOnTimeout(): run the list's due timers in order; stop at the first
 * that is not due and move the list's expiry to it. */
static void list_on_timeout(ls_loop *loop, ls__timer_list *list, uint64_t now) {
  bool ran = false;
  loop->timer_running = list;
  while (!ls__queue_empty(&list->timers) && !loop->failed) {
    ls_timer *t = ls__queue_data(ls__queue_head(&list->timers), ls_timer, node);
    int64_t diff = (int64_t)(now - t->idle_start);
    if (diff < (int64_t)list->msecs) {
      uint64_t expiry = t->idle_start + list->msecs;
      list->expiry = expiry > now + 1 ? expiry : now + 1;
      list->id = loop->timer_list_next_id++;
      heap_down(loop, list->heap_index);
      loop->timer_running = NULL;
      return;
    }
    if (ran) {
      ls__drain_if_queued(loop);
      /* A tick may have cleared or moved the timer we looked at. */
      if (ls__queue_empty(&list->timers) ||
          ls__queue_head(&list->timers) != &t->node)
        continue;
    }
    ran = true;
    run_one(loop, t);
  }
  loop->timer_running = NULL;
  if (loop->failed)
    return;
  if (*map_slot(loop, list->msecs) == list)
    list_retire(loop, list);
  else if (list->heap_index == NOT_IN_HEAP)
    list_free(loop, list); /* retired while it ran */
}

/* processTimers(now): returns the next expiry, negative when no ref'd timer
 * is left, 0 when no list is left. */
static int64_t process_timers(ls_loop *loop, uint64_t now) {
  loop->timer_next_expiry = UINT64_MAX;
  bool ran = false;
  while (loop->timer_heap_len > 0 && !loop->failed) {
    ls__timer_list *list = loop->timer_heap[0];
    if (list->expiry > now) {
      loop->timer_next_expiry = list->expiry;
      return loop->timer_refcount > 0 ? (int64_t)list->expiry
                                      : -(int64_t)list->expiry;
    }
    if (ran)
      ls__drain_if_queued(loop);
    else
      loop->lag_us = (int64_t)(now - list->expiry) * 1000;
    ran = true;
    list_on_timeout(loop, list, now);
  }
  return 0;
}

/* Node's RunTimers(): the single libuv timer fired. The ticks and microtasks
 * left by the last list drain after the timer is re-armed, as they do when
 * Node's InternalCallbackScope closes at the end of RunTimers: a timer armed
 * from them then sees the re-armed expiry, and re-arms earlier if it is due
 * sooner, instead of being overwritten by it. */
void ls__run_timers(ls_loop *loop) {
  if (!loop->timer_active || loop->timer_due > loop->time)
    return;
  loop->timer_active = false;
  int64_t next = process_timers(loop, fresh_now(loop));
  if (next != 0 && !loop->failed) {
    int64_t expiry = next > 0 ? next : -next;
    int64_t duration = expiry - (int64_t)loop->time;
    schedule_timer(loop, duration > 0 ? (uint64_t)duration : 1);
  }
  ls__drain_if_queued(loop);
}

int ls__timer_timeout(const ls_loop *loop) {
  if (!loop->timer_active)
    return -1;
  if (loop->timer_due <= loop->time)
    return 0;
  uint64_t diff = loop->timer_due - loop->time;
  return diff > INT32_MAX ? INT32_MAX : (int)diff;
}

/* Loop close: timers still armed (unref'd ones, typically) are disarmed,
 * so their structs hold no pointer into freed lists. */
void ls__timers_free(ls_loop *loop) {
  for (unsigned i = 0; i < loop->timer_heap_len; i++) {
    ls__timer_list *list = loop->timer_heap[i];
    while (!ls__queue_empty(&list->timers)) {
      ls_timer *t =
          ls__queue_data(ls__queue_head(&list->timers), ls_timer, node);
      ls__queue_remove(&t->node);
      t->destroyed = true;
      t->idle_timeout = -1;
    }
    free(list);
  }
  loop->timer_count = loop->timer_refcount = 0;
  loop->timer_active = false;
  free(loop->timer_heap);
  loop->timer_heap = NULL;
  loop->timer_heap_len = loop->timer_heap_cap = 0;
  for (int i = 0; i < LS__TIMER_MAP_SIZE; i++)
    loop->timer_map[i] = NULL;
  while (loop->timer_list_free) {
    ls__timer_list *next = loop->timer_list_free->map_next;
    free(loop->timer_list_free);
    loop->timer_list_free = next;
  }
}
