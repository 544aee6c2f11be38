/* promise_chain: callbacks become a promise chain.
 *
 * Three steps that each take a few milliseconds (fake "fetches" built on
 * ls_sleep) run one after the other through .then; the second fails, the
 * error skips the fulfilment handlers until .catch, and .finally runs
 * either way. Under LOOPSCOPE_TRACE=chain.fxt the trace shows each promise
 * created and settled, and an arrow from each settling point to the
 * microtask that reacted to it.
 */
#include <stdio.h>
#include <string.h>

#include "loopscope/promise.h"
#include "loopscope/runtime.h"

static ls_loop loop;

/* fetch(what): fulfils with "<what> data" after 5 ms, or rejects. */
static ls_value finish_fetch(ls_value ignored, void *what) {
  (void)ignored;
  if (strcmp(what, "orders") == 0)
    return ls_throw(ls_errorf(LS_ECONNREFUSED, "fetching %s: connection refused",
                              (const char *)what));
  return ls_stringf("%s data", (const char *)what);
}

static ls_promise *fetch(const char *what) {
  printf("  fetch %s ...\n", what);
  return ls_then(ls_sleep(&loop, 5), finish_fetch, NULL, (void *)what);
}

static ls_value got_user(ls_value v, void *arg) {
  (void)arg;
  printf("then:    got %s, now the orders\n", ls_str(v));
  return ls_promise_value(fetch("orders")); /* adopted by the next link */
}

static ls_value got_orders(ls_value v, void *arg) {
  (void)arg;
  printf("then:    got %s (not printed: the fetch failed)\n", ls_str(v));
  return ls_undefined();
}

static ls_value recover(ls_value e, void *arg) {
  (void)arg;
  printf("catch:   %s (%s), using cached orders\n", ls_error_message(e),
         ls_err_name(ls_error_code(e)));
  return ls_string("cached orders");
}

static ls_value cleanup(void *arg) {
  (void)arg;
  printf("finally: close the connection (no value, outcome passes through)\n");
  return ls_undefined();
}

static ls_value show(ls_value v, void *arg) {
  (void)arg;
  printf("then:    finished with \"%s\"\n", ls_str(v));
  return ls_undefined();
}

int main(void) {
  ls_loop_init(&loop);
  printf("main:    start the chain\n");
  ls_promise *p = fetch("user");
  p = ls_then(p, got_user, NULL, NULL);
  p = ls_then(p, got_orders, NULL, NULL);
  p = ls_catch(p, recover, NULL);
  p = ls_finally(p, cleanup, NULL);
  ls_promise_unref(ls_then(p, show, NULL, NULL));
  printf("main:    chain built, nothing has run yet\n");
  int code = ls_run_main(&loop);
  ls_loop_close(&loop);
  return code;
}
