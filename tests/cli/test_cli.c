/* The loopscope command end to end: exit codes, messages, dump filters,
 * export to stdout, import of hand-written Chrome JSON, record. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sample.h"

#define LS LS_BINARY_DIR "/tracer/cli/loopscope"

/* Runs loopscope with up to ten arguments (the rest NULL). */
#define LS_RUN(out, err, ...)                                           \
  run_cmd((char **)(const char *[]){LS, __VA_ARGS__, NULL}, out, err)

static unsigned count_lines(const char *s) {
  unsigned n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static const char *const commands[] = {"record", "dump",   "export",
                                       "import", "report", "run"};

Test(cli, help_everywhere) {
  char *out;
  cr_expect_eq(LS_RUN(&out, NULL, "--help"), 0);
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    cr_expect_not_null(strstr(out, commands[i]), "--help lists %s", commands[i]);
  free(out);
  cr_expect_eq(LS_RUN(&out, NULL, "--version"), 0);
  cr_expect_not_null(strstr(out, "loopscope "));
  free(out);
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
    cr_expect_eq(LS_RUN(&out, NULL, commands[i], "--help"), 0, "%s --help",
                 commands[i]);
    cr_expect_not_null(strstr(out, "usage: loopscope"), "%s --help: %s",
                       commands[i], out);
    free(out);
    cr_expect_eq(LS_RUN(&out, NULL, "help", commands[i]), 0);
    cr_expect_not_null(strstr(out, commands[i]));
    free(out);
  }
}

Test(cli, bad_usage_exits_2) {
  char *err;
  char *argv[] = {LS, NULL};
  cr_expect_eq(run_cmd(argv, NULL, NULL), 2);
  cr_expect_eq(LS_RUN(NULL, &err, "frobnicate"), 2);
  cr_expect_not_null(strstr(err, "frobnicate"));
  free(err);
  cr_expect_eq(LS_RUN(NULL, NULL, "help", "frobnicate"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "export"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "export", "a.fxt", "b.fxt"), 2);
  cr_expect_eq(LS_RUN(NULL, &err, "export", "a.fxt", "--split-size", "12XB"), 2);
  cr_expect_not_null(strstr(err, "12XB"), "%s", err);
  free(err);
  cr_expect_eq(LS_RUN(NULL, NULL, "export", "a.fxt", "-o", "-", "--split-size", "1MB"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "dump", "a.fxt", "--limit", "lots"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "dump", "a.fxt", "--from", "-3"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "dump", "a.fxt", "--from", "5ms", "--to", "1ms"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "dump", "a.fxt", "--bogus"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "report"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "import"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "record"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "record", "--flight", "zero", "--", "true"), 2);
  cr_expect_eq(LS_RUN(NULL, NULL, "run"), 2);
}

/* Every reading command names the file and says what was wrong. */
Test(cli, bad_files_exit_1_naming_the_file) {
  char *garbage = tmp_path(".fxt"), *stub = tmp_path(".fxt"), *err;
  FILE *f = fopen(garbage, "w");
  fputs("this is not a trace, just some text long enough to look at\n", f);
  fclose(f);
  sample_write(stub, 1000000000);
  cr_assert_eq(truncate(stub, 5), 0); /* not even the magic record */
  const char *files[] = {"/nonexistent/trace.fxt", garbage, stub};
  const char *cmds[] = {"dump", "report", "export"};
  for (size_t i = 0; i < 3; i++) {
    for (size_t c = 0; c < 3; c++) {
      cr_expect_eq(LS_RUN(NULL, &err, cmds[c], files[i], "-o", "/dev/null"),
                   c == 2 ? 1 : 2, "%s %s", cmds[c], files[i]);
      if (c == 2)
        cr_expect_not_null(strstr(err, files[i]), "%s: %s", cmds[c], err);
      free(err);
      if (c == 2)
        continue;
      cr_expect_eq(LS_RUN(NULL, &err, cmds[c], files[i]), 1, "%s %s", cmds[c],
                   files[i]);
      cr_expect_not_null(strstr(err, files[i]), "%s: %s", cmds[c], err);
      free(err);
    }
  }
  cr_expect_eq(LS_RUN(NULL, &err, "import", garbage), 1);
  cr_expect_not_null(strstr(err, garbage), "%s", err);
  cr_expect_not_null(strstr(err, "not valid JSON"), "%s", err);
  free(err);
  unlink(garbage), unlink(stub);
  free(garbage), free(stub);
}

