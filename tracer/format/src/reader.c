/* The trace reader: walks a memory-mapped FXT file one record at a time.
 *
 * Nothing from the file is trusted: every size is checked against the bytes
 * left in the record (and the record against the bytes left in the file),
 * every string and thread ref against the tables built so far. Memory grows
 * only with the distinct strings the file defines (and the string table up to
 * its highest index), so it is bounded by a small multiple of the file's
 * size. Records of types we do not use are skipped, as FXT allows. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fxt.h"
#include "loopscope/format.h"

#define LS__CHUNK_SIZE (64 * 1024)
#define LS__POOL_MIN 1024     /* power of two */
#define LS__PRESCAN_RECORDS 64 /* header records looked at by open */
#define LS__SKIP 2             /* internal: record consumed, nothing to return */

/* Strings are copied out of the file once (FXT strings are not
 * NUL-terminated) into chunks that live as long as the reader, and
 * deduplicated, so a string evicted and redefined costs nothing new and every
 * pointer handed out stays valid until ls_reader_close. */
typedef struct ls__chunk {
  struct ls__chunk *next;
  size_t used, cap;
  char data[];
} ls__chunk;

typedef struct ls__pool_slot {
  const char *s;
  uint32_t len, hash;
} ls__pool_slot;

typedef struct ls__rthread {
  uint64_t pid, tid;
  bool defined;
} ls__rthread;

struct ls_reader {
  const uint8_t *data;
  size_t size, pos;
  void *map;      /* NULL for ls_reader_open_mem */
  size_t released; /* start of the mapped bytes not yet handed back */
  char *name;     /* for messages */
  uint64_t dropped;
  int error;      /* sticky */
  uint32_t provider; /* id of the provider whose records come now */
  ls_trace_info info;
  ls__chunk *chunks;
  ls__pool_slot *pool;
  size_t pool_cap, pool_count;
  /* The string table grows to the highest index defined, so small files
   * (and fuzz inputs) do not pay for all 32768 entries. */
  const char **strs;
  size_t strs_cap;
  ls__rthread threads[LS__THREAD_INDEX_MAX + 1];
  char err[512];
};

/* A record being decoded: its words and a cursor. */
typedef struct ls__view {
  const uint8_t *p;
  uint64_t words; /* record (or argument) size in words */
  uint64_t i;     /* next word */
  uint64_t offset;
} ls__view;

static inline uint64_t word(const ls__view *v, uint64_t i) {
  return ls__load64(v->p + i * 8);
}

__attribute__((format(printf, 3, 4))) static int
fail(ls_reader *r, uint64_t offset, const char *fmt, ...) {
  int n = snprintf(r->err, sizeof r->err, "%s: offset %llu: ", r->name,
                   (unsigned long long)offset);
  if (n < 0 || (size_t)n >= sizeof r->err)
    n = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
  va_end(ap);
  r->error = LS_FMT_ECORRUPT;
  return LS_FMT_ECORRUPT;
}

/* --------------------------------------------------------- string pool */

static uint32_t hash_bytes(const uint8_t *s, size_t n) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ s[i]) * 16777619u;
  return h;
}

static const char *chunk_copy(ls_reader *r, const uint8_t *s, size_t len) {
  ls__chunk *c = r->chunks;
  if (c == NULL || c->cap - c->used < len + 1) {
    size_t cap = len + 1 > LS__CHUNK_SIZE ? len + 1 : LS__CHUNK_SIZE;
    c = malloc(sizeof *c + cap);
    if (c == NULL)
      return NULL;
    c->cap = cap;
    c->used = 0;
    c->next = r->chunks;
    r->chunks = c;
  }
  char *out = c->data + c->used;
  memcpy(out, s, len);
  out[len] = '\0';
  c->used += len + 1;
  return out;
}

static bool pool_grow(ls_reader *r) {
  size_t cap = r->pool_cap ? r->pool_cap * 2 : LS__POOL_MIN;
  ls__pool_slot *slots = calloc(cap, sizeof *slots);
  if (slots == NULL)
    return false;
  for (size_t i = 0; i < r->pool_cap; i++) {
    if (r->pool[i].s == NULL)
      continue;
    size_t j = r->pool[i].hash & (cap - 1);
    while (slots[j].s != NULL)
      j = (j + 1) & (cap - 1);
    slots[j] = r->pool[i];
  }
  free(r->pool);
  r->pool = slots;
  r->pool_cap = cap;
  return true;
}

