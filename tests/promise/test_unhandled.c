/* Unhandled rejections in each mode, handlers attached in the same drain,
 * late handlers (rejectionHandled), and p13's behaviour: exit code 1 and
 * queued timers and immediates never run. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>

#include "helpers.h"

static void setup_redirected(void) {
  setup_loop();
  unsetenv("LOOPSCOPE_UNHANDLED_REJECTIONS");
  cr_redirect_stderr();
}

static char stderr_text[4096];

static const char *captured_stderr(void) {
  fflush(stderr);
  FILE *f = cr_get_redirected_stderr();
  size_t n = fread(stderr_text, 1, sizeof stderr_text - 1, f);
  stderr_text[n] = 0;
  return stderr_text;
}

static ls_timer timer;
static ls_immediate immediate;

static void on_timer(ls_timer *t) {
  (void)t;
  note("timer");
}

static void on_immediate(ls_immediate *imm) {
  (void)imm;
  note("immediate");
}

static void on_tick(void *arg) { note("%s", (const char *)arg); }

/* Timers and immediates queued from the main program run in either order
 * (SEMANTICS.md), so tests check that both ran. */
static void assert_trail_then_both_ran(const char *prefix) {
  cr_assert_eq(strncmp(trail, prefix, strlen(prefix)), 0, "trail: %s", trail);
  cr_assert_not_null(strstr(trail, " timer "), "trail: %s", trail);
  cr_assert_not_null(strstr(trail, " immediate "), "trail: %s", trail);
}

/* The shape of p13: a rejection nobody handles, with a timer, an immediate
 * and a tick queued behind it. */
static void schedule_rejection_and_work(void) {
  ls_promise_unref(ls_promise_rejected(&loop, ls_error(LS_ENOENT, "boom")));
  ls_timer_init(&loop, &timer);
  ls_set_timeout(&timer, on_timer, 0);
  ls_set_immediate(&loop, &immediate, on_immediate);
  ls_next_tick(&loop, on_tick, "tick");
}

static int unhandled_calls;
static bool hook_result;

static bool on_unhandled(ls_promise *p, ls_value reason, void *arg) {
  (void)p;
  note("unhandled(%s):%s", (const char *)arg, ls_error_message(reason));
  unhandled_calls++;
  return hook_result;
}

static void on_handled(ls_promise *p, void *arg) {
  (void)arg;
  note("handled:%s", ls_error_message(ls_promise_result(p)));
}

TestSuite(unhandled, .init = setup_redirected);

Test(unhandled, default_mode_exits_1_and_queued_timers_never_run) {
  cr_assert_eq(ls_promise_rejection_mode(&loop), LS_REJECTIONS_THROW);
  schedule_rejection_and_work();
  cr_assert_eq(run_loop(), 1);
  /* ticks and microtasks drain before the check; nothing after it runs */
  cr_assert_str_eq(trail, "tick ");
  cr_assert_not_null(strstr(captured_stderr(), "unhandled promise rejection (promise #"));
  cr_assert_not_null(strstr(stderr_text, "): Error: boom (ENOENT)\n"), "%s", stderr_text);
}

Test(unhandled, a_hook_that_handles_it_keeps_the_process_alive) {
  hook_result = true;
  ls_promise_on_unhandled(&loop, on_unhandled, "throw");
  schedule_rejection_and_work();
  cr_assert_eq(run_loop(), 0);
  assert_trail_then_both_ran("tick unhandled(throw):boom ");
  cr_assert_str_eq(captured_stderr(), "");
}

Test(unhandled, a_hook_returning_false_still_ends_the_process) {
  hook_result = false;
  ls_promise_on_unhandled(&loop, on_unhandled, "throw");
  schedule_rejection_and_work();
  cr_assert_eq(run_loop(), 1);
  cr_assert_str_eq(trail, "tick unhandled(throw):boom ");
  cr_assert_not_null(strstr(captured_stderr(), "Error: boom"));
}

Test(unhandled, strict_mode_ends_the_process_even_with_a_hook) {
  hook_result = true;
  ls_promise_set_rejection_mode(&loop, LS_REJECTIONS_STRICT);
  ls_promise_on_unhandled(&loop, on_unhandled, "strict");
  schedule_rejection_and_work();
  cr_assert_eq(run_loop(), 1);
  cr_assert_str_eq(trail, "tick ");
  cr_assert_eq(unhandled_calls, 0);
  cr_assert_not_null(strstr(captured_stderr(), "Error: boom"));
}

