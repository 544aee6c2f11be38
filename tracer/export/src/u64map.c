#include <stdlib.h>

#include "loopscope/u64map.h"

#define LS__U64MAP_MIN 16

static size_t slot_of(uint64_t key, size_t cap) {
  uint64_t h = key * UINT64_C(0x9e3779b97f4a7c15);
  return (size_t)(h ^ (h >> 31)) & (cap - 1);
}

void ls_u64map_free(ls_u64map *m) {
  free(m->keys);
  free(m->vals);
  free(m->used);
  *m = (ls_u64map){0};
}

uint64_t *ls_u64map_get(const ls_u64map *m, uint64_t key) {
  if (m->cap == 0)
    return NULL;
  for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (!m->used[i])
      return NULL;
    if (m->keys[i] == key)
      return &m->vals[i];
  }
}

static bool grow(ls_u64map *m) {
  size_t cap = m->cap ? m->cap * 2 : LS__U64MAP_MIN;
  ls_u64map n = {.cap = cap};
  n.keys = malloc(cap * sizeof *n.keys);
  n.vals = malloc(cap * sizeof *n.vals);
  n.used = calloc(cap, 1);
  if (!n.keys || !n.vals || !n.used) {
    ls_u64map_free(&n);
    return false;
  }
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->used[i])
      continue;
    size_t j = slot_of(m->keys[i], cap);
    while (n.used[j])
      j = (j + 1) & (cap - 1);
    n.used[j] = 1;
    n.keys[j] = m->keys[i];
    n.vals[j] = m->vals[i];
  }
  n.count = m->count;
  ls_u64map_free(m);
  *m = n;
  return true;
}

uint64_t *ls_u64map_put(ls_u64map *m, uint64_t key, bool *added) {
  uint64_t *v = ls_u64map_get(m, key);
  if (added)
    *added = v == NULL;
  if (v)
    return v;
  if ((m->count + 1) * 2 > m->cap && !grow(m))
    return NULL;
  size_t i = slot_of(key, m->cap);
  while (m->used[i])
    i = (i + 1) & (m->cap - 1);
  m->used[i] = 1;
  m->keys[i] = key;
  m->vals[i] = 0;
  m->count++;
  return &m->vals[i];
}

bool ls_u64map_remove(ls_u64map *m, uint64_t key) {
  uint64_t *v = ls_u64map_get(m, key);
  if (!v)
    return false;
  size_t mask = m->cap - 1, hole = (size_t)(v - m->vals);
  /* Backward shift: pull later members of the probe run into the hole when
   * their home slot does not lie (cyclically) between the hole and them. */
  for (size_t i = (hole + 1) & mask; m->used[i]; i = (i + 1) & mask) {
    size_t home = slot_of(m->keys[i], m->cap);
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      m->keys[hole] = m->keys[i];
      m->vals[hole] = m->vals[i];
      hole = i;
    }
  }
  m->used[hole] = 0;
  m->count--;
  return true;
}
