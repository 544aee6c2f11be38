/* Import of a real trace that node writes during the test: node's
 * --trace-event-categories output (X, B/E, b/e with string ids, I, M with
 * names written last), then dump, report and export it back. Runs node:
 * labelled novalgrind, since valgrind --trace-children would run node too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sample.h"

#define LS LS_BINARY_DIR "/tracer/cli/loopscope"
#define RUN(out, err, ...) \
  run_cmd((char **)(const char *[]){__VA_ARGS__, NULL}, out, err)

static const char script[] =
    "const fs = require('fs');"
    "setTimeout(() => {"
    "  Promise.resolve(1).then(() => fs.readFile(process.execPath, () => {"
    "    setImmediate(() => {});"
    "  }));"
    "}, 2);"
    "setImmediate(() => fs.stat('/', () => {}));";

static unsigned count_ph(const cJSON *root, const char *ph) {
  unsigned n = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, chrome_events(root)) {
    const cJSON *p = cJSON_GetObjectItem(e, "ph");
    n += cJSON_IsString(p) && strcmp(p->valuestring, ph) == 0;
  }
  return n;
}

Test(cli_node, import_real_node_trace) {
  char dir[] = "/tmp/ls-node-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char json[64], fxt[64], back[64];
  snprintf(json, sizeof json, "%s/t.json", dir);
  snprintf(fxt, sizeof fxt, "%s/t.fxt", dir);
  snprintf(back, sizeof back, "%s/back.json", dir);
  char *out, *err;
  cr_assert_eq(RUN(NULL, &err, "node", "--trace-event-categories",
                   "node,node.async_hooks,v8", "--trace-event-file-pattern",
                   json, "-e", script),
               0, "node: %s", err);
  free(err);

  cr_assert_eq(RUN(NULL, &err, LS, "import", json, "-o", fxt), 0, "%s", err);
  cr_expect_not_null(strstr(err, "wrote"), "%s", err);
  free(err);

  cr_assert_eq(RUN(&out, &err, LS, "dump", fxt), 0, "%s", err);
  cr_expect_not_null(strstr(out, "JavaScriptMainThread"), "thread names");
  cr_expect_not_null(strstr(out, "node.async_hooks/Timeout"), "%.2000s", out);
  cr_expect_not_null(strstr(out, "meta source=\"import\""), "%.500s", out);
  free(out), free(err);

  cr_assert_eq(RUN(&out, &err, LS, "dump", fxt, "--kind", "node.fs.async"), 0);
  cr_expect_not_null(strstr(out, "/stat"), "fs.stat seen: %s", out);
  free(out), free(err);

  cr_assert_eq(RUN(&out, &err, LS, "report", fxt), 0, "%s", err);
  free(out), free(err);

  cr_assert_eq(RUN(NULL, &err, LS, "export", fxt, "-o", back), 0, "%s", err);
  free(err);
  cJSON *orig = json_file(json), *again = json_file(back);
  chrome_summary sum;
  chrome_check(again, &sum);
  const char *kept[] = {"X", "b", "e", "B", "E"};
  for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
    cr_expect_eq(count_ph(again, kept[i]), count_ph(orig, kept[i]),
                 "ph %s survives the round trip", kept[i]);
  /* node writes "I"; we write its equivalent "i". */
  cr_expect_eq(count_ph(again, "i"), count_ph(orig, "I") + count_ph(orig, "i"));
  cr_expect_gt(sum.threads_named, 0);
  cr_expect_gt(count_ph(orig, "X"), 0, "node wrote complete events");

  cr_assert_eq(RUN(&out, &err, "node", LS_SOURCE_DIR "/tests/export/check_chrome.js", back),
               0, "JSON.parse check: %s", err);
  free(out), free(err);
  cJSON_Delete(orig);
  cJSON_Delete(again);
  unlink(json), unlink(fxt), unlink(back);
  rmdir(dir);
}
