/* loopscope attach / record --ebpf, the command: lifecycle and refusals. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* Runs the command with stderr into err (a file), stdout into out. */
static pid_t spawn(char *const argv[], const char *out, const char *err) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    if (!freopen(out ? out : "/dev/null", "w", stdout) ||
        !freopen(err ? err : "/dev/null", "w", stderr))
      _exit(126);
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static int wait_exit(pid_t pid) {
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status), "killed by signal %d", WTERMSIG(status));
  return WEXITSTATUS(status);
}

static void file_contains(const char *path, const char *what) {
  char buf[4096] = "";
  FILE *f = fopen(path, "r");
  cr_assert(f, "%s", path);
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = 0;
  fclose(f);
  cr_assert(strstr(buf, what), "%s says \"%s\", not \"%s\"", path, buf, what);
}

/* A complete trace with loop iterations on pid's main thread. */
static void check_trace(const char *path, pid_t pid) {
  char err[512];
  ls_reader *r;
  ls_record rec;
  size_t iters = 0;
  int rc;
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof(err)), 0, "%s", err);
  while ((rc = ls_reader_next(r, &rec)) == LS_FMT_OK)
    iters += rec.kind == LS_REC_EVENT && rec.event.type == LS_EV_BEGIN &&
             rec.event.tid == (uint64_t)pid && !strcmp(rec.event.category, "loop");
  cr_assert_eq(rc, LS_FMT_EOF);
  cr_assert_eq(ls_reader_dropped(r), 0, "%s: torn tail", path);
  cr_assert_str_eq(ls_reader_info(r)->source, "ebpf");
  ls_reader_close(r);
  cr_assert_geq(iters, 5, "%zu iterations", iters);
}

/* The traced program's pid, from the process name record. */
static pid_t traced_pid(const char *path) {
  ls_reader *r;
  ls_record rec;
  char err[256];
  pid_t pid = 0;
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof(err)), 0, "%s", err);
  while (ls_reader_next(r, &rec) == LS_FMT_OK && !pid)
    if (rec.kind == LS_REC_PROCESS_NAME)
      pid = (pid_t)rec.pid;
  ls_reader_close(r);
  cr_assert_gt(pid, 0, "%s names no process", path);
  return pid;
}

/* Starts node on forever.js (for ms milliseconds, or until killed); its
 * pid goes into p as text too. */
static pid_t start_node(const char *ms, char p[16]) {
  char path[512];
  snprintf(path, sizeof(path), "%s/tests/bpf/js/forever.js", LS_SOURCE_DIR);
  char *argv[] = {"node", path, (char *)ms, NULL};
  pid_t pid = spawn(argv, NULL, NULL);
  snprintf(p, 16, "%d", (int)pid);
  usleep(300000); /* past node's startup */
  return pid;
}

/* Detached, the target runs on untouched: it is still there to kill. */
static void kill_node(pid_t node) {
  cr_assert_eq(kill(node, 0), 0, "the target died");
  kill(node, SIGKILL);
  waitpid(node, NULL, 0);
}

TestSuite(bpf_cli, .timeout = 60);

Test(bpf_cli, record_runs_the_program_unchanged) {
  skip_unless_bpf(true);
  char path[512];
  snprintf(path, sizeof(path), "%s/tests/bpf/js/timers.js", LS_SOURCE_DIR);
  char *plain[] = {"node", path, NULL};
  char *traced[] = {LS_CLI, "record", "--ebpf", "-o", "/tmp/ls-cli-rec.fxt",
                    "--level", "full", "--", "node", path, NULL};
  cr_assert_eq(wait_exit(spawn(plain, "/tmp/ls-cli-plain.out", NULL)), 0);
  pid_t pid = spawn(traced, "/tmp/ls-cli-traced.out", "/tmp/ls-cli-rec.err");
  cr_assert_eq(wait_exit(pid), 0);
  cr_assert(same_file("/tmp/ls-cli-plain.out", "/tmp/ls-cli-traced.out"));
  file_contains("/tmp/ls-cli-rec.err", "wrote /tmp/ls-cli-rec.fxt");
  check_trace("/tmp/ls-cli-rec.fxt", traced_pid("/tmp/ls-cli-rec.fxt"));
}

/* Options before --ebpf count as much as those after it: the level here
 * leaves only iterations and phases in the trace. */
Test(bpf_cli, record_returns_the_program_status) {
  skip_unless_bpf(true);
  char *argv[] = {LS_CLI, "record", "-o", "/tmp/ls-cli-st.fxt", "--level", "phases",
                  "--ebpf", "--", "node", "-e", "setTimeout(() => process.exit(3), 20)",
                  NULL};
  cr_assert_eq(wait_exit(spawn(argv, NULL, NULL)), 3);
  ls_reader *r;
  ls_record rec;
  char err[256];
  size_t slices = 0;
  cr_assert_eq(ls_reader_open(&r, "/tmp/ls-cli-st.fxt", err, sizeof(err)), 0, "%s", err);
  while (ls_reader_next(r, &rec) == LS_FMT_OK) {
    if (rec.kind != LS_REC_EVENT || rec.event.type != LS_EV_BEGIN)
      continue;
    cr_assert(!strcmp(rec.event.category, "loop") || !strcmp(rec.event.category, "phase"),
              "a %s/%s slice at level phases", rec.event.category, rec.event.name);
    slices++;
  }
  ls_reader_close(r);
  cr_assert_gt(slices, 0);
}

