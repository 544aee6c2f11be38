/* Chrome JSON export: the sample trace (every record kind) exported and read
 * back with cJSON. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopscope/export.h"
#include "loopscope/u64map.h"
#include "sample.h"

static ls_export_stats export_file(const char *trace, const char *json,
                                   uint64_t split) {
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open(&r, trace, err, sizeof err), 0, "%s", err);
  ls_export_opts opts = {.split_bytes = split};
  ls_export_stats st;
  cr_assert_eq(ls_export_chrome(r, json, &opts, &st, err, sizeof err), 0,
               "%s", err);
  ls_reader_close(r);
  return st;
}

static const cJSON *arg(const cJSON *e, const char *name) {
  return cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(e, "args"), name);
}

static const char *sget(const cJSON *e, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
  cr_assert(cJSON_IsString(v), "no string %s", key);
  return v->valuestring;
}

static double nget(const cJSON *v) {
  cr_assert(cJSON_IsNumber(v));
  return v->valuedouble;
}

Test(export, sample_every_kind) {
  char *trace = sample_tmp(), *json = tmp_path(".json");
  ls_export_stats st = export_file(trace, json, 0);
  cr_expect_eq(st.files, 1);
  cr_expect_eq(st.lost, SAMPLE_LOST);
  cr_expect_eq(st.unmatched_ends, SAMPLE_UNMATCHED_ENDS);
  cr_expect_eq(st.closed_at_end, SAMPLE_OPEN_AT_END);
  cr_expect_eq(st.dropped_bytes, 0);

  cJSON *root = json_file(json);
  chrome_summary sum;
  chrome_check(root, &sum);
  cr_expect_eq(sum.by_ph['B'], 8);
  cr_expect_eq(sum.by_ph['E'], 8);
  cr_expect_eq(sum.by_ph['X'], 1);
  cr_expect_eq(sum.by_ph['i'], 4); /* 2 sched, lost, note */
  cr_expect_eq(sum.by_ph['C'], 2);
  cr_expect_eq(sum.by_ph['b'], 1);
  cr_expect_eq(sum.by_ph['n'], 1);
  cr_expect_eq(sum.by_ph['e'], 1);
  cr_expect_eq(sum.by_ph['s'], 4);
  cr_expect_eq(sum.by_ph['t'], 1);
  cr_expect_eq(sum.by_ph['f'], 4);
  cr_expect_eq(sum.flows_bound_next, 3, "ends before a callback bind to it");
  cr_expect_eq(sum.threads_named, 3);
  cr_expect_eq(sum.processes_named, 1);
  cr_expect_eq(st.events, cJSON_GetArraySize(chrome_events(root)));

  /* Units: ns ticks become us with three decimals. */
  const cJSON *note = chrome_find(root, "i", "note", SAMPLE_POOL2);
  cr_assert_not_null(note);
  cr_expect_float_eq(nget(cJSON_GetObjectItem(note, "ts")), 1234.567, 1e-9);
  cr_expect_str_eq(sget(note, "s"), "t");
  cr_expect_str_eq(arg(note, "text")->valuestring, SAMPLE_NASTY_JSON);
  cr_expect_eq(nget(arg(note, "neg")), -3);
  cr_expect(cJSON_IsTrue(arg(note, "ok")));
  char *text = slurp(json, NULL);
  cr_expect_not_null(strstr(text, "\"ts\":1234.567,"), "3 decimals, no more");
  cr_expect_not_null(strstr(text, "\"ts\":1.000,"), "trailing zeros kept");
  free(text);

  const cJSON *x = chrome_find(root, "X", "fs.stat", SAMPLE_POOL2);
  cr_assert_not_null(x);
  cr_expect_float_eq(nget(cJSON_GetObjectItem(x, "ts")), 2.0, 1e-9);
  cr_expect_float_eq(nget(cJSON_GetObjectItem(x, "dur")), 0.5, 1e-9);

  const cJSON *poll_b = chrome_find(root, "B", "poll", SAMPLE_LOOP);
  const cJSON *poll_e = chrome_find(root, "E", "poll", SAMPLE_LOOP);
  cr_assert(poll_b && poll_e);
  cr_expect_eq(nget(arg(poll_b, "timeout_ms")), 5);
  cr_expect_eq(nget(arg(poll_e, "events")), 1);
  cr_expect_str_eq(sget(poll_b, "cat"), "phase");

  const cJSON *cb = chrome_find(root, "B", "setTimeout", SAMPLE_LOOP);
  cr_assert_not_null(cb);
  cr_expect_str_eq(sget(cb, "cat"), "timer");
  cr_expect_eq(nget(arg(cb, "id")), 7);
  cr_expect_eq(nget(arg(cb, "trigger")), 1);

  const cJSON *elu = chrome_find(root, "C", "elu", SAMPLE_LOOP);
  cr_assert_not_null(elu);
  cr_expect_str_eq(sget(elu, "id"), "0x3");
  cr_expect_float_eq(nget(arg(elu, "value")), 0.5, 1e-12);
  cr_expect_eq(nget(arg(chrome_find(root, "C", "immediates", -1), "value")), 1);

  const cJSON *ab = chrome_find(root, "b", "main", SAMPLE_LOOP);
  cr_assert_not_null(ab);
  cr_expect_str_eq(
      cJSON_GetObjectItem(cJSON_GetObjectItem(ab, "id2"), "local")->valuestring,
      "0x2a");

  const cJSON *lost = chrome_find(root, "i", "lost", SAMPLE_POOL2);
  cr_assert_not_null(lost);
  cr_expect_eq(nget(arg(lost, "count")), SAMPLE_LOST);

  const cJSON *tn = chrome_find(root, "M", "thread_name", SAMPLE_POOL1);
  cr_assert_not_null(tn);
  cr_expect_str_eq(arg(tn, "name")->valuestring, "pool-1");
  const cJSON *pn = chrome_find(root, "M", "process_name", -1);
  cr_assert_not_null(pn);
  cr_expect_str_eq(arg(pn, "name")->valuestring, "sample");

  const cJSON *meta = cJSON_GetObjectItem(root, "metadata");
  cr_expect_str_eq(sget(meta, "program"), "sample-prog");
  cr_expect_str_eq(sget(meta, "source"), "runtime");

  cJSON_Delete(root);
  unlink(trace);
  unlink(json);
  free(trace);
  free(json);
}

