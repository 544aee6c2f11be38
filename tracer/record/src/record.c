/* Recording hooks, thread registration, and starting and stopping a
 * session (by API or by LOOPSCOPE_TRACE at load time). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopscope/trace.h"
#include "session.h"

#define LS__DEFAULT_SLOTS (1u << 17)        /* 4 MiB per thread */
#define LS__DEFAULT_FLIGHT_SLOTS (1u << 18) /* 8 MiB per thread */
#define LS__DEFAULT_WINDOW_S 10.0
#define LS__MIN_SLOTS 64u
#define LS__MAX_SLOTS (1u << 26)

bool ls__trace_on;

ls__ring *_Atomic ls__rings;
pthread_mutex_t ls__rings_lock = PTHREAD_MUTEX_INITIALIZER;

/* Bumped by every start: a thread whose ring has another generation attaches
 * a new ring on its next event. */
static _Atomic uint32_t session_gen;
/* What a new ring looks like; stored before session_gen (release). */
static _Atomic unsigned session_slots;
static _Atomic bool session_flight;

static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static ls__session *session;          /* under session_lock */
static _Atomic bool session_live;

static __thread ls__ring *tls_ring __attribute__((tls_model("initial-exec")));
static __thread const char *tls_name;

static pthread_once_t process_once = PTHREAD_ONCE_INIT;
static pthread_key_t ring_key;        /* its destructor sees thread exit */

/* ------------------------------------------------------------ threads */

static void ring_thread_exit(void *p) {
  ls__ring *r = p;
  if (tls_ring == r)
    tls_ring = NULL;
  atomic_store_explicit(&r->done, true, memory_order_release);
}

/* Once per thread and session: kept out of line so the hooks' fast path
 * needs no stack frame. */
__attribute__((noinline, cold)) static ls__ring *ring_attach(void) {
  if (!ls__trace_on)
    return NULL;
  ls__ring *old = tls_ring;
  if (old != NULL) /* from an earlier session: the writer frees it */
    atomic_store_explicit(&old->done, true, memory_order_release);
  tls_ring = NULL;
  uint32_t gen = atomic_load_explicit(&session_gen, memory_order_acquire);
  ls__ring *r = ls__ring_new(
      atomic_load_explicit(&session_slots, memory_order_relaxed),
      atomic_load_explicit(&session_flight, memory_order_relaxed), gen,
      (uint64_t)gettid());
  if (r == NULL) {
    atomic_fetch_add_explicit(&ls__lost_total, 1, memory_order_relaxed);
    return NULL;
  }
  atomic_store_explicit(&r->name, tls_name, memory_order_relaxed);
  pthread_mutex_lock(&ls__rings_lock);
  r->next = atomic_load_explicit(&ls__rings, memory_order_relaxed);
  atomic_store_explicit(&ls__rings, r, memory_order_release);
  pthread_mutex_unlock(&ls__rings_lock);
  pthread_setspecific(ring_key, r);
  tls_ring = r;
  return r;
}

void ls_trace_thread_name(const char *name) {
  tls_name = ls_trace_intern(name);
  if (tls_ring != NULL)
    atomic_store_explicit(&tls_ring->name, tls_name, memory_order_release);
}

/* -------------------------------------------------------------- hooks */

/* Any event, whatever it needs first: a ring, a category index, a copy of
 * the name, room in the ring. */
__attribute__((noinline)) static void push_slow(ls__slot_type type,
                                                const char *cat,
                                                const char *name, uint64_t id,
                                                uint64_t arg) {
  ls__ring *r = tls_ring;
  if (r == NULL ||
      r->gen != atomic_load_explicit(&session_gen, memory_order_relaxed)) {
    if ((r = ring_attach()) == NULL)
      return;
  }
  uint64_t ts = ls__clock_ticks();
  /* Only a pointer from above the 48-bit user address space (none on
   * Linux without an explicit mmap hint) needs a copy to fit the slot. */
  if ((uintptr_t)name > LS__SLOT_PTR_MASK)
    name = ls_trace_intern(name);
  unsigned c = cat != NULL ? ls__cat_index(cat) : LS__CAT_NONE;
  ls__ring_push(r, ts, ls__slot_word(type, c, name), id, arg);
}

