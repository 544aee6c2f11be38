/* Shared helpers of the format tests: a writer on an in-memory file and a
 * reader over the same bytes. */
#ifndef LS_TEST_FORMAT_HELPERS_H
#define LS_TEST_FORMAT_HELPERS_H

#define _GNU_SOURCE /* memfd_create */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loopscope/format.h"

/* A writer on a fresh memfd (1 tick = 1 ns, source "runtime"). */
static inline ls_writer *mem_writer(int *fd) {
  *fd = memfd_create("trace", MFD_CLOEXEC);
  cr_assert(*fd >= 0);
  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, *fd, 1000000000, "runtime"), 0);
  return w;
}

/* Every byte written to fd, in a malloc'd buffer. */
static inline uint8_t *file_bytes(int fd, size_t *len) {
  off_t end = lseek(fd, 0, SEEK_END);
  cr_assert(end >= 0);
  uint8_t *buf = malloc((size_t)end + 1);
  cr_assert(buf != NULL);
  cr_assert_eq(pread(fd, buf, (size_t)end, 0), end);
  *len = (size_t)end;
  return buf;
}

/* Closes the writer and opens a reader on the file by path, so the mmap path
 * is the one tested. */
static inline ls_reader *close_and_read(ls_writer *w, int fd) {
  cr_assert_eq(ls_writer_close(w), 0);
  char path[64], err[256];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ls_reader *r;
  int rc = ls_reader_open(&r, path, err, sizeof err);
  cr_assert_eq(rc, 0, "open: %s", err);
  return r;
}

/* Closes the reader of close_and_read and its file. */
static inline void close_read(ls_reader *r, int fd) {
  ls_reader_close(r);
  close(fd);
}

/* Next record of the wanted kind, skipping the others; false at EOF. */
static inline bool next_of(ls_reader *r, ls_record *rec, ls_record_kind kind) {
  for (;;) {
    int rc = ls_reader_next(r, rec);
    if (rc == LS_FMT_EOF)
      return false;
    cr_assert_eq(rc, LS_FMT_OK, "%s", ls_reader_error(r));
    if (rec->kind == kind)
      return true;
  }
}

#endif
