/* The loopscope trace file: a strict subset of the Fuchsia Trace Format (FXT).
 *
 * Writer: appends records to a caller-owned writer that buffers and writes to
 * a file descriptor. Strings and threads are interned into the file's string
 * and thread tables as they are first seen.
 *
 * Reader: memory-maps a file and yields one record at a time. It never trusts
 * a length or an index from the file: a truncated file yields every whole
 * record and reports how many bytes were dropped; a corrupted record stops the
 * reader with an error naming the offset and the record.
 *
 * tracer/format/FORMAT.md documents the exact records written.
 */
#ifndef LOOPSCOPE_FORMAT_H
#define LOOPSCOPE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loopscope/vocab.h"

/* FXT event types (record type 4, bits 16..19). */
typedef enum ls_event_type {
  LS_EV_INSTANT = 0,
  LS_EV_COUNTER = 1,
  LS_EV_BEGIN = 2,
  LS_EV_END = 3,
  LS_EV_COMPLETE = 4,
  LS_EV_ASYNC_BEGIN = 5,
  LS_EV_ASYNC_INSTANT = 6,
  LS_EV_ASYNC_END = 7,
  LS_EV_FLOW_BEGIN = 8,
  LS_EV_FLOW_STEP = 9,
  LS_EV_FLOW_END = 10
} ls_event_type;

/* FXT argument types (argument header bits 0..3). */
typedef enum ls_arg_type {
  LS_ARG_NULL = 0,
  LS_ARG_I32 = 1,
  LS_ARG_U32 = 2,
  LS_ARG_I64 = 3,
  LS_ARG_U64 = 4,
  LS_ARG_DOUBLE = 5,
  LS_ARG_STRING = 6,
  LS_ARG_POINTER = 7,
  LS_ARG_KOID = 8,
  LS_ARG_BOOL = 9
} ls_arg_type;

typedef struct ls_arg {
  const char *name;
  ls_arg_type type;
  union {
    int64_t i;    /* I32, I64 */
    uint64_t u;   /* U32, U64, POINTER, KOID */
    double d;     /* DOUBLE */
    const char *s;/* STRING (NUL-terminated) */
    bool b;       /* BOOL */
  } v;
} ls_arg;

/* FXT allows 15 arguments per event. */
#define LS_MAX_ARGS 15

/* One event. Strings point into the reader's (or the caller's) memory and are
 * valid until the reader is closed. */
typedef struct ls_event {
  ls_event_type type;
  uint64_t ts;        /* ticks; see ls_trace_info.ticks_per_second */
  uint64_t pid;       /* process koid */
  uint64_t tid;       /* thread koid */
  const char *category;
  const char *name;
  uint64_t id;        /* async id (ASYNC_*), flow id (FLOW_*), counter id */
  uint64_t end_ts;    /* COMPLETE only */
  unsigned nargs;
  ls_arg args[LS_MAX_ARGS];
} ls_event;

/* What the file says about itself (initialization and metadata records). */
typedef struct ls_trace_info {
  uint64_t ticks_per_second;
  const char *provider;   /* provider name: "loopscope" */
  const char *source;     /* "runtime" | "ebpf" | "import" */
} ls_trace_info;

/* Kinds of record the reader returns. */
typedef enum ls_record_kind {
  LS_REC_EVENT,         /* rec.event */
  LS_REC_INIT,          /* rec.ticks_per_second changed */
  LS_REC_PROCESS_NAME,  /* rec.pid, rec.name */
  LS_REC_THREAD_NAME,   /* rec.pid, rec.tid, rec.name */
  LS_REC_LOST,          /* rec.pid, rec.tid, rec.ts, rec.count: events dropped */
  LS_REC_META           /* rec.name = key, rec.value = value (provider, source, ...) */
} ls_record_kind;

typedef struct ls_record {
  ls_record_kind kind;
  uint64_t offset;      /* byte offset of the record in the file */
  ls_event event;
  uint64_t pid, tid, ts, count, ticks_per_second;
  const char *name;
  const char *value;
} ls_record;

