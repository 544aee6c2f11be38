/* setImmediate, nextTick, microtasks, the drain, loop failure. */
#include <criterion/criterion.h>

#include "loopscope/runtime.h"

static ls_loop loop;
static char order[128];

static void setup(void) {
  cr_assert_eq(ls_loop_init(&loop), 0);
  order[0] = '\0';
}

static void teardown(void) { cr_assert_eq(ls_loop_close(&loop), 0); }

TestSuite(queue, .init = setup, .fini = teardown);

static void put(void *s) { strcat(order, (const char *)s); }

static void tick_from_micro(void *s) {
  put(s);
  ls_next_tick(&loop, put, "T2");
  ls_queue_microtask(&loop, put, "M3");
}

Test(queue, ticks_before_microtasks_and_tick_from_microtask_after_all) {
  ls_queue_microtask(&loop, tick_from_micro, "M1");
  ls_next_tick(&loop, put, "T1");
  ls_queue_microtask(&loop, put, "M2");
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "T1M1M2M3T2");
}

static ls_immediate imm[3];

static void imm_cb(ls_immediate *i) {
  put(i->data);
  if (i == &imm[0] && strcmp(i->data, "a") == 0) {
    ls_clear_immediate(&imm[1]); /* still in the detached batch */
    cr_expect_eq(ls_set_immediate(&loop, &imm[0], imm_cb), 0);
    imm[0].data = "a2";
  }
}

Test(queue, clear_an_immediate_of_the_running_batch) {
  const char *tags[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    imm[i].data = (void *)tags[i];
    imm[i].label = NULL;
    cr_assert_eq(ls_set_immediate(&loop, &imm[i], imm_cb), 0);
  }
  cr_expect_eq(ls_set_immediate(&loop, &imm[2], imm_cb), LS_EBUSY);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "aca2");
}

Test(queue, unref_immediate_does_not_keep_the_loop_alive) {
  ls_immediate i;
  ls_immediate_init(&i);
  i.data = "x";
  ls_set_immediate(&loop, &i, imm_cb);
  ls_immediate_unref(&i);
  cr_expect(!ls_loop_alive(&loop));
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "");
  ls_immediate_ref(&i);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "x");
}

static int hook_calls;

static int after_hook(ls_loop *l, void *arg) {
  hook_calls++;
  if (hook_calls == 1) {
    ls_next_tick(l, put, arg);
    return 1;
  }
  return 0;
}

Test(queue, after_microtasks_hook_may_queue_more) {
  ls_loop_set_after_microtasks(&loop, after_hook, "H");
  ls_queue_microtask(&loop, put, "M");
  ls_drain_microtasks(&loop);
  cr_expect_str_eq(order, "MH");
  cr_expect_eq(hook_calls, 2);
  ls_loop_set_after_microtasks(&loop, NULL, NULL);
}

static ls_job jobs[2];
static uint64_t seen_trigger;

static void job_cb(ls_job *job) {
  put((void *)job->label);
  seen_trigger = job->trigger_id;
  if (job == &jobs[0]) {
    jobs[1].cb = job_cb;
    jobs[1].label = "j2";
    ls_queue_job(&loop, &jobs[1]);
  }
}

Test(queue, caller_owned_jobs_get_ids_and_chain) {
  jobs[0].cb = job_cb;
  jobs[0].label = "j1";
  ls_queue_job(&loop, &jobs[0]);
  cr_expect_gt(jobs[0].async_id, 1);
  cr_expect_eq(jobs[0].trigger_id, 1); /* queued by the main program */
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "j1j2");
  cr_expect_eq(seen_trigger, jobs[0].async_id);
}

static ls_timer never;
static ls_immediate never_imm;
static int exit_code_seen = -1;

static void fail_now(void *arg) {
  (void)arg;
  put("F");
  ls_queue_microtask(&loop, put, "never");
  ls_loop_fail(&loop, 1);
}

static void on_exit_hook(ls_loop *l, int code, void *arg) {
  (void)l;
  (void)arg;
  exit_code_seen = code;
}

static void put_timer(ls_timer *t) { put(t->data); }
static void put_imm(ls_immediate *i) { put(i->data); }

Test(queue, fail_stops_everything_and_reports_exit_code) {
  ls_timer_init(&loop, &never);
  never.data = "timer";
  ls_set_timeout(&never, put_timer, 0);
  never_imm.data = "imm";
  ls_set_immediate(&loop, &never_imm, put_imm);
  ls_queue_microtask(&loop, fail_now, NULL);
  ls_loop_on_exit(&loop, on_exit_hook, NULL);
  cr_expect_eq(ls_run_main(&loop), 1);
  cr_expect_str_eq(order, "F");
  cr_expect_eq(exit_code_seen, 1);
  cr_expect_eq(ls_loop_exit_code(&loop), 1);
  /* Closing the loop disarms what never ran. */
  cr_assert_eq(ls_loop_close(&loop), 0);
  cr_expect(!ls_timer_armed(&never));
  cr_expect(!never_imm.queued);
  cr_assert_eq(ls_loop_init(&loop), 0); /* for the suite's teardown */
}

Test(queue, misuse_is_an_error_code) {
  cr_expect_eq(ls_next_tick(NULL, put, NULL), LS_EINVAL);
  cr_expect_eq(ls_queue_microtask(&loop, NULL, NULL), LS_EINVAL);
  cr_expect_eq(ls_set_immediate(&loop, NULL, put_imm), LS_EINVAL);
  ls_clear_immediate(NULL);
  cr_expect_eq(ls_run(NULL, LS_RUN_DEFAULT), LS_EINVAL);
  for (int i = 0; i < LS__MAX_EXIT_HOOKS; i++)
    cr_expect_eq(ls_loop_on_before_exit(&loop, on_exit_hook, NULL), 0);
  cr_expect_eq(ls_loop_on_before_exit(&loop, on_exit_hook, NULL), LS_ENOSPC);
  cr_expect_eq(ls_loop_on_exit(&loop, NULL, NULL), LS_EINVAL);
}

Test(queue, async_ids_increase_and_current_is_main_outside_callbacks) {
  uint64_t a = ls_new_async_id(&loop);
  uint64_t b = ls_new_async_id(&loop);
  cr_expect_gt(b, a);
  cr_expect_eq(ls_current_async_id(&loop), 1);
}

static int nested_run = 1, nested_close = 1;

static void try_nested(void *arg) {
  (void)arg;
  nested_run = ls_run(&loop, LS_RUN_NOWAIT);
  nested_close = ls_loop_close(&loop);
}

Test(queue, run_and_close_from_a_callback_are_refused) {
  ls_next_tick(&loop, try_nested, NULL);
  cr_expect_eq(ls_run(&loop, LS_RUN_DEFAULT), 0);
  cr_expect_eq(nested_run, LS_EBUSY);
  cr_expect_eq(nested_close, LS_EBUSY);
}
