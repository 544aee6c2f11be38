#include "clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

bool ls__clock_use_tsc;

#define LS__CALIBRATE_NS 5000000u /* first rate measurement; refined later */
#define LS__REFINE_FIRST_NS 1000000000u

static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

/* The kernel only picks "tsc" as its clocksource after checking that the TSC
 * is invariant and in step on every CPU, which is exactly what we need. */
static void decide_tsc(void) {
#ifdef LS__HAVE_TSC
  FILE *f = fopen(
      "/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
  if (f == NULL)
    return;
  char name[32] = "";
  if (fgets(name, sizeof name, f) != NULL)
    ls__clock_use_tsc = strncmp(name, "tsc", 3) == 0 &&
                        (name[3] == '\n' || name[3] == '\0');
  fclose(f);
#endif
}

#ifdef LS__HAVE_TSC
/* One rdtsc / clock_gettime / rdtsc sandwich; returns its width in ticks. */
static uint64_t sample_pair(uint64_t *ticks, uint64_t *ns) {
  uint64_t a = __rdtsc();
  *ns = ls__mono_ns();
  uint64_t b = __rdtsc();
  *ticks = a + (b - a) / 2;
  return b - a;
}

/* The tightest of up to `tries` sandwiches, so a preemption in the middle
 * does not skew the pair; stops at one no wider than `enough` ticks.
 * Returns the width of the pair taken. */
static uint64_t best_pair(uint64_t *ticks, uint64_t *ns, int tries,
                          uint64_t enough) {
  uint64_t best = sample_pair(ticks, ns);
  for (int i = 1; i < tries && best > enough; i++) {
    uint64_t t, m, width = sample_pair(&t, &m);
    if (width < best) {
      best = width;
      *ticks = t;
      *ns = m;
    }
  }
  return best;
}
#endif

/* A (ticks, ns) pair for the recorder's rate: the tightest of 5. */
static void take_pair(uint64_t *ticks, uint64_t *ns) {
#ifdef LS__HAVE_TSC
  best_pair(ticks, ns, 5, 0);
#else
  *ticks = *ns = ls__mono_ns();
#endif
}

/* ns per tick << 32, from two pairs (t1 > t0, m1 > m0). */
static uint64_t rate_mult(uint64_t t0, uint64_t m0, uint64_t t1, uint64_t m1) {
  return (uint64_t)(((unsigned __int128)(m1 - m0) << 32) / (t1 - t0));
}

void ls__clock_init(ls__clock *c) {
  pthread_once(&tsc_once, decide_tsc);
  memset(c, 0, sizeof *c);
  c->tsc = ls__clock_use_tsc;
  if (!c->tsc) {
    /* ticks are already CLOCK_MONOTONIC ns: the identity segment */
    c->cur = (ls__clock_seg){.t = 0, .ns = 0, .mult = UINT64_C(1) << 32};
    c->prev = c->cur;
    c->ready = true;
    return;
  }
  take_pair(&c->t0, &c->m0);
  c->next_refine = c->m0 + LS__CALIBRATE_NS;
}

static uint64_t seg_to_ns(const ls__clock_seg *s, uint64_t ticks) {
  if (ticks >= s->t)
    return s->ns + (uint64_t)(((unsigned __int128)(ticks - s->t) * s->mult) >> 32);
  uint64_t back = (uint64_t)(((unsigned __int128)(s->t - ticks) * s->mult) >> 32);
  return back < s->ns ? s->ns - back : 0;
}

uint64_t ls__clock_to_ns(const ls__clock *c, uint64_t ticks) {
  return seg_to_ns(ticks >= c->cur.t ? &c->cur : &c->prev, ticks);
}

bool ls__clock_update(ls__clock *c, bool force) {
  if (!c->tsc)
    return true;
  uint64_t now = ls__mono_ns();
  if (now < c->next_refine && !(force && !c->ready))
    return c->ready;
  uint64_t t, m;
  take_pair(&t, &m);
  if (t <= c->t0 || m <= c->m0)
    return c->ready; /* no measurable time yet */
  /* rate over the whole run so far: the pair errors shrink as it grows */
  uint64_t mult = rate_mult(c->t0, c->m0, t, m);
  if (!c->ready) {
    c->cur = (ls__clock_seg){.t = c->t0, .ns = c->m0, .mult = mult};
    c->prev = c->cur;
    c->ready = true;
    c->next_refine = c->m0 + LS__REFINE_FIRST_NS;
    return true;
  }
  ls__clock_seg next = {.t = t, .ns = ls__clock_to_ns(c, t), .mult = mult};
  c->prev = c->cur;
  c->cur = next;
  c->next_refine = c->m0 + (now - c->m0) * 10; /* 1 s, 10 s, 100 s, ... */
  return true;
}

/* ---- the loop clock (clock.h: ls__clock_now) ---- */

__thread ls__clock_anchor ls__clock_anchor_tls;

/* Where this thread's current rate window starts. */
static __thread uint64_t window_ticks __attribute__((tls_model("initial-exec")));
static __thread uint64_t window_ns __attribute__((tls_model("initial-exec")));
/* The TSC rate (ns per tick << 32) last measured by any thread; 0 until
 * one window is complete. */
static _Atomic uint64_t shared_mult;

/* A sandwich wider than this (an interrupt or a preemption inside it; a
 * plain one is ~100 ticks) could put the pair anywhere in it: no anchor. */
#define LS__ANCHOR_MAX_TICKS 10000u
/* The shortest window the loop clock measures its rate over. An anchor is
 * trusted for LS__CLOCK_SPAN_NS, so a rate off by e costs e * 1 ms: two
 * pairs a few ns (at worst ~2 us) off over 1 ms are plenty, and the TSC is
 * used 1 ms after the first read instead of 5. */
#define LS__ANCHOR_WINDOW_NS 1000000u

#ifdef LS__HAVE_TSC
/* Feeds the pair to this thread's rate window and anchors the thread on it.
 * A window that disagrees with the known rate by more than 1/64 spans a
 * clock jump (a suspend, a TSC reset): it is dropped, the rate forgotten,
 * and reads go to CLOCK_MONOTONIC until a fresh window is complete. */
static void anchor(uint64_t t, uint64_t ns) {
  uint64_t mult = atomic_load_explicit(&shared_mult, memory_order_relaxed);
  if (window_ns == 0 || t <= window_ticks || ns <= window_ns) {
    window_ticks = t;
    window_ns = ns;
  } else if (ns - window_ns >= LS__ANCHOR_WINDOW_NS) {
    uint64_t measured = rate_mult(window_ticks, window_ns, t, ns);
    uint64_t diff = measured > mult ? measured - mult : mult - measured;
    if (mult != 0 && diff > mult / 64)
      measured = 0;
    mult = measured;
    atomic_store_explicit(&shared_mult, mult, memory_order_relaxed);
    /* windows of up to 1 s: precise, and they follow NTP's slewing */
    if (mult == 0 || ns - window_ns >= LS__REFINE_FIRST_NS) {
      window_ticks = t;
      window_ns = ns;
    }
  }
  ls__clock_anchor *a = &ls__clock_anchor_tls;
  a->ticks = t;
  a->ns = ns;
  a->mult = mult;
  a->span = mult ? ((uint64_t)LS__CLOCK_SPAN_NS << 32) / mult : 0;
}
#endif

uint64_t ls__clock_now_slow(void) {
  pthread_once(&tsc_once, decide_tsc);
#ifdef LS__HAVE_TSC
  if (ls__clock_use_tsc) {
    uint64_t t, ns;
    if (best_pair(&t, &ns, 4, LS__ANCHOR_MAX_TICKS) <= LS__ANCHOR_MAX_TICKS)
      anchor(t, ns);
    return ns;
  }
#endif
  return ls__mono_ns();
}