/* The common case, with no call in it, so the hooks need no stack frame:
 * a ring of this session with room, the TSC, a category found at its first
 * probe. Anything else takes push_slow. */
static inline __attribute__((always_inline)) void
push(ls__slot_type type, const char *cat, const char *name, uint64_t id,
     uint64_t arg) {
#ifdef LS__HAVE_TSC
  ls__ring *r = tls_ring;
  uint16_t c;
  if (__builtin_expect(
          r != NULL && ls__clock_use_tsc && (uintptr_t)name <= LS__SLOT_PTR_MASK &&
              r->gen == atomic_load_explicit(&session_gen,
                                             memory_order_relaxed) &&
              ls__cat_index_fast(cat, &c),
          1)) {
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (__builtin_expect(head - r->tail_cache < r->room &&
                             !atomic_load_explicit(&r->pending_lost,
                                                   memory_order_relaxed),
                         1)) {
      ls__ring_store(r, head, __rdtsc(), ls__slot_word(type, c, name), id,
                     arg);
      return;
    }
  }
#endif
  push_slow(type, cat, name, id, arg);
}

void ls__trace_begin(const char *cat, const char *name, uint64_t id,
                     uint64_t arg) {
  push(LS__SLOT_BEGIN, cat, name, id, arg);
}
void ls__trace_end(const char *cat, const char *name, uint64_t arg) {
  push(LS__SLOT_END, cat, name, 0, arg);
}
void ls__trace_instant(const char *cat, const char *name, uint64_t id,
                       uint64_t arg) {
  push(LS__SLOT_INSTANT, cat, name, id, arg);
}
void ls__trace_counter(const char *name, int64_t value) {
  push(LS__SLOT_COUNTER, LS_CAT_COUNTER, name, 0, (uint64_t)value);
}
void ls__trace_flow_begin(uint64_t id) {
  push(LS__SLOT_FLOW_BEGIN, NULL, NULL, id, 0);
}
void ls__trace_flow_end(uint64_t id) {
  push(LS__SLOT_FLOW_END, NULL, NULL, id, 0);
}
void ls__trace_instant_flow_begin(const char *cat, const char *name,
                                  uint64_t id, uint64_t arg) {
  push(LS__SLOT_INSTANT_FLOW_BEGIN, cat, name, id, arg);
}
void ls__trace_begin_flow_end(const char *cat, const char *name, uint64_t id,
                              uint64_t arg) {
  push(LS__SLOT_BEGIN_FLOW_END, cat, name, id, arg);
}
void ls__trace_async_begin(const char *cat, const char *name, uint64_t id) {
  push(LS__SLOT_ASYNC_BEGIN, cat, name, id, 0);
}
void ls__trace_async_end(const char *cat, const char *name, uint64_t id) {
  push(LS__SLOT_ASYNC_END, cat, name, id, 0);
}

/* ------------------------------------------------------------ process */

/* A forked child has no writer thread and shares the parent's file: it must
 * neither record nor flush the parent's buffered records at exit. */
/* In a forked child, the parent's session: not freed, since closing its
 * writer would flush the parent's buffered records into the file; kept
 * reachable, as it is no leak either (volatile: the store must stay). */
static ls__session *volatile parents_session;

static void after_fork_child(void) {
  ls__trace_on = false;
  if (session != NULL)
    ls__signals_restore();
  parents_session = session;
  session = NULL;
  /* Only the forking thread lives on here, and it attaches a new ring when
   * it records again: every ring can go once a writer runs. */
  for (ls__ring *r = atomic_load(&ls__rings); r != NULL; r = r->next)
    atomic_store(&r->done, true);
  atomic_store(&session_live, false);
  pthread_mutex_init(&session_lock, NULL);
  pthread_mutex_init(&ls__rings_lock, NULL);
}

static int process_init_rc;
static void process_init(void) {
  if ((process_init_rc = ls__signals_init()))
    return;
  if ((process_init_rc = -pthread_key_create(&ring_key, ring_thread_exit)))
    return;
  process_init_rc = -pthread_atfork(NULL, NULL, after_fork_child);
}

