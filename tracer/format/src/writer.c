/* The trace writer: encodes FXT records into a buffer and writes the buffer
 * to a file descriptor, only ever in whole records.
 *
 * Costs, per event: one pointer-cache probe and a short strcmp per string
 * (category, name, argument names), one compare for the thread, then about
 * three 64-bit stores. New strings and threads cost a hash, a malloc and a
 * string or thread record, once. See FORMAT.md for what is written. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fxt.h"
#include "loopscope/format.h"

#define LS__WBUF_SIZE (256 * 1024)  /* >= the largest record (32760 bytes) */
#define LS__STR_BUCKETS 65536       /* power of two, twice the table */
#define LS__PTR_CACHE 4096          /* power of two */
#define LS__THREAD_BUCKETS 512      /* power of two */
/* header + timestamp + 15 two-word arguments + the event-type word */
#define LS__EVENT_WORDS_MAX (2 + 2 * LS_MAX_ARGS + 1)

typedef struct ls__wstr {
  char *text;      /* owned NUL-terminated copy; NULL when the slot is free */
  uint32_t len;
  uint32_t hash;
  uint32_t pin;    /* == writer's pin while the current record uses it */
  uint16_t next;   /* next index in the same hash bucket, 0 ends */
  uint8_t recent;  /* clock bit: used since the eviction hand last passed */
  uint8_t whole;   /* not truncated, so a pointer to the same text matches */
} ls__wstr;

typedef struct ls__wthread {
  uint64_t pid, tid;
  uint16_t next;
  uint8_t recent;
} ls__wthread;

typedef struct ls__ptr_slot {
  const char *ptr;
  uint32_t index;
} ls__ptr_slot;

struct ls_writer {
  int fd;
  int error;       /* first error; sticky */
  size_t used;     /* bytes in buf */
  uint64_t flushed;
  uint32_t pin;    /* bumped per record: strings it uses cannot be evicted */
  uint32_t nstrs, str_hand;
  uint32_t nthreads, thread_hand, last_thread;
  ls__ptr_slot ptr_cache[LS__PTR_CACHE];
  uint16_t str_buckets[LS__STR_BUCKETS];
  ls__wstr strs[LS__STR_INDEX_MAX + 1];
  uint16_t thread_buckets[LS__THREAD_BUCKETS];
  ls__wthread threads[LS__THREAD_INDEX_MAX + 1];
  uint8_t buf[LS__WBUF_SIZE];
};

/* ------------------------------------------------------------- output */

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (k == 0)
      return -EIO; /* no progress and no errno: do not spin */
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

int ls_writer_flush(ls_writer *w) {
  if (w->error)
    return w->error;
  int rc = write_all(w->fd, w->buf, w->used);
  if (rc < 0) {
    w->error = rc;
    return rc;
  }
  w->flushed += w->used;
  w->used = 0;
  return 0;
}

/* Makes room for a record of `bytes`; the buffer holds whole records only,
 * so flushing here never splits one. */
static int reserve(ls_writer *w, size_t bytes) {
  if (w->used + bytes > LS__WBUF_SIZE)
    return ls_writer_flush(w);
  return 0;
}

static inline void put64(ls_writer *w, uint64_t v) {
  memcpy(w->buf + w->used, &v, 8);
  w->used += 8;
}

static void put_stream(ls_writer *w, const void *bytes, size_t len) {
  size_t padded = ls__words(len) * 8;
  memcpy(w->buf + w->used, bytes, len);
  memset(w->buf + w->used + len, 0, padded - len);
  w->used += padded;
}

/* ------------------------------------------------------------ strings */

static uint32_t hash_bytes(const char *s, size_t n) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static inline size_t ptr_slot(const char *p) {
  return (size_t)(((uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15)) >> 52) &
         (LS__PTR_CACHE - 1);
}

/* Strings longer than the spec's limit are cut, at a UTF-8 boundary. */
static size_t cut_len(const char *s) {
  size_t n = strnlen(s, LS__STR_LEN_MAX + 1);
  if (n > LS__STR_LEN_MAX) {
    n = LS__STR_LEN_MAX;
    while (n > 0 && ((uint8_t)s[n] & 0xC0) == 0x80)
      n--;
  }
  return n;
}

static void unlink_string(ls_writer *w, uint32_t index) {
  ls__wstr *e = &w->strs[index];
  uint16_t *link = &w->str_buckets[e->hash & (LS__STR_BUCKETS - 1)];
  while (*link != index)
    link = &w->strs[*link].next;
  *link = e->next;
  free(e->text);
  e->text = NULL;
}

/* Second-chance (clock) eviction: strings used since the hand last passed
 * survive, so the loop's hot names keep their index while one-off labels
 * cycle through the rest. Strings pinned by the record being built are never
 * taken. */
