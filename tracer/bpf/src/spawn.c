/* Starting a program stopped before exec: a pipe handshake. The child blocks
 * reading `go` and execs when the parent closes it; a second, close-on-exec
 * pipe carries errno back when exec fails (EOF means exec succeeded). A pipe
 * rather than ptrace keeps the child free of a tracer, so it behaves exactly
 * as untraced. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loopscope/bpf.h"

static bool is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* execvp's search, done in the parent so the binary is known before exec. */
static int resolve_exe(const char *name, char *out, size_t outlen) {
  if (strchr(name, '/')) {
    if (!is_executable(name))
      return -1;
    return snprintf(out, outlen, "%s", name) < (int)outlen ? 0 : -1;
  }
  const char *path = getenv("PATH");
  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t dirlen = colon ? (size_t)(colon - path) : strlen(path);
    int n = snprintf(out, outlen, "%.*s/%s", (int)dirlen,
                     dirlen ? path : ".", name);
    if (n > 0 && (size_t)n < outlen && is_executable(out))
      return 0;
    path += dirlen + (colon != NULL);
  }
  return -1;
}

/* `node app.js` often comes as ./app.js with "#!/usr/bin/env node": the
 * probes go into the interpreter. One level, as the kernel does it. */
static void script_interpreter(const char *path, char *exe, size_t len) {
  char line[512];
  FILE *f = fopen(path, "re");
  snprintf(exe, len, "%s", path);
  if (!f)
    return;
  if (fgets(line, sizeof(line), f) && line[0] == '#' && line[1] == '!') {
    char *save;
    char *interp = strtok_r(line + 2, " \t\r\n", &save);
    char *arg = interp ? strtok_r(NULL, " \t\r\n", &save) : NULL;
    const char *base = interp ? strrchr(interp, '/') : NULL;
    if (base && !strcmp(base + 1, "env") && arg && arg[0] != '-')
      resolve_exe(arg, exe, len); /* #!/usr/bin/env node */
    else if (interp)
      snprintf(exe, len, "%s", interp);
  }
  fclose(f);
}

int ls_bpf_spawn(ls_bpf_child *c, char *const argv[], char *err,
                 size_t errlen) {
  int go[2], ex[2];
  memset(c, 0, sizeof(*c));
  c->pid = -1;
  if (resolve_exe(argv[0], c->path, sizeof(c->path)) < 0) {
    snprintf(err, errlen, "%s: command not found or not executable", argv[0]);
    return -1;
  }
  script_interpreter(c->path, c->exe, sizeof(c->exe));
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(go[0]), close(go[1]), close(ex[0]), close(ex[1]);
    return -1;
  }
  if (pid == 0) {
    char byte;
    close(go[1]);
    close(ex[0]);
    /* A blocked or ignored signal survives exec: the program must get the
     * dispositions it would have had untraced. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    while (read(go[0], &byte, 1) < 0 && errno == EINTR)
      ;
    execv(c->path, argv);
    int e = errno;
    ssize_t unused = write(ex[1], &e, sizeof(e));
    (void)unused;
    _exit(127);
  }
  close(go[0]);
  close(ex[1]);
  c->pid = pid;
  c->go_fd = go[1];
  c->err_fd = ex[0];
  return 0;
}

int ls_bpf_spawn_go(ls_bpf_child *c, char *err, size_t errlen) {
  int e = 0;
  ssize_t n;
  close(c->go_fd);
  c->go_fd = -1;
  while ((n = read(c->err_fd, &e, sizeof(e))) < 0 && errno == EINTR)
    ;
  close(c->err_fd);
  c->err_fd = -1;
  if (n == (ssize_t)sizeof(e)) {
    snprintf(err, errlen, "cannot run %s: %s", c->path, strerror(e));
    waitpid(c->pid, NULL, 0);
    return -1;
  }
  return 0;
}

void ls_bpf_spawn_abort(ls_bpf_child *c) {
  if (c->pid <= 0)
    return;
  kill(c->pid, SIGKILL);
  if (c->go_fd >= 0)
    close(c->go_fd);
  if (c->err_fd >= 0)
    close(c->err_fd);
  waitpid(c->pid, NULL, 0);
  c->pid = -1;
}
