/* Damaged files: truncation at every offset, corruption at every offset,
 * garbage, empty files, and the exact error messages. */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/* A small trace of about 50 records using every kind of record we write. */
static uint8_t *small_trace(size_t *len) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  cr_assert_eq(ls_writer_process_name(w, 10, "demo"), 0);
  cr_assert_eq(ls_writer_thread_name(w, 10, 11, "loop"), 0);
  for (unsigned i = 0; i < 4; i++) {
    ls_event ev = {.type = LS_EV_BEGIN, .ts = 100 * i, .pid = 10, .tid = 11,
                   .category = LS_CAT_LOOP, .name = "iteration", .nargs = 1};
    ev.args[0] = (ls_arg){.name = "n", .type = LS_ARG_U64, .v.u = i};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
    ev = (ls_event){.type = LS_EV_FLOW_END, .ts = 100 * i + 1, .pid = 10,
                    .tid = 11 + i % 2, .category = "flow", .name = "timer",
                    .id = i};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
    ev = (ls_event){.type = LS_EV_COMPLETE, .ts = 100 * i + 2, .pid = 10,
                    .tid = 11, .category = ls_kind_names[i], .name = "cb",
                    .end_ts = 100 * i + 9, .nargs = 3};
    ev.args[0] = (ls_arg){.name = "id", .type = LS_ARG_U64, .v.u = 1ull << 40};
    ev.args[1] = (ls_arg){.name = "label", .type = LS_ARG_STRING, .v.s = "x"};
    ev.args[2] = (ls_arg){.name = "d", .type = LS_ARG_DOUBLE, .v.d = 0.5};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
    ev = (ls_event){.type = LS_EV_COUNTER, .ts = 100 * i + 3, .pid = 10,
                    .tid = 11, .category = LS_CAT_COUNTER, .name = "timers",
                    .id = 0, .nargs = 1};
    ev.args[0] = (ls_arg){.name = "value", .type = LS_ARG_I64, .v.i = -1};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
    ev = (ls_event){.type = LS_EV_END, .ts = 100 * i + 10, .pid = 10,
                    .tid = 11, .category = LS_CAT_LOOP, .name = "iteration"};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
  }
  cr_assert_eq(ls_writer_lost(w, 10, 11, 500, 3), 0);
  cr_assert_eq(ls_writer_close(w), 0);
  uint8_t *bytes = file_bytes(fd, len);
  close(fd);
  return bytes;
}

/* Offsets where records end, found from the headers (the test trusts its own
 * writer's sizes). */
static size_t record_ends(const uint8_t *p, size_t len, size_t *ends) {
  size_t n = 0;
  for (size_t pos = 0; pos < len;) {
    uint64_t h;
    memcpy(&h, p + pos, 8);
    pos += ((h >> 4) & 0xfff) * 8;
    ends[n++] = pos;
  }
  cr_assert_eq(ends[n - 1], len);
  return n;
}

/* Reads everything; returns the status that ended the read. */
static int read_all(ls_reader *r, unsigned *records, uint64_t *ends) {
  ls_record rec;
  int rc;
  *records = 0;
  while ((rc = ls_reader_next(r, &rec)) == LS_FMT_OK) {
    if (ends != NULL)
      ends[*records] = ls_reader_offset(r);
    ++*records;
  }
  return rc;
}

