/* bench_record: what recording costs the traced program.
 *
 *   per traced event    CPU ns of the calling thread, loop-shaped event
 *                       mix, with the writer thread draining alongside
 *   tracing off         ns per hook when compiled in but not recording
 *   sustained rate      the highest paced rate with zero lost events
 *   bytes per event     file size / events for the loop-shaped mix
 *
 * There is no competitor to run, so the "theirs" column is the goal.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loopscope/trace.h"

static uint64_t clock_ns(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
/* The calling thread's CPU time: what the hooks cost it, without the time
 * other processes on a busy machine take the core away. */
static uint64_t cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

static void line(const char *name, double ours, double goal) {
  char a[32], b[32], c[32];
  snprintf(a, sizeof a, "%.2f", ours);
  snprintf(b, sizeof b, "%.2f", goal);
  snprintf(c, sizeof c, "%.2fx", ours / goal);
  printf("%-44s %14s %14s %8s\n", name, a, b, c);
  fflush(stdout);
}

/* One loop iteration as the runtime traces it: phases, a timer and an
 * immediate with their sched instants and flows, a microtask, counters.
 * Returns the number of events it puts in the file (a paired hook, one
 * slot, writes two). */
static unsigned iteration(uint64_t n, uint64_t *next_id) {
  const char *const *ph = ls_phase_names;
  uint64_t timer = (*next_id)++, imm = (*next_id)++, micro = (*next_id)++;
  LS_TRACE_BEGIN(LS_CAT_LOOP, "iteration", n, 0);
  LS_TRACE_BEGIN(LS_CAT_PHASE, ph[LS_PHASE_TIMERS], 0, 0);
  LS_TRACE_BEGIN_FLOW_END(ls_kind_names[LS_KIND_TIMER], "setTimeout", timer,
                          timer - 3);
  LS_TRACE_INSTANT_FLOW_BEGIN(LS_CAT_SCHED, "setImmediate", imm, 0);
  LS_TRACE_END(ls_kind_names[LS_KIND_TIMER], "setTimeout", 0);
  LS_TRACE_END(LS_CAT_PHASE, ph[LS_PHASE_TIMERS], 0);
  LS_TRACE_BEGIN(LS_CAT_PHASE, ph[LS_PHASE_POLL], 0, 1);
  LS_TRACE_END(LS_CAT_PHASE, ph[LS_PHASE_POLL], 0);
  LS_TRACE_BEGIN(LS_CAT_PHASE, ph[LS_PHASE_CHECK], 0, 0);
  LS_TRACE_BEGIN_FLOW_END(ls_kind_names[LS_KIND_IMMEDIATE], "setImmediate", imm,
                          timer);
  LS_TRACE_INSTANT_FLOW_BEGIN(LS_CAT_SCHED, "then", micro, 0);
  LS_TRACE_END(ls_kind_names[LS_KIND_IMMEDIATE], "setImmediate", 0);
  LS_TRACE_BEGIN_FLOW_END(ls_kind_names[LS_KIND_MICROTASK], "then", micro, imm);
  LS_TRACE_END(ls_kind_names[LS_KIND_MICROTASK], "then", 0);
  LS_TRACE_INSTANT_FLOW_BEGIN(LS_CAT_SCHED, "setTimeout", *next_id, 1);
  LS_TRACE_END(LS_CAT_PHASE, ph[LS_PHASE_CHECK], 0);
  LS_TRACE_COUNTER(ls_counter_names[LS_COUNTER_TIMERS], (int64_t)(n % 7));
  LS_TRACE_COUNTER(ls_counter_names[LS_COUNTER_IMMEDIATES], (int64_t)(n % 3));
  LS_TRACE_END(LS_CAT_LOOP, "iteration", 0);
  return 25;
}

static char path[] = "/tmp/bench_record-XXXXXX";

