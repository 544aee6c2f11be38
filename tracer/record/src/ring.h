/* Per-thread single-producer rings of fixed-size slots.
 *
 * The owning thread is the only producer; the session's writer thread is the
 * only consumer. A push is one relaxed load of the ring's own head, the
 * stores of one 32-byte slot and a release store of the new head: no atomic
 * read-modify-write, no lock, no system call, never a wait.
 *
 * Discard mode: the producer compares head with its cached copy of the
 * consumer's tail; a full ring drops the event and counts it. The next push
 * that finds room first publishes a LOST slot (count, time of the first
 * drop), so the loss sits at its place in the thread's stream.
 *
 * Flight-recorder mode: the producer never looks at the tail and overwrites
 * the oldest slots. The writer copies slots and then re-reads head to learn
 * which of the copies the producer may have been overwriting meanwhile
 * (ls__ring_copy); the release fence in ls__ring_push orders "head = n"
 * before the stores into slot n, which that check relies on. */
#ifndef LS_RECORD_RING_H
#define LS_RECORD_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "intern.h"

typedef enum ls__slot_type {
  LS__SLOT_BEGIN = 1,
  LS__SLOT_END,
  LS__SLOT_INSTANT,
  LS__SLOT_COUNTER,
  LS__SLOT_FLOW_BEGIN,
  LS__SLOT_FLOW_END,
  LS__SLOT_ASYNC_BEGIN,
  LS__SLOT_ASYNC_END,
  /* Two events in one slot, the pairs the runtime emits for every callback
   * (one timestamp, one push): */
  LS__SLOT_INSTANT_FLOW_BEGIN, /* an instant, then the flow begin of id */
  LS__SLOT_BEGIN_FLOW_END,     /* a slice begin, then the flow end of id */
  LS__SLOT_LOST         /* arg = events dropped, ts = the first drop */
} ls__slot_type;

/* word: name pointer in bits 0..47 (user-space addresses fit in 47 bits on
 * x86-64 and 48 on arm64), category index in 48..59, type in 60..63. */
typedef struct ls__slot {
  uint64_t ts;   /* raw ticks (clock.h) */
  uint64_t word;
  uint64_t id;
  uint64_t arg;
} ls__slot;

_Static_assert(sizeof(ls__slot) == 32, "two slots per cache line");
_Static_assert(sizeof(void *) == 8, "slots pack a 48-bit pointer");
_Static_assert(LS__CAT_BITS == 12, "slot word layout");
_Static_assert(LS__SLOT_LOST < 16, "slot types fit in 4 bits");

#define LS__SLOT_PTR_MASK ((UINT64_C(1) << 48) - 1)

static inline uint64_t ls__slot_word(ls__slot_type type, unsigned cat,
                                     const char *name) {
  return (uint64_t)(uintptr_t)name | (uint64_t)cat << 48 |
         (uint64_t)type << 60;
}
static inline ls__slot_type ls__slot_type_of(uint64_t word) {
  return (ls__slot_type)(word >> 60);
}
static inline unsigned ls__slot_cat(uint64_t word) {
  return (unsigned)(word >> 48) & (LS__CAT_MAX - 1);
}
static inline const char *ls__slot_name(uint64_t word) {
  return (const char *)(uintptr_t)(word & LS__SLOT_PTR_MASK);
}

typedef struct ls__ring ls__ring;
struct ls__ring {
  /* written by the producer, read by the writer */
  _Atomic uint64_t head;  /* slots published */
  /* producer only */
  uint64_t tail_cache;    /* last tail seen */
  uint64_t room;          /* capacity; UINT64_MAX in flight mode (no check) */
  /* dropped since the last published slot, and when the first was; atomic
   * (relaxed) only because the writer reads them once the thread is done
   * or the session stops, when no later slot will carry them */
  _Atomic uint64_t pending_lost;
  _Atomic uint64_t first_lost_ts;
  /* set once when created */
  uint64_t mask;
  uint64_t tid;
  uint32_t gen;           /* the session it belongs to */
  /* written by the writer, read by the producer when it runs out of room */
  alignas(64) _Atomic uint64_t tail;
  /* writer only */
  uint64_t dumped;        /* flight mode: first slot not yet written */
  ls__ring *next;         /* the registry (record.c) */
  const char *name_written; /* the thread name last written to the file */
  /* set by the producer */
  _Atomic(const char *) name; /* interned thread name, or NULL */
  _Atomic bool done;          /* it will never push again */
  alignas(64) ls__slot slots[];
};

/* Makes room for one slot (and a pending LOST slot), or counts a drop. */
bool ls__ring_make_room(ls__ring *r, uint64_t head, uint64_t ts);

static inline void ls__ring_store(ls__ring *r, uint64_t head, uint64_t ts,
                                  uint64_t word, uint64_t id, uint64_t arg) {
  ls__slot *s = &r->slots[head & r->mask];
  /* orders the previous head store before these (flight mode, see above);
   * a compiler barrier on x86 */
  atomic_thread_fence(memory_order_release);
  __atomic_store_n(&s->ts, ts, __ATOMIC_RELAXED);
  __atomic_store_n(&s->word, word, __ATOMIC_RELAXED);
  __atomic_store_n(&s->id, id, __ATOMIC_RELAXED);
  __atomic_store_n(&s->arg, arg, __ATOMIC_RELAXED);
  atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

static inline void ls__ring_push(ls__ring *r, uint64_t ts, uint64_t word,
                                 uint64_t id, uint64_t arg) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  if (__builtin_expect(head - r->tail_cache >= r->room ||
                           atomic_load_explicit(&r->pending_lost,
                                                memory_order_relaxed),
                       0)) {
    if (!ls__ring_make_room(r, head, ts))
      return;
    head = atomic_load_explicit(&r->head, memory_order_relaxed);
  }
  ls__ring_store(r, head, ts, word, id, arg);
}

/* Allocates a ring of `slots` (a power of two) for the calling thread. */
ls__ring *ls__ring_new(unsigned slots, bool flight, uint32_t gen,
                       uint64_t tid);
void ls__ring_free(ls__ring *r);

/* Copies slots [from, to) into out (at most the ring's capacity) and returns
 * the first index whose copy is known intact: the producer may have been
 * rewriting anything older. Used in flight mode, where nothing holds the
 * producer back. */
uint64_t ls__ring_copy(ls__ring *r, uint64_t from, uint64_t to, ls__slot *out);

/* Dropped events, all rings of the current session. */
extern _Atomic uint64_t ls__lost_total;

#endif
