/* Running a program under the eBPF tracer and reading back what it wrote. */
#ifndef LS_TEST_BPF_HELPERS_H
#define LS_TEST_BPF_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loopscope/bpf.h"
#include "loopscope/format.h"

typedef struct trace {
  ls_reader *r;
  ls_event *ev;        /* every event, in file order */
  size_t n;
  pid_t pid;
  int status;          /* the program's wait status */
  char names[64][32];  /* thread names: tids[i] -> names[i] */
  uint64_t tids[64];
  unsigned nthreads;
  uint64_t lost;
} trace;

/* Skips the test (cr_skip) when this machine cannot run eBPF or node. */
void skip_unless_bpf(bool need_node);

/* Runs argv with the tracer attached from its first instruction, until it
 * exits; its stdout goes to out_path (NULL: /dev/null). Fills t. */
void run_traced(char *const argv[], ls_bpf_level level, const char *out_path,
                trace *t);
/* Runs argv untraced, stdout to out_path; returns the wait status. */
int run_plain(char *const argv[], const char *out_path);
/* "node <LS_SOURCE_DIR>/tests/bpf/js/<name>" */
void node_argv(const char *name, char *buf, size_t len, char *argv[3]);

void trace_free(trace *t);
const char *thread_name(const trace *t, uint64_t tid);
/* Events on tid matching type/category/name (NULL = any). */
size_t count(const trace *t, uint64_t tid, int type, const char *cat,
             const char *name);
const ls_arg *arg(const ls_event *ev, const char *name);
/* Fails the test unless the file holds exactly `expected`. */
void check_output(const char *path, const char *expected);
/* Whether the file is identical to the other, byte for byte. */
bool same_file(const char *a, const char *b);

#endif
