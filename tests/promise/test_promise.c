/* Promises: chaining, adoption (with V8's hop counts), error propagation,
 * finally, executors, combinators, promisified calls. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

ls_loop loop;
char trail[8192];

void setup_loop(void) {
  cr_assert_eq(ls_loop_init(&loop), 0);
  trail[0] = 0;
}

int run_loop(void) {
  int code = ls_run_main(&loop);
  cr_assert_eq(ls_loop_close(&loop), 0);
  return code;
}

ls_value note_value(ls_value v, void *label) {
  char buf[512];
  ls_value_json(v, buf, sizeof buf);
  note("%s:%s", (const char *)label, buf);
  return ls_undefined();
}

ls_value note_error(ls_value e, void *label) {
  note("%s:%s", (const char *)label, ls_error_message(e));
  return ls_undefined();
}

static ls_value add_one(ls_value v, void *arg) {
  (void)arg;
  return ls_int(ls_as_int(v) + 1);
}

TestSuite(promise, .init = setup_loop);

Test(promise, then_chain_passes_values_and_runs_asynchronously) {
  ls_promise *p = ls_promise_resolved(&loop, ls_int(1));
  for (int i = 0; i < 10; i++)
    p = ls_then(p, add_one, NULL, NULL);
  ls_promise_unref(ls_then(p, note_value, NULL, "end"));
  note("sync");
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "sync end:11 ");
}

/* A counter that advances once per microtask tells which hop ran what. */
static int tick;
static ls_value ticker(ls_value v, void *arg) {
  (void)v;
  tick++;
  if (tick < 10)
    ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), ticker, NULL, arg));
  return ls_undefined();
}

static ls_value note_tick(ls_value v, void *label) {
  char buf[64];
  ls_value_json(v, buf, sizeof buf);
  note("%s=%s@%d", (const char *)label, buf, tick);
  return ls_undefined();
}

static ls_value return_resolved(ls_value v, void *arg) {
  (void)v;
  return ls_promise_value(ls_promise_resolved(&loop, ls_value_ref(*(ls_value *)arg)));
}

Test(promise, returning_a_promise_costs_two_extra_hops) {
  tick = 0;
  ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), ticker, NULL, NULL));
  ls_value x = ls_string("x");
  ls_promise *a = ls_then(ls_promise_resolved(&loop, ls_undefined()), return_resolved, NULL, &x);
  ls_promise_unref(ls_then(a, note_tick, NULL, "adopted"));
  ls_promise *b = ls_then(ls_promise_resolved(&loop, ls_undefined()), add_one, NULL, NULL);
  ls_promise_unref(ls_then(b, note_tick, NULL, "plain"));
  /* resolve(p) from outside a handler: also NewPromiseResolveThenableJob. */
  ls_promise *d = ls_promise_new(&loop);
  ls_resolve(d, ls_promise_value(ls_promise_resolved(&loop, ls_int(7))));
  ls_promise_unref(ls_then(d, note_tick, NULL, "resolve(p)"));
  cr_assert_eq(run_loop(), 0);
  ls_value_drop(x);
  /* The ticker was queued first, so at hop k it has counted k. A plain
   * value reaches the next then at hop 2; resolve(p) takes hops 1 (then on
   * p) and 2 (its reaction), its then runs at 3; a promise returned from a
   * handler at hop 1 is adopted at hops 2 and 3, its then runs at 4. */
  cr_assert_str_eq(trail, "plain=1@2 resolve(p)=7@3 adopted=\"x\"@4 ");
}

/* ---- foreign thenables ---- */

static int thenable_freed;
static ls_promise *thenable_target;

static void count_thenable_free(void *obj) {
  (void)obj;
  thenable_freed++;
}

static ls_value then_now(void *obj, ls_promise *p) {
  ls_resolve(p, ls_string(obj));
  ls_resolve(p, ls_string("ignored: settled once"));
  return ls_undefined();
}

static ls_value then_later(void *obj, ls_promise *p) {
  (void)obj;
  thenable_target = ls_promise_ref(p);
  return ls_undefined();
}

static ls_value then_throws(void *obj, ls_promise *p) {
  (void)p;
  return ls_throw(ls_error(0, obj));
}

static ls_value return_thenable(ls_value v, void *then) {
  (void)v;
  return ls_thenable("t", (ls_then_fn)then, count_thenable_free);
}

static void settle_thenable(ls_timer *t) {
  (void)t;
  ls_reject(thenable_target, ls_error(0, "from a timer"));
  ls_promise_unref(thenable_target);
}

