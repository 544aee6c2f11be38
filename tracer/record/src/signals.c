#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

_Atomic int ls__writer_tid;

static int wake_pipe[2] = {-1, -1};
static int ack_pipe[2] = {-1, -1};

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define NCRASH (sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction old_crash[NCRASH];
static bool crash_installed[NCRASH];
static struct sigaction old_usr2;
static bool usr2_installed;

int ls__signals_init(void) {
  if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
      pipe2(ack_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    return -errno;
  return 0;
}

int ls__wake_fd(void) { return wake_pipe[0]; }
int ls__ack_fd(void) { return ack_pipe[1]; }

void ls__wake(char c) {
  /* a full pipe already holds a wake-up; the stop also sets a flag */
  while (write(wake_pipe[1], &c, 1) < 0 && errno == EINTR)
    ;
}

static void on_sigusr2(int sig) {
  (void)sig;
  int saved = errno;
  ls__wake(LS__WAKE_DUMP);
  errno = saved;
}

static void on_crash(int sig) {
  int saved = errno;
  if (gettid() != atomic_load(&ls__writer_tid)) {
    ls__wake(LS__WAKE_CRASH);
    struct pollfd p = {.fd = ack_pipe[0], .events = POLLIN};
    if (poll(&p, 1, LS__CRASH_WAIT_MS) > 0) {
      char c;
      ssize_t n = read(ack_pipe[0], &c, 1);
      (void)n; /* EAGAIN: another crashing thread took it; the drain is done */
    }
  }
  errno = saved;
  /* SA_RESETHAND restored the default action: a fault re-faults on return,
   * a raised signal (abort(), kill) is pending until we return */
  raise(sig);
}

static void drain_fd(int fd) {
  char buf[64];
  while (read(fd, buf, sizeof buf) > 0)
    ;
}

void ls__signals_install(bool flight) {
  drain_fd(wake_pipe[0]);
  drain_fd(ack_pipe[0]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  if (flight) {
    sa.sa_handler = on_sigusr2;
    sa.sa_flags = SA_RESTART;
    usr2_installed = sigaction(SIGUSR2, &sa, &old_usr2) == 0;
  }
  sa.sa_handler = on_crash;
  sa.sa_flags = SA_RESETHAND;
  for (size_t i = 0; i < NCRASH; i++) {
    struct sigaction cur;
    crash_installed[i] = sigaction(crash_signals[i], NULL, &cur) == 0 &&
                         cur.sa_handler == SIG_DFL &&
                         !(cur.sa_flags & SA_SIGINFO) &&
                         sigaction(crash_signals[i], &sa, &old_crash[i]) == 0;
  }
}

void ls__signals_restore(void) {
  if (usr2_installed)
    sigaction(SIGUSR2, &old_usr2, NULL);
  usr2_installed = false;
  for (size_t i = 0; i < NCRASH; i++) {
    struct sigaction cur;
    /* only ours: the program may have installed its own since */
    if (crash_installed[i] && sigaction(crash_signals[i], NULL, &cur) == 0 &&
        cur.sa_handler == on_crash)
      sigaction(crash_signals[i], &old_crash[i], NULL);
    crash_installed[i] = false;
  }
}
