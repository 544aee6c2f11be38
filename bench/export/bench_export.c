/* Export speed and peak memory of `loopscope export` on a 10 M event,
 * loop-shaped trace (issue 2 goals: >= 2 M events/s, peak RSS < 64 MB), and
 * how fast `loopscope dump` prints the same trace (no goal).
 *
 * The trace is generated here with the trace writer into /tmp and deleted
 * afterwards. The exporter runs as a child process writing to /dev/null, so
 * the figures are the exporter's own work (read, convert, format) without
 * the disk. wait4() gives its peak RSS, which counts the pages of the
 * memory-mapped trace it has read (the reader maps the whole file); the
 * exporter's own memory is sampled from /proc as RssAnon. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loopscope/format.h"

#define TARGET_EVENTS 10000000ull
#define LS LS_BINARY_DIR "/tracer/cli/loopscope"

static ls_writer *w;
static uint64_t now_ticks, written, next_id = 1;

static void ev(ls_event_type type, uint64_t tid, const char *cat,
               const char *name, uint64_t id, const char *k1, uint64_t v1,
               const char *k2, uint64_t v2) {
  ls_event e = {.type = type, .ts = now_ticks, .pid = 4242, .tid = tid,
                .category = cat, .name = name, .id = id};
  if (k1)
    e.args[e.nargs++] = (ls_arg){.name = k1, .type = LS_ARG_U64, .v.u = v1};
  if (k2)
    e.args[e.nargs++] = (ls_arg){.name = k2, .type = LS_ARG_U64, .v.u = v2};
  if (ls_writer_event(w, &e) != 0) {
    fprintf(stderr, "bench_export: writing the trace failed\n");
    exit(1);
  }
  now_ticks += 97;
  written++;
}

/* One loop iteration: timers run callbacks that schedule immediates, poll,
 * check runs them; 41 events. */
static void iteration(uint64_t n) {
  ev(LS_EV_BEGIN, 1, "loop", "iteration", 0, "n", n, NULL, 0);
  ev(LS_EV_BEGIN, 1, "phase", "timers", 0, NULL, 0, NULL, 0);
  uint64_t ids[4];
  for (int k = 0; k < 4; k++) {
    uint64_t id = next_id++;
    ev(LS_EV_FLOW_END, 1, "flow", "flow", id, NULL, 0, NULL, 0);
    ev(LS_EV_BEGIN, 1, "timer", "setTimeout", 0, "id", id, "trigger", 1);
    ids[k] = next_id++;
    ev(LS_EV_INSTANT, 1, "sched", "setImmediate", 0, "id", ids[k], NULL, 0);
    ev(LS_EV_FLOW_BEGIN, 1, "flow", "flow", ids[k], NULL, 0, NULL, 0);
    ev(LS_EV_END, 1, "timer", "setTimeout", 0, NULL, 0, NULL, 0);
  }
  ev(LS_EV_END, 1, "phase", "timers", 0, NULL, 0, NULL, 0);
  ev(LS_EV_BEGIN, 1, "phase", "poll", 0, "timeout_ms", 0, NULL, 0);
  ev(LS_EV_END, 1, "phase", "poll", 0, "events", 0, NULL, 0);
  ev(LS_EV_BEGIN, 1, "phase", "check", 0, NULL, 0, NULL, 0);
  for (int k = 0; k < 4; k++) {
    ev(LS_EV_FLOW_END, 1, "flow", "flow", ids[k], NULL, 0, NULL, 0);
    ev(LS_EV_BEGIN, 1, "immediate", "setImmediate", 0, "id", ids[k], "trigger", 1);
    ev(LS_EV_END, 1, "immediate", "setImmediate", 0, NULL, 0, NULL, 0);
  }
  ev(LS_EV_END, 1, "phase", "check", 0, NULL, 0, NULL, 0);
  ev(LS_EV_COUNTER, 1, "counter", "immediates", 0, "value", 4, NULL, 0);
  ev(LS_EV_END, 1, "loop", "iteration", 0, NULL, 0, NULL, 0);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The child's anonymous resident memory now (heap, stacks): /proc status
 * "RssAnon", in kB; 0 once it has gone. */
static long rss_anon_kb(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  long kb = 0;
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
      break;
  fclose(f);
  return kb;
}

typedef struct child_cost {
  double seconds;
  long maxrss_kb;   /* getrusage: includes the trace's mapped file pages */
  long max_anon_kb; /* sampled every 2 ms: the program's own memory */
} child_cost;

/* Runs argv with stdout and stderr to /dev/null. */
static bool run(char *const argv[], child_cost *cost) {
  double t0 = now_s();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  if (pid < 0)
    return false;
  int status;
  struct rusage ru;
  cost->max_anon_kb = 0;
  for (;;) {
    pid_t done = wait4(pid, &status, WNOHANG, &ru);
    if (done == pid)
      break;
    if (done < 0)
      return false;
    long kb = rss_anon_kb(pid);
    if (kb > cost->max_anon_kb)
      cost->max_anon_kb = kb;
    usleep(2000);
  }
  cost->seconds = now_s() - t0;
  cost->maxrss_kb = ru.ru_maxrss;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_export: %s %s failed\n", argv[0], argv[1]);
    return false;
  }
  return true;
}

static void line(const char *name, const char *ours, const char *theirs,
                 const char *ratio) {
  printf("%-44s %14s %14s %8s\n", name, ours, theirs, ratio);
}

int main(void) {
  char path[] = "/tmp/ls-bench-export-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0 || ls_writer_open(&w, fd, 1000000000, "runtime") != 0) {
    perror("bench_export: trace file");
    return 1;
  }
  ls_writer_thread_name(w, 4242, 1, "loop");
  for (uint64_t n = 0; written < TARGET_EVENTS; n++)
    iteration(n);
  if (ls_writer_close(w) != 0) {
    fprintf(stderr, "bench_export: writing the trace failed\n");
    unlink(path);
    return 1;
  }
  close(fd);

  char ours[32], ratio[16], name[64];
  double m = written / 1e6;
  child_cost c;
  int rc = 0;
  if (run((char *[]){LS, "export", path, "-o", "/dev/null", "-q", NULL}, &c)) {
    double mps = m / c.seconds;
    snprintf(name, sizeof name, "export speed, %.0fM events (goal)", m);
    snprintf(ours, sizeof ours, "%.2f Mev/s", mps);
    snprintf(ratio, sizeof ratio, "%.2fx", mps / 2.0);
    line(name, ours, "2.00 Mev/s", ratio);
    snprintf(name, sizeof name, "export peak RSS, %.0fM events (goal)", m);
    snprintf(ours, sizeof ours, "%.1f MB", c.maxrss_kb / 1024.0);
    snprintf(ratio, sizeof ratio, "%.2fx", c.maxrss_kb / 1024.0 / 64.0);
    line(name, ours, "64.0 MB", ratio);
    snprintf(name, sizeof name, "export peak anon RSS (no file map) (goal)");
    snprintf(ours, sizeof ours, "%.1f MB", c.max_anon_kb / 1024.0);
    snprintf(ratio, sizeof ratio, "%.2fx", c.max_anon_kb / 1024.0 / 64.0);
    line(name, ours, "64.0 MB", ratio);
  } else {
    rc = 1;
  }
  if (run((char *[]){LS, "dump", path, NULL}, &c)) {
    snprintf(name, sizeof name, "dump speed, %.0fM events (no goal)", m);
    snprintf(ours, sizeof ours, "%.2f Mev/s", m / c.seconds);
    line(name, ours, "-", "-");
  } else {
    rc = 1;
  }
  unlink(path);
  return rc;
}