/* Errors: negative, errno-style where a system call failed. */
#define LS_FMT_OK 0
#define LS_FMT_EOF 1              /* ls_reader_next: no more records */
#define LS_FMT_ENOTTRACE (-1000)  /* "not a loopscope/FXT trace" */
#define LS_FMT_ECORRUPT (-1001)   /* a record is malformed: see ls_reader_error */
#define LS_FMT_ENOMEM (-1002)
#define LS_FMT_EINVAL (-1003)     /* an event that cannot be encoded */

/* ---------------------------------------------------------------- writer */

typedef struct ls_writer ls_writer; /* opaque: string/thread tables, buffer */

/* Creates a writer on fd (not closed by the writer), writes the magic record,
 * the initialization record and the provider/source metadata. */
int ls_writer_open(ls_writer **w, int fd, uint64_t ticks_per_second,
                   const char *source);
/* Strings need only live for the call (the writer keeps its own copies, and
 * recognises a string it has seen by address, then checks the text). Returns
 * LS_FMT_EINVAL for an event type, argument count or argument type FXT cannot
 * hold, else 0 or the first write error (-errno), which sticks. */
int ls_writer_event(ls_writer *w, const ls_event *ev);
int ls_writer_process_name(ls_writer *w, uint64_t pid, const char *name);
int ls_writer_thread_name(ls_writer *w, uint64_t pid, uint64_t tid,
                          const char *name);
/* Records that `count` events were dropped on a thread just before ts. */
int ls_writer_lost(ls_writer *w, uint64_t pid, uint64_t tid, uint64_t ts,
                   uint64_t count);
/* Records a fact about the whole trace, read back as LS_REC_META with
 * rec.name = key and rec.value = value ("program", "args", ...). The "source"
 * given to ls_writer_open is written this way. */
int ls_writer_meta(ls_writer *w, const char *key, const char *value);
/* Writes buffered bytes to the fd; records are only ever written whole. */
int ls_writer_flush(ls_writer *w);
/* Flushes and frees. Returns the first error seen on the writer, if any. */
int ls_writer_close(ls_writer *w);
uint64_t ls_writer_bytes(const ls_writer *w);

/* ---------------------------------------------------------------- reader */

typedef struct ls_reader ls_reader; /* opaque: mapping, tables, position */

/* Opens and maps path. On failure returns NULL-free error code and, when
 * errbuf is given, a message naming the file and what was wrong. */
int ls_reader_open(ls_reader **r, const char *path, char *errbuf,
                   size_t errlen);
/* Reads from memory the caller keeps alive (fuzzing, tests, imports). */
int ls_reader_open_mem(ls_reader **r, const void *data, size_t len,
                       char *errbuf, size_t errlen);
/* Fills rec with the next record. Returns LS_FMT_OK, LS_FMT_EOF at the end
 * (including a truncated tail: see ls_reader_dropped) or a negative error. */
int ls_reader_next(ls_reader *r, ls_record *rec);
const ls_trace_info *ls_reader_info(const ls_reader *r);
/* Bytes of a torn last record not returned (0 for a whole file). */
uint64_t ls_reader_dropped(const ls_reader *r);
/* Where reading is now, and the file's total size: for progress bars. */
uint64_t ls_reader_offset(const ls_reader *r);
uint64_t ls_reader_size(const ls_reader *r);
/* The last error as text, naming the file, the offset and the record. */
const char *ls_reader_error(const ls_reader *r);
void ls_reader_close(ls_reader *r);

/* Converts ticks to nanoseconds with the file's clock. */
uint64_t ls_ticks_to_ns(const ls_reader *r, uint64_t ticks);

/* Finds an argument by name, or NULL. */
const ls_arg *ls_event_arg(const ls_event *ev, const char *name);

/* The writer stores integers in the smallest FXT type that holds them (an
 * LS_ARG_U64 below 2^32 comes back as LS_ARG_U32, an LS_ARG_I64 within
 * int32_t as LS_ARG_I32), so read integers through these, which accept every
 * integer type (and BOOL as 0/1). Other types give 0. */
uint64_t ls_arg_u64(const ls_arg *a);
int64_t ls_arg_i64(const ls_arg *a);
/* Any numeric argument (integers and DOUBLE) as a double: counter values. */
double ls_arg_number(const ls_arg *a);

#endif
