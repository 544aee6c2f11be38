/* The in-place await (promise_async.c, ls_await_value): an await of a plain
 * value from a coroutine that its own await job resumed runs its next job
 * in place when that job would be the next one the drain pops anyway. This
 * twin interleaves several async functions so that the in-place path is
 * taken (the timer's function: after a nextTick, and a loop of plain
 * awaits) and refused (another function's job, a then, a queueMicrotask, a
 * thenable or an adoption queued ahead; the first await of a function
 * started from main, a timer or an immediate; a function resumed by a
 * promise reaction), and compares every line with what node 20 printed for
 * the JS below. A wrong choice either way moves a line. */
#include <criterion/criterion.h>

#include "helpers.h"

/*
const log = (s) => console.log(s);
const thenable = (v, tag) => ({ then(resolve) { log(`${tag}.then`); resolve(v); } });
let open;
const gate = new Promise((resolve) => { open = resolve; });

async function a() {
  log('a0');
  await 1;
  log('a1');
  await 2;
  log('a2');
  queueMicrotask(() => log('qm from a'));
  await 3;
  log('a3');
  process.nextTick(() => log('tick from a'));
  await 4;
  log('a4');
  await 5;
  log('a5');
  open('gate');
  await 6;
  log('a6');
  log('a7 ' + await gate);
  return 'a';
}

async function b() {
  log('b0');
  await 'x';
  log('b1');
  log('b2 ' + await thenable(7, 'tb'));
  log('b3 ' + await Promise.resolve(8).then((v) => { log('then in b'); return v + 1; }));
  log('b4 ' + await new Promise((resolve) => resolve(Promise.resolve(10))));
  await null;
  await null;
  log('b5');
  return 'b';
}

async function inner() {
  await 'i';
  log('inner1');
  await 'j';
  log('inner2');
  return Promise.resolve('inner');
}

async function c() {
  log('c0');
  log('c1 ' + await gate);
  await 0;
  log('c2');
  log('c3 ' + await inner());
  return 'c';
}

a().then(log);
b().then(log);
c().then(log);
Promise.resolve()
  .then(() => log('then 1'))
  .then(() => log('then 2'))
  .then(() => log('then 3'));
process.nextTick(() => log('tick 0'));
log('sync end');
setTimeout(async () => {
  log('t1');
  await 1;
  log('t1 a');
  process.nextTick(() => log('tick from t1'));
  await 2;
  log('t1 b');
  queueMicrotask(() => log('qm from t1'));
  await 3;
  log('t1 c');
  for (let i = 0; i < 3; i++) await i;
  log('t1 d');
  Promise.resolve().then(() => log('then from t1'));
  await 4;
  log('t1 e');
}, 0);
setTimeout(() => {
  log('t2');
  setImmediate(async () => {
    log('imm');
    await Promise.resolve(1);
    log('imm a');
    await 2;
    log('imm b');
  });
}, 0);
*/
static const char node_output[] = /* node 20 */
    "a0\nb0\nc0\nsync end\ntick 0\na1\nb1\nthen 1\na2\ntb.then\n"
    "then 2\nqm from a\na3\nb2 7\nthen 3\na4\nthen in b\na5\nb3 9\n"
    "c1 gate\na6\nc2\na7 gate\ninner1\na\nb4 10\ninner2\nb5\nb\n"
    "c3 inner\nc\ntick from a\nt1\nt1 a\nt1 b\nqm from t1\nt1 c\nt1 d\n"
    "then from t1\nt1 e\ntick from t1\nt2\nimm\nimm a\nimm b\n";

TestSuite(await_in_place, .init = setup_loop);

/* console.log: one line of the trail. */
static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  trail_vappend("\n", fmt, ap);
  va_end(ap);
}

static ls_promise *gate;

static void log_task(void *text) { log_line("%s", (const char *)text); }

static ls_value log_string(ls_value v, void *arg) {
  (void)arg;
  log_line("%s", ls_str(v));
  return ls_undefined();
}

/* Awaits a plain value and drops the (plain) result. */
static void await_plain(ls_value v) { ls_value_drop(ls_await_value(v)); }

static ls_value a(void *arg) {
  (void)arg;
  log_line("a0");
  await_plain(ls_int(1));
  log_line("a1");
  await_plain(ls_int(2));
  log_line("a2");
  ls_queue_microtask(&loop, log_task, "qm from a");
  await_plain(ls_int(3));
  log_line("a3");
  ls_next_tick(&loop, log_task, "tick from a");
  await_plain(ls_int(4));
  log_line("a4");
  await_plain(ls_int(5));
  log_line("a5");
  ls_resolve(gate, ls_string("gate"));
  await_plain(ls_int(6));
  log_line("a6");
  ls_value v = ls_await(ls_promise_ref(gate));
  log_line("a7 %s", ls_str(v));
  ls_value_drop(v);
  return ls_string("a");
}

