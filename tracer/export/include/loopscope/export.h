/* Chrome Trace Event JSON: export a loopscope trace, import a Chrome trace.
 *
 * Export streams: each record read from the trace becomes at most a few JSON
 * events written at once, so memory depends on the number of threads and the
 * nesting depth, never on the trace length. What is written (see
 * tracer/export/EXPORT.md for the full mapping):
 *   - slices as "B"/"E" pairs that nest per thread (FXT complete events as
 *     "X"); an end with no begin is dropped and a slice still open when the
 *     trace ends is closed at the thread's last timestamp, so every file
 *     balances; both are counted in ls_export_stats;
 *   - flows as v1 "s"/"t"/"f" events with cat "flow" and name "flow" (Perfetto
 *     matches v1 flows on id, cat and name): the start binds to the enclosing
 *     slice; an end directly followed by a slice begin on its thread binds to
 *     that next slice, any other end to its enclosing slice (bp "e"). Both
 *     Perfetto and chrome://tracing draw these; flow v2 (bind_id on the slice)
 *     cannot be streamed, because the flow is only seen after its slice began,
 *     and cannot carry more than one flow out of a callback;
 *   - counters "C", instants "i" with thread scope, async "b"/"e"/"n" with
 *     id2.local, process/thread names as "M" events, lost-event records as
 *     "lost" instants with their count, and the trace's metadata records in a
 *     top-level "metadata" object;
 *   - ts and dur in microseconds with three decimals (exact nanoseconds).
 */
#ifndef LOOPSCOPE_EXPORT_H
#define LOOPSCOPE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loopscope/format.h"

/* Chrome's trace viewer struggles above this size: warn, or split. */
#define LS_EXPORT_WARN_BYTES (256ull << 20)

typedef struct ls_export_opts {
  /* Start a new file (out.1.json, out.2.json, ...) once the current one
   * passes this many bytes; 0 writes one file. Open slices are closed at the
   * end of a file and reopened in the next, and every file repeats the
   * process and thread names, so each one loads on its own. */
  uint64_t split_bytes;
  /* Called about every 64 Ki records with the reader's position. */
  void (*progress)(void *ctx, uint64_t offset, uint64_t size);
  void *progress_ctx;
  /* Called once when a single output passes LS_EXPORT_WARN_BYTES. */
  void (*warn_size)(void *ctx, const char *path, uint64_t bytes);
} ls_export_opts;

typedef struct ls_export_stats {
  uint64_t records;         /* trace records read */
  uint64_t events;          /* JSON events written */
  uint64_t bytes;           /* JSON bytes written, all files */
  unsigned files;           /* output files written */
  uint64_t lost;            /* events the trace says were lost */
  uint64_t unmatched_ends;  /* "E" dropped: no open slice on the thread */
  uint64_t closed_at_end;   /* slices still open when the trace ended */
  uint64_t dropped_bytes;   /* torn tail of the input (ls_reader_dropped) */
} ls_export_stats;

/* Exports everything r yields to out_path ("-" is standard output, which
 * cannot be split). Returns 0, or -1 with a message naming the file in err. */
int ls_export_chrome(ls_reader *r, const char *out_path,
                     const ls_export_opts *opts, ls_export_stats *stats,
                     char *err, size_t errlen);

/* The name of split part `part` (0 is out_path itself): "out.json" gives
 * "out.1.json", "out" gives "out.1". Writes at most len bytes. */
void ls_export_part_name(char *buf, size_t len, const char *out_path,
                         unsigned part);

typedef struct ls_import_stats {
  uint64_t events;     /* JSON events read */
  uint64_t written;    /* trace events written */
  uint64_t names;      /* process and thread names written */
  uint64_t skipped;    /* events of a phase with no trace equivalent */
  uint64_t bad;        /* events without a usable ph or ts */
  uint64_t args_cut;   /* arguments beyond LS_MAX_ARGS dropped */
} ls_import_stats;

/* Converts Chrome Trace Event JSON (an object with "traceEvents", or a bare
 * array) in memory to a trace written on fd with source "import". name is
 * used in messages. Events are sorted by timestamp (stable), B/E names are
 * completed from their begin, string pids/tids are numbered and named, and
 * flow v2 (bind_id + flow_in/flow_out) becomes FXT flows around the slice.
 * Returns 0, or -1 with a message in err. */
int ls_import_chrome(const char *json, size_t len, const char *name, int fd,
                     ls_import_stats *stats, char *err, size_t errlen);

#endif