static uint32_t evict_string(ls_writer *w) {
  for (;;) {
    w->str_hand = w->str_hand % LS__STR_INDEX_MAX + 1;
    ls__wstr *e = &w->strs[w->str_hand];
    if (e->pin == w->pin)
      continue;
    if (e->recent) {
      e->recent = 0;
      continue;
    }
    unlink_string(w, w->str_hand);
    return w->str_hand;
  }
}

static int add_string(ls_writer *w, const char *s, size_t len, uint32_t hash,
                      uint32_t *index) {
  char *copy = malloc(len + 1);
  if (copy == NULL)
    return LS_FMT_ENOMEM;
  memcpy(copy, s, len);
  copy[len] = '\0';
  int rc = reserve(w, 8 + ls__words(len) * 8);
  if (rc < 0) {
    free(copy);
    return rc;
  }
  uint32_t i = w->nstrs < LS__STR_INDEX_MAX ? ++w->nstrs : evict_string(w);
  ls__wstr *e = &w->strs[i];
  e->text = copy;
  e->len = (uint32_t)len;
  e->hash = hash;
  e->whole = s[len] == '\0';
  uint16_t *bucket = &w->str_buckets[hash & (LS__STR_BUCKETS - 1)];
  e->next = *bucket;
  *bucket = (uint16_t)i;
  put64(w, LS__RT_STRING | (1 + ls__words(len)) << 4 | (uint64_t)i << 16 |
               (uint64_t)len << 32);
  put_stream(w, s, len);
  *index = i;
  return 0;
}

/* The string ref of s, registering s first if it is new. NULL and "" are the
 * empty string (ref 0). */
static int string_ref(ls_writer *w, const char *s, uint16_t *ref) {
  if (s == NULL || s[0] == '\0') {
    *ref = 0;
    return 0;
  }
  ls__ptr_slot *slot = &w->ptr_cache[ptr_slot(s)];
  uint32_t i = slot->index;
  /* The recorder passes the same static strings over and over; other callers
   * reuse buffers, so a pointer hit is confirmed against the text. */
  if (slot->ptr == s && w->strs[i].text != NULL && w->strs[i].whole &&
      strcmp(w->strs[i].text, s) == 0)
    goto found;
  size_t len = cut_len(s);
  uint32_t hash = hash_bytes(s, len);
  for (i = w->str_buckets[hash & (LS__STR_BUCKETS - 1)]; i != 0;
       i = w->strs[i].next) {
    const ls__wstr *e = &w->strs[i];
    if (e->hash == hash && e->len == len && memcmp(e->text, s, len) == 0)
      break;
  }
  if (i == 0) {
    int rc = add_string(w, s, len, hash, &i);
    if (rc < 0)
      return rc;
  }
  if (w->strs[i].whole) {
    slot->ptr = s;
    slot->index = i;
  }
found:
  w->strs[i].recent = 1;
  w->strs[i].pin = w->pin;
  *ref = (uint16_t)i;
  return 0;
}

/* ------------------------------------------------------------ threads */

static inline uint32_t thread_bucket(uint64_t pid, uint64_t tid) {
  uint64_t h = (pid * UINT64_C(0x9E3779B97F4A7C15)) ^ tid;
  h *= UINT64_C(0xBF58476D1CE4E5B9);
  return (uint32_t)(h >> 55) & (LS__THREAD_BUCKETS - 1);
}

static uint32_t evict_thread(ls_writer *w) {
  for (;;) {
    w->thread_hand = w->thread_hand % LS__THREAD_INDEX_MAX + 1;
    ls__wthread *t = &w->threads[w->thread_hand];
    if (t->recent) {
      t->recent = 0;
      continue;
    }
    uint16_t *link = &w->thread_buckets[thread_bucket(t->pid, t->tid)];
    while (*link != w->thread_hand)
      link = &w->threads[*link].next;
    *link = t->next;
    return w->thread_hand;
  }
}

static int thread_ref(ls_writer *w, uint64_t pid, uint64_t tid, uint8_t *ref) {
  uint32_t i = w->last_thread;
  if (i != 0 && w->threads[i].pid == pid && w->threads[i].tid == tid)
    goto found;
  uint32_t b = thread_bucket(pid, tid);
  for (i = w->thread_buckets[b]; i != 0; i = w->threads[i].next)
    if (w->threads[i].pid == pid && w->threads[i].tid == tid)
      goto found;
  int rc = reserve(w, 24);
  if (rc < 0)
    return rc;
  i = w->nthreads < LS__THREAD_INDEX_MAX ? ++w->nthreads : evict_thread(w);
  ls__wthread *t = &w->threads[i];
  t->pid = pid;
  t->tid = tid;
  t->next = w->thread_buckets[b];
  w->thread_buckets[b] = (uint16_t)i;
  put64(w, LS__RT_THREAD | 3 << 4 | (uint64_t)i << 16);
  put64(w, pid);
  put64(w, tid);
found:
  w->threads[i].recent = 1;
  w->last_thread = i;
  *ref = (uint8_t)i;
  return 0;
}

