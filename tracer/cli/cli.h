/* Helpers shared by the loopscope subcommands: usage errors, number parsing,
 * opening a trace with a message that names the file, progress on a tty. */
#ifndef LOOPSCOPE_CLI_H
#define LOOPSCOPE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "loopscope/format.h"

#define LS_CLI_VERSION "0.1.0"

/* Prints "loopscope CMD: message" and a pointer to --help; returns 2. */
int ls_cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "loopscope CMD: message"; returns 1. */
int ls_cli_fail(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The options of `record`, `record --ebpf` and `attach`, in one table: record
 * finds --ebpf wherever it stands among them (skipping option values and
 * stopping at the program's name, as getopt does), and each parser can name
 * an option that is another mode's rather than call it unknown. '+': options
 * end at the program's name even without "--". */
extern const struct option ls_cli_trace_longopts[];
#define LS_CLI_TRACE_SHORTOPTS "+p:o:d:l:t:F:h"

/* The command line of the converting commands (export, import):
 * `CMD IN [-o OUT] [-q] [-h]` and options of the command's own. */
typedef struct ls_cli_convert {
  const char *cmd;
  const char *in_what;          /* "TRACE", "JSON": for messages */
  const char *in_ext, *out_ext; /* default OUT: IN with out_ext for in_ext
                                   (or out_ext appended) */
  void (*help)(void);
  const char *shortopts;        /* with "o:qh" */
  const struct option *longopts; /* with output, quiet, help */
  /* Takes an option of the command's own (not o, q, h); returns 0, or the
   * exit code of a usage error. */
  int (*own_option)(void *ctx, int c, const char *arg);
  void *ctx;
  /* Filled in by ls_cli_parse_convert: */
  const char *in, *out;
  bool quiet;
  char *default_out;            /* out when there is no -o: free() it */
} ls_cli_convert;
/* Returns -1 to go on, else an exit code (0 after --help, 1 without memory,
 * 2 for bad usage, said on stderr). */
int ls_cli_parse_convert(ls_cli_convert *c, int argc, char **argv);

/* "64", "64k", "256MB", "1GiB": binary multiples (k = 1024). */
bool ls_cli_parse_size(const char *s, uint64_t *bytes);
/* "1500" (µs), "1.5ms", "20us", "300ns", "2s" -> nanoseconds. */
bool ls_cli_parse_time(const char *s, uint64_t *ns);
bool ls_cli_parse_u64(const char *s, uint64_t *v);

/* Opens a trace, printing the reader's message on failure. Returns 0 or 1. */
int ls_cli_open_trace(const char *cmd, const char *path, ls_reader **r);
/* After reading: warns about a torn tail ("FILE: truncated, N bytes dropped
 * at offset M") and returns 1 with the reader's error if status < 0. */
int ls_cli_finish_trace(const char *cmd, const char *path, ls_reader *r,
                        int status);

/* "12 ns", "1.234 us", "12.345 ms", "1.234 s". */
const char *ls_cli_fmt_dur(char *buf, size_t len, uint64_t ns);

/* Progress on stderr, only when stderr is a terminal, at most 5 times a
 * second; ls_cli_progress_done clears the line. `streams_stdout`: the command
 * writes its output to stdout as it goes, so no progress when that is a
 * terminal too (it would garble the output). */
typedef struct ls_cli_progress {
  const char *what;
  bool tty, shown;
  uint64_t last_ns;
} ls_cli_progress;
void ls_cli_progress_init(ls_cli_progress *p, const char *what,
                          bool streams_stdout);
void ls_cli_progress_update(ls_cli_progress *p, uint64_t done, uint64_t total);
void ls_cli_progress_done(ls_cli_progress *p);

/* Runs argv with LOOPSCOPE_TRACE=out in its environment (flight recorder
 * with a window when flight_s > 0), waits, checks and summarises the trace.
 * Returns the program's exit status (128 + signal), or 1 when it ran
 * cleanly but left no readable trace. Shared by `record` and `run -o`. */
int ls_cli_record_program(const char *cmd, const char *out, double flight_s,
                          char **argv);

#endif