static const char *pool_intern(ls_reader *r, const uint8_t *s, size_t len) {
  if ((r->pool_count + 1) * 2 > r->pool_cap && !pool_grow(r))
    return NULL;
  uint32_t hash = hash_bytes(s, len);
  size_t j = hash & (r->pool_cap - 1);
  for (; r->pool[j].s != NULL; j = (j + 1) & (r->pool_cap - 1))
    if (r->pool[j].hash == hash && r->pool[j].len == len &&
        memcmp(r->pool[j].s, s, len) == 0)
      return r->pool[j].s;
  const char *copy = chunk_copy(r, s, len);
  if (copy == NULL)
    return NULL;
  r->pool[j] = (ls__pool_slot){copy, (uint32_t)len, hash};
  r->pool_count++;
  return copy;
}

static int no_memory(ls_reader *r, uint64_t offset) {
  fail(r, offset, "out of memory");
  r->error = LS_FMT_ENOMEM;
  return LS_FMT_ENOMEM;
}

/* ------------------------------------------------------- decoding bits */

/* Resolves a string ref; an inline string is read at the cursor. */
static int string_at(ls_reader *r, ls__view *v, uint16_t ref, const char *what,
                     const char **out) {
  if (ref & LS__STR_INLINE) {
    size_t len = ref & LS__STR_INDEX_MAX;
    uint64_t words = ls__words(len);
    if (words > v->words - v->i)
      return fail(r, v->offset,
                  "%s record: inline string of %zu bytes overruns the record",
                  what, len);
    *out = pool_intern(r, v->p + v->i * 8, len);
    if (*out == NULL)
      return no_memory(r, v->offset);
    v->i += words;
    return 0;
  }
  *out = ref == 0 ? "" : ref < r->strs_cap ? r->strs[ref] : NULL;
  if (*out == NULL)
    return fail(r, v->offset,
                "%s record refers to string index %u, which was never defined",
                what, ref);
  return 0;
}

/* Reads one argument into a (unknown argument types are skipped: *kept is
 * false). The argument's own size bounds everything read from it. */
static int read_arg(ls_reader *r, ls__view *v, unsigned n, const char *what,
                    ls_arg *a, bool *kept) {
  if (v->i >= v->words)
    return fail(r, v->offset, "%s record: argument %u is missing", what, n + 1);
  uint64_t h = word(v, v->i);
  uint64_t size = (h >> 4) & 0xfff;
  if (size == 0)
    return fail(r, v->offset, "%s record: argument %u has size 0", what, n + 1);
  if (size > v->words - v->i)
    return fail(r, v->offset,
                "%s record: argument %u (%llu words) overruns the record", what,
                n + 1, (unsigned long long)size);
  ls__view av = {v->p, v->i + size, v->i + 1, v->offset};
  v->i += size;
  *kept = false;
  unsigned type = h & 0xf;
  if (type > LS_ARG_BOOL)
    return 0;
  int rc = string_at(r, &av, (uint16_t)(h >> 16), what, &a->name);
  if (rc < 0)
    return rc;
  a->type = (ls_arg_type)type;
  switch (a->type) {
  case LS_ARG_NULL:
    a->v.u = 0;
    break;
  case LS_ARG_I32:
    a->v.i = (int32_t)(uint32_t)(h >> 32);
    break;
  case LS_ARG_U32:
    a->v.u = h >> 32;
    break;
  case LS_ARG_BOOL:
    a->v.b = (h >> 32) & 1;
    break;
  case LS_ARG_STRING:
    rc = string_at(r, &av, (uint16_t)(h >> 32), what, &a->v.s);
    if (rc < 0)
      return rc;
    break;
  case LS_ARG_I64:
  case LS_ARG_U64:
  case LS_ARG_DOUBLE:
  case LS_ARG_POINTER:
  case LS_ARG_KOID:
    if (av.i >= av.words)
      return fail(r, v->offset, "%s record: argument %u lacks its value word",
                  what, n + 1);
    a->v.u = word(&av, av.i); /* same bits for every 64-bit type */
    if (a->type == LS_ARG_DOUBLE) {
      uint64_t bits = a->v.u;
      memcpy(&a->v.d, &bits, 8);
    }
    break;
  }
  *kept = true;
  return 0;
}

