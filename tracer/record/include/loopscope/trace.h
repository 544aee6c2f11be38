/* In-process trace recording: the hooks the runtime calls.
 *
 * Each thread writes fixed-size slots into its own single-producer ring; a
 * writer thread drains the rings into the trace file (tracer/format). When a
 * ring is full the slot is dropped and counted, and a lost-event record goes
 * into the file: recording never blocks the caller.
 *
 * All names passed here must outlive the trace (string literals, or strings
 * returned by ls_trace_intern), because slots store only the pointer and the
 * writer thread reads the text later.
 *
 * When tracing is off every hook costs one predictable branch: callers use the
 * LS_TRACE_* macros, which test ls__trace_on before calling out.
 */
#ifndef LOOPSCOPE_TRACE_H
#define LOOPSCOPE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "loopscope/vocab.h"

typedef enum ls_trace_mode {
  LS_TRACE_DISCARD,        /* full ring: drop and count (the default) */
  LS_TRACE_FLIGHT_RECORDER /* keep the last `window_s` seconds, write on
                              SIGUSR2 or at exit */
} ls_trace_mode;

typedef struct ls_trace_opts {
  ls_trace_mode mode;
  double window_s;          /* flight recorder only */
  unsigned ring_slots;      /* per thread, power of two; 0 = default */
  const char *source;       /* "runtime" unless told otherwise */
} ls_trace_opts;

/* Starts recording to path (NULL opts: discard mode, defaults). Also done at
 * load time when LOOPSCOPE_TRACE=path is set in the environment
 * (LOOPSCOPE_TRACE_MODE=flight and LOOPSCOPE_TRACE_WINDOW=seconds select the
 * flight recorder, LOOPSCOPE_TRACE_SLOTS=n sets ring_slots; a bad value is
 * reported on stderr and nothing is traced); the variable is then removed, so child processes do not
 * write into the same file. Returns 0, -EBUSY when already recording,
 * -EINVAL for bad options (ring_slots not a power of two in 64 .. 2^26), or
 * the error of opening path (-errno).
 *
 * Timestamps in the file are CLOCK_MONOTONIC nanoseconds (ticks_per_second
 * 1e9), read as rdtsc when the kernel's clocksource is the TSC. Discard mode
 * writes every 20 ms or sooner, so a kill -9 loses at most ~100 ms. While
 * recording, SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT (where the program
 * left them at their default) first have the writer drain (or, in flight
 * mode, dump the window); SIGUSR2 dumps the flight recorder's window.
 * Each dump appends the slots not written before, younger than the window;
 * the window is also bounded by the ring (ring_slots - 1 events per thread).
 * An exit while recording stops recording (atexit). */
int ls_trace_start(const char *path, const ls_trace_opts *opts);
/* Drains every ring, writes the file's tail and closes it. Returns 0 (also
 * when not recording) or the first write error. */
int ls_trace_stop(void);
bool ls_trace_active(void);
/* Returns a copy of s that lives until the process exits (deduplicated;
 * thread-safe), or NULL when out of memory. */
const char *ls_trace_intern(const char *s);
/* Names the calling thread in the trace ("loop", "pool-1", ...). */
void ls_trace_thread_name(const char *name);
/* Events dropped so far (all threads) by the current or last session. */
uint64_t ls_trace_lost(void);

/* ---- hooks (use the macros below) ---- */
extern bool ls__trace_on;

/* Slice on the calling thread. id and arg meaning by category (vocab.h):
 * callbacks: id = async id, arg = trigger id; loop iteration: id = n;
 * poll phase: arg = timeout_ms on begin, events on end. */
void ls__trace_begin(const char *cat, const char *name, uint64_t id,
                     uint64_t arg);
void ls__trace_end(const char *cat, const char *name, uint64_t arg);
/* Instant: sched (id = async id, arg = delay_ms), promise (id, arg = parent),
 * mark (arg = count or dur_ns). */
void ls__trace_instant(const char *cat, const char *name, uint64_t id,
                       uint64_t arg);
void ls__trace_counter(const char *name, int64_t value);
/* Flow begin/end bound to the enclosing slice of the calling thread. */
void ls__trace_flow_begin(uint64_t id);
void ls__trace_flow_end(uint64_t id);
/* The two pairs every scheduled callback emits, each recorded as one event
 * with one timestamp (half the cost of two): a scheduling instant and the
 * flow begin of its id; a callback slice begin and the flow end of its id,
 * which then binds to that slice. */
void ls__trace_instant_flow_begin(const char *cat, const char *name,
                                  uint64_t id, uint64_t arg);
void ls__trace_begin_flow_end(const char *cat, const char *name, uint64_t id,
                              uint64_t arg);
/* Async slice (await, backpressure) keyed by id. */
void ls__trace_async_begin(const char *cat, const char *name, uint64_t id);
void ls__trace_async_end(const char *cat, const char *name, uint64_t id);

/* Every hook is also a USDT probe (provider "loopscope", probe named like the
 * hook: begin, end, instant, counter, flow_begin, flow_end, async_begin,
 * async_end, with the same arguments; the paired hooks fire the probes of
 * their two halves, in order), so `loopscope attach -p PID` can trace
 * a program on the runtime that was not started with LOOPSCOPE_TRACE. An
 * unattached probe is a single nop. Build with -DLS_NO_USDT to leave them out
 * (the benchmark baseline). */
