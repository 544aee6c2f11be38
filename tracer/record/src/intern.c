#include "intern.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loopscope/trace.h"

ls__cat_table ls__cats = {.names = {[LS__CAT_OVERFLOW] = LS__CAT_OVERFLOW_NAME}};

static pthread_mutex_t cat_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned cat_count = LS__CAT_OVERFLOW + 1;

uint16_t ls__cat_index_slow(const char *cat) {
  pthread_mutex_lock(&cat_lock);
  uint32_t h = ls__ptr_hash(cat) & (LS__CAT_KEYS - 1);
  const char *k;
  while ((k = atomic_load_explicit(&ls__cats.keys[h], memory_order_relaxed)) !=
         NULL) {
    if (k == cat) { /* another thread added it meanwhile */
      pthread_mutex_unlock(&cat_lock);
      return ls__cats.index[h];
    }
    h = (h + 1) & (LS__CAT_KEYS - 1);
  }
  uint16_t index = LS__CAT_OVERFLOW;
  if (cat_count < LS__CAT_MAX) {
    index = (uint16_t)cat_count++;
    atomic_store_explicit(&ls__cats.names[index], cat, memory_order_release);
    ls__cats.index[h] = index;
    atomic_store_explicit(&ls__cats.keys[h], cat, memory_order_release);
  } else if (cat_count++ == LS__CAT_MAX) {
    fprintf(stderr,
            "loopscope: more than %u trace categories; further ones are "
            "recorded as \"%s\"\n",
            LS__CAT_MAX - 2, LS__CAT_OVERFLOW_NAME);
  }
  pthread_mutex_unlock(&cat_lock);
  return index;
}

/* ------------------------------------------------------- ls_trace_intern */

/* Open addressing on the text's hash; grows at half full. The copies are
 * never freed: callers may keep the pointers until the process exits. */
static pthread_mutex_t str_lock = PTHREAD_MUTEX_INITIALIZER;
static char **str_table;
static size_t str_cap, str_count;

static uint64_t text_hash(const char *s) {
  uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
  return h;
}

static bool str_grow(void) {
  size_t cap = str_cap ? 2 * str_cap : 256;
  char **table = calloc(cap, sizeof *table);
  if (table == NULL)
    return false;
  for (size_t i = 0; i < str_cap; i++) {
    if (str_table[i] == NULL)
      continue;
    size_t h = text_hash(str_table[i]) & (cap - 1);
    while (table[h] != NULL)
      h = (h + 1) & (cap - 1);
    table[h] = str_table[i];
  }
  free(str_table);
  str_table = table;
  str_cap = cap;
  return true;
}

const char *ls_trace_intern(const char *s) {
  if (s == NULL)
    return NULL;
  const char *found = NULL;
  pthread_mutex_lock(&str_lock);
  if (2 * (str_count + 1) > str_cap && !str_grow())
    goto out;
  size_t h = text_hash(s) & (str_cap - 1);
  while (str_table[h] != NULL && strcmp(str_table[h], s) != 0)
    h = (h + 1) & (str_cap - 1);
  if (str_table[h] == NULL) {
    str_table[h] = strdup(s);
    if (str_table[h] != NULL)
      str_count++;
  }
  found = str_table[h];
out:
  pthread_mutex_unlock(&str_lock);
  return found;
}
