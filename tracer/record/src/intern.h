/* String interning for the recorder.
 *
 * ls_trace_intern (trace.h) keeps one copy of each text for the life of the
 * process. Categories additionally get a small index, so a slot can carry a
 * category in 12 bits next to the name pointer (see ring.h). */
#ifndef LS_RECORD_INTERN_H
#define LS_RECORD_INTERN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LS__CAT_BITS 12
#define LS__CAT_MAX (1u << LS__CAT_BITS)
#define LS__CAT_KEYS (2 * LS__CAT_MAX) /* pointer -> index, at most half full */

/* Index 0 is no category (NULL: flows, which the writer names itself).
 * Index 1 is the category given to events once LS__CAT_MAX - 2 distinct
 * category pointers have been seen (a misuse: categories are meant to be a
 * small fixed set); a warning is printed when that first happens. */
#define LS__CAT_NONE 0
#define LS__CAT_OVERFLOW 1
#define LS__CAT_OVERFLOW_NAME "(too many categories)"

typedef struct ls__cat_table {
  _Atomic(const char *) keys[LS__CAT_KEYS];
  uint16_t index[LS__CAT_KEYS];
  const char *_Atomic names[LS__CAT_MAX];
} ls__cat_table;

extern ls__cat_table ls__cats __attribute__((visibility("hidden")));

uint16_t ls__cat_index_slow(const char *cat);

static inline uint32_t ls__ptr_hash(const void *p) {
  return (uint32_t)(((uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15)) >> 40);
}

/* Lock-free lookup by pointer: keys are only ever added, each published with
 * a release store after its index. */
static inline uint16_t ls__cat_index(const char *cat) {
  uint32_t h = ls__ptr_hash(cat) & (LS__CAT_KEYS - 1);
  for (;;) {
    const char *k = atomic_load_explicit(&ls__cats.keys[h], memory_order_acquire);
    if (__builtin_expect(k == cat, 1))
      return ls__cats.index[h];
    if (k == NULL)
      return ls__cat_index_slow(cat);
    h = (h + 1) & (LS__CAT_KEYS - 1);
  }
}

/* The index when cat (or NULL) is found at its first probe. */
static inline bool ls__cat_index_fast(const char *cat, uint16_t *index) {
  if (cat == NULL) {
    *index = LS__CAT_NONE;
    return true;
  }
  uint32_t h = ls__ptr_hash(cat) & (LS__CAT_KEYS - 1);
  if (atomic_load_explicit(&ls__cats.keys[h], memory_order_acquire) != cat)
    return false;
  *index = ls__cats.index[h];
  return true;
}

static inline const char *ls__cat_name(unsigned index) {
  return atomic_load_explicit(&ls__cats.names[index], memory_order_acquire);
}

#endif
