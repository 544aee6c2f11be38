#include "sample.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static uint64_t g_tps;
static ls_writer *g_w;

static uint64_t ticks(uint64_t ns) {
  return (uint64_t)((unsigned __int128)ns * g_tps / 1000000000u);
}

static ls_arg u(const char *name, uint64_t v) {
  return (ls_arg){.name = name, .type = LS_ARG_U64, .v.u = v};
}

static void ev(ls_event_type type, uint64_t ns, uint64_t tid, const char *cat,
               const char *name, uint64_t id, unsigned nargs,
               const ls_arg *args) {
  ls_event e = {.type = type, .ts = ticks(ns), .pid = SAMPLE_PID, .tid = tid,
                .category = cat, .name = name, .id = id, .nargs = nargs};
  for (unsigned i = 0; i < nargs; i++)
    e.args[i] = args[i];
  cr_assert_eq(ls_writer_event(g_w, &e), 0, "writing %s/%s", cat, name);
}

static void complete(uint64_t ns, uint64_t end_ns, uint64_t tid,
                     const char *cat, const char *name) {
  ls_event e = {.type = LS_EV_COMPLETE, .ts = ticks(ns), .pid = SAMPLE_PID,
                .tid = tid, .category = cat, .name = name,
                .end_ts = ticks(end_ns)};
  cr_assert_eq(ls_writer_event(g_w, &e), 0);
}

void sample_write(const char *path, uint64_t tps) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert_geq(fd, 0, "create %s", path);
  g_tps = tps;
  cr_assert_eq(ls_writer_open(&g_w, fd, tps, "runtime"), 0);
  cr_assert_eq(ls_writer_meta(g_w, "program", "sample-prog"), 0);
  cr_assert_eq(ls_writer_process_name(g_w, SAMPLE_PID, "sample"), 0);
  cr_assert_eq(ls_writer_thread_name(g_w, SAMPLE_PID, SAMPLE_LOOP, "loop"), 0);
  cr_assert_eq(ls_writer_thread_name(g_w, SAMPLE_PID, SAMPLE_POOL1, "pool-1"), 0);
  cr_assert_eq(ls_writer_thread_name(g_w, SAMPLE_PID, SAMPLE_POOL2, "pool-2"), 0);

  ls_arg a[3];
  a[0] = u("id", 7), a[1] = u("delay_ms", 0);
  ev(LS_EV_INSTANT, 500, SAMPLE_LOOP, "sched", "setTimeout", 0, 2, a);
  ev(LS_EV_FLOW_BEGIN, 500, SAMPLE_LOOP, "flow", "flow", 7, 0, NULL);
  a[0] = u("n", 1);
  ev(LS_EV_BEGIN, 1000, SAMPLE_LOOP, "loop", "iteration", 0, 1, a);
  ev(LS_EV_BEGIN, 1000, SAMPLE_LOOP, "phase", "timers", 0, 0, NULL);
  ev(LS_EV_FLOW_END, 1100, SAMPLE_LOOP, "flow", "flow", 7, 0, NULL);
  a[0] = u("id", 7), a[1] = u("trigger", 1);
  ev(LS_EV_BEGIN, 1100, SAMPLE_LOOP, "timer", "setTimeout", 0, 2, a);
  a[0] = u("id", 8);
  ev(LS_EV_INSTANT, 1200, SAMPLE_LOOP, "sched", "setImmediate", 0, 1, a);
  ev(LS_EV_FLOW_BEGIN, 1200, SAMPLE_LOOP, "flow", "flow", 8, 0, NULL);
  a[0] = u("value", 1);
  ev(LS_EV_COUNTER, 1250, SAMPLE_LOOP, "counter", "immediates", 0, 1, a);
  a[0] = (ls_arg){.name = "value", .type = LS_ARG_DOUBLE, .v.d = 0.5};
  ev(LS_EV_COUNTER, 1260, SAMPLE_LOOP, "counter", "elu", 3, 1, a);
  ev(LS_EV_ASYNC_BEGIN, 1300, SAMPLE_LOOP, "await", "main", 42, 0, NULL);
  ev(LS_EV_END, 1500, SAMPLE_LOOP, "timer", "setTimeout", 0, 0, NULL);
  ev(LS_EV_END, 1600, SAMPLE_LOOP, "phase", "timers", 0, 0, NULL);
  a[0] = u("timeout_ms", 5);
  ev(LS_EV_BEGIN, 1600, SAMPLE_LOOP, "phase", "poll", 0, 1, a);
  a[0] = u("events", 1);
  ev(LS_EV_END, 5000, SAMPLE_LOOP, "phase", "poll", 0, 1, a);
  ev(LS_EV_BEGIN, 5000, SAMPLE_LOOP, "phase", "check", 0, 0, NULL);
  ev(LS_EV_FLOW_END, 5100, SAMPLE_LOOP, "flow", "flow", 8, 0, NULL);
  a[0] = u("id", 8), a[1] = u("trigger", 7);
  ev(LS_EV_BEGIN, 5100, SAMPLE_LOOP, "immediate", "setImmediate", 0, 2, a);
  ev(LS_EV_ASYNC_INSTANT, 5150, SAMPLE_LOOP, "await", "main", 42, 0, NULL);
  ev(LS_EV_ASYNC_END, 5200, SAMPLE_LOOP, "await", "main", 42, 0, NULL);
  ev(LS_EV_FLOW_BEGIN, 5300, SAMPLE_LOOP, "flow", "flow", 9, 0, NULL);
  ev(LS_EV_FLOW_BEGIN, 5300, SAMPLE_LOOP, "flow", "flow", 10, 0, NULL);
  ev(LS_EV_END, 5400, SAMPLE_LOOP, "immediate", "setImmediate", 0, 0, NULL);
  ev(LS_EV_END, 5500, SAMPLE_LOOP, "phase", "check", 0, 0, NULL);
  /* A flow end with no slice after it binds to its enclosing slice. */
  ev(LS_EV_FLOW_END, 5550, SAMPLE_LOOP, "flow", "flow", 10, 0, NULL);
  ev(LS_EV_END, 5600, SAMPLE_LOOP, "loop", "iteration", 0, 0, NULL);

  /* pool-1: the fs work the immediate queued, a flow step, then a slice
   * that never ends (the program was killed). */
  ev(LS_EV_FLOW_END, 5350, SAMPLE_POOL1, "flow", "flow", 9, 0, NULL);
  a[0] = u("id", 9);
  ev(LS_EV_BEGIN, 5350, SAMPLE_POOL1, "pool", "fs.read", 0, 1, a);
  ev(LS_EV_FLOW_STEP, 5400, SAMPLE_POOL1, "flow", "flow", 10, 0, NULL);
  ev(LS_EV_END, 6000, SAMPLE_POOL1, "pool", "fs.read", 0, 0, NULL);
  ev(LS_EV_BEGIN, 6100, SAMPLE_POOL1, "pool", "unfinished", 0, 0, NULL);

  /* pool-2: an end whose begin was lost, a complete event, lost events, and
   * an instant with a string that needs escaping at 1234.567 us. */
  ev(LS_EV_END, 1900, SAMPLE_POOL2, "pool", "orphan", 0, 0, NULL);
  complete(2000, 2500, SAMPLE_POOL2, "pool", "fs.stat");
  cr_assert_eq(ls_writer_lost(g_w, SAMPLE_PID, SAMPLE_POOL2, ticks(2600),
                              SAMPLE_LOST), 0);
  a[0] = (ls_arg){.name = "text", .type = LS_ARG_STRING, .v.s = SAMPLE_NASTY};
  a[1] = (ls_arg){.name = "neg", .type = LS_ARG_I64, .v.i = -3};
  a[2] = (ls_arg){.name = "ok", .type = LS_ARG_BOOL, .v.b = true};
  ev(LS_EV_INSTANT, 1234567, SAMPLE_POOL2, "mark", "note", 0, 3, a);

  cr_assert_eq(ls_writer_close(g_w), 0);
  close(fd);
}

