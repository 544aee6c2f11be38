/* The loop clock: ls_now() after ls_update_time() is CLOCK_MONOTONIC in ms,
 * read through the TSC where the kernel trusts it (tracer/record/src/clock.h).
 * Whatever the source, the loop time must never run backwards and must stay
 * within 1 ms of CLOCK_MONOTONIC / 1e6, across sleeps (anchors expire, the
 * TSC rate is measured and re-measured) and on several threads at once. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "loopscope/runtime.h"

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) / 1000000u;
}

static void sleep_us(long us) {
  struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};
  nanosleep(&ts, NULL);
}

typedef struct clock_check {
  uint64_t last;      /* loop time at the previous read */
  unsigned reads;
  unsigned backwards; /* reads that ran backwards */
  unsigned outside;   /* reads more than 1 ms from CLOCK_MONOTONIC */
  unsigned off_by_one; /* reads 1 ms off: an error across a ms boundary */
} clock_check;

/* One refresh of the loop clock, bracketed by two CLOCK_MONOTONIC reads: the
 * loop time must lie between them, give or take 1 ms. An exact clock is
 * never off; one a few us off is 1 ms off only when a ms boundary falls
 * inside its error, a fraction of a percent of the reads. (A wrong TSC rate
 * stays within 1 ms, because an anchor is only trusted for 1 ms, but is
 * 1 ms off far more often: that is what off_by_one catches.) */
static void check_read(clock_check *c, ls_loop *loop) {
  uint64_t before = mono_ms();
  ls_update_time(loop);
  uint64_t now = ls_now(loop);
  uint64_t after = mono_ms();
  if (now < c->last)
    c->backwards++;
  if (now + 1 < before || now > after + 1)
    c->outside++;
  else if (now < before || now > after)
    c->off_by_one++;
  c->last = now;
  c->reads++;
}

/* Bursts of reads (the fast path between anchors) separated by sleeps of 0
 * to 2.4 ms (an anchor older than its span, a rate window ending), for
 * about 0.25 s: long enough for the first rate window (5 ms) and many
 * re-measurements of it. */
static void exercise(clock_check *c, ls_loop *loop, unsigned seed) {
  for (unsigned round = 0; round < 200; round++) {
    for (int i = 0; i < 200; i++)
      check_read(c, loop);
    seed = seed * 1103515245u + 12345u;
    sleep_us((long)((seed >> 16) % 2400));
  }
}

Test(clock, loop_time_is_monotonic_and_within_1ms) {
  ls_loop loop;
  cr_assert_eq(ls_loop_init(&loop), 0);
  clock_check c = {0};
  exercise(&c, &loop, 1);
  cr_expect_eq(c.backwards, 0, "%u of %u reads ran backwards", c.backwards,
               c.reads);
  cr_expect_eq(c.outside, 0, "%u of %u reads were more than 1 ms off",
               c.outside, c.reads);
  cr_expect_lt(c.off_by_one, c.reads / 50, "%u of %u reads were 1 ms off",
               c.off_by_one, c.reads);
  cr_assert_eq(ls_loop_close(&loop), 0);
}

static void *thread_main(void *arg) {
  clock_check *c = arg;
  ls_loop loop;
  if (ls_loop_init(&loop) != 0)
    return NULL;
  exercise(c, &loop, 7);
  ls_loop_close(&loop);
  return c;
}

/* Each thread anchors on its own; the rate is shared by the process. */
Test(clock, threads_read_their_own_anchors) {
  clock_check theirs = {0}, ours = {0};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, thread_main, &theirs), 0);
  ls_loop loop;
  cr_assert_eq(ls_loop_init(&loop), 0);
  exercise(&ours, &loop, 3);
  void *ret = NULL;
  pthread_join(th, &ret);
  cr_assert_not_null(ret, "the thread could not init its loop");
  cr_expect_eq(ours.backwards + theirs.backwards, 0);
  cr_expect_eq(ours.outside + theirs.outside, 0);
  cr_expect_lt(ours.off_by_one + theirs.off_by_one,
               (ours.reads + theirs.reads) / 50);
  cr_expect_gt(theirs.reads, 0);
  cr_assert_eq(ls_loop_close(&loop), 0);
}

static clock_check timer_check;
static unsigned timer_runs;

/* Inside a callback the loop time is the one cached before the timers
 * phase: never ahead of the real clock by more than 1 ms, never backwards.
 * The callback then sleeps, so the next iteration's reads come after a
 * gap, as in a program with slow callbacks. */
static void on_interval(ls_timer *t) {
  ls_loop *loop = t->loop;
  uint64_t now = ls_now(loop);
  if (now < timer_check.last)
    timer_check.backwards++;
  if (now > mono_ms() + 1)
    timer_check.outside++;
  timer_check.last = now;
  sleep_us((long)(timer_runs % 3) * 700);
  if (++timer_runs == 60)
    ls_clear_timer(t);
}

Test(clock, timers_see_a_clock_that_never_runs_ahead) {
  ls_loop loop;
  ls_timer t;
  cr_assert_eq(ls_loop_init(&loop), 0);
  cr_assert_eq(ls_timer_init(&loop, &t), 0);
  cr_assert_eq(ls_set_interval(&t, on_interval, 1), 0);
  cr_assert_eq(ls_run(&loop, LS_RUN_DEFAULT), 0);
  cr_expect_eq(timer_runs, 60);
  cr_expect_eq(timer_check.backwards, 0);
  cr_expect_eq(timer_check.outside, 0);
  clock_check after = {.last = timer_check.last};
  check_read(&after, &loop);
  cr_expect_eq(after.backwards + after.outside, 0);
  cr_assert_eq(ls_loop_close(&loop), 0);
}