/* A file cut inside a record reads up to its last whole record: a warning
 * with the file, the bytes dropped and where, not a failure. */
Test(cli, truncated_trace_warns) {
  char *path = tmp_path(".fxt"), *out, *err;
  sample_write_truncated(path, 3);
  cr_expect_eq(LS_RUN(&out, &err, "dump", path), 0);
  char want[256];
  snprintf(want, sizeof want, "%s: truncated, ", path);
  cr_expect_not_null(strstr(err, want), "%s", err);
  cr_expect_not_null(strstr(err, " bytes dropped at offset "), "%s", err);
  cr_expect_gt(count_lines(out), 20);
  free(out), free(err);
  cr_expect_eq(LS_RUN(&out, &err, "report", path), 0);
  cr_expect_not_null(strstr(err, want), "%s", err);
  free(out), free(err);
  tmp_remove(path);
}

Test(cli, dump_filters) {
  char *path = sample_tmp(), *out;
  cr_expect_eq(LS_RUN(&out, NULL, "dump", path), 0);
  cr_expect_not_null(strstr(out, "timer/setTimeout id=7") ||
                         strstr(out, "timer/setTimeout"),
                     "%s", out);
  cr_expect_not_null(strstr(out, "LOST"), "%s", out);
  cr_expect_not_null(strstr(out, "loop/1"), "thread names: %s", out);
  free(out);

  cr_expect_eq(LS_RUN(&out, NULL, "dump", path, "--kind", "timer"), 0);
  cr_expect_eq(count_lines(out), 2, "B and E of the timer:\n%s", out);
  cr_expect_not_null(strstr(out, " id=7 trigger=1"), "%s", out);
  free(out);

  cr_expect_eq(LS_RUN(&out, NULL, "dump", path, "--kind", "pool,lost", "--tid", "3"), 0);
  cr_expect_eq(count_lines(out), 3, "orphan E, fs.stat X, LOST:\n%s", out);
  cr_expect_not_null(strstr(out, "dur=500 ns"), "%s", out);
  free(out);

  /* Times count from the first event (500 ns): 4.6..4.9 us is 5100..5400. */
  cr_expect_eq(LS_RUN(&out, NULL, "dump", path, "--tid", "1", "--from", "4.6",
                      "--to", "4900ns"), 0);
  cr_expect_eq(count_lines(out), 1 + 7, "the thread's name and 7 events:\n%s",
               out);
  cr_expect_not_null(strstr(out, "         4.600  loop/1"), "%s", out);
  free(out);

  cr_expect_eq(LS_RUN(&out, NULL, "dump", path, "--limit", "3"), 0);
  cr_expect_eq(count_lines(out), 3);
  free(out);
  tmp_remove(path);
}

Test(cli, export_to_stdout_and_default_name) {
  char *path = sample_tmp(), *out, *err;
  cr_expect_eq(LS_RUN(&out, &err, "export", path, "-o", "-"), 0, "%s", err);
  cJSON *root = cJSON_Parse(out);
  cr_assert_not_null(root, "stdout is JSON");
  chrome_summary sum;
  chrome_check(root, &sum);
  cr_expect_eq(sum.by_ph['X'], 1);
  cJSON_Delete(root);
  free(out), free(err);

  cr_expect_eq(LS_RUN(NULL, &err, "export", path), 0);
  char json[256];
  snprintf(json, sizeof json, "%.*s.json", (int)strlen(path) - 4, path);
  struct stat st;
  cr_expect_eq(stat(json, &st), 0, "default output %s", json);
  cr_expect_not_null(strstr(err, "lost 5 events"), "%s", err);
  free(err);
  unlink(json);

  cr_expect_eq(LS_RUN(NULL, &err, "export", path, "-o", json, "--split-size", "2k"), 0);
  cr_expect_not_null(strstr(err, " files"), "%s", err);
  char part[300];
  snprintf(part, sizeof part, "%.*s.1.json", (int)strlen(path) - 4, path);
  cr_expect_eq(stat(part, &st), 0, "%s", part);
  free(err);
  for (int i = 0; i < 20; i++) {
    if (i == 0)
      unlink(json);
    snprintf(part, sizeof part, "%.*s.%d.json", (int)strlen(path) - 4, path, i);
    unlink(part);
  }
  tmp_remove(path);
}