static int read_args(ls_reader *r, ls__view *v, unsigned nargs,
                     const char *what, ls_arg *args, unsigned *count) {
  unsigned k = 0;
  for (unsigned n = 0; n < nargs; n++) {
    bool kept;
    int rc = read_arg(r, v, n, what, &args[k], &kept);
    if (rc < 0)
      return rc;
    k += kept;
  }
  *count = k;
  return 0;
}

/* -------------------------------------------------------------- records */

static bool has_event_word(unsigned type) {
  return type == LS_EV_COUNTER || type >= LS_EV_COMPLETE;
}

static int read_event(ls_reader *r, ls__view *v, uint64_t h, ls_record *rec) {
  unsigned type = (h >> 16) & 0xf;
  if (type > LS_EV_FLOW_END)
    return LS__SKIP; /* an event type from a newer spec */
  ls_event *ev = &rec->event;
  unsigned thread = (h >> 24) & 0xff;
  if (v->words < 2)
    return fail(r, v->offset, "event record has no timestamp");
  ev->type = (ls_event_type)type;
  ev->ts = word(v, 1);
  v->i = 2;
  if (thread == 0) {
    if (v->words < 4)
      return fail(r, v->offset, "event record lacks its inline thread");
    ev->pid = word(v, 2);
    ev->tid = word(v, 3);
    v->i = 4;
  } else {
    if (!r->threads[thread].defined)
      return fail(r, v->offset,
                  "event record refers to thread index %u, which was never "
                  "defined",
                  thread);
    ev->pid = r->threads[thread].pid;
    ev->tid = r->threads[thread].tid;
  }
  int rc = string_at(r, v, (uint16_t)(h >> 32), "event", &ev->category);
  if (rc == 0)
    rc = string_at(r, v, (uint16_t)(h >> 48), "event", &ev->name);
  if (rc == 0)
    rc = read_args(r, v, (h >> 20) & 0xf, "event", ev->args, &ev->nargs);
  if (rc < 0)
    return rc;
  ev->id = 0;
  ev->end_ts = 0;
  if (has_event_word(type)) {
    if (v->i >= v->words)
      return fail(r, v->offset, "event record (type %u) lacks its %s word",
                  type, type == LS_EV_COMPLETE ? "end time" : "id");
    if (type == LS_EV_COMPLETE)
      ev->end_ts = word(v, v->i);
    else
      ev->id = word(v, v->i);
  }
  rec->kind = LS_REC_EVENT;
  /* Lost events are an instant "mark"/"lost" (FORMAT.md). */
  if (type == LS_EV_INSTANT && ev->category[0] == 'm' &&
      strcmp(ev->category, LS_CAT_MARK) == 0 &&
      strcmp(ev->name, LS_MARK_LOST) == 0) {
    rec->kind = LS_REC_LOST;
    rec->pid = ev->pid;
    rec->tid = ev->tid;
    rec->ts = ev->ts;
    rec->count = ls_arg_u64(ls_event_arg(ev, LS__LOST_COUNT_ARG));
  }
  return 0;
}

static int read_kernel_object(ls_reader *r, ls__view *v, uint64_t h,
                              ls_record *rec) {
  unsigned obj_type = (h >> 16) & 0xff;
  if (v->words < 2)
    return fail(r, v->offset, "kernel object record has no koid");
  uint64_t koid = word(v, 1);
  v->i = 2;
  /* Decoded into rec->event.args, which is scratch space for this kind. */
  ls_event *ev = &rec->event;
  int rc = string_at(r, v, (uint16_t)(h >> 24), "kernel object", &rec->name);
  if (rc == 0)
    rc = read_args(r, v, (h >> 40) & 0xf, "kernel object", ev->args,
                   &ev->nargs);
  if (rc < 0)
    return rc;
  switch (obj_type) {
  case LS__ZX_OBJ_PROCESS:
    rec->kind = LS_REC_PROCESS_NAME;
    rec->pid = koid;
    return 0;
  case LS__ZX_OBJ_THREAD:
    rec->kind = LS_REC_THREAD_NAME;
    rec->tid = koid;
    rec->pid = ls_arg_u64(ls_event_arg(ev, LS__THREAD_PROCESS_ARG));
    return 0;
  case LS__ZX_OBJ_NONE: {
    const ls_arg *value = ls_event_arg(ev, LS__META_VALUE_ARG);
    if (koid != 0 || value == NULL || value->type != LS_ARG_STRING)
      return LS__SKIP;
    rec->kind = LS_REC_META;
    rec->value = value->v.s;
    if (strcmp(rec->name, "source") == 0)
      r->info.source = rec->value;
    return 0;
  }
  default:
    return LS__SKIP;
  }
}

