/* Stackful coroutines: stack pool, guard pages, overflow report, switching.
 * The design and its costs are described in loopscope/coro.h. */
#define _GNU_SOURCE
#include "loopscope/coro.h"
#include "coro_internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(LS_SANITIZE) || !(defined(__x86_64__) || defined(__aarch64__))
#define LS__CORO_UCONTEXT 1
#include <ucontext.h>
#endif
#ifdef LS_SANITIZE
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef LS_VALGRIND
#include <valgrind/valgrind.h>
#endif

/* Linux 6.13: a guard region inside an existing mapping, no VMA split. */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

enum { LS__SLAB_STACKS = 64, LS__GUARD = 16 * 1024, LS__MIN_STACK = 16 * 1024 };
/* Free stacks kept warm; beyond this, a freed stack's pages go back to the
 * kernel (the mapping stays, so reuse costs page faults, not an mmap). */
enum { LS__WARM_STACKS = 64 };

typedef enum { LS__CO_NEW, LS__CO_RUNNING, LS__CO_SUSPENDED, LS__CO_FINISHED } ls__co_state;

typedef struct ls__ctx {
#ifdef LS__CORO_UCONTEXT
  ucontext_t uc;
#else
  void *sp;
#endif
#ifdef LS_SANITIZE
  void *fake_stack;     /* ASan's fake frames of this context while away */
  const void *stack_lo; /* bounds ASan needs when switching to it */
  size_t stack_size;
#endif
} ls__ctx;

typedef struct ls__slab ls__slab;
typedef struct ls__stack {
  struct ls__stack *next_free;
  char *lo; /* lowest usable byte, just above the guard */
  size_t size;
  ls_coro *owner; /* for the overflow report; NULL while pooled */
  bool cold;      /* pages were given back with MADV_DONTNEED */
#ifdef LS_VALGRIND
  unsigned vg_id;
#endif
} ls__stack;

struct ls__slab {
  ls__slab *next; /* global list, read by the SIGSEGV handler */
  char *base;
  size_t stride; /* guard + stack */
  ls__stack stacks[LS__SLAB_STACKS];
};

struct ls_coro {
  ls__ctx ctx;
  ls__ctx *caller_ctx; /* where yield goes back to (set by each resume) */
  ls_coro *caller;
  ls__stack *stack;
  ls_coro_fn fn;
  void *arg;
  uint64_t id;
  ls__co_state state;
};

#ifndef LS__CORO_UCONTEXT
void ls__coro_switch(void **save_sp, void *load_sp);
void ls__coro_trampoline(void);
#endif
void ls__coro_main(ls_coro *co) __attribute__((noreturn, visibility("hidden")));

/* initial-exec: see promise_internal.h; a switch reads ls__coro_running
 * twice. */
#define LS__TLS __thread __attribute__((tls_model("initial-exec")))

static _Atomic(ls__slab *) all_slabs;
static _Atomic size_t stack_size;
static _Atomic uint64_t next_coro_id = 1;
static atomic_bool guard_by_mprotect; /* kernel without MADV_GUARD_INSTALL */
static atomic_bool guard_madvise_checked; /* one madvise()d guard was seen to fault */

LS__TLS ls_coro *ls__coro_running;
static LS__TLS ls__ctx thread_ctx;
static LS__TLS struct {
  ls__stack *free;
  size_t nfree, mapped, in_use;
  size_t free_size; /* stack size of the stacks on the free list */
  bool altstack_checked;
} pool;

/* ---- overflow detection ---- */

static struct sigaction prev_segv;

static void write_str(const char *s) {
  ssize_t r = write(STDERR_FILENO, s, strlen(s));
  (void)r;
}

static void write_u64(uint64_t v) {
  char buf[24];
  char *p = buf + sizeof buf;
  *--p = 0;
  do
    *--p = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  write_str(p);
}