/* ---------------------------------------------------------- arguments */

/* Interns an argument's strings (name, and value for STRING). */
static int arg_refs(ls_writer *w, const ls_arg *a, uint16_t *name,
                    uint16_t *value) {
  if ((unsigned)a->type > LS_ARG_BOOL)
    return LS_FMT_EINVAL;
  int rc = string_ref(w, a->name, name);
  if (rc == 0 && a->type == LS_ARG_STRING)
    rc = string_ref(w, a->v.s, value);
  return rc;
}

/* Writes one argument in its smallest encoding: 64-bit integers that fit in
 * 32 bits take the one-word 32-bit types. POINTER and KOID keep their type,
 * which carries meaning. */
static inline uint64_t arg_head(ls_arg_type type, uint64_t words,
                                uint16_t name) {
  return type | words << 4 | (uint64_t)name << 16;
}

static void put_arg(ls_writer *w, const ls_arg *a, uint16_t name,
                    uint16_t value) {
  switch (a->type) {
  case LS_ARG_NULL:
    put64(w, arg_head(LS_ARG_NULL, 1, name));
    return;
  case LS_ARG_I32:
  case LS_ARG_I64:
    if (a->v.i >= INT32_MIN && a->v.i <= INT32_MAX) {
      put64(w, arg_head(LS_ARG_I32, 1, name) |
                   (uint64_t)(uint32_t)(int32_t)a->v.i << 32);
      return;
    }
    put64(w, arg_head(LS_ARG_I64, 2, name));
    put64(w, (uint64_t)a->v.i);
    return;
  case LS_ARG_U32:
  case LS_ARG_U64:
    if (a->v.u <= UINT32_MAX) {
      put64(w, arg_head(LS_ARG_U32, 1, name) | a->v.u << 32);
      return;
    }
    put64(w, arg_head(LS_ARG_U64, 2, name));
    put64(w, a->v.u);
    return;
  case LS_ARG_DOUBLE: {
    uint64_t bits;
    memcpy(&bits, &a->v.d, 8);
    put64(w, arg_head(LS_ARG_DOUBLE, 2, name));
    put64(w, bits);
    return;
  }
  case LS_ARG_STRING:
    put64(w, arg_head(LS_ARG_STRING, 1, name) | (uint64_t)value << 32);
    return;
  case LS_ARG_POINTER:
  case LS_ARG_KOID:
    put64(w, arg_head(a->type, 2, name));
    put64(w, a->v.u);
    return;
  case LS_ARG_BOOL:
    put64(w, arg_head(LS_ARG_BOOL, 1, name) | (uint64_t)(a->v.b ? 1 : 0) << 32);
    return;
  }
}

/* ------------------------------------------------------------- events */

static bool has_event_word(ls_event_type type) {
  return type == LS_EV_COUNTER || type >= LS_EV_COMPLETE;
}

int ls_writer_event(ls_writer *w, const ls_event *ev) {
  if (w->error)
    return w->error;
  if ((unsigned)ev->type > LS_EV_FLOW_END || ev->nargs > LS_MAX_ARGS)
    return LS_FMT_EINVAL;
  w->pin++;
  uint16_t cat = 0, name = 0, arg_name[LS_MAX_ARGS], arg_value[LS_MAX_ARGS];
  uint8_t thread = 0;
  int rc = string_ref(w, ev->category, &cat);
  if (rc == 0)
    rc = string_ref(w, ev->name, &name);
  for (unsigned i = 0; rc == 0 && i < ev->nargs; i++)
    rc = arg_refs(w, &ev->args[i], &arg_name[i], &arg_value[i]);
  if (rc == 0)
    rc = thread_ref(w, ev->pid, ev->tid, &thread);
  if (rc == 0)
    rc = reserve(w, LS__EVENT_WORDS_MAX * 8);
  if (rc < 0)
    return rc;
  size_t start = w->used;
  w->used += 8; /* header, filled in once the size is known */
  put64(w, ev->ts);
  for (unsigned i = 0; i < ev->nargs; i++)
    put_arg(w, &ev->args[i], arg_name[i], arg_value[i]);
  if (has_event_word(ev->type))
    put64(w, ev->type == LS_EV_COMPLETE ? ev->end_ts : ev->id);
  uint64_t words = (w->used - start) / 8;
  uint64_t head = LS__RT_EVENT | words << 4 | (uint64_t)ev->type << 16 |
                  (uint64_t)ev->nargs << 20 | (uint64_t)thread << 24 |
                  (uint64_t)cat << 32 | (uint64_t)name << 48;
  memcpy(w->buf + start, &head, 8);
  return 0;
}

