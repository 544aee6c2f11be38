/* p12: unhandledRejection fires after the microtask drain; a handler
 * attached in the same drain means no event; a later one fires
 * rejectionHandled. */
#include "twin.h"

#include "loopscope/promise.h"

static ls_promise *early, *late;
static ls_timer timeout;
static ls_immediate immediate;

static bool on_unhandled(ls_promise *p, ls_value reason, void *arg) {
  (void)p;
  (void)arg;
  printf("unhandledRejection: %s\n", ls_error_message(reason));
  return true;
}

static void on_handled(ls_promise *p, void *arg) {
  (void)p;
  (void)arg;
  log_line("rejectionHandled");
}

static ls_value log_reaction(ls_value v, void *arg) {
  (void)v;
  log_line(arg);
  return ls_undefined();
}

/* () => early.catch(...): returns the catch's promise, which is adopted. */
static ls_value catch_early(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  ls_promise *c = ls_catch(early, log_reaction, "early caught in microtask");
  early = NULL;
  return ls_promise_value(c);
}

static void on_timeout(ls_timer *t) {
  (void)t;
  ls_promise_unref(ls_catch(late, log_reaction, "late caught in timeout"));
  late = NULL;
}

static void on_immediate(ls_immediate *imm) {
  (void)imm;
  log_line("immediate");
}

int main(void) {
  ls_loop_init(&loop);
  ls_promise_on_unhandled(&loop, on_unhandled, NULL);
  ls_promise_on_handled(&loop, on_handled, NULL);
  early = ls_promise_rejected(&loop, ls_error(0, "early"));
  ls_promise_unref(ls_then(ls_promise_resolved(&loop, ls_undefined()), catch_early, NULL, NULL));
  late = ls_promise_rejected(&loop, ls_error(0, "late"));
  ls_timer_init(&loop, &timeout);
  ls_set_timeout(&timeout, on_timeout, 200);
  ls_next_tick(&loop, log_line, "nextTick");
  ls_set_immediate(&loop, &immediate, on_immediate);
  return twin_run();
}
