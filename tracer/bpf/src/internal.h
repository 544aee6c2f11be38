/* Internals of the eBPF tracer shared by its source files. */
#ifndef LS_BPF_INTERNAL_H
#define LS_BPF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loopscope/bpf.h"
#include "raw.h"

/* ---- symbols.c: what a binary carries */

/* Looks up each of names[0..n) among the function symbols of the ELF file at
 * path (.symtab, then .dynsym) and stores its file offset (what uprobes take)
 * in offsets[i], or 0 when absent. Returns 0, or -1 with err when the file is
 * not a readable ELF file. */
int ls__elf_func_offsets(const char *path, const char *const *names,
                         uint64_t *offsets, size_t n, char *err,
                         size_t errlen);
/* Whether the file has USDT notes (.note.stapsdt) from provider. */
bool ls__elf_has_usdt(const char *path, const char *provider);

/* ---- uv_offsets.c: libuv struct layout from uv.h at build time */

typedef struct ls__uv_offsets {
  bool known;             /* false: built without uv.h */
  const char *version;    /* "1.46.0" */
  uint32_t loop_time;
  uint32_t loop_timer_heap;
  uint32_t loop_active_handles;
  uint32_t loop_active_reqs;
  uint32_t timer_heap_to_timeout; /* from uv_timer_t.heap_node to .timeout */
  uint32_t stream_write_queue_size;
  uint32_t stream_fd;
} ls__uv_offsets;

extern const ls__uv_offsets ls__uv;

/* ---- convert.c: ring-buffer records to trace events */

typedef struct ls__conv ls__conv;

typedef struct ls__conv_opts {
  ls_writer *w;
  uint32_t tgid;
  uint64_t threshold_ns;
  bool lateness;          /* loop time / timer heap offsets are usable */
  void (*log)(void *ctx, const char *msg);
  void *log_ctx;
} ls__conv_opts;

int ls__conv_new(ls__conv **c, const ls__conv_opts *o);
/* Converts one record (struct ls_raw or ls_raw_usdt). */
void ls__conv_record(ls__conv *c, const void *data, size_t size);
/* Records that n records were lost on the BPF side. */
void ls__conv_lost(ls__conv *c, uint64_t n);
/* Ends every open slice (at the last timestamp seen) and frees c. Returns
 * the first writer error seen. */
int ls__conv_finish(ls__conv *c);
uint64_t ls__conv_events(const ls__conv *c);

#endif
