/* Writes the fuzzer's seed corpus: the hand-built spec fixtures and a small
 * trace from our writer with every record kind. Usage: fuzz_seeds DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../format/fixtures.h"
#include "loopscope/format.h"

static int write_file(const char *dir, const char *name, const void *data,
                      size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.fxt", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    perror(path);
    return -1;
  }
  return 0;
}

static int writer_trace(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/writer.fxt", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ls_writer *w;
  if (fd < 0 || ls_writer_open(&w, fd, 1000000000, "runtime") != 0) {
    perror(path);
    return -1;
  }
  ls_writer_process_name(w, 1, "seed");
  ls_writer_thread_name(w, 1, 2, "loop");
  ls_writer_meta(w, "program", "seed --all");
  for (int t = LS_EV_INSTANT; t <= LS_EV_FLOW_END; t++) {
    ls_event ev = {.type = t, .ts = 10 * t, .pid = 1, .tid = 2 + t % 2,
                   .category = ls_kind_names[t % LS_KIND_COUNT],
                   .name = ls_phase_names[t % LS_PHASE_COUNT], .id = t,
                   .end_ts = 10 * t + 5, .nargs = 4};
    ev.args[0] = (ls_arg){"id", LS_ARG_U64, {.u = UINT64_C(1) << (t * 4)}};
    ev.args[1] = (ls_arg){"d", LS_ARG_DOUBLE, {.d = t * 0.25}};
    ev.args[2] = (ls_arg){"s", LS_ARG_STRING, {.s = "label"}};
    ev.args[3] = (ls_arg){"i", LS_ARG_I64, {.i = -t}};
    ls_writer_event(w, &ev);
  }
  ls_writer_lost(w, 1, 2, 200, 9);
  int rc = ls_writer_close(w);
  close(fd);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  mkdir(argv[1], 0755);
  static fx_buf b;
  for (size_t i = 0; i < fx_count; i++) {
    b.n = 0;
    fx_all[i].build(&b);
    if (write_file(argv[1], fx_all[i].name, b.w, b.n * 8) < 0)
      return 1;
  }
  return writer_trace(argv[1]) < 0 ? 1 : 0;
}