Test(promise, a_thenable_is_called_from_a_job_one_hop_later) {
  tick = 0;
  thenable_freed = 0;
  ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), ticker, NULL, NULL));
  ls_promise *a = ls_then(ls_promise_resolved(&loop, ls_undefined()), return_thenable, NULL,
                          (void *)then_now);
  ls_promise_unref(ls_then(a, note_tick, NULL, "thenable"));
  ls_promise *b = ls_then(ls_promise_resolved(&loop, ls_undefined()), return_thenable, NULL,
                          (void *)then_throws);
  ls_promise_unref(ls_then(b, NULL, note_error, "thrown"));
  cr_assert_eq(run_loop(), 0);
  /* handler at hop 1, then() at hop 2 settles it, the next then at hop 3:
   * one hop less than a native promise, as in V8 */
  cr_assert_str_eq(trail, "thenable=\"t\"@3 thrown:t ");
  cr_assert_eq(thenable_freed, 2);
}

Test(promise, a_thenable_may_settle_later) {
  ls_promise *d = ls_promise_new(&loop);
  ls_resolve(d, ls_thenable(NULL, then_later, NULL));
  ls_promise_unref(ls_then(d, note_value, note_error, "later"));
  static ls_timer t;
  ls_timer_init(&loop, &t);
  ls_set_timeout(&t, settle_thenable, 5);
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "later:from a timer ");
}

/* Promise.all([{ then(r) { r('t'); r('ignored'); } }, 2]).then(...);
 * Promise.resolve({ then() { throw new Error('boom'); } }).catch(...);
 * node prints the catch first: the all needs one more hop. */
Test(promise, promise_resolve_and_combinators_adopt_thenables) {
  thenable_freed = 0;
  ls_value items[] = {ls_thenable("t", then_now, count_thenable_free), ls_int(2)};
  ls_promise_unref(ls_then(ls_promise_all(&loop, items, 2), note_value, NULL, "all"));
  ls_promise *p = ls_promise_resolved(&loop, ls_thenable("boom", then_throws, count_thenable_free));
  ls_promise_unref(ls_catch(p, note_error, "caught"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "caught:boom all:[\"t\",2] ");
  cr_assert_eq(thenable_freed, 2);
}

/* Keeps the executor's promise to settle it from a timer. */
static ls_value keep_for_later(ls_promise *p, void *arg) {
  *(ls_promise **)arg = ls_promise_ref(p);
  return ls_undefined();
}

static ls_promise *deferred;
static ls_value return_deferred(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  return ls_promise_value(ls_promise_ref(deferred));
}

static void resolve_deferred(ls_timer *t) {
  (void)t;
  note("timer");
  ls_resolve(deferred, ls_string("late"));
  ls_promise_unref(deferred);
}

Test(promise, adoption_waits_for_a_pending_promise) {
  deferred = NULL;
  ls_promise_unref(ls_promise_create(&loop, keep_for_later, &deferred));
  cr_assert_not_null(deferred);
  ls_promise *p = ls_then(ls_promise_resolved(&loop, ls_undefined()), return_deferred, NULL, NULL);
  ls_promise_unref(ls_then(p, note_value, NULL, "adopted"));
  static ls_timer t;
  ls_timer_init(&loop, &t);
  ls_set_timeout(&t, resolve_deferred, 10);
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "timer adopted:\"late\" ");
}

static ls_value return_rejected(ls_value v, void *arg) {
  (void)v;
  return ls_promise_value(ls_promise_rejected(&loop, ls_error(0, arg)));
}