/* A TSC-like clock gives exactly the same JSON as a nanosecond clock. */
Test(export, tick_rate_is_converted) {
  char *t1 = tmp_path(".fxt"), *t3 = tmp_path(".fxt");
  char *j1 = tmp_path(".json"), *j3 = tmp_path(".json");
  sample_write(t1, 1000000000);
  sample_write(t3, 3000000000);
  export_file(t1, j1, 0);
  export_file(t3, j3, 0);
  char *a = slurp(j1, NULL), *b = slurp(j3, NULL);
  cr_expect_str_eq(a, b);
  free(a);
  free(b);
  unlink(t1), unlink(t3), unlink(j1), unlink(j3);
  free(t1), free(t3), free(j1), free(j3);
}

Test(export, split_files_each_valid) {
  char *trace = sample_tmp(), *json = tmp_path(".json");
  ls_export_stats whole = export_file(trace, json, 0);
  cJSON *root = json_file(json);
  chrome_summary all;
  chrome_check(root, &all);
  cJSON_Delete(root);

  ls_export_stats st = export_file(trace, json, 1500);
  cr_assert_gt(st.files, 2, "1500-byte parts of a %llu-byte export",
               (unsigned long long)whole.bytes);
  unsigned x = 0, i = 0, c = 0, names = 0;
  for (unsigned part = 0; part < st.files; part++) {
    char path[4200];
    ls_export_part_name(path, sizeof path, json, part);
    cJSON *doc = json_file(path);
    chrome_summary sum;
    /* Flows may cross files; nesting must hold in each. */
    chrome_drop_flows(doc);
    chrome_check(doc, &sum);
    x += sum.by_ph['X'];
    i += sum.by_ph['i'];
    c += sum.by_ph['C'];
    if (part > 0)
      cr_expect_eq(sum.threads_named, 3, "part %u repeats the names", part);
    names += sum.threads_named;
    cJSON_Delete(doc);
    unlink(path);
  }
  cr_expect_eq(x, all.by_ph['X']);
  cr_expect_eq(i, all.by_ph['i']);
  cr_expect_eq(c, all.by_ph['C']);
  tmp_remove(trace);
  free(json);
}

Test(export, part_names) {
  char buf[64];
  ls_export_part_name(buf, sizeof buf, "out.json", 0);
  cr_expect_str_eq(buf, "out.json");
  ls_export_part_name(buf, sizeof buf, "dir.x/out.json", 2);
  cr_expect_str_eq(buf, "dir.x/out.2.json");
  ls_export_part_name(buf, sizeof buf, "dir.x/out", 1);
  cr_expect_str_eq(buf, "dir.x/out.1");
  ls_export_part_name(buf, sizeof buf, ".hidden", 1);
  cr_expect_str_eq(buf, ".hidden.1");
}

