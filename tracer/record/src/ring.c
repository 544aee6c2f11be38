#include "ring.h"

#include <stddef.h>
#include <sys/mman.h>

_Atomic uint64_t ls__lost_total;

bool ls__ring_make_room(ls__ring *r, uint64_t head, uint64_t ts) {
  uint64_t pending = atomic_load_explicit(&r->pending_lost, memory_order_relaxed);
  uint64_t need = pending ? 2 : 1;
  if (r->room - (head - r->tail_cache) < need) {
    r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (r->room - (head - r->tail_cache) < need) {
      if (pending == 0)
        atomic_store_explicit(&r->first_lost_ts, ts, memory_order_relaxed);
      atomic_store_explicit(&r->pending_lost, pending + 1, memory_order_relaxed);
      atomic_fetch_add_explicit(&ls__lost_total, 1, memory_order_relaxed);
      return false;
    }
  }
  if (pending) {
    uint64_t word = ls__slot_word(LS__SLOT_LOST, LS__CAT_NONE, NULL);
    uint64_t first =
        atomic_load_explicit(&r->first_lost_ts, memory_order_relaxed);
    ls__ring_store(r, head, first, word, 0, pending);
    atomic_store_explicit(&r->pending_lost, 0, memory_order_relaxed);
  }
  return true;
}

static size_t ring_bytes(unsigned slots) {
  return offsetof(ls__ring, slots) + (size_t)slots * sizeof(ls__slot);
}

/* mmap: page-aligned, and pages are only committed as the ring first fills. */
ls__ring *ls__ring_new(unsigned slots, bool flight, uint32_t gen,
                       uint64_t tid) {
  void *p = mmap(NULL, ring_bytes(slots), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  ls__ring *r = p; /* zero-filled */
  r->room = flight ? UINT64_MAX : slots;
  r->mask = slots - 1;
  r->gen = gen;
  r->tid = tid;
  return r;
}

void ls__ring_free(ls__ring *r) { munmap(r, ring_bytes((unsigned)(r->mask + 1))); }

uint64_t ls__ring_copy(ls__ring *r, uint64_t from, uint64_t to, ls__slot *out) {
  for (uint64_t i = from; i < to; i++) {
    const ls__slot *s = &r->slots[i & r->mask];
    ls__slot *d = &out[i - from];
    d->ts = __atomic_load_n(&s->ts, __ATOMIC_RELAXED);
    d->word = __atomic_load_n(&s->word, __ATOMIC_RELAXED);
    d->id = __atomic_load_n(&s->id, __ATOMIC_RELAXED);
    d->arg = __atomic_load_n(&s->arg, __ATOMIC_RELAXED);
  }
  atomic_thread_fence(memory_order_acquire);
  /* The producer writes slot n only after publishing head = n; having seen
   * head, it may be writing slot `head`, which shares its place with
   * head - capacity, but nothing newer. */
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  uint64_t cap = r->mask + 1;
  uint64_t safe = head >= cap ? head - cap + 1 : 0;
  return safe > from ? safe : from;
}
