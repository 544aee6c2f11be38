/* Stackful coroutines: the machinery under ls_async / ls_await.
 *
 * A coroutine runs a function on its own stack and can suspend itself
 * (ls_coro_yield) back to whoever resumed it (ls_coro_resume). Resumes nest:
 * a coroutine may resume another one, and that one's yield comes back to it.
 * Coroutines belong to the thread that created them.
 *
 * Switching is a hand-written routine (x86-64, and AArch64, the latter
 * tested under qemu-aarch64 by tests/promise/coro_abi.c) that saves only the
 * callee-saved registers (a few ns). It does not save the floating-point
 * control registers (x87 control word and MXCSR, FPCR), so code that changes
 * the rounding mode must restore it before it suspends. Other architectures
 * use ucontext. Sanitizer builds (LS_SANITIZE) switch with ucontext instead,
 * with the ASan fiber annotations, because ASan must be told about every
 * stack change; that costs a sigprocmask syscall per switch.
 *
 * Stacks come from a per-thread pool of slabs (one mmap per 64 stacks), each
 * stack with a guard region below it. On Linux >= 6.13 the guard is installed
 * with MADV_GUARD_INSTALL, which does not split the mapping: that is what lets
 * a process hold 100 000 live coroutines without hitting vm.max_map_count.
 * Older kernels, and emulators that acknowledge the advice without installing
 * the guard (qemu-user; checked once per process), get an mprotect()ed guard
 * (two mappings per stack); past vm.max_map_count new stacks go unguarded,
 * with a warning on stderr. Touching a guard prints "coroutine stack
 * overflow" with the coroutine id and stack size from a SIGSEGV handler
 * running on an alternate signal stack, then aborts. Other SIGSEGVs are
 * passed on to the previous handler.
 *
 * Under valgrind (LS_VALGRIND) each stack is registered with
 * VALGRIND_STACK_REGISTER so switches are not mistaken for stack smashing.
 */
#ifndef LOOPSCOPE_CORO_H
#define LOOPSCOPE_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ls_coro ls_coro;
typedef void (*ls_coro_fn)(ls_coro *co, void *arg);

/* Default usable stack size of new coroutines (before the first one is made,
 * the environment variable LS_CORO_STACK=bytes may set it). */
#define LS_CORO_DEFAULT_STACK (128 * 1024)

/* Sets the usable stack size for coroutines created from now on (rounded up
 * to pages, at least 16 KiB). Stacks already pooled keep their size; the pool
 * only reuses stacks of the current size. */
void ls_coro_set_stack_size(size_t bytes);
size_t ls_coro_stack_size(void);

/* Creates a suspended coroutine that will run fn(co, arg) on first resume.
 * Returns NULL (errno set) when no stack can be mapped. */
ls_coro *ls_coro_new(ls_coro_fn fn, void *arg);
/* Runs co until it yields or its function returns. co must not be running
 * or finished. */
void ls_coro_resume(ls_coro *co);
/* Suspends the running coroutine; ls_coro_resume() on it continues here.
 * Must be called from inside a coroutine. */
void ls_coro_yield(void);
/* The running coroutine, or NULL on the thread's own stack. */
ls_coro *ls_coro_current(void);
bool ls_coro_finished(const ls_coro *co);
/* Process-unique, never 0; the trace uses it as the await slice id. */
uint64_t ls_coro_id(const ls_coro *co);
/* Frees a coroutine that has finished or was never started, and returns its
 * stack to the pool. Freeing a suspended coroutine abandons its stack frames
 * without running any cleanup in them. */
void ls_coro_free(ls_coro *co);

/* Stacks mapped so far by this thread's pool, and how many are in use. */
size_t ls_coro_pool_mapped(void);
size_t ls_coro_pool_in_use(void);

#endif
