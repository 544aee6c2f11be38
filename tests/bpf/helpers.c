#define _GNU_SOURCE
#include "helpers.h"
#include "internal.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* node as the tests will run it, from PATH. */
static bool find_node(char *out, size_t len) {
  const char *path = getenv("PATH");
  while (path && *path) {
    size_t n = strcspn(path, ":");
    snprintf(out, len, "%.*s/node", (int)n, path);
    if (access(out, X_OK) == 0)
      return true;
    path += n + (path[n] == ':');
  }
  return false;
}

void skip_unless_bpf(bool need_node) {
  char why[512], node[4096];
  if (ls_bpf_check_system(why, sizeof(why)) < 0)
    cr_skip_test("eBPF unavailable here: %s", why);
  if (!need_node)
    return;
  if (!find_node(node, sizeof(node)))
    cr_skip_test("node is not installed (PATH)");
  /* A distribution's node may link a stripped libuv.so: no phase functions
   * to probe (the official builds, ours included, carry them). */
  static const char *const names[] = {"uv__io_poll", "uv__run_timers"};
  uint64_t offs[2];
  if (ls__elf_func_offsets(node, names, offs, NULL, 2, why, sizeof(why)) < 0 ||
      !offs[0] || !offs[1])
    cr_skip_test("%s has no libuv symbols (uv__io_poll): a node built with "
                 "its own libuv, unstripped, is needed", node);
}

void node_argv(const char *name, char *buf, size_t len, char *argv[3]) {
  snprintf(buf, len, "%s/tests/bpf/js/%s", LS_SOURCE_DIR, name);
  argv[0] = "node";
  argv[1] = buf;
  argv[2] = NULL;
}

/* The child inherits stdout: point ours at the file around the fork. */
static int redirect_stdout(const char *out_path) {
  int saved = dup(1);
  int fd = open(out_path ? out_path : "/dev/null",
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  cr_assert(fd >= 0 && saved >= 0, "open %s: %s", out_path, strerror(errno));
  fflush(stdout);
  dup2(fd, 1);
  close(fd);
  return saved;
}

static void restore_stdout(int saved) {
  dup2(saved, 1);
  close(saved);
}

int run_plain(char *const argv[], const char *out_path) {
  int saved = redirect_stdout(out_path);
  pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  restore_stdout(saved);
  int status = 0;
  cr_assert(pid > 0);
  waitpid(pid, &status, 0);
  return status;
}

static void read_trace(const char *path, trace *t) {
  char err[512];
  ls_record rec;
  size_t cap = 0;
  int rc = ls_reader_open(&t->r, path, err, sizeof(err));
  cr_assert_eq(rc, 0, "%s", err);
  while ((rc = ls_reader_next(t->r, &rec)) == LS_FMT_OK) {
    if (rec.kind == LS_REC_THREAD_NAME && t->nthreads < 64) {
      t->tids[t->nthreads] = rec.tid;
      snprintf(t->names[t->nthreads++], 32, "%s", rec.name);
    } else if (rec.kind == LS_REC_LOST) {
      t->lost += rec.count;
    } else if (rec.kind == LS_REC_EVENT) {
      if (t->n == cap) {
        cap = cap ? 2 * cap : 1024;
        t->ev = realloc(t->ev, cap * sizeof(*t->ev));
        cr_assert(t->ev);
      }
      t->ev[t->n++] = rec.event;
    }
  }
  cr_assert_eq(rc, LS_FMT_EOF, "%s: %s", path, ls_reader_error(t->r));
  cr_assert_eq(ls_reader_dropped(t->r), 0, "%s: torn tail", path);
}

void run_traced(char *const argv[], ls_bpf_level level, const char *out_path,
                trace *t) {
  char err[1024], path[] = "/tmp/ls-bpf-test-XXXXXX";
  memset(t, 0, sizeof(*t));
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, fd, 1000000000, "ebpf"), 0);

  ls_bpf_child child;
  int saved = redirect_stdout(out_path);
  int rc = ls_bpf_spawn(&child, argv, err, sizeof(err));
  restore_stdout(saved);
  cr_assert_eq(rc, 0, "%s", err);
  ls_bpf_opts o = {.pid = child.pid, .exe = child.exe, .level = level};
  ls_bpf *b;
  if (ls_bpf_open(&b, &o, w, err, sizeof(err)) < 0) {
    ls_bpf_spawn_abort(&child);
    cr_assert_fail("ls_bpf_open: %s", err);
  }
  cr_assert_eq(ls_bpf_spawn_go(&child, err, sizeof(err)), 0, "%s", err);
  for (;;) {
    cr_assert_geq(ls_bpf_poll(b, 50), 0);
    if (waitpid(child.pid, &t->status, WNOHANG) == child.pid)
      break;
  }
  cr_assert_eq(ls_bpf_close(b, NULL), 0);
  cr_assert_eq(ls_writer_close(w), 0);
  close(fd);
  t->pid = child.pid;
  read_trace(path, t);
  unlink(path);
}

void trace_free(trace *t) {
  free(t->ev);
  ls_reader_close(t->r);
}

/* The last one given: readers take a thread's last name. */
const char *thread_name(const trace *t, uint64_t tid) {
  for (unsigned i = t->nthreads; i-- > 0;)
    if (t->tids[i] == tid)
      return t->names[i];
  return NULL;
}

size_t count(const trace *t, uint64_t tid, int type, const char *cat,
             const char *name) {
  size_t n = 0;
  for (size_t i = 0; i < t->n; i++) {
    const ls_event *e = &t->ev[i];
    if ((tid && e->tid != tid) || (type >= 0 && (int)e->type != type) ||
        (cat && strcmp(e->category, cat)) || (name && strcmp(e->name, name)))
      continue;
    n++;
  }
  return n;
}

const ls_arg *arg(const ls_event *ev, const char *name) {
  return ls_event_arg(ev, name);
}

void check_output(const char *path, const char *expected) {
  char buf[256] = "";
  FILE *f = fopen(path, "r");
  cr_assert(f, "%s: %s", path, strerror(errno));
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  cr_assert_str_eq(buf, expected, "%s", path);
}

bool same_file(const char *a, const char *b) {
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
  return system(cmd) == 0;
}
