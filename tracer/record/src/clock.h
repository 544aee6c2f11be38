/* Timestamps for the recorder.
 *
 * Producers read the cheapest clock there is: rdtsc when the kernel itself
 * trusts the TSC (its clocksource is "tsc": invariant and synchronised across
 * cores), else CLOCK_MONOTONIC. The writer thread converts ticks to
 * nanoseconds of CLOCK_MONOTONIC, so a trace from the recorder and one from
 * the eBPF tracer (bpf_ktime_get_ns) share one time base; the file therefore
 * says ticks_per_second = 1e9.
 *
 * The TSC rate is measured against CLOCK_MONOTONIC over the first 5 ms,
 * then refined at 1 s, 10 s, 100 s, ... Each
 * refinement starts a new linear segment anchored where the old one ends, so
 * converted times never jump or run backwards. */
#ifndef LS_RECORD_CLOCK_H
#define LS_RECORD_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define LS__HAVE_TSC 1
#endif

/* hidden: read on every event, so no GOT indirection inside libloopscope */
extern bool ls__clock_use_tsc __attribute__((visibility("hidden")));

static inline uint64_t ls__mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* What producers stamp into slots. */
static inline uint64_t ls__clock_ticks(void) {
#ifdef LS__HAVE_TSC
  if (__builtin_expect(ls__clock_use_tsc, 1))
    return __rdtsc();
#endif
  return ls__mono_ns();
}

/* ns = seg.ns + (ticks - seg.t) * mult / 2^32 */
typedef struct ls__clock_seg {
  uint64_t t, ns, mult;
} ls__clock_seg;

/* Owned by the writer thread of one session. */
typedef struct ls__clock {
  bool tsc;
  bool ready;            /* ticks can be converted */
  uint64_t t0, m0;       /* the pair taken at start */
  uint64_t next_refine;  /* CLOCK_MONOTONIC ns of the next refinement */
  ls__clock_seg prev, cur;
} ls__clock;

/* Decides rdtsc or CLOCK_MONOTONIC (once per process) and takes the first
 * (ticks, ns) pair. */
void ls__clock_init(ls__clock *c);
/* Measures or refines the TSC rate when due; `force` measures now whatever
 * the elapsed time (a session stopped before its first drain period). Returns
 * whether ticks can be converted. */
bool ls__clock_update(ls__clock *c, bool force);
uint64_t ls__clock_to_ns(const ls__clock *c, uint64_t ticks);

/* ---- CLOCK_MONOTONIC at the cost of an rdtsc, for the event loop ----
 *
 * The loop reads the clock at every phase point and at every setTimeout
 * (Node's getLibuvNow()), and clock_gettime costs two rdtsc's worth. So a
 * thread keeps an anchor, a CLOCK_MONOTONIC read and the TSC at it, and
 * extrapolates from it at the TSC rate. An anchor is trusted for
 * LS__CLOCK_SPAN_NS only; past that the next read takes a new one. The
 * error of a read is therefore at most half the anchor's sandwich plus the
 * span times the rate's error, a few microseconds, whatever NTP does to
 * CLOCK_MONOTONIC's rate. Reads are not monotonic across a re-anchoring
 * (by that error): callers that need it clamp.
 *
 * The rate is measured against CLOCK_MONOTONIC by the anchors themselves,
 * over windows of 1 ms to LS__REFINE_FIRST_NS, and shared by
 * the process (the kernel only picks the "tsc" clocksource when the TSC is
 * invariant and in step on every CPU). Until it is known, and when the
 * TSC is not trusted, every read is a plain CLOCK_MONOTONIC read. */
#define LS__CLOCK_SPAN_NS 1000000u

typedef struct ls__clock_anchor {
  uint64_t ticks, ns; /* a CLOCK_MONOTONIC read and the TSC at it */
  uint64_t span;      /* ticks the anchor is trusted for; 0 = read the clock */
  uint64_t mult;      /* ns per tick, << 32 */
} ls__clock_anchor;

extern __thread ls__clock_anchor ls__clock_anchor_tls
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Takes a new anchor (or reads CLOCK_MONOTONIC) and returns its ns. */
uint64_t ls__clock_now_slow(void) __attribute__((visibility("hidden")));

/* CLOCK_MONOTONIC in ns, within a few us (see above). */
static inline uint64_t ls__clock_now(void) {
#ifdef LS__HAVE_TSC
  const ls__clock_anchor *a = &ls__clock_anchor_tls;
  if (__builtin_expect(a->span != 0, 1)) {
    uint64_t age = __rdtsc() - a->ticks;
    /* age < span keeps age * mult below 2^64: span * mult ~ 1e6 << 32 */
    if (__builtin_expect(age < a->span, 1))
      return a->ns + ((age * a->mult) >> 32);
  }
  return ls__clock_now_slow();
#else
  return ls__mono_ns();
#endif
}

#endif
