/* Trace fixtures built word by word from the FXT spec's bit layouts, without
 * our writer: shared by the spec tests and the fuzzer's seed corpus. */
#ifndef LS_TEST_FORMAT_FIXTURES_H
#define LS_TEST_FORMAT_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#define FX_MAX_WORDS 256

typedef struct fx_buf {
  uint64_t w[FX_MAX_WORDS];
  size_t n;
} fx_buf;

typedef struct fx_fixture {
  const char *name;
  void (*build)(fx_buf *b);
} fx_fixture;

/* Indexed strings and threads; init at 1 MHz; begin, end, counter, complete. */
void fx_indexed(fx_buf *b);
/* Inline thread and strings; one argument of every type with inline names. */
void fx_inline(fx_buf *b);
/* Provider metadata, process and thread kernel objects, another object type. */
void fx_objects(fx_buf *b);
/* Records and fields a reader must skip, around two events it must read. */
void fx_skipped(fx_buf *b);
/* String and thread indexes redefined between events. */
void fx_redefined(fx_buf *b);
/* Two providers, each with its own tables and tick rate, then a section
 * going back to the first one without redefining what it uses. */
void fx_providers(fx_buf *b);

extern const fx_fixture fx_all[];
extern const size_t fx_count;

#endif
