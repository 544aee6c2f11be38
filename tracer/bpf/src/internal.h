/* Internals of the eBPF tracer shared by its source files. */
#ifndef LS_BPF_INTERNAL_H
#define LS_BPF_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>

#include "loopscope/bpf.h"
#include "raw.h"

/* ---- symbols.c: what a binary carries */

/* Looks up each of names[0..n) among the function symbols of the ELF file at
 * path (.symtab, then .dynsym) and stores its file offset (what uprobes take)
 * in offsets[i], or 0 when absent, and its size in sizes[i] (sizes may be
 * NULL). Returns 0, or -1 with err when the file is not a readable ELF
 * file. */
int ls__elf_func_offsets(const char *path, const char *const *names,
                         uint64_t *offsets, uint64_t *sizes, size_t n,
                         char *err, size_t errlen);
/* The shared libraries exe needs (DT_NEEDED), resolved through its RUNPATH,
 * LD_LIBRARY_PATH and the default directories: what a process that has not
 * exec'd yet will map. Returns how many were found (at most max). */
int ls__elf_needed(const char *exe, char (*libs)[PATH_MAX], int max);
/* Reads len bytes at a file offset. Returns 0 or -1. */
int ls__elf_read(const char *path, uint64_t off, void *buf, size_t len);
/* Whether the file has USDT notes (.note.stapsdt) from provider. */
bool ls__elf_has_usdt(const char *path, const char *provider);

/* ---- usdt.c: USDT sites and their argument specs */

/* The layout of libbpf's usdt.bpf.h (struct __bpf_usdt_spec), which the BPF
 * side reads from its __bpf_usdt_specs map; session.c checks the sizes
 * against the map before filling it. */
enum { LS__USDT_ARG_CONST, LS__USDT_ARG_REG, LS__USDT_ARG_REG_DEREF };
#define LS__USDT_MAX_ARGS 12
typedef struct ls__usdt_arg {
  uint64_t val_off;
  int arg_type;   /* an enum in usdt.bpf.h: int-sized */
  short reg_off;
  bool arg_signed;
  char arg_bitshift;
} ls__usdt_arg;
typedef struct ls__usdt_spec {
  ls__usdt_arg args[LS__USDT_MAX_ARGS];
  uint64_t usdt_cookie;
  short arg_cnt;
} ls__usdt_spec;

typedef struct ls__usdt_site {
  uint64_t offset;     /* file offset, for the uprobe */
  uint64_t semaphore;  /* its file offset; 0: none (sdt.h's default) */
  int probe;           /* index into the names asked for */
  ls__usdt_spec spec;
} ls__usdt_site;

/* Every site of provider's probes named in probes[0..nprobes) in the file.
 * *sites is malloc'd. Returns 0, or -1 with err. */
int ls__usdt_sites(const char *path, const char *provider,
                   const char *const *probes, unsigned nprobes,
                   ls__usdt_site **sites, size_t *n, char *err, size_t errlen);

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
  int32_t work_to_fs_type;        /* from uv_fs_t.work_req to .fs_type */
} ls__uv_offsets;

extern const ls__uv_offsets ls__uv;
/* "fs.read", or "fs.read (sync)" for work run on the loop thread. */
const char *ls__uv_fs_name(int64_t type, bool sync);

/* A message for the user: to log(log_ctx, text) when set, else stderr. */
void ls__say(void (*log)(void *ctx, const char *msg), void *log_ctx,
             const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* ---- convert.c: ring-buffer records to trace events */

typedef struct ls__conv ls__conv;

typedef struct ls__conv_opts {
  ls_writer *w;
  uint32_t tgid;
  uint64_t threshold_ns;
  bool lateness;          /* loop time / timer heap offsets are usable */
  bool poll_events;       /* I/O callbacks are probed: count them per poll */
  void (*log)(void *ctx, const char *msg);
  void *log_ctx;
} ls__conv_opts;

int ls__conv_new(ls__conv **c, const ls__conv_opts *o);
/* Converts one record (struct ls_raw or ls_raw_usdt). */
void ls__conv_record(ls__conv *c, const void *data, size_t size);
/* Records that n records were lost on the BPF side. */
void ls__conv_lost(ls__conv *c, uint64_t n);
/* Ends every open slice (at the last timestamp seen) and frees c. Returns
 * the first writer error seen; *events (if given): events written in all. */
int ls__conv_finish(ls__conv *c, uint64_t *events);
uint64_t ls__conv_events(const ls__conv *c);

#endif
