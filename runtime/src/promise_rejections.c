/* Unhandled rejections: Node's processPromiseRejections(), run by the loop
 * each time the microtask queue empties (ls_loop_set_after_microtasks). */
#include "promise_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every tracker this thread made. The loop has no slot for the promise
 * layer, so a loop finds its tracker through its after-microtasks hook; this
 * list keeps the trackers reachable and lets a loop re-initialised at the
 * same address take over the old record instead of leaking it. */
static LS__TLS ls__promise_rt *all_rts;


static void list_push(ls_promise **head, ls_promise **tail, ls_promise *p) {
  p->rej_next = NULL;
  p->rej_prev = *tail;
  if (*tail)
    (*tail)->rej_next = p;
  else
    *head = p;
  *tail = p;
}

static void list_remove(ls_promise **head, ls_promise **tail, ls_promise *p) {
  if (p->rej_prev)
    p->rej_prev->rej_next = p->rej_next;
  else
    *head = p->rej_next;
  if (p->rej_next)
    p->rej_next->rej_prev = p->rej_prev;
  else
    *tail = p->rej_prev;
  p->rej_prev = p->rej_next = NULL;
}

static void list_release(ls_promise **head, ls_promise **tail) {
  ls_promise *p = *head;
  *head = *tail = NULL;
  while (p) {
    ls_promise *next = p->rej_next;
    p->rej_prev = p->rej_next = NULL;
    p->in_pending = false;
    ls_promise_unref(p);
    p = next;
  }
}

int ls_rejection_mode_parse(const char *s, ls_rejection_mode *mode) {
  static const char *const names[] = {"throw", "strict", "warn", "none"};
  for (int i = 0; i < 4; i++) {
    if (s && strcmp(s, names[i]) == 0) {
      *mode = (ls_rejection_mode)i;
      return 0;
    }
  }
  return -1;
}

ls__promise_rt *ls__promise_rt_setup(ls_loop *loop) {
  ls__promise_rt *rt = all_rts;
  while (rt && rt->loop != loop)
    rt = rt->next;
  if (rt) {
    /* A previous loop at this address is gone; what it tracked is moot. */
    list_release(&rt->pending_head, &rt->pending_tail);
    list_release(&rt->late_head, &rt->late_tail);
  } else {
    rt = calloc(1, sizeof *rt);
    if (!rt) {
      fprintf(stderr, "loopscope: out of memory in the promise layer\n");
      abort();
    }
    rt->next = all_rts;
    all_rts = rt;
  }
  ls__promise_rt *next = rt->next;
  memset(rt, 0, sizeof *rt);
  rt->next = next;
  rt->loop = loop;
  rt->mode = LS_REJECTIONS_THROW;
  const char *env = getenv("LOOPSCOPE_UNHANDLED_REJECTIONS");
  if (env && ls_rejection_mode_parse(env, &rt->mode) != 0)
    fprintf(stderr,
            "loopscope: LOOPSCOPE_UNHANDLED_REJECTIONS=%s is not one of "
            "throw, strict, warn, none; using throw\n", env);
  ls_loop_set_after_microtasks(loop, ls__promise_after_microtasks, rt);
  return rt;
}

void ls__rejection_untracked(ls__promise_rt *rt, ls_promise *p) {
  p->in_pending = true;
  list_push(&rt->pending_head, &rt->pending_tail, ls_promise_ref(p));
}

void ls__rejection_handled(ls__promise_rt *rt, ls_promise *p) {
  if (p->in_pending) {
    /* Handled within the same drain: as if it never happened. */
    p->in_pending = false;
    list_remove(&rt->pending_head, &rt->pending_tail, p);
    ls_promise_unref(p);
  } else if (p->reported) {
    p->reported = false;
    LS_TRACE_INSTANT(LS_CAT_PROMISE, ls_promise_ev_names[LS_PROMISE_HANDLED_LATE], p->id, 0);
    list_push(&rt->late_head, &rt->late_tail, ls_promise_ref(p));
  }
}

