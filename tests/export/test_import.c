/* ls_import_chrome on small documents, read back with the trace reader. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopscope/export.h"
#include "sample.h"

typedef struct imported {
  ls_import_stats st;
  int rc;
  char err[512];
  char *path;
} imported;

static imported import(const char *json) {
  imported im = {.path = tmp_path(".fxt")};
  int fd = open(im.path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert_geq(fd, 0);
  im.rc = ls_import_chrome(json, strlen(json), "doc.json", fd, &im.st, im.err,
                           sizeof im.err);
  close(fd);
  return im;
}

/* An import that must succeed. */
static imported import_ok(const char *json) {
  imported im = import(json);
  cr_assert_eq(im.rc, 0, "%s", im.err);
  return im;
}

/* The events of the imported trace, in order. */
static size_t read_events(const imported *im, ls_reader **r, ls_record *out,
                          size_t max) {
  char err[512];
  cr_assert_eq(ls_reader_open(r, im->path, err, sizeof err), 0, "%s", err);
  size_t n = 0;
  ls_record rec;
  while (ls_reader_next(*r, &rec) == LS_FMT_OK)
    if (rec.kind == LS_REC_EVENT && n < max)
      out[n++] = rec;
  return n;
}

static void done(imported *im, ls_reader *r) {
  if (r)
    ls_reader_close(r);
  unlink(im->path);
  free(im->path);
}

Test(import, empty_array_is_an_empty_trace) {
  imported im = import_ok("[]");
  cr_expect_eq(im.st.events, 0);
  ls_reader *r;
  ls_record ev[1];
  cr_expect_eq(read_events(&im, &r, ev, 1), 0);
  cr_expect_str_eq(ls_reader_info(r)->source, "import");
  done(&im, r);
}

Test(import, bad_events_are_counted_not_fatal) {
  imported im = import_ok(
      "{\"traceEvents\":[1, \"x\", {\"ph\":\"X\"}, {\"ts\":1},"
      " {\"ph\":\"XY\",\"ts\":1}, {\"ph\":\"i\",\"ts\":1e300},"
      " {\"ph\":\"b\",\"ts\":2,\"name\":\"no id\"},"
      " {\"ph\":\"i\",\"ts\":3,\"name\":\"ok\",\"pid\":1,\"tid\":1}]}");
  cr_expect_eq(im.st.events, 8);
  cr_expect_eq(im.st.bad, 7);
  cr_expect_eq(im.st.written, 1);
  done(&im, NULL);
}

Test(import, negative_times_are_rebased_and_sorted) {
  imported im = import_ok(
      "[{\"ph\":\"i\",\"name\":\"late\",\"ts\":5,\"pid\":1,\"tid\":1},"
      " {\"ph\":\"i\",\"name\":\"early\",\"ts\":-5.5,\"pid\":1,\"tid\":1}]");
  ls_reader *r;
  ls_record ev[4];
  cr_assert_eq(read_events(&im, &r, ev, 4), 2);
  cr_expect_str_eq(ev[0].event.name, "early");
  cr_expect_eq(ls_ticks_to_ns(r, ev[0].event.ts), 0);
  cr_expect_eq(ls_ticks_to_ns(r, ev[1].event.ts), 10500);
  done(&im, r);
}

Test(import, ids_strings_and_args) {
  imported im = import_ok(
      "[{\"ph\":\"b\",\"name\":\"req\",\"cat\":\"net\",\"ts\":1,\"pid\":\"srv\","
      "  \"tid\":\"io\",\"id\":\"abc\"},"
      " {\"ph\":\"e\",\"name\":\"req\",\"cat\":\"net\",\"ts\":2,\"pid\":\"srv\","
      "  \"tid\":\"io\",\"id\":\"abc\"},"
      " {\"ph\":\"n\",\"name\":\"req\",\"ts\":1.5,\"pid\":\"srv\",\"tid\":\"io\","
      "  \"id2\":{\"global\":\"0x1f\"}},"
      " {\"ph\":\"i\",\"name\":\"many\",\"ts\":3,\"pid\":1,\"tid\":1,\"args\":"
      "  {\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,"
      "   \"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17,"
      "   \"big\":1e300}}]");
  cr_expect_eq(im.st.args_cut, 3);
  cr_expect_eq(im.st.names, 2, "the string pid and tid are named");
  ls_reader *r;
  ls_record ev[8];
  cr_assert_eq(read_events(&im, &r, ev, 8), 4);
  cr_expect_eq(ev[0].event.type, LS_EV_ASYNC_BEGIN);
  cr_expect_eq(ev[2].event.type, LS_EV_ASYNC_END);
  cr_expect_eq(ev[0].event.id, ev[2].event.id, "the same string, the same id");
  cr_expect_eq(ev[1].event.id, 0x1f);
  cr_expect_eq(ev[0].event.pid, ev[1].event.pid);
  cr_expect_gt(ev[0].event.pid, UINT64_C(0xffffffff), "synthetic pid");
  cr_expect_eq(ev[3].event.nargs, LS_MAX_ARGS);
  cr_expect_eq(ls_arg_i64(ls_event_arg(&ev[3].event, "o")), 15);
  done(&im, r);
}