static void start(unsigned slots) {
  ls_trace_opts opts = {.mode = LS_TRACE_DISCARD, .ring_slots = slots};
  int rc = ls_trace_start(path, &opts);
  if (rc != 0) {
    fprintf(stderr, "bench_record: ls_trace_start: %s\n", strerror(-rc));
    exit(1);
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of 7 bursts of ~500k events, each fitting the ring, with a pause
 * for the writer between bursts. */
static double traced_ns(void) {
  start(1u << 20);
  uint64_t id = 1, n = 0;
  double runs[7];
  for (int r = 0; r < 7; r++) {
    unsigned events = 0;
    uint64_t t0 = cpu_ns();
    while (events < 500000)
      events += iteration(n++, &id);
    runs[r] = (double)(cpu_ns() - t0) / events;
    usleep(200000);
  }
  uint64_t lost = ls_trace_lost();
  ls_trace_stop();
  if (lost)
    fprintf(stderr, "bench_record: %llu events lost while timing the cost\n",
            (unsigned long long)lost);
  qsort(runs, 7, sizeof runs[0], cmp_double);
  return runs[3];
}

/* Tracing compiled in, not recording: the hook's branch and USDT nop, with
 * the loop around it counted in (best of 3). The empty asm keeps the
 * compiler from hoisting the flag out of the loop, as the surrounding code
 * would in a real program. */
static double off_ns(void) {
  const uint64_t n = 100000000;
  double best = 1e9;
  for (int r = 0; r < 3; r++) {
    uint64_t t0 = cpu_ns();
    for (uint64_t i = 0; i < n; i++) {
      LS_TRACE_INSTANT(LS_CAT_SCHED, "nextTick", i, 0);
      __asm__ volatile("" ::: "memory");
    }
    double t = (double)(cpu_ns() - t0) / n;
    best = t < best ? t : best;
  }
  return best;
}

/* Paces events at `rate` per second for `dur_ns` in 1 ms steps (a late
 * step catches up, as a loop does after a stall); returns whether no event
 * was lost. *achieved is the rate really produced. */
static bool paced(double rate, uint64_t dur_ns, uint64_t *id, uint64_t *n,
                  double *achieved) {
  uint64_t lost0 = ls_trace_lost();
  uint64_t t0 = now_ns(), step = 1000000, t;
  double sent = 0;
  while ((t = now_ns()) - t0 < dur_ns) {
    double due = rate * (double)(t - t0 + step) / 1e9;
    while (sent < due)
      sent += iteration((*n)++, id);
    uint64_t end = t0 + ((t - t0) / step + 1) * step, after = now_ns();
    if (after < end) {
      struct timespec ts = {0, (long)(end - after)};
      nanosleep(&ts, NULL);
    }
  }
  *achieved = sent * 1e9 / (double)(now_ns() - t0);
  usleep(60000); /* the last drain */
  return ls_trace_lost() == lost0;
}

/* Doubling, then bisection, on the paced rate; the figure is the highest
 * rate achieved with nothing lost. */
static double sustained_rate(unsigned slots) {
  start(slots);
  uint64_t id = 1, n = 0, dur = 250000000;
  double good = 0, bad = 0, best = 0, got;
  for (double r = 1e6; r <= 256e6; r *= 2) {
    if (!paced(r, dur, &id, &n, &got)) {
      bad = r;
      break;
    }
    good = r;
    best = got > best ? got : best;
    if (got < 0.9 * r) /* the producer itself is the limit */
      break;
  }
  for (int i = 0; bad > 0 && i < 5; i++) {
    double mid = (good + bad) / 2;
    if (paced(mid, dur, &id, &n, &got)) {
      good = mid;
      best = got > best ? got : best;
    } else {
      bad = mid;
    }
  }
  ls_trace_stop();
  return best;
}

static double bytes_per_event(void) {
  start(1u << 22);
  uint64_t id = 1, events = 0;
  struct stat st0, st;
  stat(path, &st0);
  for (uint64_t n = 0; events < 2000000; n++) {
    events += iteration(n, &id);
    if (n % 20000 == 0)
      usleep(1000); /* let the writer keep up */
  }
  uint64_t lost = ls_trace_lost();
  ls_trace_stop();
  stat(path, &st);
  if (lost)
    fprintf(stderr, "bench_record: %llu events lost in the size run\n",
            (unsigned long long)lost);
  return (double)st.st_size / (double)(events - lost);
}

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
/* The floor under every timestamped event: one TSC read (what the recorder
 * stamps) next to one CLOCK_MONOTONIC read (what it would cost without). */
static void clock_reads(void) {
  enum { N = 20000000 };
  uint64_t sum = 0, t0 = cpu_ns();
  for (int i = 0; i < N; i++)
    sum += __rdtsc();
  double tsc = (double)(cpu_ns() - t0) / N;
  t0 = cpu_ns();
  for (int i = 0; i < N / 4; i++)
    sum += now_ns();
  double mono = (double)(cpu_ns() - t0) / (N / 4);
  line("record: clock read ns, rdtsc vs CLOCK_MONOTONIC", tsc, mono);
  if (sum == 42) /* keeps the reads */
    puts("");
}
#else
static void clock_reads(void) {}
#endif

int main(void) {
  int fd = mkstemp(path);
  if (fd < 0) {
    perror("bench_record: mkstemp");
    return 1;
  }
  close(fd);
  line("record: traced event, ns (goal)", traced_ns(), 20);
  line("record: tracing off, ns per hook+loop (goal)", off_ns(), 1);
  line("record: no-loss M ev/s, 4 MiB ring (goal)",
       sustained_rate(0) / 1e6, 10);
  line("record: no-loss M ev/s, 32 MiB ring (goal)",
       sustained_rate(1u << 20) / 1e6, 10);
  line("record: bytes per event, loop mix (goal)", bytes_per_event(), 24);
  clock_reads();
  unlink(path);
  return 0;
}