Test(export, truncated_trace_exports_whole_records) {
  char *trace = tmp_path(".fxt"), *json = tmp_path(".json");
  sample_write_truncated(trace, 5);
  ls_export_stats st = export_file(trace, json, 0);
  cr_expect_gt(st.dropped_bytes, 0);
  cJSON *root = json_file(json);
  chrome_summary sum;
  chrome_check(root, &sum);
  cr_expect_gt(sum.by_ph['B'], 0);
  cJSON_Delete(root);
  unlink(trace), unlink(json);
  free(trace), free(json);
}

/* Every byte value in a string comes back through cJSON as itself (ASCII)
 * or U+FFFD (a byte that is not valid UTF-8 on its own). */
Test(export, every_byte_escapes) {
  char *trace = tmp_path(".fxt"), *json = tmp_path(".json");
  int fd = open(trace, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, fd, 1000000000, "runtime"), 0);
  for (unsigned b = 1; b < 256; b++) {
    char s[4] = {'<', (char)b, '>', 0};
    ls_event e = {.type = LS_EV_INSTANT, .ts = b, .pid = 1, .tid = 1,
                  .category = "c", .name = s, .nargs = 1};
    e.args[0] = (ls_arg){.name = s, .type = LS_ARG_STRING, .v.s = s};
    cr_assert_eq(ls_writer_event(w, &e), 0);
  }
  cr_assert_eq(ls_writer_close(w), 0);
  close(fd);
  export_file(trace, json, 0);
  cJSON *root = json_file(json);
  const cJSON *e;
  unsigned b = 1;
  cJSON_ArrayForEach(e, chrome_events(root)) {
    char want[8];
    if (b < 0x80)
      snprintf(want, sizeof want, "<%c>", (char)b);
    else
      snprintf(want, sizeof want, "<\xef\xbf\xbd>");
    cr_expect_str_eq(sget(e, "name"), want, "byte 0x%02x", b);
    cr_expect_str_eq(arg(e, want)->valuestring, want, "byte 0x%02x", b);
    b++;
  }
  cr_expect_eq(b, 256);
  cJSON_Delete(root);
  unlink(trace), unlink(json);
  free(trace), free(json);
}

Test(export, unwritable_output_names_the_file) {
  char *trace = sample_tmp();
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open(&r, trace, err, sizeof err), 0);
  cr_expect_eq(ls_export_chrome(r, "/nonexistent-dir/x.json", NULL, NULL, err,
                                sizeof err), -1);
  cr_expect_not_null(strstr(err, "/nonexistent-dir/x.json"), "%s", err);
  ls_reader_close(r);
  tmp_remove(trace);
}

Test(export, full_disk_names_the_file) {
  if (access("/dev/full", W_OK) != 0)
    cr_skip_test("no /dev/full here");
  char *trace = sample_tmp();
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open(&r, trace, err, sizeof err), 0);
  cr_expect_eq(ls_export_chrome(r, "/dev/full", NULL, NULL, err, sizeof err),
               -1);
  cr_expect_not_null(strstr(err, "/dev/full: write failed"), "%s", err);
  ls_reader_close(r);
  tmp_remove(trace);
}

Test(u64map, matches_a_plain_array) {
  enum { N = 5000 };
  static uint64_t val[N];
  static bool in[N];
  ls_u64map m = {0};
  uint64_t seed = 1;
  for (int step = 0; step < 60000; step++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    unsigned k = (unsigned)(seed >> 33) % N;
    uint64_t key = (uint64_t)k * 1024; /* clustered keys stress probing */
    if ((seed >> 20) & 1) {
      bool added;
      uint64_t *v = ls_u64map_put(&m, key, &added);
      cr_assert_not_null(v);
      cr_assert_eq(added, !in[k]);
      *v = val[k] = seed;
      in[k] = true;
    } else {
      cr_assert_eq(ls_u64map_remove(&m, key), in[k]);
      in[k] = false;
    }
  }
  size_t count = 0;
  for (unsigned k = 0; k < N; k++) {
    uint64_t *v = ls_u64map_get(&m, (uint64_t)k * 1024);
    cr_assert_eq(v != NULL, in[k]);
    if (v)
      cr_assert_eq(*v, val[k]);
    count += in[k];
  }
  cr_expect_eq(m.count, count);
  ls_u64map_free(&m);
}
