/* A small open-addressing hash map from uint64_t keys to uint64_t values,
 * used where the exporter, the importer and `loopscope report` follow things
 * by id: threads by (pid, tid), timers by async id, strings by hash.
 *
 * Linear probing with backward-shift deletion, so there are no tombstones and
 * a map that sees many inserts and removals (timers armed and fired) stays as
 * small as its live content. Memory: 16 bytes per slot, at most 2x live keys
 * plus the minimum size. */
#ifndef LOOPSCOPE_U64MAP_H
#define LOOPSCOPE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ls_u64map {
  uint64_t *keys;
  uint64_t *vals;
  uint8_t *used;
  size_t cap;   /* power of two, or 0 before the first insert */
  size_t count;
} ls_u64map;

/* A zeroed ls_u64map is empty and ready. */
void ls_u64map_free(ls_u64map *m);
/* Returns a pointer to key's value, or NULL. Valid until the next insert or
 * removal. */
uint64_t *ls_u64map_get(const ls_u64map *m, uint64_t key);
/* Returns key's value slot, inserting it with value 0 when absent (*added
 * says which); NULL when out of memory. */
uint64_t *ls_u64map_put(ls_u64map *m, uint64_t key, bool *added);
bool ls_u64map_remove(ls_u64map *m, uint64_t key);

/* Mixes two 64-bit values into one key (pid, tid). */
static inline uint64_t ls_u64_mix(uint64_t a, uint64_t b) {
  uint64_t h = a * UINT64_C(0x9e3779b97f4a7c15) ^ (b + UINT64_C(0x632be59bd9b4e019));
  h ^= h >> 29;
  h *= UINT64_C(0xbf58476d1ce4e5b9);
  return h ^ (h >> 32);
}

#endif