static void clear_tables(ls_reader *r) {
  if (r->strs_cap)
    memset(r->strs, 0, r->strs_cap * sizeof *r->strs);
  memset(r->threads, 0, sizeof r->threads);
}

/* FXT keeps string and thread tables and the tick rate per provider. We keep
 * the current provider's only: records of another provider start afresh, so
 * a section returning to an earlier provider reads its refs as undefined (a
 * clean error) rather than as another provider's strings. */
static void enter_provider(ls_reader *r, uint32_t id) {
  clear_tables(r);
  r->provider = id;
  r->info.ticks_per_second = LS__DEFAULT_TICKS;
}

static int read_metadata(ls_reader *r, ls__view *v, uint64_t h,
                         ls_record *rec) {
  unsigned type = (h >> 16) & 0xf;
  uint32_t provider = (uint32_t)(h >> 20);
  if (type == LS__META_PROVIDER_SECTION && provider != r->provider)
    enter_provider(r, provider);
  if (type != LS__META_PROVIDER_INFO)
    return LS__SKIP; /* magic, provider sections and events */
  enter_provider(r, provider);
  size_t len = (h >> 52) & 0xff;
  if (1 + ls__words(len) > v->words)
    return fail(r, v->offset,
                "provider info record: name of %zu bytes overruns the record",
                len);
  const char *name = pool_intern(r, v->p + 8, len);
  if (name == NULL)
    return no_memory(r, v->offset);
  rec->kind = LS_REC_META;
  rec->name = "provider";
  rec->value = name;
  r->info.provider = name;
  return 0;
}

static int read_init(ls_reader *r, ls__view *v, ls_record *rec) {
  if (v->words < 2)
    return fail(r, v->offset, "initialization record has no tick rate");
  uint64_t tps = word(v, 1);
  if (tps == 0)
    return fail(r, v->offset, "initialization record gives 0 ticks per second");
  r->info.ticks_per_second = tps;
  rec->kind = LS_REC_INIT;
  rec->ticks_per_second = tps;
  return 0;
}

static bool grow_strs(ls_reader *r, size_t index) {
  size_t cap = r->strs_cap ? r->strs_cap : 64;
  while (cap <= index)
    cap *= 2;
  const char **strs = realloc(r->strs, cap * sizeof *strs);
  if (strs == NULL)
    return false;
  memset(strs + r->strs_cap, 0, (cap - r->strs_cap) * sizeof *strs);
  r->strs = strs;
  r->strs_cap = cap;
  return true;
}

static int read_string(ls_reader *r, ls__view *v, uint64_t h) {
  unsigned index = (h >> 16) & LS__STR_INDEX_MAX;
  size_t len = (h >> 32) & LS__STR_INDEX_MAX;
  if (1 + ls__words(len) > v->words)
    return fail(r, v->offset,
                "string record: %zu bytes of text overrun its %llu-word record",
                len, (unsigned long long)v->words);
  if (index == 0)
    return LS__SKIP; /* the spec says to ignore it */
  if (index >= r->strs_cap && !grow_strs(r, index))
    return no_memory(r, v->offset);
  r->strs[index] = pool_intern(r, v->p + 8, len);
  if (r->strs[index] == NULL)
    return no_memory(r, v->offset);
  return LS__SKIP;
}

static int read_thread(ls_reader *r, ls__view *v, uint64_t h) {
  unsigned index = (h >> 16) & 0xff;
  if (v->words < 3)
    return fail(r, v->offset, "thread record lacks its process and thread ids");
  if (index != 0)
    r->threads[index] = (ls__rthread){word(v, 1), word(v, 2), true};
  return LS__SKIP;
}

/* Pages already read count in the resident set until unmapped, so a reader
 * streaming a multi-GB trace would hold it all. Everything a record yields is
 * copied out, so read pages can go back to the page cache: the mapping is
 * private and read-only, and a page touched again (a rewind) faults back in
 * from the file. Done every 16 MB to keep the madvise calls rare. */