Test(truncate, at_every_offset) {
  size_t len;
  uint8_t *full = small_trace(&len);
  size_t ends[256];
  size_t nrec = record_ends(full, len, ends);
  cr_assert_geq(nrec, 40, "a trace of ~50 records (got %zu)", nrec);

  /* What a whole read returns, and where each returned record ends. */
  ls_reader *r;
  cr_assert_eq(ls_reader_open_mem(&r, full, len, NULL, 0), 0);
  uint64_t returned_end[256];
  unsigned total;
  cr_assert_eq(read_all(r, &total, returned_end), LS_FMT_EOF);
  ls_reader_close(r);

  for (size_t cut = 0; cut <= len; cut++) {
    /* An exact-size copy, so a read past the end is a sanitizer error. */
    uint8_t *part = malloc(cut ? cut : 1);
    memcpy(part, full, cut);
    char err[256];
    int rc = ls_reader_open_mem(&r, part, cut, err, sizeof err);
    if (cut == 0) {
      cr_assert_eq(rc, LS_FMT_ENOTTRACE);
      cr_assert_str_eq(err, "<memory>: empty file: not a loopscope/FXT trace "
                            "(no FXT magic record at offset 0)");
      free(part);
      continue;
    }
    cr_assert_eq(rc, 0, "cut %zu: %s", cut, err);
    unsigned got;
    cr_assert_eq(read_all(r, &got, NULL), LS_FMT_EOF, "cut %zu: %s", cut,
                 ls_reader_error(r));
    unsigned want = 0;
    while (want < total && returned_end[want] <= cut)
      want++;
    size_t whole = 0;
    for (size_t k = 0; k < nrec && ends[k] <= cut; k++)
      whole = ends[k];
    cr_assert_eq(got, want, "cut %zu: %u records, want %u", cut, got, want);
    cr_assert_eq(ls_reader_dropped(r), cut - whole, "cut %zu", cut);
    ls_reader_close(r);
    free(part);
  }
  free(full);
}

/* Any damage gives records and then EOF, or a clean error with an offset. */
static void read_damaged(const uint8_t *bytes, size_t len, const char *what,
                         size_t where) {
  uint8_t *copy = malloc(len);
  memcpy(copy, bytes, len);
  ls_reader *r;
  char err[256];
  int rc = ls_reader_open_mem(&r, copy, len, err, sizeof err);
  if (rc != 0) {
    cr_assert_eq(rc, LS_FMT_ENOTTRACE, "%s at %zu: %d", what, where, rc);
    cr_assert_lt(where, 8, "only damage to the magic makes a non-trace");
    free(copy);
    return;
  }
  unsigned got;
  rc = read_all(r, &got, NULL);
  cr_assert_leq(got, len / 8, "every record takes at least one word");
  if (rc != LS_FMT_EOF) {
    cr_assert_eq(rc, LS_FMT_ECORRUPT, "%s at %zu: %d", what, where, rc);
    cr_assert(strncmp(ls_reader_error(r), "<memory>: offset ", 17) == 0,
              "%s", ls_reader_error(r));
    cr_assert_eq(ls_reader_next(r, &(ls_record){0}), LS_FMT_ECORRUPT,
                 "errors are sticky");
  }
  ls_reader_close(r);
  free(copy);
}

Test(corrupt, every_byte) {
  size_t len;
  uint8_t *full = small_trace(&len);
  static const uint8_t patterns[] = {0xff, 0x01, 0x80, 0x5a};
  for (size_t at = 0; at < len; at++)
    for (size_t k = 0; k < sizeof patterns; k++) {
      full[at] ^= patterns[k];
      read_damaged(full, len, "xor", at);
      full[at] ^= patterns[k];
    }
  free(full);
}

/* Record and argument size fields set to 0, 1 and their maximum. */
Test(corrupt, size_fields) {
  size_t len;
  uint8_t *full = small_trace(&len);
  static const uint64_t sizes[] = {0, 1, 2, 0xfff};
  for (size_t at = 0; at + 8 <= len; at += 8) {
    uint64_t saved;
    memcpy(&saved, full + at, 8);
    for (size_t k = 0; k < 4; k++) {
      uint64_t h = (saved & ~(UINT64_C(0xfff) << 4)) | sizes[k] << 4;
      memcpy(full + at, &h, 8);
      read_damaged(full, len, "size", at);
    }
    memcpy(full + at, &saved, 8);
  }
  free(full);
}

static void put(uint8_t *buf, size_t *len, uint64_t word) {
  memcpy(buf + *len, &word, 8);
  *len += 8;
}

#define MAGIC UINT64_C(0x0016547846040010)