Test(promise, adopting_a_rejected_promise_rejects) {
  ls_promise *p = ls_then(ls_promise_resolved(&loop, ls_undefined()), return_rejected, NULL, "no");
  ls_promise_unref(ls_catch(p, note_error, "caught"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "caught:no ");
}

Test(promise, resolving_with_itself_is_a_chaining_cycle) {
  ls_promise *p = ls_promise_new(&loop);
  ls_resolve(p, ls_promise_value(ls_promise_ref(p)));
  ls_promise_unref(ls_catch(p, note_error, "cycle"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "cycle:Chaining cycle detected for promise #<Promise> ");
}

static ls_value throw_at(ls_value v, void *arg) {
  (void)arg;
  return ls_throw(ls_errorf(-5, "thrown at %lld", (long long)ls_as_int(v)));
}

static ls_value must_not_run(ls_value v, void *arg) {
  (void)v;
  note("ran %s", (const char *)arg);
  return ls_undefined();
}

Test(promise, a_rejection_skips_a_thousand_fulfilment_handlers) {
  ls_promise *p = ls_then(ls_promise_resolved(&loop, ls_int(3)), throw_at, NULL, NULL);
  for (int i = 0; i < 1000; i++)
    p = ls_then(p, must_not_run, NULL, "fulfilment handler");
  p = ls_catch(p, note_error, "caught");
  ls_promise_unref(ls_then(p, note_value, NULL, "after"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "caught:thrown at 3 after:null ");
}

static ls_value rethrow_with_cause(ls_value e, void *arg) {
  (void)arg;
  return ls_throw(ls_error_with_cause(-2, "wrapped", ls_value_ref(e)));
}

static ls_value note_cause(ls_value e, void *arg) {
  (void)arg;
  note("%s(code %d) <- %s", ls_error_message(e), ls_error_code(e),
       ls_error_message(ls_error_cause(e)));
  return ls_undefined();
}

Test(promise, rethrown_errors_keep_their_cause) {
  ls_promise *p = ls_promise_rejected(&loop, ls_error(0, "root"));
  p = ls_catch(p, rethrow_with_cause, NULL);
  ls_promise_unref(ls_catch(p, note_cause, NULL));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "wrapped(code -2) <- root ");
}

/* ---- finally ---- */

static ls_value finally_note(void *arg) {
  note("finally");
  return arg ? ls_value_ref(*(ls_value *)arg) : ls_undefined();
}

Test(promise, finally_passes_a_value_through) {
  ls_promise *p = ls_finally(ls_promise_resolved(&loop, ls_int(5)), finally_note, NULL);
  ls_promise_unref(ls_then(p, note_value, NULL, "value"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "finally value:5 ");
}

Test(promise, finally_passes_a_rejection_through_and_its_return_is_ignored) {
  ls_value ret = ls_int(99);
  ls_promise *p = ls_finally(ls_promise_rejected(&loop, ls_error(0, "e")), finally_note, &ret);
  ls_promise_unref(ls_then(p, must_not_run, note_error, "reason"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "finally reason:e ");
}

static ls_value finally_throws(void *arg) {
  (void)arg;
  return ls_throw(ls_error(0, "from finally"));
}

Test(promise, a_throw_in_finally_replaces_the_outcome) {
  ls_promise *p = ls_finally(ls_promise_resolved(&loop, ls_int(1)), finally_throws, NULL);
  ls_promise_unref(ls_catch(p, note_error, "reason"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "reason:from finally ");
}

Test(promise, a_rejected_promise_from_finally_replaces_the_outcome) {
  ls_value rej = ls_promise_value(ls_promise_rejected(&loop, ls_error(0, "finally rejected")));
  ls_promise *p = ls_finally(ls_promise_resolved(&loop, ls_int(1)), finally_note, &rej);
  ls_promise_unref(ls_catch(p, note_error, "reason"));
  cr_assert_eq(run_loop(), 0);
  ls_value_drop(rej);
  cr_assert_str_eq(trail, "finally reason:finally rejected ");
}

static ls_value finally_sleeps(void *arg) {
  (void)arg;
  note("finally");
  return ls_promise_value(ls_then(ls_sleep(&loop, 20), note_value, NULL, "slept"));
}

Test(promise, finally_waits_for_the_promise_it_returns) {
  ls_promise *p = ls_finally(ls_promise_resolved(&loop, ls_string("kept")), finally_sleeps, NULL);
  ls_promise_unref(ls_then(p, note_value, NULL, "value"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "finally slept:null value:\"kept\" ");
}

/* ---- executors ---- */

static ls_value resolve_twice_then_throw(ls_promise *p, void *arg) {
  (void)arg;
  ls_resolve(p, ls_int(1));
  ls_resolve(p, ls_int(2));
  ls_reject(p, ls_error(0, "ignored"));
  return ls_throw(ls_error(0, "also ignored"));
}

Test(promise, only_the_first_settlement_of_an_executor_counts) {
  ls_promise *p = ls_promise_create(&loop, resolve_twice_then_throw, NULL);
  cr_assert_eq(ls_promise_state_of(p), LS_FULFILLED);
  ls_promise_unref(ls_then(p, note_value, NULL, "value"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "value:1 ");
}

static void count_free(void *ptr) { (*(int *)ptr)++; }

Test(promise, values_are_released_when_the_chain_is_done) {
  int freed = 0;
  ls_promise *p = ls_promise_resolved(&loop, ls_pointer(&freed, count_free));
  ls_promise *q = ls_then(ls_promise_ref(p), NULL, NULL, NULL);
  ls_promise_unref(ls_then(q, must_not_run, NULL, "x"));
  ls_promise_unref(p);
  cr_assert_eq(run_loop(), 0);
  cr_assert_eq(freed, 1);
}

/* ---- combinators ---- */

static ls_value const_string(ls_value v, void *s) {
  (void)v;
  return ls_string(s);
}

static ls_value const_error(ls_value v, void *s) {
  (void)v;
  return ls_throw(ls_error(0, s));
}

/* sleep(ms).then(() => s), or a rejection with Error(s) */
static ls_value later(double ms, const char *s, bool fail) {
  return ls_promise_value(ls_then(ls_sleep(&loop, ms), fail ? const_error : const_string,
                                  NULL, (void *)s));
}

Test(promise, all_keeps_input_order_and_accepts_plain_values) {
  ls_value items[] = {later(30, "slow", false), later(5, "fast", false), ls_int(3)};
  ls_promise_unref(ls_then(ls_promise_all(&loop, items, 3), note_value, NULL, "all"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "all:[\"slow\",\"fast\",3] ");
}

Test(promise, all_rejects_with_the_first_rejection) {
  ls_value items[] = {later(40, "ok", false), later(20, "second", true), later(5, "first", true)};
  ls_promise_unref(ls_then(ls_promise_all(&loop, items, 3), note_value, note_error, "all"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "all:first ");
}

Test(promise, all_of_nothing_is_already_fulfilled) {
  ls_promise *p = ls_promise_all(&loop, NULL, 0);
  cr_assert_eq(ls_promise_state_of(p), LS_FULFILLED);
  ls_promise_unref(ls_then(p, note_value, NULL, "all"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "all:[] ");
}

Test(promise, all_settled_never_rejects) {
  ls_value items[] = {later(10, "bad", true), ls_string("plain"), later(5, "good", false)};
  ls_promise *p = ls_promise_all_settled(&loop, items, 3);
  ls_promise_unref(ls_then(p, note_value, note_error, "settled"));
  ls_promise_unref(ls_then(ls_promise_all_settled(&loop, NULL, 0), note_value, NULL, "empty"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "empty:[] settled:[{\"status\":\"rejected\",\"reason\":"
                          "{\"name\":\"Error\",\"message\":\"bad\"}},"
                          "{\"status\":\"fulfilled\",\"value\":\"plain\"},"
                          "{\"status\":\"fulfilled\",\"value\":\"good\"}] ");
}

Test(promise, race_settles_like_the_first_to_settle) {
  ls_value ok[] = {later(30, "slow", false), later(5, "fast", false)};
  ls_promise_unref(ls_then(ls_promise_race(&loop, ok, 2), note_value, note_error, "race1"));
  ls_value bad[] = {later(30, "slow", false), later(10, "fast failure", true)};
  ls_promise_unref(ls_then(ls_promise_race(&loop, bad, 2), note_value, note_error, "race2"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "race1:\"fast\" race2:fast failure ");
}

Test(promise, race_of_nothing_stays_pending) {
  ls_promise *p = ls_promise_race(&loop, NULL, 0);
  ls_promise_unref(ls_then(ls_promise_ref(p), note_value, note_error, "race"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_eq(ls_promise_state_of(p), LS_PENDING);
  cr_assert_str_eq(trail, "");
  ls_promise_unref(p);
}

Test(promise, any_takes_the_first_fulfilment) {
  ls_value items[] = {later(5, "e", true), later(30, "later", false), later(15, "first", false)};
  ls_promise_unref(ls_then(ls_promise_any(&loop, items, 3), note_value, note_error, "any"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "any:\"first\" ");
}

static ls_value note_aggregate(ls_value e, void *label) {
  char buf[256];
  ls_value_json(ls_error_errors(e), buf, sizeof buf);
  note("%s:%s %s", (const char *)label, ls_error_message(e), buf);
  return ls_undefined();
}

Test(promise, any_rejects_with_the_reasons_in_input_order) {
  ls_value items[] = {later(20, "a", true), later(5, "b", true)};
  ls_promise_unref(ls_then(ls_promise_any(&loop, items, 2), note_value, note_aggregate, "any"));
  ls_promise_unref(ls_then(ls_promise_any(&loop, NULL, 0), note_value, note_aggregate, "empty"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "empty:All promises were rejected [] "
                          "any:All promises were rejected "
                          "[{\"name\":\"Error\",\"message\":\"a\"},"
                          "{\"name\":\"Error\",\"message\":\"b\"}] ");
}

/* Combinators over items that are already settled, mixed with pending
 * items, thenables and other microtasks; node 20 prints the lines below.
 *
 * const log = (s) => console.log(s);
 * const thenable = (v) => ({ then(resolve) { log('then ' + v); resolve(v); } });
 * const rejected = Promise.reject(new Error('no'));
 * Promise.resolve().then(() => log('before'));
 * Promise.all([1, Promise.resolve(2), thenable('t'), 3,
 *              new Promise((r) => setTimeout(() => r(4), 0)), 5])
 *   .then((v) => log('all ' + JSON.stringify(v)));
 * Promise.allSettled([rejected, 6, thenable('u')])
 *   .then((v) => log('settled ' + JSON.stringify(v.map((o) => o.status))));
 * Promise.race([7, 8]).then((v) => log('race ' + v));
 * Promise.any([rejected, 9]).then((v) => log('any ' + v));
 * Promise.all([10, 11]).then((v) => log('small ' + JSON.stringify(v)));
 * Promise.resolve().then(() => log('after')).then(() => log('after 2'))
 *   .then(() => log('after 3'));
 * queueMicrotask(() => log('qm'));
 */
static ls_value then_logged(void *obj, ls_promise *p) {
  note("then %s", (const char *)obj);
  ls_resolve(p, ls_string(obj));
  return ls_undefined();
}

static ls_value note_json(ls_value v, void *label) {
  char buf[256];
  ls_value_json(v, buf, sizeof buf);
  note("%s %s", (const char *)label, buf);
  return ls_undefined();
}

static ls_value note_statuses(ls_value v, void *label) {
  char buf[256] = "[";
  for (size_t i = 0; i < ls_array_len(v); i++)
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s\"%s\"", i ? "," : "",
             ls_settled_fulfilled(ls_array_at(v, i)) ? "fulfilled" : "rejected");
  note("%s %s]", (const char *)label, buf);
  return ls_undefined();
}

static void resolve_four(ls_timer *t) {
  ls_resolve(t->data, ls_int(4));
  ls_promise_unref(t->data);
}

static void note_task(void *text) { note("%s", (const char *)text); }

static ls_value note_label(ls_value v, void *text) {
  (void)v;
  note_task(text);
  return ls_undefined();
}

Test(promise, combinators_over_settled_items_keep_nodes_order) {
  ls_promise *rejected = ls_promise_rejected(&loop, ls_error(0, "no"));
  ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), note_label, NULL, "before"));
  static ls_timer t;
  ls_timer_init(&loop, &t);
  t.data = ls_promise_new(&loop);
  ls_set_timeout(&t, resolve_four, 0);
  ls_value all[] = {ls_int(1),
                    ls_promise_value(ls_promise_resolved(&loop, ls_int(2))),
                    ls_thenable("t", then_logged, NULL),
                    ls_int(3),
                    ls_promise_value(ls_promise_ref(t.data)),
                    ls_int(5)};
  ls_promise_unref(ls_then(ls_promise_all(&loop, all, 6), note_json, NULL, "all"));
  ls_value settled[] = {ls_promise_value(ls_promise_ref(rejected)), ls_int(6),
                        ls_thenable("u", then_logged, NULL)};
  ls_promise_unref(
      ls_then(ls_promise_all_settled(&loop, settled, 3), note_statuses, NULL, "settled"));
  ls_value race[] = {ls_int(7), ls_int(8)};
  ls_promise_unref(ls_then(ls_promise_race(&loop, race, 2), note_json, NULL, "race"));
  ls_value any[] = {ls_promise_value(ls_promise_ref(rejected)), ls_int(9)};
  ls_promise_unref(ls_then(ls_promise_any(&loop, any, 2), note_json, NULL, "any"));
  ls_value small[] = {ls_int(10), ls_int(11)};
  ls_promise_unref(ls_then(ls_promise_all(&loop, small, 2), note_json, NULL, "small"));
  ls_promise *p = ls_then(ls_promise_resolved(&loop, ls_undefined()), note_label, NULL, "after");
  p = ls_then(p, note_label, NULL, "after 2");
  ls_promise_unref(ls_then(p, note_label, NULL, "after 3"));
  ls_queue_microtask(&loop, note_task, "qm");
  ls_promise_unref(rejected);
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "before then t then u after qm race 7 any 9 small [10,11] after 2 "
                          "settled [\"rejected\",\"fulfilled\",\"fulfilled\"] after 3 "
                          "all [1,2,\"t\",3,4,5] ");
}

/* ---- promisified calls ---- */

Test(promise, sleeps_fulfil_in_delay_order) {
  ls_promise_unref(ls_then(ls_sleep(&loop, 20), const_string, NULL, "20"));
  ls_promise_unref(ls_then(ls_then(ls_sleep(&loop, 5), const_string, NULL, "5"), note_value,
                           NULL, "first"));
  ls_promise_unref(ls_then(ls_sleep(&loop, 10), note_value, NULL, "second"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "first:\"5\" second:null ");
}

static ls_value note_length(ls_value v, void *label) {
  note("%s:%zu", (const char *)label, ls_str_len(v));
  return ls_undefined();
}

static ls_value note_code(ls_value e, void *label) {
  note("%s:%s", (const char *)label, ls_err_name(ls_error_code(e)));
  return ls_undefined();
}

static ls_value read_missing(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  return ls_promise_value(ls_read_file(&loop, "/nonexistent/x"));
}

Test(promise, read_file_fulfils_with_the_bytes_or_rejects_like_node) {
  char path[] = "/tmp/ls-promise-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, "ab\0cd", 5), 5);
  close(fd);
  /* one after the other: the pool may finish parallel reads in any order */
  ls_promise *p = ls_then(ls_read_file(&loop, path), note_length, NULL, "bytes");
  p = ls_then(p, read_missing, NULL, NULL);
  p = ls_then(p, NULL, note_error, "error");
  p = ls_then(p, read_missing, NULL, NULL);
  ls_promise_unref(ls_then(p, NULL, note_code, "code"));
  cr_assert_eq(run_loop(), 0);
  unlink(path);
  cr_assert_str_eq(trail, "bytes:5 error:ENOENT: no such file or directory, open "
                          "'/nonexistent/x' code:ENOENT ");
}

static ls_value note_size(ls_value v, void *label) {
  const struct stat *st = ls_ptr(v);
  note("%s:%lld", (const char *)label, (long long)st->st_size);
  return ls_undefined();
}

static ls_value stat_missing(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  return ls_promise_value(ls_stat(&loop, "/nonexistent/y"));
}

Test(promise, stat_fulfils_with_a_struct_stat_or_rejects_like_node) {
  char path[] = "/tmp/ls-promise-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, "1234567", 7), 7);
  close(fd);
  ls_promise *p = ls_then(ls_stat(&loop, path), note_size, NULL, "size");
  p = ls_then(p, stat_missing, NULL, NULL);
  ls_promise_unref(ls_then(p, NULL, note_error, "error"));
  cr_assert_eq(run_loop(), 0);
  unlink(path);
  cr_assert_str_eq(trail, "size:7 error:ENOENT: no such file or directory, stat "
                          "'/nonexistent/y' ");
}

static void on_timer_note(ls_timer *t) {
  (void)t;
  note("timeout");
}

static ls_value after_io_like_timer(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  /* from a timer's microtask: the immediate comes first, always */
  static ls_timer t;
  ls_timer_init(&loop, &t);
  ls_set_timeout(&t, on_timer_note, 0);
  return ls_promise_value(ls_then(ls_immediate_promise(&loop), const_string, NULL, "immediate"));
}

Test(promise, immediate_promise_runs_in_the_check_phase) {
  ls_promise *p = ls_then(ls_sleep(&loop, 1), after_io_like_timer, NULL, NULL);
  ls_promise_unref(ls_then(p, note_value, NULL, "then"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "then:\"immediate\" timeout ");
}

static int fail_to_start(ls_loop *l, ls_promise *p, void *arg) {
  (void)l;
  (void)p;
  (void)arg;
  return LS_EBADF;
}

static int finish_now(ls_loop *l, ls_promise *p, void *arg) {
  (void)l;
  ls_promisify_done(p, 0, NULL, ls_string(arg));
  return 0;
}

Test(promise, promisify_maps_error_codes_and_results) {
  ls_promise_unref(ls_then(ls_promisify(&loop, fail_to_start, NULL), NULL, note_error, "start"));
  ls_promise_unref(ls_then(ls_promisify(&loop, finish_now, "done"), note_value, NULL, "ok"));
  cr_assert_eq(run_loop(), 0);
  cr_assert_str_eq(trail, "start:EBADF: bad file descriptor ok:\"done\" ");
}
