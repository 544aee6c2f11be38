/* Timers: Node's ordering, clear / refresh / ref / unref, misuse. */
#include <criterion/criterion.h>
#include <math.h>

#include "loopscope/runtime.h"

static ls_loop loop;
static char order[64];
static int fired;

static void record(ls_timer *t) {
  strcat(order, (const char *)t->data);
  fired++;
}

static void setup(void) {
  cr_assert_eq(ls_loop_init(&loop), 0);
  order[0] = '\0';
  fired = 0;
}

static void teardown(void) { cr_assert_eq(ls_loop_close(&loop), 0); }

TestSuite(timer, .init = setup, .fini = teardown);

static void arm(ls_timer *t, const char *tag, double delay) {
  cr_assert_eq(ls_timer_init(&loop, t), 0);
  t->data = (void *)tag;
  cr_assert_eq(ls_set_timeout(t, record, delay), 0);
}

Test(timer, coerced_delays_share_the_1ms_list) {
  ls_timer t[6];
  arm(&t[0], "a", 2);
  arm(&t[1], "b", 0);
  arm(&t[2], "c", NAN);
  arm(&t[3], "d", -5);
  arm(&t[4], "e", 1.9);
  arm(&t[5], "f", 3e10); /* beyond TIMEOUT_MAX */
  ls_run(&loop, LS_RUN_DEFAULT);
  /* Where the 2 ms timer lands depends on how long the setup took; the 1 ms
   * list is FIFO whatever the clock did. */
  char *a = strchr(order, 'a');
  cr_assert_not_null(a);
  memmove(a, a + 1, strlen(a));
  cr_expect_str_eq(order, "bcdef");
}

Test(timer, armed_timer_cannot_be_armed_again) {
  ls_timer t;
  arm(&t, "x", 1);
  cr_expect_eq(ls_set_timeout(&t, record, 1), LS_EBUSY);
  cr_expect(ls_timer_armed(&t));
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect(!ls_timer_armed(&t));
  /* Reusable once it fired. */
  cr_expect_eq(ls_set_timeout(&t, record, 1), 0);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(fired, 2);
}

Test(timer, misuse_is_an_error_code) {
  ls_timer t;
  cr_expect_eq(ls_timer_init(NULL, &t), LS_EINVAL);
  cr_expect_eq(ls_timer_init(&loop, NULL), LS_EINVAL);
  ls_timer_init(&loop, &t);
  cr_expect_eq(ls_set_timeout(&t, NULL, 1), LS_EINVAL);
  cr_expect_eq(ls_set_timeout(NULL, record, 1), LS_EINVAL);
  ls_clear_timer(&t); /* not armed: a no-op */
  ls_clear_timer(NULL);
  cr_expect_eq(ls_timer_refresh(&t), 0); /* never armed: a no-op */
  cr_expect(!ls_timer_armed(&t));
}

static ls_timer victims[2];

static void clear_victims(ls_timer *t) {
  record(t);
  ls_clear_timer(&victims[0]);
  ls_clear_timer(&victims[1]);
}

Test(timer, cleared_from_another_timers_callback) {
  ls_timer killer;
  ls_timer_init(&loop, &killer);
  killer.data = "k";
  ls_set_timeout(&killer, clear_victims, 1);
  arm(&victims[0], "same-list", 1);
  arm(&victims[1], "other-list", 3);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "k");
  cr_expect_eq(loop.timer_count, 0);
}

static void clear_next_from_tick(void *arg) { ls_clear_timer(arg); }

static void schedule_clear(ls_timer *t) {
  record(t);
  ls_next_tick(&loop, clear_next_from_tick, &victims[0]);
}

/* Node peeks the next timer, then runs the ticks; a tick that clears it
 * means it never runs. */
Test(timer, tick_between_timers_clears_the_next) {
  ls_timer first;
  ls_timer_init(&loop, &first);
  first.data = "1";
  ls_set_timeout(&first, schedule_clear, 1);
  arm(&victims[0], "2", 1);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "1");
}

static void count_and_stop(ls_timer *t) {
  fired++;
  if (fired == 3)
    ls_clear_timer(t);
}

Test(timer, interval_until_cleared_in_its_callback) {
  ls_timer iv;
  ls_timer_init(&loop, &iv);
  cr_assert_eq(ls_set_interval(&iv, count_and_stop, 1), 0);
  cr_expect_eq(ls_run(&loop, LS_RUN_DEFAULT), 0);
  cr_expect_eq(fired, 3);
  cr_expect(!ls_timer_armed(&iv));
}

static ls_timer self_rearm;

static void refresh_self(ls_timer *t) {
  fired++;
  /* During its own callback a timeout is still armed: refresh re-arms it
   * with the same async id. */
  if (fired < 3)
    cr_assert_eq(ls_timer_refresh(t), 0);
}