/* Reading a magic record then `words` stops at the second record with an
 * error that says `want`. */
static void expect_corrupt(const uint64_t *words, size_t n, const char *want) {
  uint8_t buf[64];
  size_t len = 0;
  put(buf, &len, MAGIC);
  for (size_t i = 0; i < n; i++)
    put(buf, &len, words[i]);
  ls_reader *r;
  cr_assert_eq(ls_reader_open_mem(&r, buf, len, NULL, 0), 0);
  ls_record rec;
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_ECORRUPT);
  cr_assert(strstr(ls_reader_error(r), want), "%s", ls_reader_error(r));
  ls_reader_close(r);
}

Test(errors, undefined_string) {
  /* instant event, 4 words (inline thread), category string index 37 */
  static const uint64_t rec[] = {4 | 4 << 4 | (uint64_t)37 << 32, 1, 2, 3};
  expect_corrupt(rec, 4, "<memory>: offset 8: event record refers to string "
                         "index 37, which was never defined");
}

Test(errors, undefined_thread) {
  static const uint64_t rec[] = {4 | 2 << 4 | (uint64_t)9 << 24, 1};
  expect_corrupt(rec, 2, "<memory>: offset 8: event record refers to thread "
                         "index 9, which was never defined");
}

Test(errors, zero_size_record) {
  static const uint64_t rec[] = {0x4};
  expect_corrupt(rec, 1, "<memory>: offset 8: record header "
                         "0x0000000000000004 has size 0");
}

Test(errors, zero_tick_rate) {
  static const uint64_t rec[] = {1 | 2 << 4, 0};
  expect_corrupt(rec, 2, "0 ticks per second");
}

static char *temp_file(const void *data, size_t len) {
  char *path = strdup("/tmp/ls-format-test-XXXXXX");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, data, len), (ssize_t)len);
  close(fd);
  return path;
}

Test(errors, garbage_file) {
  static const char text[] = "{\"traceEvents\": []}\n";
  char *path = temp_file(text, sizeof text - 1);
  ls_reader *r;
  char err[512], want[512];
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof err), LS_FMT_ENOTTRACE);
  snprintf(want, sizeof want,
           "%s: not a loopscope/FXT trace (no FXT magic record at offset 0)",
           path);
  cr_assert_str_eq(err, want);
  cr_assert_null(r);
  unlink(path);
  free(path);
}

Test(errors, empty_file) {
  char *path = temp_file("", 0);
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof err), LS_FMT_ENOTTRACE);
  cr_assert(strstr(err, "empty file") != NULL, "%s", err);
  unlink(path);
  free(path);
}

Test(errors, only_magic) {
  uint64_t magic = MAGIC;
  char *path = temp_file(&magic, 8);
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open(&r, path, err, sizeof err), 0, "%s", err);
  ls_record rec;
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_EOF);
  cr_assert_eq(ls_reader_dropped(r), 0);
  cr_assert_eq(ls_reader_info(r)->ticks_per_second, 1000000000,
               "without an init record 1 tick is 1 ns");
  cr_assert_str_eq(ls_reader_info(r)->source, "");
  ls_reader_close(r);
  unlink(path);
  free(path);
}

Test(errors, big_endian_trace) {
  uint64_t magic = __builtin_bswap64(MAGIC);
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open_mem(&r, &magic, 8, err, sizeof err),
               LS_FMT_ENOTTRACE);
  cr_assert(strstr(err, "big-endian") != NULL, "%s", err);
}

Test(errors, missing_and_directory) {
  ls_reader *r;
  char err[512];
  cr_assert_eq(ls_reader_open(&r, "/nonexistent/t.fxt", err, sizeof err),
               -ENOENT);
  cr_assert_str_eq(err, "/nonexistent/t.fxt: No such file or directory");
  cr_assert_eq(ls_reader_open(&r, "/tmp", err, sizeof err), -EISDIR);
  cr_assert_str_eq(err, "/tmp: Is a directory");
}