int ls_writer_lost(ls_writer *w, uint64_t pid, uint64_t tid, uint64_t ts,
                   uint64_t count) {
  ls_event ev = {.type = LS_EV_INSTANT, .ts = ts, .pid = pid, .tid = tid,
                 .category = LS_CAT_MARK, .name = LS_MARK_LOST, .nargs = 1};
  ev.args[0] = (ls_arg){.name = LS__LOST_COUNT_ARG, .type = LS_ARG_U64,
                        .v.u = count};
  return ls_writer_event(w, &ev);
}

/* ----------------------------------------------------- kernel objects */

/* A kernel object record with at most one argument. */
static int kernel_object(ls_writer *w, unsigned obj_type, uint64_t koid,
                         const char *name, const ls_arg *arg) {
  if (w->error)
    return w->error;
  w->pin++;
  uint16_t name_ref, arg_name = 0, arg_value = 0;
  int rc = string_ref(w, name, &name_ref);
  if (rc == 0 && arg != NULL)
    rc = arg_refs(w, arg, &arg_name, &arg_value);
  if (rc == 0)
    rc = reserve(w, 4 * 8);
  if (rc < 0)
    return rc;
  size_t start = w->used;
  w->used += 8;
  put64(w, koid);
  if (arg != NULL)
    put_arg(w, arg, arg_name, arg_value);
  uint64_t words = (w->used - start) / 8;
  uint64_t head = LS__RT_KERNEL_OBJECT | words << 4 | (uint64_t)obj_type << 16 |
                  (uint64_t)name_ref << 24 | (uint64_t)(arg != NULL) << 40;
  memcpy(w->buf + start, &head, 8);
  return 0;
}

int ls_writer_process_name(ls_writer *w, uint64_t pid, const char *name) {
  return kernel_object(w, LS__ZX_OBJ_PROCESS, pid, name, NULL);
}

int ls_writer_thread_name(ls_writer *w, uint64_t pid, uint64_t tid,
                          const char *name) {
  ls_arg process = {.name = LS__THREAD_PROCESS_ARG, .type = LS_ARG_KOID,
                    .v.u = pid};
  return kernel_object(w, LS__ZX_OBJ_THREAD, tid, name, &process);
}

int ls_writer_meta(ls_writer *w, const char *key, const char *value) {
  ls_arg v = {.name = LS__META_VALUE_ARG, .type = LS_ARG_STRING, .v.s = value};
  return kernel_object(w, LS__ZX_OBJ_NONE, 0, key, &v);
}

/* ---------------------------------------------------- open and close */

int ls_writer_open(ls_writer **out, int fd, uint64_t ticks_per_second,
                   const char *source) {
  *out = NULL;
  if (ticks_per_second == 0 || fd < 0)
    return LS_FMT_EINVAL;
  ls_writer *w = calloc(1, sizeof *w);
  if (w == NULL)
    return LS_FMT_ENOMEM;
  w->fd = fd;
  put64(w, LS__FXT_MAGIC);
  /* Provider info before the initialization record: readers keep the tick
   * rate per provider (Perfetto does), so an init record ahead of it would
   * set the rate of an anonymous provider, not ours. */
  size_t plen = strlen(LS__PROVIDER_NAME);
  put64(w, LS__RT_METADATA | (1 + ls__words(plen)) << 4 |
               (uint64_t)LS__META_PROVIDER_INFO << 16 |
               (uint64_t)LS__PROVIDER_ID << 20 | (uint64_t)plen << 52);
  put_stream(w, LS__PROVIDER_NAME, plen);
  put64(w, LS__RT_INIT | 2 << 4);
  put64(w, ticks_per_second);
  int rc = ls_writer_meta(w, "source", source ? source : "runtime");
  /* The header goes out now, so even a program killed at once leaves a file
   * that reads as an (empty) trace. */
  if (rc == 0)
    rc = ls_writer_flush(w);
  if (rc < 0) {
    ls_writer_close(w);
    return rc;
  }
  *out = w;
  return 0;
}

uint64_t ls_writer_bytes(const ls_writer *w) { return w->flushed + w->used; }

int ls_writer_close(ls_writer *w) {
  if (w == NULL)
    return 0;
  int rc = ls_writer_flush(w);
  for (uint32_t i = 1; i <= w->nstrs; i++)
    free(w->strs[i].text);
  free(w);
  return rc;
}
