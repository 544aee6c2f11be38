/* Each word below is written from the bit layouts of the Fuchsia trace format
 * spec ("Record Types", "Argument types"), field by field, on purpose not
 * with our writer's helpers. */
#include "fixtures.h"

#include <string.h>

#define MAGIC UINT64_C(0x0016547846040010)
#define U(x) ((uint64_t)(x))

static void put(fx_buf *b, uint64_t word) { b->w[b->n++] = word; }

/* A stream: the bytes, zero padded to 8-byte alignment. */
static void put_stream(fx_buf *b, const char *s) {
  size_t len = strlen(s);
  for (size_t i = 0; i < len; i += 8) {
    uint64_t word = 0;
    memcpy(&word, s + i, len - i < 8 ? len - i : 8);
    put(b, word);
  }
}

static size_t words_of(const char *s) { return (strlen(s) + 7) / 8; }

/* String record: [0..3] 2, [4..15] size, [16..30] index, [32..46] length. */
static void string_record(fx_buf *b, unsigned index, const char *s) {
  put(b, 2 | U(1 + words_of(s)) << 4 | U(index) << 16 | U(strlen(s)) << 32);
  put_stream(b, s);
}

/* Thread record: [0..3] 3, [4..15] 3, [16..23] index; pid word; tid word. */
static void thread_record(fx_buf *b, unsigned index, uint64_t pid,
                          uint64_t tid) {
  put(b, 3 | U(3) << 4 | U(index) << 16);
  put(b, pid);
  put(b, tid);
}

/* Event header: [16..19] type, [20..23] nargs, [24..31] thread ref,
 * [32..47] category ref, [48..63] name ref. */
static uint64_t event_header(unsigned words, unsigned type, unsigned nargs,
                             unsigned thread, unsigned cat, unsigned name) {
  return 4 | U(words) << 4 | U(type) << 16 | U(nargs) << 20 |
         U(thread) << 24 | U(cat) << 32 | U(name) << 48;
}

void fx_indexed(fx_buf *b) {
  put(b, MAGIC);
  put(b, 1 | U(2) << 4); /* initialization record */
  put(b, 1000000);       /* 1 MHz ticks */
  string_record(b, 1, "cat");
  string_record(b, 2, "name8chr"); /* exactly 8 bytes: no padding word */
  thread_record(b, 1, 0x1234, 0x5678);
  put(b, event_header(2, 2, 0, 1, 1, 2)); /* duration begin */
  put(b, 1000000);
  put(b, event_header(2, 3, 0, 1, 1, 2)); /* duration end */
  put(b, 2500000);
  put(b, event_header(4, 1, 1, 1, 1, 2)); /* counter, one argument */
  put(b, 3000000);
  put(b, 1 | U(1) << 4 | U(2) << 16 | U(0xfffffff9) << 32); /* int32 -7 */
  put(b, 42);                                                /* counter id */
  put(b, event_header(3, 4, 0, 1, 1, 2)); /* duration complete */
  put(b, 10);
  put(b, 20); /* end time */
}

void fx_inline(fx_buf *b) {
  put(b, MAGIC);
  /* Instant event, inline thread (ref 0), inline category "inline" (ref
   * 0x8000 | 6) and name "x" (0x8000 | 1), ten arguments with inline names. */
  size_t start = b->n;
  put(b, 0); /* header, below */
  put(b, 77);     /* timestamp */
  put(b, 0x10);   /* process koid */
  put(b, 0x11);   /* thread koid */
  put_stream(b, "inline");
  put_stream(b, "x");
  uint64_t name_a = 0x8001; /* every argument name is one inline byte */
  put(b, 0 | U(2) << 4 | name_a << 16); /* null */
  put_stream(b, "a");
  put(b, 1 | U(2) << 4 | name_a << 16 | U(0xfffffffe) << 32); /* int32 -2 */
  put_stream(b, "b");
  put(b, 2 | U(2) << 4 | name_a << 16 | U(3000000000u) << 32); /* uint32 */
  put_stream(b, "c");
  put(b, 3 | U(3) << 4 | name_a << 16); /* int64 */
  put_stream(b, "d");
  put(b, (uint64_t)INT64_C(-5000000000000));
  put(b, 4 | U(3) << 4 | name_a << 16); /* uint64 */
  put_stream(b, "e");
  put(b, UINT64_C(0xfedcba9876543210));
  put(b, 5 | U(3) << 4 | name_a << 16); /* double 1.5 */
  put_stream(b, "f");
  put(b, UINT64_C(0x3ff8000000000000));
  /* string, inline value "hello world" (11 bytes, 2 words) */
  put(b, 6 | U(4) << 4 | name_a << 16 | U(0x8000 | 11) << 32);
  put_stream(b, "g");
  put_stream(b, "hello world");
  put(b, 7 | U(3) << 4 | name_a << 16); /* pointer */
  put_stream(b, "h");
  put(b, 0xdeadbeef);
  put(b, 8 | U(3) << 4 | name_a << 16); /* koid */
  put_stream(b, "i");
  put(b, 999);
  put(b, 9 | U(2) << 4 | name_a << 16 | U(1) << 32); /* bool true */
  put_stream(b, "j");
  b->w[start] = event_header((unsigned)(b->n - start), 0, 10, 0,
                             0x8000 | 6, 0x8000 | 1);
  /* Async begin, inline thread, empty category and name (ref 0), id 5. */
  put(b, event_header(5, 5, 0, 0, 0, 0));
  put(b, 78);
  put(b, 0x10);
  put(b, 0x12);
  put(b, 5);
}