/* Hand-written Chrome JSON using most of the format: a bare array, E without
 * names, string pid/tid, flows v1 and v2, async with id2, counters, an event
 * type we do not keep. Import, then export again. */
static const char chrome_json[] =
    "[\n"
    " {\"ph\":\"M\",\"name\":\"process_name\",\"pid\":7,\"tid\":0,\"args\":{\"name\":\"browser\"}},\n"
    " {\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":7,\"tid\":1,\"args\":{\"name\":\"main\"}},\n"
    " {\"ph\":\"X\",\"name\":\"task\",\"cat\":\"toplevel\",\"pid\":7,\"tid\":1,\"ts\":10.5,\"dur\":4,"
    "  \"bind_id\":\"0x5\",\"flow_out\":true,\"args\":{\"n\":1,\"nested\":{\"a\":[1,2]}}},\n"
    " {\"ph\":\"B\",\"name\":\"outer\",\"cat\":\"c\",\"pid\":7,\"tid\":1,\"ts\":20},\n"
    " {\"ph\":\"B\",\"name\":\"inner\",\"cat\":\"c\",\"pid\":7,\"tid\":1,\"ts\":21.25},\n"
    " {\"ph\":\"E\",\"pid\":7,\"tid\":1,\"ts\":22},\n"
    " {\"ph\":\"E\",\"pid\":7,\"tid\":1,\"ts\":23,\"args\":{\"ok\":true}},\n"
    " {\"ph\":\"s\",\"name\":\"f\",\"cat\":\"c\",\"id\":9,\"pid\":7,\"tid\":1,\"ts\":21.5},\n"
    " {\"ph\":\"X\",\"name\":\"worker task\",\"cat\":\"c\",\"pid\":\"renderer\",\"tid\":\"worker\",\"ts\":30,\"dur\":2,"
    "  \"bind_id\":\"0x5\",\"flow_in\":true},\n"
    " {\"ph\":\"f\",\"bp\":\"e\",\"name\":\"f\",\"cat\":\"c\",\"id\":9,\"pid\":\"renderer\",\"tid\":\"worker\",\"ts\":31},\n"
    " {\"ph\":\"C\",\"name\":\"heap\",\"pid\":7,\"tid\":1,\"ts\":25,\"args\":{\"used\":1024,\"total\":2048.5}},\n"
    " {\"ph\":\"b\",\"name\":\"fetch\",\"cat\":\"net\",\"pid\":7,\"tid\":1,\"ts\":12,\"id2\":{\"local\":\"0x10\"}},\n"
    " {\"ph\":\"e\",\"name\":\"fetch\",\"cat\":\"net\",\"pid\":7,\"tid\":1,\"ts\":40,\"id2\":{\"local\":\"0x10\"}},\n"
    " {\"ph\":\"I\",\"name\":\"mark\",\"s\":\"g\",\"pid\":7,\"tid\":1,\"ts\":26},\n"
    " {\"ph\":\"P\",\"name\":\"sample\",\"pid\":7,\"tid\":1,\"ts\":27},\n"
    " {\"name\":\"no ph\",\"pid\":7,\"tid\":1,\"ts\":28}\n"
    "]\n";

