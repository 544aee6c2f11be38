/* The eBPF tracer: attach uprobes (libuv, node) or USDT probes (programs on
 * the loopscope runtime) to a running process and write what its event loop
 * does as a loopscope trace, source "ebpf".
 *
 *   ls_bpf_check_system()   can this machine do it at all (root, BTF, uprobes)
 *   ls_bpf_open()           inspect the target, load and attach the programs
 *   ls_bpf_poll()           drain the ring buffer into the writer, repeatedly
 *   ls_bpf_close()          detach, drain the rest, close every open slice
 *
 * A session is single-threaded; the caller owns the writer and closes it after
 * ls_bpf_close(). Messages for the user (what was missing, what was skipped)
 * go to the log callback, or to stderr when none is given.
 */
#ifndef LOOPSCOPE_BPF_H
#define LOOPSCOPE_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loopscope/format.h"

typedef enum ls_bpf_level {
  LS_BPF_PHASES,    /* iterations, phases, poll timeout/events, lateness, blocked */
  LS_BPF_CALLBACKS, /* + I/O callbacks, JS entries, close callbacks, microtasks */
  LS_BPF_FULL       /* + thread-pool work, stream write queues, timer starts */
} ls_bpf_level;

/* How the target is traced, decided by ls_bpf_open from the target's files. */
typedef enum ls_bpf_mode {
  LS_BPF_MODE_LIBUV, /* uprobes on libuv's (and node's) functions */
  LS_BPF_MODE_USDT   /* the loopscope runtime's USDT probes */
} ls_bpf_mode;

typedef struct ls_bpf_opts {
  pid_t pid;
  /* The target's executable; NULL = /proc/PID/exe. Needed when the pid has
   * not exec'd its program yet (ls_bpf_spawn). */
  const char *exe;
  ls_bpf_level level;
  uint64_t threshold_ns;  /* blocked-loop mark above this; 0 = 50 ms */
  size_t ring_bytes;      /* BPF ring buffer size; 0 = 8 MiB */
  void (*log)(void *ctx, const char *msg);
  void *log_ctx;
} ls_bpf_opts;

typedef struct ls_bpf ls_bpf;

typedef struct ls_bpf_stats {
  uint64_t records;   /* ring-buffer records read */
  uint64_t events;    /* trace events written */
  uint64_t lost;      /* records the BPF side dropped (ring full) */
  unsigned probes;    /* probes attached */
} ls_bpf_stats;

/* Returns 0 when uprobes can be used here, else -1 with the reason in err
 * ("needs root or CAP_SYS_ADMIN for uprobes", "no kernel BTF at ...", ...). */
int ls_bpf_check_system(char *err, size_t errlen);

/* Inspects the target, loads the BPF programs and attaches them. Events go to
 * w (pid/tid are the target's kernel ids; timestamps are CLOCK_MONOTONIC ns,
 * so open w with 1e9 ticks per second). Returns 0, or -1 with err naming what
 * failed (no such pid, no libuv symbols in a named binary, ...). */
int ls_bpf_open(ls_bpf **b, const ls_bpf_opts *opts, ls_writer *w, char *err,
                size_t errlen);
ls_bpf_mode ls_bpf_get_mode(const ls_bpf *b);
/* The process traced (a thread id given to ls_bpf_open becomes its process)
 * and the file its probes are in. */
pid_t ls_bpf_get_pid(const ls_bpf *b);
const char *ls_bpf_get_target(const ls_bpf *b);
/* Waits up to timeout_ms for data, then drains the ring buffer. Returns the
 * number of records converted, or a negative errno. */
int ls_bpf_poll(ls_bpf *b, int timeout_ms);
/* Detaches, drains what is left, ends every open slice and frees b; the
 * final counts go to *st when st is not NULL. Returns the first writer
 * error, if any. */
int ls_bpf_close(ls_bpf *b, ls_bpf_stats *st);
/* Counts so far. */
void ls_bpf_get_stats(const ls_bpf *b, ls_bpf_stats *st);

/* A child started stopped: it waits, before exec, until ls_bpf_spawn_go, so
 * probes attached in between see the program from its first instruction. */
typedef struct ls_bpf_child {
  pid_t pid;
  int go_fd;           /* write end: the child execs when it closes */
  int err_fd;          /* read end: errno from a failed exec, or EOF */
  char path[4096];     /* argv[0] resolved through PATH: what is exec'd */
  char exe[4096];      /* the ELF file that will run: path, or the
                          interpreter of a "#!" script (env resolved) */
} ls_bpf_child;

/* Forks argv (argv[0] searched in PATH). Returns 0, or -1 with err. */
int ls_bpf_spawn(ls_bpf_child *c, char *const argv[], char *err, size_t errlen);
/* Lets the child exec. Returns 0, or -1 with err when the exec failed. */
int ls_bpf_spawn_go(ls_bpf_child *c, char *err, size_t errlen);
/* Kills and reaps a child that never got to run (attaching failed). */
void ls_bpf_spawn_abort(ls_bpf_child *c);

#endif