#if defined(LS_NO_USDT)
#define LS__USDT(...) ((void)0)
#else
#ifndef SDT_USE_VARIADIC
#define SDT_USE_VARIADIC /* sys/sdt.h only defines STAP_PROBEV with it */
#endif
#include <sys/sdt.h>
#define LS__USDT(probe, ...) STAP_PROBEV(loopscope, probe, __VA_ARGS__)
#endif

#define LS_TRACE_ON() __builtin_expect(ls__trace_on, 0)
/* The body of each hook, in the inline functions below: as their
 * parameters, the arguments of a LS_TRACE_* macro are evaluated exactly once
 * (the probe and the call would otherwise each evaluate them, so
 * LS_TRACE_INSTANT(..., ++next_id, ...) would count twice). */
#define LS__HOOK_BODY(probe, ...)             \
  do {                                        \
    LS__USDT(probe, __VA_ARGS__);             \
    if (LS_TRACE_ON())                        \
      ls__trace_##probe(__VA_ARGS__);         \
  } while (0)
#define LS__HOOK(probe, ...) ls__hook_##probe(__VA_ARGS__)
/* Inlined always: a call would cost more than the branch it guards. */
#define LS__HOOK_FN static inline __attribute__((always_inline))

LS__HOOK_FN void ls__hook_begin(const char *cat, const char *name,
                                uint64_t id, uint64_t arg) {
  LS__HOOK_BODY(begin, cat, name, id, arg);
}
LS__HOOK_FN void ls__hook_end(const char *cat, const char *name,
                              uint64_t arg) {
  LS__HOOK_BODY(end, cat, name, arg);
}
LS__HOOK_FN void ls__hook_instant(const char *cat, const char *name,
                                  uint64_t id, uint64_t arg) {
  LS__HOOK_BODY(instant, cat, name, id, arg);
}
LS__HOOK_FN void ls__hook_counter(const char *name, int64_t value) {
  LS__HOOK_BODY(counter, name, value);
}
LS__HOOK_FN void ls__hook_flow_begin(uint64_t id) {
  LS__HOOK_BODY(flow_begin, id);
}
LS__HOOK_FN void ls__hook_flow_end(uint64_t id) {
  LS__HOOK_BODY(flow_end, id);
}
LS__HOOK_FN void ls__hook_instant_flow_begin(const char *cat,
                                             const char *name, uint64_t id,
                                             uint64_t arg) {
  LS__USDT(instant, cat, name, id, arg);
  LS__USDT(flow_begin, id);
  if (LS_TRACE_ON())
    ls__trace_instant_flow_begin(cat, name, id, arg);
}
LS__HOOK_FN void ls__hook_begin_flow_end(const char *cat, const char *name,
                                         uint64_t id, uint64_t arg) {
  LS__USDT(begin, cat, name, id, arg);
  LS__USDT(flow_end, id);
  if (LS_TRACE_ON())
    ls__trace_begin_flow_end(cat, name, id, arg);
}
LS__HOOK_FN void ls__hook_async_begin(const char *cat, const char *name,
                                      uint64_t id) {
  LS__HOOK_BODY(async_begin, cat, name, id);
}
LS__HOOK_FN void ls__hook_async_end(const char *cat, const char *name,
                                    uint64_t id) {
  LS__HOOK_BODY(async_end, cat, name, id);
}

#define LS_TRACE_BEGIN(cat, name, id, arg) LS__HOOK(begin, cat, name, id, arg)
#define LS_TRACE_END(cat, name, arg) LS__HOOK(end, cat, name, arg)
#define LS_TRACE_INSTANT(cat, name, id, arg) LS__HOOK(instant, cat, name, id, arg)
#define LS_TRACE_COUNTER(name, value) LS__HOOK(counter, name, value)
#define LS_TRACE_FLOW_BEGIN(id) LS__HOOK(flow_begin, id)
#define LS_TRACE_FLOW_END(id) LS__HOOK(flow_end, id)
#define LS_TRACE_INSTANT_FLOW_BEGIN(cat, name, id, arg) \
  LS__HOOK(instant_flow_begin, cat, name, id, arg)
#define LS_TRACE_BEGIN_FLOW_END(cat, name, id, arg) \
  LS__HOOK(begin_flow_end, cat, name, id, arg)
/* A probe only, for the runtime's in-place await (promise_async.c), which
 * runs only while the recorder is off: it stands for the seven hooks a
 * queued await fires (sched instant + flow begin of id, async begin of the
 * coroutine, end of the microtask slice "await", begin of the one for id
 * with trigger + its flow end, async end), so an attached tracer pays one
 * trap instead of seven and the untraced path one nop. */
#define LS_TRACE_PROBE_AWAIT_IN_PLACE(id, trigger, co_id) \
  LS__USDT(await_in_place, id, trigger, co_id)
#define LS_TRACE_ASYNC_BEGIN(cat, name, id) LS__HOOK(async_begin, cat, name, id)
#define LS_TRACE_ASYNC_END(cat, name, id) LS__HOOK(async_end, cat, name, id)

#endif