Test(cli, import_hand_written_chrome_json) {
  char *in = tmp_path(".json"), *fxt = tmp_path(".fxt"), *json = tmp_path(".json");
  char *out, *err;
  FILE *f = fopen(in, "w");
  fputs(chrome_json, f);
  fclose(f);
  cr_assert_eq(LS_RUN(NULL, &err, "import", in, "-o", fxt), 0, "%s", err);
  cr_expect_not_null(strstr(err, "1 of unsupported types skipped"), "%s", err);
  cr_expect_not_null(strstr(err, "1 without ph/ts/id ignored"), "%s", err);
  free(err);

  cr_assert_eq(LS_RUN(&out, &err, "dump", fxt), 0, "%s", err);
  cr_expect_not_null(strstr(out, "meta source=\"import\""), "%s", out);
  cr_expect_not_null(strstr(out, "c/inner"), "%s", out);
  cr_expect_not_null(strstr(out, "\"worker\""), "string tid named:\n%s", out);
  cr_expect_not_null(strstr(out, "nested=\"{\"a\":[1,2]}\""), "%s", out);
  free(out), free(err);

  cr_assert_eq(LS_RUN(NULL, &err, "export", fxt, "-o", json), 0, "%s", err);
  free(err);
  cJSON *root = json_file(json);
  chrome_summary sum;
  chrome_check(root, &sum);
  cr_expect_eq(sum.by_ph['X'], 2);
  cr_expect_eq(sum.by_ph['B'], 2);
  cr_expect_eq(sum.by_ph['E'], 2);
  cr_expect_eq(sum.by_ph['s'], 2, "v1 flow and v2 flow_out");
  cr_expect_eq(sum.by_ph['f'], 2);
  cr_expect_eq(sum.by_ph['C'], 1);
  cr_expect_eq(sum.by_ph['b'], 1);
  cr_expect_eq(sum.by_ph['e'], 1);
  cr_expect_eq(sum.by_ph['i'], 1);
  cr_expect_eq(sum.by_ph['P'], 0);
  const cJSON *inner_e = chrome_find(root, "E", "inner", 1);
  cr_assert_not_null(inner_e, "E got its name from B");
  cr_expect_float_eq(cJSON_GetObjectItem(inner_e, "ts")->valuedouble, 22.0, 1e-9);
  const cJSON *inner_b = chrome_find(root, "B", "inner", 1);
  cr_expect_float_eq(cJSON_GetObjectItem(inner_b, "ts")->valuedouble, 21.25, 1e-9);
  const cJSON *task = chrome_find(root, "X", "task", 1);
  cr_expect_float_eq(cJSON_GetObjectItem(task, "dur")->valuedouble, 4.0, 1e-9);
  const cJSON *heap = chrome_find(root, "C", "heap", 1);
  cr_expect_float_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(heap, "args"), "total")->valuedouble,
                     2048.5, 1e-9);
  cr_expect_not_null(chrome_find(root, "M", "process_name", -1));
  cJSON_Delete(root);
  unlink(in), unlink(fxt), unlink(json);
  free(in), free(fxt), free(json);
}

Test(cli, import_rejects_non_traces) {
  char *in = tmp_path(".json"), *err;
  FILE *f = fopen(in, "w");
  fputs("{\"foo\": 1}", f);
  fclose(f);
  /* Import removes its failed output, but never a device. */
  cr_expect_eq(LS_RUN(NULL, &err, "import", in, "-o", "/dev/null"), 1);
  struct stat st;
  cr_assert_eq(stat("/dev/null", &st), 0);
  cr_assert(S_ISCHR(st.st_mode), "/dev/null is still a device");
  cr_expect_not_null(strstr(err, in), "%s", err);
  cr_expect_not_null(strstr(err, "traceEvents"), "%s", err);
  free(err);
  cr_expect_eq(LS_RUN(NULL, &err, "import", "/nonexistent/x.json"), 1);
  cr_expect_not_null(strstr(err, "/nonexistent/x.json"), "%s", err);
  free(err);
  tmp_remove(in);
}

Test(cli, report_runs) {
  char *path = sample_tmp(), *out;
  cr_expect_eq(LS_RUN(&out, NULL, "report", path), 0);
  cr_expect_not_null(strstr(out, "Lost events: 5"), "%s", out);
  cr_expect_not_null(strstr(out, "setImmediate"), "%s", out);
  free(out);
  tmp_remove(path);
}

/* record sets LOOPSCOPE_TRACE for the program and passes its status back.
 * A stand-in "program" copies a ready trace to $LOOPSCOPE_TRACE. */
Test(cli, record_environment_and_status) {
  char *sample = sample_tmp(), *out = tmp_path(".fxt"), *err;
  char script[512];
  snprintf(script, sizeof script,
           "test \"$LOOPSCOPE_TRACE_MODE\" = flight && "
           "test \"$LOOPSCOPE_TRACE_WINDOW\" = 2.5 && cp %s \"$LOOPSCOPE_TRACE\"",
           sample);
  cr_expect_eq(LS_RUN(NULL, &err, "record", "-o", out, "--flight", "2.5", "--",
                      "sh", "-c", script), 0, "%s", err);
  cr_expect_not_null(strstr(err, " lost"), "%s", err);
  cr_expect_not_null(strstr(err, out), "%s", err);
  free(err);

  snprintf(script, sizeof script, "cp %s \"$LOOPSCOPE_TRACE\"; exit 3", sample);
  cr_expect_eq(LS_RUN(NULL, &err, "record", "-o", out, "--", "sh", "-c", script), 3);
  free(err);

  cr_expect_eq(LS_RUN(NULL, &err, "record", "-o", out, "--", "true"), 1);
  cr_expect_not_null(strstr(err, "was not written"), "%s", err);
  free(err);
  cr_expect_eq(LS_RUN(NULL, &err, "record", "-o", out, "--", "/nonexistent/prog"), 127);
  cr_expect_not_null(strstr(err, "/nonexistent/prog"), "%s", err);
  free(err);

  /* Options end at the program's name: its own --ebpf is its own. */
  snprintf(script, sizeof script, "test \"$0\" = --ebpf && cp %s \"$LOOPSCOPE_TRACE\"",
           sample);
  cr_expect_eq(LS_RUN(NULL, &err, "record", "-o", out, "sh", "-c", script, "--ebpf"),
               0, "%s", err);
  free(err);
  unlink(sample), unlink(out);
  free(sample), free(out);
}