void fx_objects(fx_buf *b) {
  put(b, MAGIC);
  /* Provider info: [16..19] 1, [20..51] provider id, [52..59] name length */
  put(b, 0 | U(2) << 4 | U(1) << 16 | U(7) << 20 | U(5) << 52);
  put_stream(b, "other");
  put(b, 0 | U(1) << 4 | U(2) << 16 | U(7) << 20); /* provider section */
  put(b, 0 | U(1) << 4 | U(3) << 16 | U(7) << 20); /* provider event 0 */
  string_record(b, 1, "proc");
  string_record(b, 2, "thr");
  string_record(b, 3, "process");
  /* Kernel object: [16..23] object type, [24..39] name, [40..43] nargs */
  put(b, 7 | U(2) << 4 | U(1) << 16 | U(1) << 24); /* process 100 */
  put(b, 100);
  put(b, 7 | U(4) << 4 | U(2) << 16 | U(2) << 24 | U(1) << 40); /* thread */
  put(b, 101);
  put(b, 8 | U(2) << 4 | U(3) << 16); /* koid argument "process" */
  put(b, 100);
  put(b, 7 | U(2) << 4 | U(4) << 16 | U(1) << 24); /* a channel: skipped */
  put(b, 102);
}

void fx_skipped(fx_buf *b) {
  put(b, MAGIC);
  string_record(b, 1, "c");
  string_record(b, 0, "ignored"); /* index 0: must be ignored */
  thread_record(b, 1, 1, 2);
  thread_record(b, 0, 9, 9); /* index 0: must be ignored */
  put(b, event_header(2, 0, 0, 1, 1, 1)); /* read: instant c/c at 5 */
  put(b, 5);
  /* Blob record: [16..31] name, [32..46] size, [48..55] type */
  put(b, 5 | U(3) << 4 | U(1) << 16 | U(9) << 32 | U(1) << 48);
  put_stream(b, "123456789");
  /* Userspace object: [16..23] process ref, [24..39] name, [40..43] nargs */
  put(b, 6 | U(3) << 4 | U(1) << 16 | U(1) << 24 | U(1) << 40);
  put(b, 0x1000);                      /* pointer */
  put(b, 9 | U(1) << 4 | U(1) << 16); /* bool argument */
  /* Context switch: [16..19] nargs, [20..35] cpu, [60..63] type 1 */
  put(b, 8 | U(4) << 4 | U(3) << 20 | U(1) << 60);
  put(b, 6);
  put(b, 2);
  put(b, 3);
  /* Log record: [16..30] length, [32..39] thread ref */
  put(b, 9 | U(3) << 4 | U(3) << 16 | U(1) << 32);
  put(b, 7);
  put_stream(b, "log");
  /* Large blob, no metadata: [4..35] size, [36..39] 0, [40..43] format 1 */
  put(b, 15 | U(5) << 4 | U(1) << 40);
  put(b, 1 | U(1) << 16); /* format header: category ref 1, name ref 1 */
  put(b, 12);             /* blob size */
  put_stream(b, "twelve bytes");
  put(b, MAGIC); /* a second magic, as in concatenated traces */
  put(b, event_header(2, 11, 0, 1, 1, 1)); /* event type 11: unknown */
  put(b, 6);
  put(b, 12 | U(2) << 4); /* record type 12: not in the spec */
  put(b, 0);
  /* Instant with a blob argument (type 10, skipped) then a uint32 7. */
  put(b, event_header(5, 0, 2, 1, 1, 1));
  put(b, 8);
  put(b, 10 | U(2) << 4 | U(1) << 16 | U(3) << 32);
  put_stream(b, "abc");
  put(b, 2 | U(1) << 4 | U(1) << 16 | U(7) << 32);
}

void fx_redefined(fx_buf *b) {
  put(b, MAGIC);
  string_record(b, 1, "first");
  thread_record(b, 1, 1, 10);
  put(b, event_header(2, 0, 0, 1, 1, 1));
  put(b, 1);
  string_record(b, 1, "second");
  thread_record(b, 1, 2, 20);
  put(b, event_header(2, 0, 0, 1, 1, 1));
  put(b, 2);
}

void fx_providers(fx_buf *b) {
  put(b, MAGIC);
  put(b, 0 | U(2) << 4 | U(1) << 16 | U(1) << 20 | U(1) << 52); /* info 1 */
  put_stream(b, "a");
  put(b, 1 | U(2) << 4);
  put(b, 1000); /* provider 1 ticks at 1 kHz */
  string_record(b, 1, "one");
  thread_record(b, 1, 1, 1);
  put(b, event_header(2, 0, 0, 1, 1, 1));
  put(b, 1000);
  put(b, 0 | U(2) << 4 | U(1) << 16 | U(2) << 20 | U(1) << 52); /* info 2 */
  put_stream(b, "b");
  string_record(b, 1, "two");
  thread_record(b, 1, 2, 2);
  put(b, event_header(2, 0, 0, 1, 1, 1)); /* no init: 1 tick = 1 ns */
  put(b, 5);
  put(b, 0 | U(1) << 4 | U(2) << 16 | U(1) << 20); /* section: back to 1 */
  put(b, event_header(2, 0, 0, 1, 1, 1));
  put(b, 6);
}

const fx_fixture fx_all[] = {
    {"indexed", fx_indexed}, {"inline", fx_inline},
    {"objects", fx_objects}, {"skipped", fx_skipped},
    {"redefined", fx_redefined}, {"providers", fx_providers},
};
const size_t fx_count = sizeof fx_all / sizeof fx_all[0];