static ls_value thenable_then(void *tag, ls_promise *p) {
  log_line("%s.then", (const char *)tag);
  ls_resolve(p, ls_int(7));
  return ls_undefined();
}

static ls_value plus_one_noted(ls_value v, void *arg) {
  (void)arg;
  log_line("then in b");
  return ls_int(ls_as_int(v) + 1);
}

static ls_value resolve_with_a_promise(ls_promise *p, void *arg) {
  (void)arg;
  ls_resolve(p, ls_promise_value(ls_promise_resolved(&loop, ls_int(10))));
  return ls_undefined();
}

static ls_value b(void *arg) {
  (void)arg;
  log_line("b0");
  await_plain(ls_string("x"));
  log_line("b1");
  ls_value v = ls_await_value(ls_thenable("tb", thenable_then, NULL));
  log_line("b2 %lld", (long long)ls_as_int(v));
  v = ls_await(ls_then(ls_promise_resolved(&loop, ls_int(8)), plus_one_noted, NULL, NULL));
  log_line("b3 %lld", (long long)ls_as_int(v));
  v = ls_await(ls_promise_create(&loop, resolve_with_a_promise, NULL));
  log_line("b4 %lld", (long long)ls_as_int(v));
  await_plain(ls_null());
  await_plain(ls_null());
  log_line("b5");
  return ls_string("b");
}

static ls_value inner(void *arg) {
  (void)arg;
  await_plain(ls_string("i"));
  log_line("inner1");
  await_plain(ls_string("j"));
  log_line("inner2");
  return ls_promise_value(ls_promise_resolved(&loop, ls_string("inner")));
}

static ls_value c(void *arg) {
  (void)arg;
  log_line("c0");
  ls_value v = ls_await(ls_promise_ref(gate));
  log_line("c1 %s", ls_str(v));
  ls_value_drop(v);
  await_plain(ls_int(0));
  log_line("c2");
  v = ls_await(ls_async(&loop, inner, NULL));
  log_line("c3 %s", ls_str(v));
  ls_value_drop(v);
  return ls_string("c");
}

static ls_value log_then(ls_value v, void *text) {
  (void)v;
  log_line("%s", (const char *)text);
  return ls_undefined();
}

static ls_value timer_body(void *arg) {
  (void)arg;
  log_line("t1");
  await_plain(ls_int(1));
  log_line("t1 a");
  ls_next_tick(&loop, log_task, "tick from t1");
  await_plain(ls_int(2));
  log_line("t1 b");
  ls_queue_microtask(&loop, log_task, "qm from t1");
  await_plain(ls_int(3));
  log_line("t1 c");
  for (int i = 0; i < 3; i++)
    await_plain(ls_int(i));
  log_line("t1 d");
  ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), log_then, NULL,
                           "then from t1"));
  await_plain(ls_int(4));
  log_line("t1 e");
  return ls_undefined();
}

static void start_timer_body(ls_timer *t) {
  (void)t;
  ls_promise_unref(ls_async(&loop, timer_body, NULL));
}


static ls_value immediate_body(void *arg) {
  (void)arg;
  log_line("imm");
  ls_value_drop(ls_await(ls_promise_resolved(&loop, ls_int(1))));
  log_line("imm a");
  await_plain(ls_int(2));
  log_line("imm b");
  return ls_undefined();
}

static void start_immediate_body(ls_immediate *im) {
  (void)im;
  ls_promise_unref(ls_async(&loop, immediate_body, NULL));
}

/* The immediate is set from a timer: one set from main races the 1 ms
 * timers in node too. */
static void log_t2(ls_timer *t) {
  static ls_immediate im;
  (void)t;
  log_line("t2");
  ls_immediate_init(&im);
  ls_set_immediate(&loop, &im, start_immediate_body);
}

Test(await_in_place, interleaved_awaits_keep_nodes_order) {
  static ls_timer t1, t2;
  gate = ls_promise_new(&loop);
  ls_promise_unref(ls_then(ls_async(&loop, a, NULL), log_string, NULL, NULL));
  ls_promise_unref(ls_then(ls_async(&loop, b, NULL), log_string, NULL, NULL));
  ls_promise_unref(ls_then(ls_async(&loop, c, NULL), log_string, NULL, NULL));
  ls_promise *p = ls_then(ls_promise_resolved(&loop, ls_undefined()), log_then, NULL, "then 1");
  p = ls_then(p, log_then, NULL, "then 2");
  ls_promise_unref(ls_then(p, log_then, NULL, "then 3"));
  ls_next_tick(&loop, log_task, "tick 0");
  log_line("sync end");
  ls_timer_init(&loop, &t1);
  ls_set_timeout(&t1, start_timer_body, 0);
  ls_timer_init(&loop, &t2);
  ls_set_timeout(&t2, log_t2, 0);
  cr_assert_eq(run_loop(), 0);
  ls_promise_unref(gate);
  cr_assert_str_eq(trail, node_output);
}
