/* bench_format: the trace file's writer and reader on a loop-shaped trace.
 *
 * The trace is what the runtime records for a busy loop: per iteration the
 * seven phase slices, timer, I/O, immediate and nextTick callbacks with their
 * scheduling instants and flows, and two counters, with the recorder's static
 * strings. Prints writer events/s, reader events/s and bytes/event against
 * the goals.
 *
 * Rates are per second of this process's CPU time (user + system, so the
 * writer's write(2)s and the reader's page faults count), best of three runs:
 * on a shared machine wall time would measure the neighbours. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "loopscope/format.h"

#define GOAL_WRITE 10e6
#define GOAL_READ 50e6
#define GOAL_BYTES 24.0
#define ITERATIONS 150000 /* about 6 M events */
#define RUNS 3

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct gen {
  ls_writer *w;
  uint64_t ts, next_id, events;
} gen;

static void emit(gen *g, ls_event_type type, const char *cat, const char *name,
                 uint64_t id, unsigned nargs, const char *n0, uint64_t v0,
                 const char *n1, uint64_t v1) {
  ls_event ev = {.type = type, .ts = g->ts += 37, .pid = 4242, .tid = 4242,
                 .category = cat, .name = name, .id = id, .nargs = nargs};
  ev.args[0] = (ls_arg){.name = n0, .type = LS_ARG_U64, .v.u = v0};
  ev.args[1] = (ls_arg){.name = n1, .type = LS_ARG_U64, .v.u = v1};
  if (ls_writer_event(g->w, &ev) != 0) {
    fprintf(stderr, "bench_format: write failed\n");
    exit(1);
  }
  g->events++;
}

static void phase(gen *g, ls_phase p, bool begin) {
  emit(g, begin ? LS_EV_BEGIN : LS_EV_END, LS_CAT_PHASE, ls_phase_names[p], 0,
       0, NULL, 0, NULL, 0);
}

/* A callback of `kind` that ran because of `id`, and schedules one more. */
static void callback(gen *g, ls_kind kind, const char *label, uint64_t id,
                     const char *schedules) {
  const char *k = ls_kind_names[kind];
  emit(g, LS_EV_FLOW_END, "flow", "flow", id, 0, NULL, 0, NULL, 0);
  emit(g, LS_EV_BEGIN, k, label, 0, 2, "id", id, "trigger", id - 1);
  if (schedules != NULL) {
    uint64_t child = g->next_id++;
    emit(g, LS_EV_INSTANT, LS_CAT_SCHED, schedules, 0, 2, "id", child,
         "delay_ms", 1);
    emit(g, LS_EV_FLOW_BEGIN, "flow", "flow", child, 0, NULL, 0, NULL, 0);
  }
  emit(g, LS_EV_END, k, label, 0, 0, NULL, 0, NULL, 0);
}

static void iteration(gen *g, uint64_t n) {
  emit(g, LS_EV_BEGIN, LS_CAT_LOOP, "iteration", 0, 1, "n", n, NULL, 0);
  phase(g, LS_PHASE_TIMERS, true);
  callback(g, LS_KIND_TIMER, "setTimeout", g->next_id++, "setTimeout");
  callback(g, LS_KIND_TICK, "nextTick", g->next_id++, NULL);
  phase(g, LS_PHASE_TIMERS, false);
  for (ls_phase p = LS_PHASE_PENDING; p < LS_PHASE_POLL; p++) {
    phase(g, p, true);
    phase(g, p, false);
  }
  emit(g, LS_EV_BEGIN, LS_CAT_PHASE, ls_phase_names[LS_PHASE_POLL], 0, 1,
       "timeout_ms", 0, NULL, 0);
  callback(g, LS_KIND_IO, "read", g->next_id++, NULL);
  emit(g, LS_EV_END, LS_CAT_PHASE, ls_phase_names[LS_PHASE_POLL], 0, 1,
       "events", 1, NULL, 0);
  phase(g, LS_PHASE_CHECK, true);
  callback(g, LS_KIND_IMMEDIATE, "setImmediate", g->next_id++,
           "setImmediate");
  callback(g, LS_KIND_MICROTASK, "then", g->next_id++, NULL);
  phase(g, LS_PHASE_CHECK, false);
  phase(g, LS_PHASE_CLOSE, true);
  phase(g, LS_PHASE_CLOSE, false);
  emit(g, LS_EV_COUNTER, LS_CAT_COUNTER, ls_counter_names[LS_COUNTER_TIMERS],
       0, 1, "value", n % 7, NULL, 0);
  emit(g, LS_EV_COUNTER, LS_CAT_COUNTER,
       ls_counter_names[LS_COUNTER_IMMEDIATES], 0, 1, "value", n % 3, NULL, 0);
  emit(g, LS_EV_END, LS_CAT_LOOP, "iteration", 0, 0, NULL, 0, NULL, 0);
}

static void line(const char *name, double ours, double theirs) {
  char a[32], b[32], c[32];
  snprintf(a, sizeof a, "%.2f", ours);
  snprintf(b, sizeof b, "%.2f", theirs);
  snprintf(c, sizeof c, "%.2fx", ours / theirs);
  printf("%-44s %14s %14s %8s\n", name, a, b, c);
}

int main(void) {
  char path[] = "/tmp/bench_format-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    perror("bench_format: mkstemp");
    return 1;
  }
  unlink(path); /* read back through /proc/self/fd */
  char fdpath[64];
  snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);

  double best_write = 0, best_read = 0, bytes_per_event = 0;
  uint64_t events = 0;
  for (int run = 0; run < RUNS; run++) {
    if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
      perror("bench_format: truncate");
      return 1;
    }
    gen g = {.next_id = 1};
    double t0 = now();
    if (ls_writer_open(&g.w, fd, 1000000000, "runtime") != 0)
      return 1;
    for (uint64_t n = 0; n < ITERATIONS; n++)
      iteration(&g, n);
    uint64_t bytes = ls_writer_bytes(g.w);
    if (ls_writer_close(g.w) != 0) {
      fprintf(stderr, "bench_format: close failed\n");
      return 1;
    }
    double rate = (double)g.events / (now() - t0);
    best_write = rate > best_write ? rate : best_write;
    bytes_per_event = (double)bytes / (double)g.events;
    events = g.events;

    ls_reader *r;
    char err[256];
    t0 = now();
    if (ls_reader_open(&r, fdpath, err, sizeof err) != 0) {
      fprintf(stderr, "bench_format: %s\n", err);
      return 1;
    }
    ls_record rec;
    uint64_t got = 0;
    int rc;
    while ((rc = ls_reader_next(r, &rec)) == LS_FMT_OK)
      got += rec.kind == LS_REC_EVENT;
    rate = (double)got / (now() - t0);
    if (rc != LS_FMT_EOF || got != events) {
      fprintf(stderr, "bench_format: read %llu of %llu events: %s\n",
              (unsigned long long)got, (unsigned long long)events,
              ls_reader_error(r));
      return 1;
    }
    ls_reader_close(r);
    best_read = rate > best_read ? rate : best_read;
  }
  close(fd);
  line("format: writer M events/CPU-s (goal)", best_write / 1e6,
       GOAL_WRITE / 1e6);
  line("format: reader M events/CPU-s (goal)", best_read / 1e6,
       GOAL_READ / 1e6);
  line("format: bytes/event, loop trace (goal, lower)", bytes_per_event,
       GOAL_BYTES);
  return 0;
}
