/* Test helpers shared by tests/export and tests/cli: a small trace with every
 * kind of record whose contents the tests know, and a checker for Chrome JSON.
 */
#ifndef LS_TEST_SAMPLE_H
#define LS_TEST_SAMPLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loopscope/format.h"

#define SAMPLE_PID 100
#define SAMPLE_LOOP 1 /* tid of the loop thread */
#define SAMPLE_POOL1 2
#define SAMPLE_POOL2 3
#define SAMPLE_LOST 5            /* lost events on pool-2 */
#define SAMPLE_UNMATCHED_ENDS 1  /* an end with no begin on pool-2 */
#define SAMPLE_OPEN_AT_END 1     /* a slice pool-1 never ends */
/* A string argument that needs every kind of escaping, with one invalid
 * UTF-8 byte (0xff) that the export turns into U+FFFD. */
#define SAMPLE_NASTY "q\"b\\n\nt\tc\x01 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 x\xff"
#define SAMPLE_NASTY_JSON "q\"b\\n\nt\tc\x01 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 x\xef\xbf\xbd"

/* Writes the sample trace (times in ns, stored as ticks at tps) to path. */
void sample_write(const char *path, uint64_t tps);
/* Writes a trace cut `cut` bytes short. */
void sample_write_truncated(const char *path, size_t cut);

/* Reads a whole file (NUL-terminated); aborts the test on failure. */
char *slurp(const char *path, size_t *len);
/* Parses a whole file as JSON; aborts the test if it is not. cJSON_Delete
 * the result. */
cJSON *json_file(const char *path);
/* A fresh temporary path (file removed); free() it, or tmp_remove it. */
char *tmp_path(const char *suffix);
/* A temporary file holding the sample trace (1 tick = 1 ns). */
char *sample_tmp(void);
/* Removes the file and frees its path. */
void tmp_remove(char *path);

/* What a Chrome JSON document holds, after checking that B/E nest per
 * thread (names match, times do not go backwards) and that every flow end
 * has its start. Fails the test (cr_assert) otherwise. */
typedef struct chrome_summary {
  unsigned by_ph[128];
  unsigned flows_bound_next; /* "f" without bp: bound to the next slice */
  unsigned threads_named, processes_named;
} chrome_summary;
void chrome_check(const cJSON *root, chrome_summary *sum);
const cJSON *chrome_events(const cJSON *root);
/* Removes the flow events (s, t, f): for documents where a flow's two ends
 * may legitimately be apart (split files, a flight-recorder window). */
void chrome_drop_flows(cJSON *root);
/* The first event with this ph and name (and tid, unless tid < 0). */
const cJSON *chrome_find(const cJSON *root, const char *ph, const char *name,
                         long tid);

/* Runs argv (argv[0] found on PATH or a path), stdin from /dev/null, stdout
 * and stderr into the returned buffers (may be NULL). Returns the exit code,
 * or 128 + signal. */
int run_cmd(char *const argv[], char **out, char **err);

#endif