Test(bpf_cli, attach_for_a_duration) {
  skip_unless_bpf(true);
  char p[16];
  pid_t node = start_node(NULL, p);
  char *argv[] = {LS_CLI, "attach", "-p", p, "--duration", "1", "-o",
                  "/tmp/ls-cli-dur.fxt", NULL};
  int rc = wait_exit(spawn(argv, NULL, "/tmp/ls-cli-dur.err"));
  kill_node(node);
  cr_assert_eq(rc, 0);
  check_trace("/tmp/ls-cli-dur.fxt", node);
}

Test(bpf_cli, sigterm_detaches_and_leaves_a_complete_file) {
  skip_unless_bpf(true);
  char p[16];
  pid_t node = start_node(NULL, p);
  char *argv[] = {LS_CLI, "attach", "-p", p, "-o", "/tmp/ls-cli-term.fxt", NULL};
  pid_t ls = spawn(argv, NULL, "/tmp/ls-cli-term.err");
  usleep(1000000);
  kill(ls, SIGTERM);
  int rc = wait_exit(ls);
  usleep(100000);
  kill_node(node);
  cr_assert_eq(rc, 0);
  check_trace("/tmp/ls-cli-term.fxt", node);
}

Test(bpf_cli, stops_when_the_target_exits) {
  skip_unless_bpf(true);
  char p[16];
  pid_t node = start_node("1500", p);
  char *argv[] = {LS_CLI, "attach", "-p", p, "-o", "/tmp/ls-cli-exit.fxt", NULL};
  pid_t ls = spawn(argv, NULL, NULL);
  waitpid(node, NULL, 0); /* reaped here, so it really is gone */
  cr_assert_eq(wait_exit(ls), 0);
  check_trace("/tmp/ls-cli-exit.fxt", node);
}

Test(bpf_cli, refusals) {
  skip_unless_bpf(false);
  char *nopid[] = {LS_CLI, "attach", NULL};
  cr_assert_eq(wait_exit(spawn(nopid, NULL, NULL)), 2);
  char *badlevel[] = {LS_CLI, "attach", "-p", "1", "--level", "most", NULL};
  cr_assert_eq(wait_exit(spawn(badlevel, NULL, NULL)), 2);
  char *gone[] = {LS_CLI, "attach", "-p", "999999999", "-o", "/tmp/ls-cli-x.fxt", NULL};
  cr_assert_eq(wait_exit(spawn(gone, NULL, "/tmp/ls-cli-gone.err")), 1);
  file_contains("/tmp/ls-cli-gone.err", "no such process: 999999999");

  char *sleeper[] = {"sleep", "10", NULL};
  pid_t s = spawn(sleeper, NULL, NULL);
  char p[16], link[64], exe[4096];
  snprintf(p, sizeof(p), "%d", (int)s);
  usleep(100000);
  snprintf(link, sizeof(link), "/proc/%d/exe", (int)s);
  ssize_t n = readlink(link, exe, sizeof(exe) - 1);
  cr_assert_gt(n, 0);
  exe[n] = 0;
  char *nouv[] = {LS_CLI, "attach", "-p", p, "-o", "/tmp/ls-cli-x.fxt", NULL};
  int rc = wait_exit(spawn(nouv, NULL, "/tmp/ls-cli-nouv.err"));
  kill(s, SIGKILL);
  waitpid(s, NULL, 0);
  cr_assert_eq(rc, 1);
  file_contains("/tmp/ls-cli-nouv.err", "no libuv symbols");
  file_contains("/tmp/ls-cli-nouv.err", exe);

  char *help[] = {LS_CLI, "attach", "--help", NULL};
  cr_assert_eq(wait_exit(spawn(help, "/tmp/ls-cli-help.out", NULL)), 0);
  file_contains("/tmp/ls-cli-help.out", "--level");
}

Test(bpf_cli, record_a_script_traces_its_interpreter) {
  skip_unless_bpf(true);
  char path[512];
  snprintf(path, sizeof(path), "%s/tests/bpf/js/shebang.js", LS_SOURCE_DIR);
  char *argv[] = {LS_CLI, "record", "--ebpf", "-o", "/tmp/ls-cli-sb.fxt", "--",
                  path, NULL};
  cr_assert_eq(wait_exit(spawn(argv, "/tmp/ls-cli-sb.out", "/tmp/ls-cli-sb.err")), 0);
  file_contains("/tmp/ls-cli-sb.out", "shebang 10");
  check_trace("/tmp/ls-cli-sb.fxt", traced_pid("/tmp/ls-cli-sb.fxt"));
}