/* "Error: message" for errors, the JSON form of anything else. */
static void describe(ls_value reason, char *buf, size_t n) {
  if (ls_is_error(reason)) {
    const char *name = ls_is_undefined(ls_error_errors(reason)) ? "Error" : "AggregateError";
    int code = ls_error_code(reason);
    if (code < 0)
      snprintf(buf, n, "%s: %s (%s)", name, ls_error_message(reason), ls_err_name(code));
    else if (code > 0)
      snprintf(buf, n, "%s: %s (code %d)", name, ls_error_message(reason), code);
    else
      snprintf(buf, n, "%s: %s", name, ls_error_message(reason));
  } else {
    ls_value_json(reason, buf, n);
  }
}

static void report(ls_promise *p, const char *what) {
  char reason[512];
  describe(p->result, reason, sizeof reason);
  fflush(stdout); /* keep the order the program printed things in */
  fprintf(stderr, "loopscope: %s (promise #%llu): %s\n", what,
          (unsigned long long)p->id, reason);
}

static bool call_unhandled_hook(ls__promise_rt *rt, ls_promise *p) {
  if (!rt->on_unhandled)
    return false;
  LS_TRACE_BEGIN(ls_kind_names[LS_KIND_USER], "unhandledRejection", p->id, 0);
  bool handled = rt->on_unhandled(p, p->result, rt->unhandled_arg);
  LS_TRACE_END(ls_kind_names[LS_KIND_USER], "unhandledRejection", 0);
  return handled;
}

static void process_unhandled(ls__promise_rt *rt, ls_promise *p) {
  LS_TRACE_INSTANT(LS_CAT_PROMISE, ls_promise_ev_names[LS_PROMISE_UNHANDLED], p->id, 0);
  LS_TRACE_INSTANT(LS_CAT_MARK, LS_MARK_UNHANDLED, p->id, 0);
  switch (rt->mode) {
  case LS_REJECTIONS_THROW:
    if (!call_unhandled_hook(rt, p)) {
      report(p, "unhandled promise rejection");
      ls_loop_fail(rt->loop, 1);
    }
    break;
  case LS_REJECTIONS_STRICT:
    report(p, "unhandled promise rejection");
    ls_loop_fail(rt->loop, 1);
    break;
  case LS_REJECTIONS_WARN:
    call_unhandled_hook(rt, p);
    report(p, "warning: unhandled promise rejection");
    break;
  case LS_REJECTIONS_NONE:
    call_unhandled_hook(rt, p);
    break;
  }
}

int ls__promise_after_microtasks(ls_loop *loop, void *arg) {
  ls__promise_rt *rt = arg;
  int more = 0;
  ls_promise *p;
  while (!loop->failed && (p = rt->late_head)) {
    list_remove(&rt->late_head, &rt->late_tail, p);
    more = 1;
    if (rt->on_handled) {
      LS_TRACE_BEGIN(ls_kind_names[LS_KIND_USER], "rejectionHandled", p->id, 0);
      rt->on_handled(p, rt->handled_arg);
      LS_TRACE_END(ls_kind_names[LS_KIND_USER], "rejectionHandled", 0);
    } else {
      fflush(stdout);
      fprintf(stderr,
              "loopscope: warning: promise rejection was handled "
              "asynchronously (promise #%llu)\n", (unsigned long long)p->id);
    }
    ls_promise_unref(p);
  }
  /* Only the rejections present now: those a hook causes wait for the next
   * round, as in Node. */
  ls_promise *batch = rt->pending_head;
  rt->pending_head = rt->pending_tail = NULL;
  while (batch) {
    p = batch;
    batch = p->rej_next;
    p->rej_prev = p->rej_next = NULL;
    p->in_pending = false;
    if (!loop->failed) {
      p->reported = true;
      more = 1;
      process_unhandled(rt, p);
    }
    ls_promise_unref(p);
  }
  return more;
}

void ls_promise_set_rejection_mode(ls_loop *loop, ls_rejection_mode mode) {
  ls__promise_rt_get(loop)->mode = mode;
}

ls_rejection_mode ls_promise_rejection_mode(ls_loop *loop) {
  return ls__promise_rt_get(loop)->mode;
}

void ls_promise_on_unhandled(ls_loop *loop, ls_unhandled_cb cb, void *arg) {
  ls__promise_rt *rt = ls__promise_rt_get(loop);
  rt->on_unhandled = cb;
  rt->unhandled_arg = arg;
}

void ls_promise_on_handled(ls_loop *loop, ls_handled_cb cb, void *arg) {
  ls__promise_rt *rt = ls__promise_rt_get(loop);
  rt->on_handled = cb;
  rt->handled_arg = arg;
}
