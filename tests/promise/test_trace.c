/* What a traced program on promises leaves in the trace: promise lifecycle
 * instants, reactions as microtask slices bound by flows to where they were
 * queued, and awaits as async slices on the coroutine. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopscope/async.h"
#include "loopscope/format.h"
#include "loopscope/runtime.h"
#include "loopscope/trace.h"

static ls_loop loop;

static ls_value add_one(ls_value v, void *arg) {
  (void)arg;
  return ls_int(ls_as_int(v) + 1);
}

static ls_value swallow(ls_value v, void *arg) {
  (void)v;
  (void)arg;
  return ls_undefined();
}

static ls_value sleeper(void *arg) {
  (void)arg;
  ls_value_drop(ls_await(ls_sleep(&loop, 1)));
  return ls_await_value(ls_int(2));
}

typedef struct {
  unsigned promise[LS_PROMISE_EV_COUNT];
  unsigned then_slices, await_slices, catch_slices;
  unsigned await_begin, await_end;
  unsigned flow_begin, flow_end;
  unsigned microtask_with_flow_end; /* a microtask slice, then its flow end */
  uint64_t want_flow_end;
} counts;

static void tally(const char *path, counts *c) {
  ls_reader *r;
  char err[256];
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof err), 0, "%s", err);
  ls_record rec;
  int rc;
  while ((rc = ls_reader_next(r, &rec)) == LS_FMT_OK) {
    if (rec.kind != LS_REC_EVENT)
      continue;
    const ls_event *ev = &rec.event;
    uint64_t want_flow_end = c->want_flow_end;
    c->want_flow_end = 0;
    if (ev->type == LS_EV_INSTANT && strcmp(ev->category, LS_CAT_PROMISE) == 0) {
      for (int i = 0; i < LS_PROMISE_EV_COUNT; i++)
        if (strcmp(ev->name, ls_promise_ev_names[i]) == 0)
          c->promise[i]++;
    } else if (ev->type == LS_EV_BEGIN &&
               strcmp(ev->category, ls_kind_names[LS_KIND_MICROTASK]) == 0) {
      c->then_slices += strcmp(ev->name, "then") == 0;
      c->catch_slices += strcmp(ev->name, "catch") == 0;
      c->await_slices += strcmp(ev->name, "await") == 0;
      const ls_arg *id = ls_event_arg(ev, "id");
      c->want_flow_end = id ? ls_arg_u64(id) : 0;
    } else if (ev->type == LS_EV_ASYNC_BEGIN && strcmp(ev->category, LS_CAT_AWAIT) == 0) {
      c->await_begin++;
    } else if (ev->type == LS_EV_ASYNC_END && strcmp(ev->category, LS_CAT_AWAIT) == 0) {
      c->await_end++;
    } else if (ev->type == LS_EV_FLOW_BEGIN) {
      c->flow_begin++;
    } else if (ev->type == LS_EV_FLOW_END) {
      c->flow_end++;
      c->microtask_with_flow_end += want_flow_end != 0 && ev->id == want_flow_end;
    }
  }
  cr_assert_eq(rc, LS_FMT_EOF, "%s", ls_reader_error(r));
  ls_reader_close(r);
}

Test(promise_trace, lifecycle_reactions_and_awaits_are_recorded) {
  char path[] = "/tmp/ls-promise-trace-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  cr_assert_eq(ls_trace_start(path, NULL), 0);
  ls_loop_init(&loop);
  ls_promise *p = ls_then(ls_promise_resolved(&loop, ls_int(1)), add_one, NULL, NULL);
  ls_promise_unref(ls_then(p, add_one, NULL, NULL));
  ls_promise_unref(ls_catch(ls_promise_rejected(&loop, ls_error(0, "x")), swallow, NULL));
  ls_promise_unref(ls_async(&loop, sleeper, NULL));
  cr_assert_eq(ls_run_main(&loop), 0);
  cr_assert_eq(ls_loop_close(&loop), 0);
  cr_assert_eq(ls_trace_stop(), 0);

  counts c = {0};
  tally(path, &c);
  unlink(path);
  /* resolved(1), two thens, rejected, catch, the async fn, the sleep */
  cr_assert_eq(c.promise[LS_PROMISE_CREATED], 7);
  cr_assert_eq(c.promise[LS_PROMISE_RESOLVED], 6);
  cr_assert_eq(c.promise[LS_PROMISE_REJECTED], 1);
  cr_assert_eq(c.then_slices, 2);
  cr_assert_eq(c.catch_slices, 1);
  cr_assert_eq(c.await_slices, 2);
  cr_assert_eq(c.await_begin, 2);
  cr_assert_eq(c.await_end, 2);
  cr_assert_geq(c.flow_begin, 5);
  cr_assert_geq(c.flow_end, 5);
  cr_assert_geq(c.microtask_with_flow_end, 5, "each reaction slice begins with its flow end");
}
