/* The writer's output path: a slow pipe reader and a storm of signals force
 * partial writes and EINTR; the bytes that come out must still be a whole,
 * readable trace. */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

typedef struct sink {
  int fd;
  uint8_t *buf;
  size_t len, cap;
} sink;

/* Drains the pipe in small bites, slowly, so the writer keeps blocking. */
static void *drain(void *arg) {
  sink *s = arg;
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &block, NULL); /* signals go to the writer */
  for (;;) {
    if (s->cap - s->len < 1000) {
      s->cap = s->cap ? s->cap * 2 : 1 << 16;
      s->buf = realloc(s->buf, s->cap);
      cr_assert(s->buf != NULL);
    }
    ssize_t n = read(s->fd, s->buf + s->len, 1000);
    if (n == 0)
      return NULL;
    if (n < 0) {
      cr_assert_eq(errno, EINTR);
      continue;
    }
    s->len += (size_t)n;
    if (s->len % 7 == 0)
      usleep(20);
  }
}

Test(writer_io, partial_writes_and_eintr) {
  enum { EVENTS = 40000 };
  int p[2];
  cr_assert_eq(pipe(p), 0);
  fcntl(p[1], F_SETPIPE_SZ, 4096); /* a small pipe: writes come back short */
  struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
  sigemptyset(&sa.sa_mask);
  cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
  sink s = {.fd = p[0]};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, drain, &s), 0);
  struct itimerval every = {{0, 200}, {0, 200}};
  cr_assert_eq(setitimer(ITIMER_REAL, &every, NULL), 0);

  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, p[1], 1000000000, "runtime"), 0);
  for (unsigned i = 0; i < EVENTS; i++) {
    ls_event ev = {.type = LS_EV_COMPLETE, .ts = i, .end_ts = i + 1, .pid = 1,
                   .tid = 2, .category = "io", .name = "read", .nargs = 1};
    ev.args[0] = (ls_arg){.name = "id", .type = LS_ARG_U64, .v.u = i};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
  }
  cr_assert_eq(ls_writer_close(w), 0);
  struct itimerval off = {0};
  setitimer(ITIMER_REAL, &off, NULL);
  close(p[1]);
  cr_assert_eq(pthread_join(t, NULL), 0);
  close(p[0]);
  cr_assert_gt(alarms, 0, "the writer was interrupted");

  ls_reader *r;
  cr_assert_eq(ls_reader_open_mem(&r, s.buf, s.len, NULL, 0), 0);
  ls_record rec;
  for (unsigned i = 0; i < EVENTS; i++) {
    cr_assert(next_of(r, &rec, LS_REC_EVENT), "event %u", i);
    cr_assert_eq(ls_arg_u64(ls_event_arg(&rec.event, "id")), i);
  }
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_EOF);
  cr_assert_eq(ls_reader_dropped(r), 0);
  ls_reader_close(r);
  free(s.buf);
}