Test(import, errors_name_the_document) {
  imported im = import("{\"traceEvents\": [ {\"ph\": ");
  cr_expect_eq(im.rc, -1);
  cr_expect_not_null(strstr(im.err, "doc.json: not valid JSON"), "%s", im.err);
  done(&im, NULL);
  im = import("42");
  cr_expect_eq(im.rc, -1);
  cr_expect_not_null(strstr(im.err, "doc.json: not a Chrome trace"), "%s",
                     im.err);
  done(&im, NULL);
}

/* FXT readers bind a flow end to the slice open where it is written, so each
 * goes just inside the slice Chrome binds it to: "f" alone, the next slice
 * to begin on its thread (here B, after an instant); "f" with "bp":"e", its
 * enclosing slice; flow v2's flow_in, the slice carrying it. */
Test(import, flow_ends_land_inside_the_slice_chrome_binds_them_to) {
  imported im = import_ok(
      "[{\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":0,\"name\":\"A\"},"
      "{\"ph\":\"s\",\"pid\":1,\"tid\":1,\"ts\":1,\"cat\":\"f\",\"name\":\"f\",\"id\":7},"
      "{\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":2},"
      "{\"ph\":\"f\",\"pid\":1,\"tid\":1,\"ts\":3,\"cat\":\"f\",\"name\":\"f\",\"id\":7},"
      "{\"ph\":\"i\",\"pid\":1,\"tid\":1,\"ts\":4,\"name\":\"tick\"},"
      "{\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":5,\"name\":\"B\"},"
      "{\"ph\":\"f\",\"pid\":1,\"tid\":1,\"ts\":6,\"id\":7,\"bp\":\"e\"},"
      "{\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":7},"
      "{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":8,\"dur\":1,\"name\":\"C\","
      "\"bind_id\":9,\"flow_in\":true}]");
  ls_reader *r;
  ls_record ev[16];
  size_t n = read_events(&im, &r, ev, 16);
  cr_assert_eq(n, 10);
  /* B A, s, E, i, B B, f (held), f (bp e), E, X C, f (v2) */
  static const ls_event_type want[] = {
      LS_EV_BEGIN, LS_EV_FLOW_BEGIN, LS_EV_END,      LS_EV_INSTANT,
      LS_EV_BEGIN, LS_EV_FLOW_END,   LS_EV_FLOW_END, LS_EV_END,
      LS_EV_COMPLETE, LS_EV_FLOW_END};
  for (size_t i = 0; i < n; i++)
    cr_expect_eq(ev[i].event.type, want[i], "event %zu", i);
  cr_expect_eq(ev[5].event.ts, ev[4].event.ts, "held f at B's begin");
  cr_expect_eq(ev[5].event.id, 7);
  cr_expect_eq(ev[6].event.ts, 6000, "bp e: at its own time");
  cr_expect_eq(ev[9].event.ts, ev[8].event.ts);
  cr_expect_eq(ev[9].event.id, 9);
  done(&im, r);
}

/* An "f" with no slice after it on its thread keeps its own time. */
Test(import, flow_end_with_no_next_slice_is_kept) {
  imported im = import_ok(
      "[{\"ph\":\"s\",\"pid\":1,\"tid\":1,\"ts\":1,\"id\":3},"
      "{\"ph\":\"f\",\"pid\":1,\"tid\":2,\"ts\":2,\"id\":3}]");
  ls_reader *r;
  ls_record ev[4];
  cr_assert_eq(read_events(&im, &r, ev, 4), 2);
  cr_expect_eq(ev[1].event.type, LS_EV_FLOW_END);
  cr_expect_eq(ev[1].event.ts, 2000);
  done(&im, r);
}