static void on_segv(int sig, siginfo_t *si, void *uctx) {
  uintptr_t addr = (uintptr_t)si->si_addr;
  for (ls__slab *s = atomic_load(&all_slabs); s; s = s->next) {
    uintptr_t base = (uintptr_t)s->base;
    if (addr < base || addr >= base + s->stride * LS__SLAB_STACKS)
      continue;
    if ((addr - base) % s->stride >= LS__GUARD)
      break; /* inside a usable stack: not an overflow */
    ls__stack *st = &s->stacks[(addr - base) / s->stride];
    write_str("loopscope: coroutine stack overflow");
    if (st->owner) {
      write_str(" in coroutine ");
      write_u64(st->owner->id);
    }
    write_str(" (stack ");
    write_u64(st->size);
    write_str(" bytes; raise it with ls_coro_set_stack_size() or "
              "LS_CORO_STACK=bytes)\n");
    abort();
  }
  /* Not a guard hit: behave as if we were never installed. */
  if (prev_segv.sa_flags & SA_SIGINFO) {
    prev_segv.sa_sigaction(sig, si, uctx);
  } else if (prev_segv.sa_handler == SIG_DFL || prev_segv.sa_handler == SIG_IGN) {
    /* Returning re-executes the faulting instruction under the default
     * action, which produces the normal crash (and core dump). */
    sigaction(SIGSEGV, &prev_segv, NULL);
  } else {
    prev_segv.sa_handler(sig);
  }
}

static void install_segv_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &prev_segv);
}

/* The handler of a stack overflow cannot run on the overflowed stack. */
static void ensure_altstack(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, install_segv_handler);
  if (pool.altstack_checked)
    return;
  pool.altstack_checked = true;
  stack_t old;
  if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
    return; /* the program (or ASan) already gave this thread one */
  size_t sz = 64 * 1024;
  void *mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return; /* overflow then kills the process without the message */
  stack_t ss = {.ss_sp = mem, .ss_size = sz, .ss_flags = 0};
  sigaltstack(&ss, NULL);
}

/* ---- the stack pool ---- */

static size_t page_round(size_t n) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  return (n + pg - 1) / pg * pg;
}

size_t ls_coro_stack_size(void) {
  size_t sz = atomic_load(&stack_size);
  if (sz == 0) {
    const char *env = getenv("LS_CORO_STACK");
    sz = env ? strtoull(env, NULL, 0) : LS_CORO_DEFAULT_STACK;
    if (sz < LS__MIN_STACK)
      sz = LS__MIN_STACK;
    sz = page_round(sz);
    atomic_store(&stack_size, sz);
  }
  return sz;
}

void ls_coro_set_stack_size(size_t bytes) {
  if (bytes < LS__MIN_STACK)
    bytes = LS__MIN_STACK;
  atomic_store(&stack_size, page_round(bytes));
}

/* Whether the guard at `at` is really there. madvise() is advice, and an
 * emulator may acknowledge what it does not implement (qemu-user does, which
 * is how the AArch64 build is tested): an overflow would then run into the
 * next stack. The kernel refuses to read a guard for write() (EFAULT) as it
 * refuses the program, and reads an ordinary page. */
static bool guard_faults(const char *at) {
  int fds[2];
  if (pipe(fds) != 0)
    return true; /* cannot tell: take the kernel's word */
  bool faults = write(fds[1], at, 1) < 0 && errno == EFAULT;
  close(fds[0]);
  close(fds[1]);
  return faults;
}

static int guard(char *at) {
  if (!atomic_load(&guard_by_mprotect)) {
    if (madvise(at, LS__GUARD, MADV_GUARD_INSTALL) == 0) {
      if (atomic_load(&guard_madvise_checked) || guard_faults(at)) {
        atomic_store(&guard_madvise_checked, true);
        return 0;
      }
    } else if (errno != EINVAL) {
      return -1;
    }
    atomic_store(&guard_by_mprotect, true);
  }
  if (mprotect(at, LS__GUARD, PROT_NONE) == 0)
    return 0;
  if (errno != ENOMEM)
    return -1;
  /* Each mprotect()ed guard splits the mapping, and vm.max_map_count
   * (65530 by default) caps the pieces near 32 000 stacks. Past that,
   * stacks go without a guard rather than not at all, and we say so once. */
  static atomic_bool warned;
  if (!atomic_exchange(&warned, true))
    fprintf(stderr, "loopscope: vm.max_map_count reached: new coroutine stacks "
                    "have no guard page, an overflow will not be reported "
                    "(kernels >= 6.13 need no extra mappings for guards)\n");
  return 0;
}