static const char *rc_text(int rc) {
  return rc <= LS_FMT_ENOTTRACE ? "trace format error" : strerror(-rc);
}

static void stop_at_exit(void) {
  if (!ls_trace_active())
    return;
  int rc = ls_trace_stop();
  if (rc != 0)
    fprintf(stderr, "loopscope: writing the trace failed: %s\n", rc_text(rc));
}

/* ---------------------------------------------------------------- API */

static int check_opts(const ls_trace_opts *o, unsigned *slots, double *window) {
  if (o->mode != LS_TRACE_DISCARD && o->mode != LS_TRACE_FLIGHT_RECORDER)
    return -EINVAL;
  bool flight = o->mode == LS_TRACE_FLIGHT_RECORDER;
  *slots = o->ring_slots ? o->ring_slots
           : flight      ? LS__DEFAULT_FLIGHT_SLOTS
                         : LS__DEFAULT_SLOTS;
  if (*slots < LS__MIN_SLOTS || *slots > LS__MAX_SLOTS ||
      (*slots & (*slots - 1)) != 0)
    return -EINVAL;
  *window = o->window_s > 0 ? o->window_s : LS__DEFAULT_WINDOW_S;
  if (!(*window < 1e9)) /* also NaN */
    return -EINVAL;
  return 0;
}

/* The "program" and "args" meta records (FORMAT.md), from the command line
 * the kernel kept: argv[0], then the arguments joined by spaces. */
static int write_program_meta(ls_writer *w) {
  char buf[4096];
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0; /* no /proc: the meta records are optional */
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0'; /* a command line longer than buf is cut */
  size_t prog_len = strlen(buf);
  int rc = ls_writer_meta(w, "program", buf);
  if (rc != 0 || (size_t)n <= prog_len + 1)
    return rc;
  char *args = buf + prog_len + 1;
  for (char *p = args; p < buf + n - 1; p++)
    if (*p == '\0')
      *p = ' ';
  return ls_writer_meta(w, "args", args);
}

