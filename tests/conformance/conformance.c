/* Runs each C twin and compares what it prints with what node printed. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "twins.h"

#define SHARED_DIR LS_SOURCE_DIR "/../shared/conformance"

typedef struct twin {
  char name[16];
  bool timed; /* its output depends on elapsed time */
} twin;

static char *read_all(FILE *f, size_t *len) {
  size_t cap = 4096;
  char *buf = malloc(cap);
  *len = 0;
  size_t n;
  while (buf && (n = fread(buf + *len, 1, cap - *len - 1, f)) > 0) {
    *len += n;
    if (*len + 1 == cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) {
        free(buf);
        return NULL;
      }
      buf = bigger;
    }
  }
  if (buf)
    buf[*len] = '\0';
  return buf;
}

/* The .out file node wrote for this case: ../shared/conformance/pNN-*.out */
static char *expected_output(const char *name, size_t *len) {
  char pattern[512];
  snprintf(pattern, sizeof(pattern), "%s/%s-*.out", SHARED_DIR, name);
  glob_t g;
  if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc != 1) {
    cr_log_error("%s: expected one file matching %s", name, pattern);
    globfree(&g);
    return NULL;
  }
  FILE *f = fopen(g.gl_pathv[0], "r");
  globfree(&g);
  if (!f)
    return NULL;
  char *out = read_all(f, len);
  fclose(f);
  return out;
}

/* Runs the twin; its stdout, plus "[exit code N]\n" when N != 0. */
static char *twin_output(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", LS_TWIN_DIR, name);
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(path, path, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char *out = read_all(f, len);
  fclose(f);
  int status = 0;
  waitpid(pid, &status, 0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (out && code != 0) {
    char tail[32];
    int n = snprintf(tail, sizeof(tail), "[exit code %d]\n", code);
    char *bigger = realloc(out, *len + (size_t)n + 1);
    cr_assert_not_null(bigger);
    out = bigger;
    memcpy(out + *len, tail, (size_t)n + 1);
    *len += (size_t)n;
  }
  return out;
}

ParameterizedTestParameters(conformance, twin) {
#define X(n, timed) {#n, timed},
  static twin twins[] = {LS_TWINS};
#undef X
  return cr_make_param_array(twin, twins, sizeof(twins) / sizeof(twins[0]));
}

ParameterizedTest(twin *t, conformance, twin) {
#ifdef LS_VALGRIND
  if (t->timed)
    cr_skip_test("%s is timing-based: under valgrind other timers are due",
                 t->name);
#endif
  size_t want_len, got_len;
  char *want = expected_output(t->name, &want_len);
  cr_assert_not_null(want, "%s: no expected output in %s", t->name,
                     SHARED_DIR);
  /* A timed twin's order follows the clock, as node's does: a machine busy
   * enough to hold the process off the CPU past a gap between two due times
   * (10 ms in p08) changes what both of them print. Such a case gets two
   * more runs; a wrong rule gives the wrong order every time. */
  int attempts = t->timed ? 3 : 1;
  char *got = NULL;
  for (int attempt = 1; attempt <= attempts; attempt++) {
    free(got);
    got = twin_output(t->name, &got_len);
    cr_assert_not_null(got);
    if (want_len == got_len && memcmp(want, got, want_len) == 0)
      break;
    if (attempt < attempts)
      cr_log_info("%s (timed) differed from node on run %d of %d, run again:\n%s",
                  t->name, attempt, attempts, got);
  }
  cr_expect(want_len == got_len && memcmp(want, got, want_len) == 0,
            "%s differs from node:\n--- node\n%s--- twin\n%s", t->name, want,
            got);
  free(want);
  free(got);
}
