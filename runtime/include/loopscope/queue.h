/* Intrusive circular doubly linked queue (libuv style).
 *
 * Every queued object embeds an ls__queue; a queue head is an ls__queue
 * linked to itself. A removed node is re-linked to itself, so
 * ls__queue_empty(&node) also answers "is this node on no queue", which the
 * runtime uses to make clear/stop calls idempotent.
 */
#ifndef LOOPSCOPE_QUEUE_H
#define LOOPSCOPE_QUEUE_H

#include <stddef.h>

typedef struct ls__queue {
  struct ls__queue *next;
  struct ls__queue *prev;
} ls__queue;

#define ls__queue_data(ptr, type, field) \
  ((type *)((char *)(ptr) - offsetof(type, field)))

static inline void ls__queue_init(ls__queue *q) { q->next = q->prev = q; }

static inline int ls__queue_empty(const ls__queue *q) { return q->next == q; }

static inline ls__queue *ls__queue_head(const ls__queue *q) { return q->next; }

static inline void ls__queue_insert_tail(ls__queue *h, ls__queue *q) {
  q->next = h;
  q->prev = h->prev;
  q->prev->next = q;
  h->prev = q;
}

static inline void ls__queue_insert_head(ls__queue *h, ls__queue *q) {
  q->next = h->next;
  q->prev = h;
  q->next->prev = q;
  h->next = q;
}

static inline void ls__queue_remove(ls__queue *q) {
  q->prev->next = q->next;
  q->next->prev = q->prev;
  q->next = q->prev = q;
}

/* Moves every node of `from` onto the empty head `to`; `from` ends empty. */
static inline void ls__queue_move(ls__queue *from, ls__queue *to) {
  if (ls__queue_empty(from)) {
    ls__queue_init(to);
    return;
  }
  to->next = from->next;
  to->prev = from->prev;
  to->next->prev = to;
  to->prev->next = to;
  ls__queue_init(from);
}

/* Puts every node of `from` in front of the nodes of `to`; `from` ends empty. */
static inline void ls__queue_prepend(ls__queue *from, ls__queue *to) {
  if (ls__queue_empty(from))
    return;
  from->prev->next = to->next;
  to->next->prev = from->prev;
  to->next = from->next;
  from->next->prev = to;
  ls__queue_init(from);
}

#endif