#define LS__RELEASE_STEP ((size_t)16 << 20)
static void release_read_pages(ls_reader *r) {
  if (r->map == NULL || r->pos - r->released < LS__RELEASE_STEP)
    return;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t end = r->pos & ~(page - 1);
  madvise((uint8_t *)r->map + r->released, end - r->released, MADV_DONTNEED);
  r->released = end;
}

int ls_reader_next(ls_reader *r, ls_record *rec) {
  if (r->error)
    return r->error;
  for (;;) {
    size_t left = r->size - r->pos;
    if (left == 0)
      return LS_FMT_EOF;
    uint64_t h = left >= 8 ? ls__load64(r->data + r->pos) : 0;
    unsigned type = h & 0xf;
    uint64_t words = type == LS__RT_LARGE ? (h >> 4) & 0xffffffff
                                          : (h >> 4) & LS__RECORD_WORDS_MAX;
    if (left < 8 || words > left / 8) {
      /* A torn last record: what a crash or a full disk leaves. */
      r->dropped = left;
      r->pos = r->size;
      return LS_FMT_EOF;
    }
    if (words == 0)
      return fail(r, r->pos, "record header 0x%016llx has size 0",
                  (unsigned long long)h);
    ls__view v = {r->data + r->pos, words, 1, r->pos};
    int rc;
    switch (type) {
    case LS__RT_METADATA:
      rc = read_metadata(r, &v, h, rec);
      break;
    case LS__RT_INIT:
      rc = read_init(r, &v, rec);
      break;
    case LS__RT_STRING:
      rc = read_string(r, &v, h);
      break;
    case LS__RT_THREAD:
      rc = read_thread(r, &v, h);
      break;
    case LS__RT_EVENT:
      rc = read_event(r, &v, h, rec);
      break;
    case LS__RT_KERNEL_OBJECT:
      rc = read_kernel_object(r, &v, h, rec);
      break;
    default:
      rc = LS__SKIP;
      break;
    }
    if (rc < 0)
      return rc;
    r->pos += words * 8;
    release_read_pages(r);
    if (rc == 0) {
      rec->offset = v.offset;
      return LS_FMT_OK;
    }
  }
}

/* ------------------------------------------------------ open and close */

/* Back to the start of the file (after the open-time scan); ls_reader_info
 * keeps what the scan found. */
static void rewind_reader(ls_reader *r) {
  clear_tables(r);
  r->provider = 0;
  r->pos = 0;
  r->released = 0;
  r->dropped = 0;
  r->error = 0;
  r->err[0] = '\0';
}

static int not_a_trace(char *errbuf, size_t errlen, const char *name,
                       const char *why) {
  if (errbuf != NULL && errlen > 0)
    snprintf(errbuf, errlen,
             "%s: %snot a loopscope/FXT trace (no FXT magic record at offset "
             "0)",
             name, why);
  return LS_FMT_ENOTTRACE;
}

/* Checks the magic, then reads the header records once so that
 * ls_reader_info is filled before the first ls_reader_next, and rewinds. */
static int start(ls_reader *r, char *errbuf, size_t errlen) {
  uint8_t magic[8];
  uint64_t m = LS__FXT_MAGIC;
  memcpy(magic, &m, 8);
  size_t head = r->size < 8 ? r->size : 8;
  if (r->size == 0)
    return not_a_trace(errbuf, errlen, r->name, "empty file: ");
  if (memcmp(r->data, magic, head) != 0) {
    bool swapped = r->size >= 8 &&
                   ls__load64(r->data) == __builtin_bswap64(LS__FXT_MAGIC);
    return not_a_trace(errbuf, errlen, r->name,
                       swapped ? "big-endian FXT is not supported: " : "");
  }
  r->info.ticks_per_second = LS__DEFAULT_TICKS;
  r->info.provider = "";
  r->info.source = "";
  rewind_reader(r);
  ls_record rec;
  for (int n = 0; n < LS__PRESCAN_RECORDS; n++)
    if (ls_reader_next(r, &rec) != LS_FMT_OK || rec.kind == LS_REC_EVENT ||
        rec.kind == LS_REC_LOST)
      break;
  if (r->error == LS_FMT_ENOMEM) {
    if (errbuf != NULL && errlen > 0)
      snprintf(errbuf, errlen, "%s", r->err);
    return LS_FMT_ENOMEM;
  }
  rewind_reader(r);
  return 0;
}

