/* p14: Promise.all / allSettled / race / any over timer-backed promises,
 * and the empty-input cases. */
#include "twin.h"

#include <stdlib.h>

#include "loopscope/promise.h"

#define MAX_AFTERS 16

/* const after = (ms, v, fail) => new Promise((res, rej) =>
 *   setTimeout(() => (fail ? rej(new Error(v)) : res(v)), ms)); */
typedef struct {
  ls_timer timer;
  ls_promise *p;
  const char *v;
  bool fail;
} after_rec;

/* Static: the loop still reads a timer after its callback returns. */
static after_rec afters[MAX_AFTERS];
static int n_afters;

static void after_fired(ls_timer *t) {
  after_rec *a = t->data;
  if (a->fail)
    ls_reject(a->p, ls_error(0, a->v));
  else
    ls_resolve(a->p, ls_string(a->v));
  ls_promise_unref(a->p);
}

static ls_value after(double ms, const char *v, bool fail) {
  after_rec *a = &afters[n_afters++];
  a->p = ls_promise_new(&loop);
  a->v = v;
  a->fail = fail;
  ls_timer_init(&loop, &a->timer);
  a->timer.data = a;
  ls_set_timeout(&a->timer, after_fired, ms);
  return ls_promise_value(ls_promise_ref(a->p));
}

/* log(prefix + JSON.stringify(v)) */
static ls_value log_json(ls_value v, void *prefix) {
  char buf[256];
  ls_value_json(v, buf, sizeof buf);
  printf("%s%s\n", (const char *)prefix, buf);
  return ls_undefined();
}

static ls_value log_message(ls_value e, void *prefix) {
  printf("%s%s\n", (const char *)prefix, ls_error_message(e));
  return ls_undefined();
}

static ls_value log_string(ls_value v, void *prefix) {
  printf("%s%s\n", (const char *)prefix, ls_str(v));
  return ls_undefined();
}

/* r.map(o => o.status === 'fulfilled' ? o : {status, reason: message}) */
static ls_value log_settled(ls_value r, void *arg) {
  (void)arg;
  size_t n = ls_array_len(r);
  ls_value *out = calloc(n, sizeof *out);
  for (size_t i = 0; i < n; i++) {
    ls_value o = ls_array_at(r, i);
    out[i] = ls_settled_fulfilled(o)
                 ? ls_value_ref(o)
                 : ls_settled(false, ls_string(ls_error_message(ls_settled_value(o))));
  }
  ls_value mapped = ls_array(out, n);
  free(out);
  log_json(mapped, "allSettled: ");
  ls_value_drop(mapped);
  return ls_undefined();
}

/* e.constructor.name + ' ' + JSON.stringify(e.errors.map(x => x.message)) */
static ls_value log_aggregate(ls_value e, void *arg) {
  (void)arg;
  ls_value errors = ls_error_errors(e);
  size_t n = ls_array_len(errors);
  ls_value *msgs = calloc(n, sizeof *msgs);
  for (size_t i = 0; i < n; i++)
    msgs[i] = ls_string(ls_error_message(ls_array_at(errors, i)));
  ls_value arr = ls_array(msgs, n);
  free(msgs);
  char buf[256];
  ls_value_json(arr, buf, sizeof buf);
  printf("any rejected: %s %s\n",
         ls_is_undefined(errors) ? "Error" : "AggregateError", buf);
  ls_value_drop(arr);
  return ls_undefined();
}

int main(void) {
  ls_loop_init(&loop);
  ls_value all[] = {after(300, "a", false), after(100, "b", false), ls_int(42)};
  ls_promise_unref(ls_then(ls_promise_all(&loop, all, 3), log_json, NULL, "all: "));
  ls_value all_fail[] = {after(400, "x", false), after(200, "y-fail", true)};
  ls_promise_unref(ls_catch(ls_promise_all(&loop, all_fail, 2), log_message, "all rejected fast: "));
  ls_value settled[] = {after(50, "ok", false), after(150, "bad", true)};
  ls_promise_unref(ls_then(ls_promise_all_settled(&loop, settled, 2), log_settled, NULL, NULL));
  ls_value race[] = {after(250, "slow", false), after(120, "fast", false)};
  ls_promise_unref(ls_then(ls_promise_race(&loop, race, 2), log_string, NULL, "race: "));
  ls_value any[] = {after(80, "e1", true), after(180, "first-ok", false), after(280, "later-ok", false)};
  ls_promise_unref(ls_then(ls_promise_any(&loop, any, 3), log_string, NULL, "any: "));
  ls_value any_fail[] = {after(30, "n1", true), after(60, "n2", true)};
  ls_promise_unref(ls_catch(ls_promise_any(&loop, any_fail, 2), log_aggregate, NULL));
  ls_promise_unref(ls_then(ls_promise_all(&loop, NULL, 0), log_json, NULL, "all([]) sync-resolved: "));
  ls_promise_unref(ls_then(ls_promise_race(&loop, NULL, 0), log_string, NULL, "never"));
  return twin_run();
}