Test(timer, refresh_inside_callback_rearms) {
  ls_timer_init(&loop, &self_rearm);
  ls_set_timeout(&self_rearm, refresh_self, 1);
  uint64_t id = self_rearm.async_id;
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(fired, 3);
  cr_expect_eq(self_rearm.async_id, id);
  cr_expect_eq(loop.timer_count, 0);
}

static uint64_t ids[3];

static void arm_self_again(ls_timer *t) {
  ids[fired++] = t->async_id;
  if (fired < 3)
    cr_assert_eq(ls_set_timeout(t, arm_self_again, 1), 0);
}

Test(timer, set_timeout_from_its_own_callback_is_a_new_timer) {
  ls_timer_init(&loop, &self_rearm);
  ls_set_timeout(&self_rearm, arm_self_again, 1);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(fired, 3);
  cr_expect_lt(ids[0], ids[1]);
  cr_expect_lt(ids[1], ids[2]);
  cr_expect_eq(loop.timer_count, 0);
  cr_expect_eq(loop.timer_refcount, 0);
}

static void interval_becomes_timeout(ls_timer *t) {
  fired++;
  if (fired == 1)
    cr_assert_eq(ls_set_timeout(t, interval_becomes_timeout, 1), 0);
}

Test(timer, interval_replaced_from_its_callback_stops_repeating) {
  ls_timer_init(&loop, &self_rearm);
  ls_set_interval(&self_rearm, interval_becomes_timeout, 1);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(fired, 2);
  cr_expect_eq(loop.timer_count, 0);
}

Test(timer, unref_does_not_keep_the_loop_alive) {
  ls_timer t;
  arm(&t, "u", 5);
  ls_timer_unref(&t);
  cr_expect(!ls_timer_has_ref(&t));
  cr_expect(!ls_loop_alive(&loop));
  cr_expect_eq(ls_run(&loop, LS_RUN_DEFAULT), 0);
  cr_expect_eq(fired, 0);
  ls_timer_ref(&t);
  cr_expect(ls_loop_alive(&loop));
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(fired, 1);
}

static void in_timer_schedule(ls_timer *t) {
  record(t);
  static ls_timer inner;
  ls_timer_init(&loop, &inner);
  inner.data = "inner";
  ls_set_timeout(&inner, record, 0);
}

Test(timer, timer_armed_in_a_timer_never_fires_in_the_same_pass) {
  ls_timer outer;
  ls_timer_init(&loop, &outer);
  outer.data = "outer,";
  ls_set_timeout(&outer, in_timer_schedule, 1);
  /* One iteration: the outer timer runs at the end of it, the inner one
   * is not due in that same pass. */
  while (fired == 0)
    ls_run(&loop, LS_RUN_ONCE);
  cr_expect_str_eq(order, "outer,");
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "outer,inner");
}

/* Lists of different delays run by expiry, whatever the order they were
 * created in (delays 10 ms apart: even under valgrind the setup takes less,
 * so no later list can expire first). */
Test(timer, lists_run_by_expiry) {
  static ls_timer t[10];
  static char tags[10][2];
  for (int i = 9; i >= 0; i--) {
    tags[i][0] = (char)('0' + i);
    arm(&t[i], tags[i], 10 + 10 * i);
  }
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "0123456789");
  cr_expect_eq(loop.timer_heap_len, 0);
}

/* A timer armed from the microtasks that follow the timers phase must not be
 * pushed back to the next timer already armed (Node drains them after it
 * re-arms its single libuv timer). The far timer is 1 s away, so the check
 * below only fails if the near one waited for it. */
static ls_timer near_timer, far_timer;
static uint64_t near_fired_at;

static void near_fired(ls_timer *t) {
  near_fired_at = ls_now(t->loop);
  ls_clear_timer(&far_timer);
}

static void arm_near(void *arg) {
  (void)arg;
  cr_assert_eq(ls_set_timeout(&near_timer, near_fired, 2), 0);
}

static void queue_arm_near(ls_timer *t) {
  cr_assert_eq(ls_queue_microtask(t->loop, arm_near, NULL), 0);
}

Test(timer, armed_from_microtask_after_timers_keeps_its_expiry) {
  ls_timer first;
  cr_assert_eq(ls_timer_init(&loop, &first), 0);
  cr_assert_eq(ls_timer_init(&loop, &near_timer), 0);
  cr_assert_eq(ls_timer_init(&loop, &far_timer), 0);
  cr_assert_eq(ls_set_timeout(&first, queue_arm_near, 2), 0);
  cr_assert_eq(ls_set_timeout(&far_timer, record, 1000), 0);
  uint64_t start = ls_now(&loop);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_neq(near_fired_at, 0);
  cr_expect_lt(near_fired_at - start, 1000, "fired after %llu ms",
               (unsigned long long)(near_fired_at - start));
  cr_expect_eq(fired, 0); /* the far timer was cleared before it was due */
}
