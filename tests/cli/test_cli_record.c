/* `loopscope record` of a real program on the runtime (traced_prog.c), then
 * report figures and the export of that trace. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopscope/export.h"
#include "report.h"
#include "sample.h"

#define LS LS_BINARY_DIR "/tracer/cli/loopscope"
#define PROG LS_BINARY_DIR "/tests/cli/traced_prog"
#define RUN(out, err, ...) \
  run_cmd((char **)(const char *[]){__VA_ARGS__, NULL}, out, err)

/* Flow ends written right after the begin of the callback they lead to and
 * bound to it as their enclosing slice ("bp":"e"), where Perfetto and
 * chrome://tracing draw the arrow head. */
static int flows_ending_on_their_callback(const cJSON *root) {
  const cJSON *evs = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
  const cJSON *prev = NULL, *e;
  int n = 0;
  cJSON_ArrayForEach(e, evs) {
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "ph");
    const cJSON *bp = cJSON_GetObjectItemCaseSensitive(e, "bp");
    if (prev && cJSON_IsString(ph) && strcmp(ph->valuestring, "f") == 0 &&
        cJSON_IsString(bp) && strcmp(bp->valuestring, "e") == 0) {
      const cJSON *pph = cJSON_GetObjectItemCaseSensitive(prev, "ph");
      const cJSON *args = cJSON_GetObjectItemCaseSensitive(prev, "args");
      const cJSON *cb_id = cJSON_GetObjectItemCaseSensitive(args, "id");
      const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
      n += cJSON_IsString(pph) && strcmp(pph->valuestring, "B") == 0 &&
           cJSON_IsNumber(cb_id) && cJSON_IsString(id) &&
           strtoull(id->valuestring, NULL, 16) == (uint64_t)cb_id->valuedouble &&
           cJSON_Compare(cJSON_GetObjectItemCaseSensitive(prev, "tid"),
                         cJSON_GetObjectItemCaseSensitive(e, "tid"), true);
    }
    prev = e;
  }
  return n;
}

/* The report of trace; r stays open: the report points into it. */
static void report_of(const char *trace, ls_reader **r, ls_report *rep) {
  char msg[512];
  cr_assert_eq(ls_reader_open(r, trace, msg, sizeof msg), 0, "%s", msg);
  cr_assert_eq(ls_report_compute(*r, rep, NULL), 0);
  /* traced_prog.c: 2 timeouts, 5 interval runs, 2 immediates. */
  cr_expect_eq(rep->kinds[LS_KIND_TIMER].count, 2);
  cr_expect_eq(rep->kinds[LS_KIND_INTERVAL].count, 5);
  cr_expect_eq(rep->kinds[LS_KIND_IMMEDIATE].count, 2);
}

Test(cli_record, runtime_program_end_to_end) {
  char *trace = tmp_path(".fxt"), *json = tmp_path(".json"), *err;
  cr_assert_eq(RUN(NULL, &err, LS, "record", "-o", trace, "--", PROG), 0,
               "%s", err);
  cr_expect_not_null(strstr(err, " 0 lost"), "%s", err);
  free(err);

  ls_reader *r;
  ls_report rep;
  report_of(trace, &r, &rep);
  cr_expect_str_eq(rep.source, "runtime");
  cr_assert_eq(rep.nloops, 1);
  const ls_report_loop *loop = &rep.loops[0];
  cr_expect(loop->main);
  cr_expect_gt(loop->iterations, 0);
  cr_expect_eq(loop->phase_count[LS_PHASE_POLL], loop->iterations);
  cr_expect_eq(rep.kinds[LS_KIND_MICROTASK].count, 2);
  cr_expect_eq(rep.kinds[LS_KIND_TICK].count, 2);
  /* Every timer run is matched to its sched instant (or interval re-arm). */
  cr_expect_eq(rep.lateness.count, 7);
  cr_expect_eq(rep.timers_unscheduled, 0);
  /* The interval sleeps at least 3 ms between runs: 4 gaps of poll wait. */
  cr_expect_geq(loop->loop_ns, 12000000);
  cr_expect_gt(loop->poll_idle_ns, 0);
  cr_expect(loop->elu > 0 && loop->elu < 1, "elu %f", loop->elu);
  cr_expect_eq(rep.nlongest, 10);
  for (unsigned i = 0; i < rep.nlongest; i++) {
    cr_expect_not_null(rep.longest[i].label);
    if (i)
      cr_expect_geq(rep.longest[i - 1].dur_ns, rep.longest[i].dur_ns);
  }
  cr_expect_eq(rep.lost, 0);
  ls_report_free(&rep);
  ls_reader_close(r);

  char msg[512];
  cr_assert_eq(ls_reader_open(&r, trace, msg, sizeof msg), 0, "%s", msg);
  ls_export_stats st;
  cr_assert_eq(ls_export_chrome(r, json, NULL, &st, msg, sizeof msg), 0, "%s",
               msg);
  ls_reader_close(r);
  cr_expect_eq(st.unmatched_ends, 0);
  cr_expect_eq(st.closed_at_end, 0);
  cJSON *root = json_file(json);
  chrome_summary sum;
  chrome_check(root, &sum);
  /* 2 timeouts, 5 interval runs, 2 microtasks, 2 immediates, 2 ticks. */
  cr_expect_eq(sum.by_ph['f'], 13);
  cr_expect_eq(flows_ending_on_their_callback(root), sum.by_ph['f'],
               "every flow ends on the callback it started");
  cr_expect_gt(sum.threads_named, 0);
  cJSON_Delete(root);
  unlink(trace), unlink(json);
  free(trace), free(json);
}

Test(cli_record, passes_the_exit_status_through) {
  char *trace = tmp_path(".fxt"), *err;
  cr_expect_eq(RUN(NULL, &err, LS, "record", "-o", trace, "--", PROG, "3"), 3,
               "%s", err);
  cr_expect_not_null(strstr(err, trace), "the trace is still checked: %s", err);
  free(err);
  unlink(trace);
  free(trace);
}

/* Flight recorder: a window longer than the run keeps every event; a 5 ms
 * window cuts slices and flows at its start, and the export still nests. */
Test(cli_record, flight_recorder) {
  char *trace = tmp_path(".fxt"), *json = tmp_path(".json"), *err;
  cr_assert_eq(RUN(NULL, &err, LS, "record", "-o", trace, "--flight", "600",
                   "--", PROG), 0, "%s", err);
  free(err);
  ls_reader *r;
  ls_report rep;
  report_of(trace, &r, &rep);
  ls_report_free(&rep);
  ls_reader_close(r);

  cr_assert_eq(RUN(NULL, &err, LS, "record", "-o", trace, "--flight", "0.005",
                   "--", PROG), 0, "%s", err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, LS, "export", trace, "-o", json), 0, "%s", err);
  free(err);
  cJSON *root = json_file(json);
  chrome_drop_flows(root);
  chrome_summary sum;
  chrome_check(root, &sum);
  cJSON_Delete(root);
  unlink(trace), unlink(json);
  free(trace), free(json);
}