static int open_common(ls_reader **out, ls_reader *r, const char *name,
                       char *errbuf, size_t errlen) {
  r->name = strdup(name);
  int rc = r->name == NULL ? LS_FMT_ENOMEM : start(r, errbuf, errlen);
  if (rc < 0) {
    if (rc == LS_FMT_ENOMEM && errbuf != NULL && errlen > 0 && !r->err[0])
      snprintf(errbuf, errlen, "%s: out of memory", name);
    ls_reader_close(r);
    return rc;
  }
  *out = r;
  return 0;
}

int ls_reader_open_mem(ls_reader **out, const void *data, size_t len,
                       char *errbuf, size_t errlen) {
  *out = NULL;
  ls_reader *r = calloc(1, sizeof *r);
  if (r == NULL)
    return LS_FMT_ENOMEM;
  r->data = data;
  r->size = len;
  return open_common(out, r, "<memory>", errbuf, errlen);
}

int ls_reader_open(ls_reader **out, const char *path, char *errbuf,
                   size_t errlen) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  int rc = 0;
  if (fd < 0 || fstat(fd, &st) < 0)
    rc = -errno;
  else if (S_ISDIR(st.st_mode))
    rc = -EISDIR;
  if (rc < 0) {
    if (errbuf != NULL && errlen > 0)
      snprintf(errbuf, errlen, "%s: %s", path, strerror(-rc));
    if (fd >= 0)
      close(fd);
    return rc;
  }
  ls_reader *r = calloc(1, sizeof *r);
  if (r == NULL) {
    close(fd);
    return LS_FMT_ENOMEM;
  }
  r->size = (size_t)st.st_size;
  if (r->size > 0) {
    r->map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (r->map == MAP_FAILED) {
      rc = -errno;
      r->map = NULL;
      if (errbuf != NULL && errlen > 0)
        snprintf(errbuf, errlen, "%s: cannot map the file: %s", path,
                 strerror(-rc));
      close(fd);
      free(r);
      return rc;
    }
    madvise(r->map, r->size, MADV_SEQUENTIAL);
    r->data = r->map;
  }
  close(fd); /* the mapping keeps the file */
  return open_common(out, r, path, errbuf, errlen);
}

void ls_reader_close(ls_reader *r) {
  if (r == NULL)
    return;
  if (r->map != NULL)
    munmap(r->map, r->size);
  while (r->chunks != NULL) {
    ls__chunk *next = r->chunks->next;
    free(r->chunks);
    r->chunks = next;
  }
  free(r->pool);
  free(r->strs);
  free(r->name);
  free(r);
}

const ls_trace_info *ls_reader_info(const ls_reader *r) { return &r->info; }
uint64_t ls_reader_dropped(const ls_reader *r) { return r->dropped; }
uint64_t ls_reader_offset(const ls_reader *r) { return r->pos; }
uint64_t ls_reader_size(const ls_reader *r) { return r->size; }
const char *ls_reader_error(const ls_reader *r) { return r->err; }

uint64_t ls_ticks_to_ns(const ls_reader *r, uint64_t ticks) {
  uint64_t tps = r->info.ticks_per_second;
  if (tps == LS__DEFAULT_TICKS)
    return ticks;
  return (uint64_t)((unsigned __int128)ticks * 1000000000u / tps);
}

/* ------------------------------------------------------------ arguments */

const ls_arg *ls_event_arg(const ls_event *ev, const char *name) {
  for (unsigned i = 0; i < ev->nargs; i++)
    if (strcmp(ev->args[i].name, name) == 0)
      return &ev->args[i];
  return NULL;
}

uint64_t ls_arg_u64(const ls_arg *a) {
  if (a == NULL)
    return 0;
  switch (a->type) {
  case LS_ARG_I32:
  case LS_ARG_I64:
    return (uint64_t)a->v.i;
  case LS_ARG_U32:
  case LS_ARG_U64:
  case LS_ARG_POINTER:
  case LS_ARG_KOID:
    return a->v.u;
  case LS_ARG_BOOL:
    return a->v.b;
  default:
    return 0;
  }
}

int64_t ls_arg_i64(const ls_arg *a) { return (int64_t)ls_arg_u64(a); }

double ls_arg_number(const ls_arg *a) {
  if (a == NULL)
    return 0;
  switch (a->type) {
  case LS_ARG_DOUBLE:
    return a->v.d;
  case LS_ARG_I32:
  case LS_ARG_I64:
    return (double)a->v.i;
  default:
    return (double)ls_arg_u64(a);
  }
}
