/* FXT constants and bit fields shared by the writer and the reader.
 * Names follow the spec (Fuchsia trace format, "Record Types"); FORMAT.md
 * says which of them we write. */
#ifndef LOOPSCOPE_FXT_H
#define LOOPSCOPE_FXT_H

#include <stdint.h>
#include <string.h>

#define LS__FXT_MAGIC UINT64_C(0x0016547846040010)

enum {
  LS__RT_METADATA = 0,
  LS__RT_INIT = 1,
  LS__RT_STRING = 2,
  LS__RT_THREAD = 3,
  LS__RT_EVENT = 4,
  LS__RT_KERNEL_OBJECT = 7,
  LS__RT_LARGE = 15
};

enum {
  LS__META_PROVIDER_INFO = 1,
  LS__META_PROVIDER_SECTION = 2,
  LS__META_TRACE_INFO = 4
};

#define LS__DEFAULT_TICKS 1000000000 /* spec: without an init record 1 tick = 1 ns */

/* ZX_OBJ_TYPE_* values used in kernel object records. */
enum { LS__ZX_OBJ_NONE = 0, LS__ZX_OBJ_PROCESS = 1, LS__ZX_OBJ_THREAD = 2 };

#define LS__STR_INDEX_MAX 0x7fff   /* string table: indexes 1..32767 */
#define LS__THREAD_INDEX_MAX 0xff  /* thread table: indexes 1..255 */
#define LS__STR_INLINE 0x8000      /* string ref: inline, low 15 bits = len */
#define LS__STR_LEN_MAX 32000      /* spec's conservative string limit */
#define LS__RECORD_WORDS_MAX 0xfff /* 12-bit record size */
#define LS__PROVIDER_ID 1          /* our provider token */

/* Field names used by our conventions (FORMAT.md). */
#define LS__META_VALUE_ARG "value"
#define LS__THREAD_PROCESS_ARG "process"
#define LS__LOST_COUNT_ARG "count"
#define LS__PROVIDER_NAME "loopscope"

static inline uint64_t ls__words(uint64_t bytes) { return (bytes + 7) / 8; }

/* Words may be unaligned in caller memory (ls_reader_open_mem): memcpy is one
 * mov on x86 and correct everywhere. */
static inline uint64_t ls__load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

#endif