int ls_trace_start(const char *path, const ls_trace_opts *opts) {
  static const ls_trace_opts defaults = {.mode = LS_TRACE_DISCARD};
  if (opts == NULL)
    opts = &defaults;
  unsigned slots;
  double window;
  int rc = check_opts(opts, &slots, &window);
  if (rc != 0 || path == NULL)
    return rc ? rc : -EINVAL;
  pthread_once(&process_once, process_init);
  if (process_init_rc != 0)
    return process_init_rc;

  pthread_mutex_lock(&session_lock);
  if (session != NULL) {
    pthread_mutex_unlock(&session_lock);
    return -EBUSY;
  }
  ls__session *s = calloc(1, sizeof *s);
  if (s == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  s->flight = opts->mode == LS_TRACE_FLIGHT_RECORDER;
  s->window_ns = (uint64_t)(window * 1e9);
  s->pid = (uint64_t)getpid();
  s->wake_fd = ls__wake_fd();
  s->ack_fd = ls__ack_fd();
  s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s->fd < 0) {
    rc = -errno;
    goto fail;
  }
  ls__clock_init(&s->clock);
  rc = ls_writer_open(&s->w, s->fd, 1000000000u,
                      opts->source ? opts->source : "runtime");
  if (rc == 0)
    rc = ls_writer_process_name(s->w, s->pid, program_invocation_short_name);
  if (rc == 0)
    rc = write_program_meta(s->w);
  if (rc == 0)
    rc = ls_writer_flush(s->w);
  if (rc != 0)
    goto fail_writer;

  atomic_store_explicit(&session_slots, slots, memory_order_relaxed);
  atomic_store_explicit(&session_flight, s->flight, memory_order_relaxed);
  s->gen = atomic_fetch_add_explicit(&session_gen, 1, memory_order_release) + 1;
  atomic_store(&ls__lost_total, 0);

  ls__signals_install(s->flight);
  /* The writer thread takes no signals: SIGUSR2 and the program's own
   * signals go to the program's threads. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rc = -pthread_create(&s->thread, NULL, ls__writer_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    ls__signals_restore();
    goto fail_writer;
  }
  static bool atexit_done;
  if (!atexit_done)
    atexit_done = atexit(stop_at_exit) == 0;
  session = s;
  atomic_store(&session_live, true);
  ls__trace_on = true;
  rc = 0;
  goto out;

fail_writer:
  if (s->w != NULL)
    ls_writer_close(s->w);
  close(s->fd);
fail:
  free(s);
out:
  pthread_mutex_unlock(&session_lock);
  return rc;
}

int ls_trace_stop(void) {
  pthread_mutex_lock(&session_lock);
  ls__session *s = session;
  if (s == NULL) {
    pthread_mutex_unlock(&session_lock);
    return 0;
  }
  ls__trace_on = false;
  atomic_store(&session_live, false);
  ls__signals_restore();
  atomic_store(&s->stop, true);
  ls__wake(LS__WAKE_STOP);
  pthread_join(s->thread, NULL);
  int rc = s->error;
  int close_rc = ls_writer_close(s->w);
  if (rc == 0)
    rc = close_rc;
  if (close(s->fd) != 0 && rc == 0)
    rc = -errno;
  free(s);
  session = NULL;
  pthread_mutex_unlock(&session_lock);
  return rc;
}

bool ls_trace_active(void) { return atomic_load(&session_live); }

uint64_t ls_trace_lost(void) {
  return atomic_load_explicit(&ls__lost_total, memory_order_relaxed);
}

/* ------------------------------------------------------ LOOPSCOPE_TRACE */

/* Runs at load time in any program that links the hooks. The variable is
 * removed so that child processes on the runtime do not truncate and
 * interleave into the same file. */
__attribute__((constructor)) static void start_from_env(void) {
  const char *path = getenv("LOOPSCOPE_TRACE");
  if (path == NULL || *path == '\0')
    return;
  ls_trace_opts opts = {.mode = LS_TRACE_DISCARD};
  const char *mode = getenv("LOOPSCOPE_TRACE_MODE");
  const char *window = getenv("LOOPSCOPE_TRACE_WINDOW");
  if (mode != NULL && strcmp(mode, "flight") == 0) {
    opts.mode = LS_TRACE_FLIGHT_RECORDER;
  } else if (mode != NULL && *mode != '\0' && strcmp(mode, "discard") != 0) {
    fprintf(stderr,
            "loopscope: LOOPSCOPE_TRACE_MODE=%s: expected \"discard\" or "
            "\"flight\"; not tracing\n", mode);
    return;
  }
  if (window != NULL && *window != '\0') {
    char *end;
    opts.window_s = strtod(window, &end);
    if (*end != '\0' || !(opts.window_s > 0)) {
      fprintf(stderr,
              "loopscope: LOOPSCOPE_TRACE_WINDOW=%s: expected seconds > 0; "
              "not tracing\n", window);
      return;
    }
  }
  const char *slots = getenv("LOOPSCOPE_TRACE_SLOTS");
  if (slots != NULL && *slots != '\0') {
    char *end;
    unsigned long n = strtoul(slots, &end, 10);
    if (*end != '\0' || n < LS__MIN_SLOTS || n > LS__MAX_SLOTS ||
        (n & (n - 1)) != 0) {
      fprintf(stderr,
              "loopscope: LOOPSCOPE_TRACE_SLOTS=%s: expected a power of two "
              "from %u to %u; not tracing\n", slots, LS__MIN_SLOTS,
              LS__MAX_SLOTS);
      return;
    }
    opts.ring_slots = (unsigned)n;
  }
  char *copy = strdup(path);
  unsetenv("LOOPSCOPE_TRACE");
  if (copy == NULL) {
    fprintf(stderr, "loopscope: out of memory; not tracing\n");
    return;
  }
  int rc = ls_trace_start(copy, &opts);
  if (rc != 0)
    fprintf(stderr, "loopscope: cannot trace to %s: %s\n", copy, rc_text(rc));
  free(copy);
}