Test(unhandled, warn_mode_warns_and_goes_on) {
  hook_result = false;
  ls_promise_set_rejection_mode(&loop, LS_REJECTIONS_WARN);
  ls_promise_on_unhandled(&loop, on_unhandled, "warn");
  schedule_rejection_and_work();
  cr_assert_eq(run_loop(), 0);
  assert_trail_then_both_ran("tick unhandled(warn):boom ");
  cr_assert_not_null(strstr(captured_stderr(), "warning: unhandled promise rejection"));
}

Test(unhandled, none_mode_is_silent) {
  ls_promise_set_rejection_mode(&loop, LS_REJECTIONS_NONE);
  schedule_rejection_and_work();
  cr_assert_eq(run_loop(), 0);
  assert_trail_then_both_ran("tick ");
  cr_assert_str_eq(captured_stderr(), "");
}

Test(unhandled, mode_from_the_environment) {
  setenv("LOOPSCOPE_UNHANDLED_REJECTIONS", "none", 1);
  ls_loop other;
  ls_loop_init(&other);
  cr_assert_eq(ls_promise_rejection_mode(&other), LS_REJECTIONS_NONE);
  ls_loop_close(&other);
  ls_rejection_mode m;
  cr_assert_eq(ls_rejection_mode_parse("strict", &m), 0);
  cr_assert_eq(m, LS_REJECTIONS_STRICT);
  cr_assert_eq(ls_rejection_mode_parse("loud", &m), -1);
  cr_assert_eq(run_loop(), 0);
}

static ls_promise *victim;

static ls_value attach_catch(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  ls_promise_unref(ls_catch(victim, note_error, "caught"));
  return ls_undefined();
}

Test(unhandled, a_handler_attached_in_the_same_drain_means_no_event) {
  hook_result = true;
  ls_promise_on_unhandled(&loop, on_unhandled, "throw");
  ls_promise_on_handled(&loop, on_handled, NULL);
  victim = ls_promise_rejected(&loop, ls_error(0, "soon"));
  /* three hops later, still inside the first drain */
  ls_promise *p = ls_promise_resolved(&loop, ls_undefined());
  p = ls_then(ls_then(p, NULL, NULL, NULL), NULL, NULL, NULL);
  ls_promise_unref(ls_then(p, attach_catch, NULL, NULL));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "caught:soon ");
}

static void late_catch(ls_timer *t) {
  (void)t;
  ls_promise_unref(ls_catch(victim, note_error, "late catch"));
}

Test(unhandled, a_late_handler_fires_rejection_handled_after_its_drain) {
  hook_result = true;
  ls_promise_on_unhandled(&loop, on_unhandled, "throw");
  ls_promise_on_handled(&loop, on_handled, NULL);
  victim = ls_promise_rejected(&loop, ls_error(0, "late"));
  ls_timer_init(&loop, &timer);
  ls_set_timeout(&timer, late_catch, 5);
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "unhandled(throw):late late catch:late handled:late ");
}

Test(unhandled, a_late_handler_without_a_hook_prints_a_warning) {
  ls_promise_set_rejection_mode(&loop, LS_REJECTIONS_NONE);
  victim = ls_promise_rejected(&loop, ls_error(0, "late"));
  ls_timer_init(&loop, &timer);
  ls_set_timeout(&timer, late_catch, 5);
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "late catch:late ");
  cr_assert_not_null(strstr(captured_stderr(), "promise rejection was handled asynchronously"));
}

static ls_value throws_async(void *arg) {
  (void)arg;
  ls_value v = ls_await(ls_sleep(&loop, 1));
  ls_value_drop(v);
  return ls_throw(ls_string("not an error object"));
}

Test(unhandled, an_async_function_that_throws_is_reported) {
  ls_promise_unref(ls_async(&loop, throws_async, NULL));
  cr_assert_eq(run_loop(), 1);
  cr_assert_not_null(strstr(captured_stderr(), "): \"not an error object\"\n"), "%s",
                     stderr_text);
}

Test(unhandled, combinator_inputs_count_as_handled) {
  ls_value items[] = {ls_promise_value(ls_promise_rejected(&loop, ls_error(0, "x"))),
                      ls_promise_value(ls_promise_rejected(&loop, ls_error(0, "y")))};
  ls_promise_unref(ls_catch(ls_promise_all(&loop, items, 2), note_error, "all"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "all:x ");
  cr_assert_str_eq(captured_stderr(), "");
}