void sample_write_truncated(const char *path, size_t cut) {
  sample_write(path, 1000000000);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(truncate(path, st.st_size - (off_t)cut), 0);
}

char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = 0;
  fclose(f);
  if (len)
    *len = (size_t)n;
  return buf;
}

char *sample_tmp(void) {
  char *path = tmp_path(".fxt");
  sample_write(path, 1000000000);
  return path;
}

void tmp_remove(char *path) {
  unlink(path);
  free(path);
}

cJSON *json_file(const char *path) {
  char *text = slurp(path, NULL);
  cJSON *root = cJSON_Parse(text);
  cr_assert_not_null(root, "%s is not JSON near: %.40s", path,
                     cJSON_GetErrorPtr());
  free(text);
  return root;
}

char *tmp_path(const char *suffix) {
  char tmpl[] = "/tmp/ls-test-XXXXXX";
  int fd = mkstemp(tmpl);
  cr_assert_geq(fd, 0);
  close(fd);
  unlink(tmpl);
  char *p = malloc(strlen(tmpl) + strlen(suffix) + 1);
  strcpy(p, tmpl);
  strcat(p, suffix);
  return p;
}

const cJSON *chrome_events(const cJSON *root) {
  if (cJSON_IsArray(root))
    return root;
  const cJSON *evs = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
  cr_assert(cJSON_IsArray(evs), "no traceEvents array");
  return evs;
}

void chrome_drop_flows(cJSON *root) {
  cJSON *evs = (cJSON *)chrome_events(root);
  for (int k = cJSON_GetArraySize(evs) - 1; k >= 0; k--) {
    const cJSON *ph = cJSON_GetObjectItem(cJSON_GetArrayItem(evs, k), "ph");
    if (cJSON_IsString(ph) && strchr("stf", ph->valuestring[0]))
      cJSON_DeleteItemFromArray(evs, k);
  }
}

