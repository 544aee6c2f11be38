/* The exported JSON as node's JSON.parse sees it. Runs node: labelled
 * novalgrind, since valgrind --trace-children would run node under it. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopscope/export.h"
#include "sample.h"

Test(export_node, json_parse_agrees_with_cjson) {
  char *trace = sample_tmp(), *json = tmp_path(".json");
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open(&r, trace, err, sizeof err), 0, "%s", err);
  cr_assert_eq(ls_export_chrome(r, json, NULL, NULL, err, sizeof err), 0);
  ls_reader_close(r);

  char *out, *errs;
  char *argv[] = {"node", LS_SOURCE_DIR "/tests/export/check_chrome.js", json,
                  NULL};
  cr_assert_eq(run_cmd(argv, &out, &errs), 0, "node: %s", errs);
  cJSON *counts = cJSON_Parse(out);
  cr_assert_not_null(counts, "node printed: %s", out);

  cJSON *root = json_file(json);
  chrome_summary sum;
  chrome_check(root, &sum);
  const cJSON *c;
  unsigned total = 0;
  cJSON_ArrayForEach(c, counts) {
    cr_expect_eq((unsigned)c->valueint, sum.by_ph[(unsigned char)c->string[0]],
                 "ph %s", c->string);
    total += (unsigned)c->valueint;
  }
  cr_expect_eq(total, (unsigned)cJSON_GetArraySize(chrome_events(root)));
  cJSON_Delete(root);
  cJSON_Delete(counts);
  free(out), free(errs);
  unlink(trace), unlink(json);
  free(trace), free(json);
}