static int grow_pool(size_t size) {
  size_t stride = LS__GUARD + size;
  ls__slab *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->stride = stride;
  s->base = mmap(NULL, stride * LS__SLAB_STACKS, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (s->base == MAP_FAILED) {
    free(s);
    return -1;
  }
  for (int i = LS__SLAB_STACKS - 1; i >= 0; i--) {
    char *g = s->base + (size_t)i * stride;
    if (guard(g) != 0) {
      int e = errno;
      munmap(s->base, stride * LS__SLAB_STACKS);
      free(s);
      errno = e;
      return -1;
    }
    ls__stack *st = &s->stacks[i];
    st->lo = g + LS__GUARD;
    st->size = size;
#ifdef LS_VALGRIND
    st->vg_id = VALGRIND_STACK_REGISTER(st->lo, st->lo + size);
#endif
    st->next_free = pool.free;
    pool.free = st;
  }
  pool.nfree += LS__SLAB_STACKS;
  pool.mapped += LS__SLAB_STACKS;
  /* Publish only a fully initialised slab to the signal handler. */
  s->next = atomic_load(&all_slabs);
  while (!atomic_compare_exchange_weak(&all_slabs, &s->next, s))
    ;
  return 0;
}

static ls__stack *stack_get(void) {
  size_t size = ls_coro_stack_size();
  if (pool.free_size != size) {
    /* Size changed: stacks of the old size stay mapped (the signal handler
     * may still need their slab) but give their memory back. */
    for (ls__stack *st = pool.free; st; st = st->next_free)
      if (!st->cold)
        madvise(st->lo, st->size, MADV_DONTNEED);
    pool.free = NULL;
    pool.nfree = 0;
    pool.free_size = size;
  }
  if (!pool.free && grow_pool(size) != 0)
    return NULL;
  ls__stack *st = pool.free;
  pool.free = st->next_free;
  pool.nfree--;
  pool.in_use++;
  st->cold = false;
  return st;
}

static void stack_put(ls__stack *st) {
  st->owner = NULL;
  pool.in_use--;
  if (st->size != pool.free_size)
    return; /* an old-size stack: idle for good */
  if (pool.nfree >= LS__WARM_STACKS) {
    madvise(st->lo, st->size, MADV_DONTNEED);
    st->cold = true;
  }
  st->next_free = pool.free;
  pool.free = st;
  pool.nfree++;
}

size_t ls_coro_pool_mapped(void) { return pool.mapped; }
size_t ls_coro_pool_in_use(void) { return pool.in_use; }

/* ---- switching ---- */

/* Called on the side that gives up the CPU; `dying` means this context will
 * never be resumed, so ASan may drop its fake stack. */
static inline void switch_to(ls__ctx *from, ls__ctx *to, bool dying) {
#ifdef LS_SANITIZE
  __sanitizer_start_switch_fiber(dying ? NULL : &from->fake_stack, to->stack_lo,
                                 to->stack_size);
#else
  (void)dying;
#endif
#ifdef LS__CORO_UCONTEXT
  swapcontext(&from->uc, &to->uc);
#else
  ls__coro_switch(&from->sp, to->sp);
#endif
}

/* Called right after a switch lands in a coroutine: ASan tells us the bounds
 * of the stack we came from, which is how the thread's own stack (whose
 * bounds we never computed) becomes a valid switch target. */
static inline void landed_in_coro(ls_coro *co, bool first) {
#ifdef LS_SANITIZE
  __sanitizer_finish_switch_fiber(first ? NULL : co->ctx.fake_stack,
                                  &co->caller_ctx->stack_lo,
                                  &co->caller_ctx->stack_size);
#else
  (void)co;
  (void)first;
#endif
}

static inline void landed_back(ls__ctx *ctx) {
#ifdef LS_SANITIZE
  __sanitizer_finish_switch_fiber(ctx->fake_stack, NULL, NULL);
#else
  (void)ctx;
#endif
}

void ls__coro_main(ls_coro *co) {
  landed_in_coro(co, true);
  co->fn(co, co->arg);
  co->state = LS__CO_FINISHED;
  ls__coro_running = co->caller;
  switch_to(&co->ctx, co->caller_ctx, true);
  abort(); /* a finished coroutine is never resumed */
}

#ifdef LS__CORO_UCONTEXT
static void uc_entry(void) { ls__coro_main(ls__coro_running); }

/* Apart, because getcontext returns twice and would make the compiler
 * distrust every local of its caller. */
static __attribute__((noinline)) void uc_prepare(ls_coro *co, char *lo, size_t size) {
  getcontext(&co->ctx.uc);
  co->ctx.uc.uc_stack.ss_sp = lo;
  co->ctx.uc.uc_stack.ss_size = size;
  co->ctx.uc.uc_link = NULL;
  makecontext(&co->ctx.uc, uc_entry, 0);
}
#endif

ls_coro *ls_coro_new(ls_coro_fn fn, void *arg) {
  ensure_altstack();
  ls__stack *st = stack_get();
  if (!st)
    return NULL;
#ifdef LS_SANITIZE
  /* A reused stack may carry poisoned redzones of frames that never
   * returned (the last frames of a finished coroutine). */
  ASAN_UNPOISON_MEMORY_REGION(st->lo, st->size);
#endif
  /* The coroutine record lives at the top of its own stack: one allocation. */
  uintptr_t top = ((uintptr_t)(st->lo + st->size) - sizeof(ls_coro)) & ~(uintptr_t)63;
  ls_coro *co = (ls_coro *)top;
  memset(co, 0, sizeof *co);
  co->stack = st;
  co->fn = fn;
  co->arg = arg;
  co->id = atomic_fetch_add(&next_coro_id, 1);
  co->state = LS__CO_NEW;
  st->owner = co;
#ifdef LS_SANITIZE
  co->ctx.stack_lo = st->lo;
  co->ctx.stack_size = (size_t)(top - (uintptr_t)st->lo);
#endif
#ifdef LS__CORO_UCONTEXT
  uc_prepare(co, st->lo, (size_t)(top - (uintptr_t)st->lo));
#elif defined(__x86_64__)
  /* Frame that ls__coro_switch pops: r15 r14 r13 r12 rbx rbp, then "returns"
   * into the trampoline with rsp 16-byte aligned (top is 64-aligned). */
  void **sp = (void **)top;
  *--sp = NULL; /* padding keeps the trampoline's rsp aligned */
  *--sp = NULL;
  *--sp = (void *)ls__coro_trampoline;
  *--sp = NULL; /* rbp */
  *--sp = NULL; /* rbx */
  *--sp = co;   /* r12: the trampoline's argument */
  *--sp = NULL; /* r13 */
  *--sp = NULL; /* r14 */
  *--sp = NULL; /* r15 */
  co->ctx.sp = sp;
#else /* __aarch64__ */
  /* The 160-byte frame ls__coro_switch restores: x19..x28 at slots 0-9
   * (x19 = the trampoline's argument), fp and lr at 10-11 (lr = the
   * trampoline), d8..d15 at 12-19. sp stays 16-byte aligned. */
  void **sp = (void **)top - 20;
  memset(sp, 0, 20 * sizeof *sp);
  sp[0] = co;
  sp[11] = (void *)ls__coro_trampoline;
  co->ctx.sp = sp;
#endif
  return co;
}

void ls_coro_resume(ls_coro *co) {
  if (co->state != LS__CO_NEW && co->state != LS__CO_SUSPENDED) {
    fprintf(stderr, "loopscope: ls_coro_resume: coroutine %llu is %s\n",
            (unsigned long long)co->id,
            co->state == LS__CO_RUNNING ? "already running" : "finished");
    abort();
  }
  ls__ctx *from = ls__coro_running ? &ls__coro_running->ctx : &thread_ctx;
  co->caller = ls__coro_running;
  co->caller_ctx = from;
  co->state = LS__CO_RUNNING;
  ls__coro_running = co;
  switch_to(from, &co->ctx, false);
  landed_back(from);
}

void ls_coro_yield(void) {
  ls_coro *co = ls__coro_running;
  if (!co) {
    fprintf(stderr, "loopscope: ls_coro_yield called outside a coroutine\n");
    abort();
  }
  co->state = LS__CO_SUSPENDED;
  ls__coro_running = co->caller;
  switch_to(&co->ctx, co->caller_ctx, false);
  landed_in_coro(co, false);
}

ls_coro *ls_coro_current(void) { return ls__coro_running; }
bool ls_coro_finished(const ls_coro *co) { return co->state == LS__CO_FINISHED; }
uint64_t ls_coro_id(const ls_coro *co) { return co->id; }

void ls_coro_free(ls_coro *co) {
  if (co->state == LS__CO_RUNNING) {
    fprintf(stderr, "loopscope: ls_coro_free: coroutine %llu is running\n",
            (unsigned long long)co->id);
    abort();
  }
  stack_put(co->stack);
}