static const char *str_of(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  cr_assert(cJSON_IsNumber(v), "event lacks number %s", key);
  return v->valuedouble;
}

const cJSON *chrome_find(const cJSON *root, const char *ph, const char *name,
                         long tid) {
  const cJSON *e;
  cJSON_ArrayForEach(e, chrome_events(root)) {
    const char *p = str_of(e, "ph"), *n = str_of(e, "name");
    if (p && n && strcmp(p, ph) == 0 && strcmp(n, name) == 0 &&
        (tid < 0 || num_of(e, "tid") == (double)tid))
      return e;
  }
  return NULL;
}

#define CHECK_MAX_THREADS 64
#define CHECK_MAX_DEPTH 64
#define CHECK_MAX_FLOWS 256

void chrome_check(const cJSON *root, chrome_summary *sum) {
  struct {
    double tid, last_ts;
    const char *names[CHECK_MAX_DEPTH];
    int depth;
  } th[CHECK_MAX_THREADS];
  int nth = 0;
  const char *flows[CHECK_MAX_FLOWS];
  int nflows = 0;
  memset(sum, 0, sizeof *sum);
  const cJSON *e;
  cJSON_ArrayForEach(e, chrome_events(root)) {
    const char *ph = str_of(e, "ph");
    cr_assert(ph && ph[0] && !ph[1], "event without a one-letter ph");
    sum->by_ph[(unsigned char)ph[0] & 127]++;
    double ts = num_of(e, "ts");
    num_of(e, "pid");
    double tid = num_of(e, "tid");
    if (ph[0] == 'M') {
      const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");
      cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(args, "name")));
      if (strcmp(str_of(e, "name"), "thread_name") == 0)
        sum->threads_named++;
      else if (strcmp(str_of(e, "name"), "process_name") == 0)
        sum->processes_named++;
      continue;
    }
    if (ph[0] == 'B' || ph[0] == 'E') {
      int i = 0;
      while (i < nth && th[i].tid != tid)
        i++;
      if (i == nth) {
        cr_assert_lt(nth, CHECK_MAX_THREADS);
        th[nth].tid = tid;
        th[nth].depth = 0;
        th[nth].last_ts = ts;
        nth++;
      }
      cr_assert_geq(ts, th[i].last_ts, "time goes back on tid %g", tid);
      th[i].last_ts = ts;
      const char *name = str_of(e, "name");
      if (ph[0] == 'B') {
        cr_assert_lt(th[i].depth, CHECK_MAX_DEPTH);
        th[i].names[th[i].depth++] = name;
      } else {
        cr_assert_gt(th[i].depth, 0, "E without B on tid %g at %g", tid, ts);
        th[i].depth--;
        if (name)
          cr_assert_str_eq(name, th[i].names[th[i].depth],
                           "E closes the wrong slice on tid %g", tid);
      }
    }
    if (ph[0] == 's' || ph[0] == 't' || ph[0] == 'f') {
      const char *id = str_of(e, "id");
      cr_assert_not_null(id, "flow without an id");
      int j = 0;
      while (j < nflows && strcmp(flows[j], id) != 0)
        j++;
      if (ph[0] == 's') {
        cr_assert_lt(nflows, CHECK_MAX_FLOWS);
        flows[nflows++] = id;
      } else {
        cr_assert_lt(j, nflows, "flow %c %s has no start", ph[0], id);
      }
      if (ph[0] == 'f' && !str_of(e, "bp"))
        sum->flows_bound_next++;
    }
  }
  for (int i = 0; i < nth; i++)
    cr_assert_eq(th[i].depth, 0, "tid %g ends with %d open slices", th[i].tid,
                 th[i].depth);
}

static char *read_fd(int fd) {
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 1 >= cap)
      buf = realloc(buf, cap *= 2);
    ssize_t k = read(fd, buf + len, cap - len - 1);
    if (k <= 0)
      break;
    len += (size_t)k;
  }
  buf[len] = 0;
  close(fd);
  return buf;
}

int run_cmd(char *const argv[], char **out, char **err) {
  /* Output goes through temporary files, not pipes: no deadlock whatever
   * the child writes. */
  char o[] = "/tmp/ls-run-out-XXXXXX", e[] = "/tmp/ls-run-err-XXXXXX";
  int ofd = mkstemp(o), efd = mkstemp(e);
  cr_assert(ofd >= 0 && efd >= 0);
  unlink(o);
  unlink(e);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, ofd, 1);
  posix_spawn_file_actions_adddup2(&fa, efd, 2);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  cr_assert_eq(rc, 0, "spawn %s: %s", argv[0], strerror(rc));
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  lseek(ofd, 0, SEEK_SET);
  lseek(efd, 0, SEEK_SET);
  if (out)
    *out = read_fd(ofd);
  else
    close(ofd);
  if (err)
    *err = read_fd(efd);
  else
    close(efd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
