#include "clock.h"

#include <pthread.h>
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
#endif

/* A (ticks, ns) pair: the tightest of a few sandwiches, so a preemption in
 * the middle does not skew the rate. */
static void take_pair(uint64_t *ticks, uint64_t *ns) {
#ifdef LS__HAVE_TSC
  uint64_t best = sample_pair(ticks, ns);
  for (int i = 1; i < 5; i++) {
    uint64_t t, m, width = sample_pair(&t, &m);
    if (width < best) {
      best = width;
      *ticks = t;
      *ns = m;
    }
  }
#else
  *ticks = *ns = ls__mono_ns();
#endif
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
  uint64_t mult = (uint64_t)(((unsigned __int128)(m - c->m0) << 32) / (t - c->t0));
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