/* `record` options go in any order: --ebpf after an eBPF option still
 * hands them all to the eBPF recorder (which judges the level here, or says
 * it is not built in), and an eBPF option without --ebpf is named. */
Test(cli, record_options_in_any_order) {
  char *err;
  cr_expect_eq(LS_RUN(NULL, &err, "record", "--level", "phases", "--", "true"), 2);
  cr_expect_not_null(strstr(err, "--level is an eBPF option"), "%s", err);
  free(err);
  const char *orders[][6] = {
      {"--level", "most", "--ebpf", "-o", "/dev/null", "--"},
      {"-o", "/dev/null", "--ebpf", "-l", "most", "--"},
      {"--ebpf", "--level=most", "-o", "/dev/null", "--", "true"},
  };
  for (size_t i = 0; i < sizeof orders / sizeof *orders; i++) {
    int rc = LS_RUN(NULL, &err, "record", orders[i][0], orders[i][1],
                    orders[i][2], orders[i][3], orders[i][4], orders[i][5],
                    "true");
    cr_expect(strstr(err, "bad level 'most'") ? rc == 2
                                               : strstr(err, "without eBPF") && rc == 1,
              "order %zu: exit %d, %s", i, rc, err);
    free(err);
  }
}

/* The examples come from the runtime's build; either way a missing one is
 * an error that names it. */
Test(cli, run_unknown_example) {
  char *err;
  cr_expect_eq(LS_RUN(NULL, &err, "run", "no-such-example"), 1);
  cr_expect(strstr(err, "no-such-example") || strstr(err, "no examples there"),
            "%s", err);
  cr_expect_not_null(strstr(err, LS_BINARY_DIR "/runtime/examples"), "%s", err);
  free(err);
  cr_expect_eq(LS_RUN(NULL, NULL, "run", "../etc/passwd"), 1);
}

/* Sets the size field of the 20th record to 0: a corrupt record. */
static void corrupt_20th_record(const char *path) {
  size_t len;
  char *data = slurp(path, &len);
  size_t off = 0;
  for (int i = 0; i < 20; i++) {
    uint64_t h;
    memcpy(&h, data + off, 8);
    off += ((h >> 4) & 0xfff) * 8;
    cr_assert_lt(off + 8, len);
  }
  uint64_t h;
  memcpy(&h, data + off, 8);
  h &= ~((uint64_t)0xfff << 4);
  int fd = open(path, O_WRONLY);
  cr_assert_eq(pwrite(fd, &h, 8, (off_t)off), 8);
  close(fd);
  free(data);
}

/* A corrupt record stops reading with the file, the offset and what was
 * wrong; what came before is still exported as valid JSON. */
Test(cli, corrupt_record_is_an_error) {
  char *path = sample_tmp(), *json = tmp_path(".json"), *out, *err;
  corrupt_20th_record(path);
  cr_expect_eq(LS_RUN(NULL, &err, "export", path, "-o", json), 1);
  cr_expect_not_null(strstr(err, path), "%s", err);
  cr_expect_not_null(strstr(err, "offset"), "%s", err);
  free(err);
  cJSON_Delete(json_file(json)); /* what was written so far is valid */
  cr_expect_eq(LS_RUN(&out, &err, "dump", path), 1);
  cr_expect_not_null(strstr(err, path), "%s", err);
  free(out), free(err);
  cr_expect_eq(LS_RUN(&out, &err, "report", path), 1);
  cr_expect_not_null(strstr(err, "offset"), "%s", err);
  free(out), free(err);
  unlink(path), unlink(json);
  free(path), free(json);
}
