/* loopscope import: Chrome Trace Event JSON to a trace (tracer/export). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "loopscope/export.h"

static void help(void) {
  printf(
      "usage: loopscope import IN.json [-o OUT.fxt] [-q]\n"
      "\n"
      "Converts a Chrome Trace Event JSON file (Chrome, Perfetto's JSON\n"
      "export, node --trace-event-categories ...) into a loopscope trace with\n"
      "source \"import\", for 'loopscope view', 'report' and 'dump'.\n"
      "Accepts {\"traceEvents\": [...]} or a bare array; B/E/X/i/I/C/M/b/e/n/\n"
      "s/t/f events (and flow v2 bind_id); ts in microseconds; pid and tid\n"
      "as numbers or strings. Other event types are counted and skipped.\n"
      "\n"
      "  -o, --output FILE  output trace (default: IN with .fxt for .json)\n"
      "  -q, --quiet        no summary on stderr\n"
      "  -h, --help         this help\n");
}

static int convert(const char *in, const char *out, bool quiet) {
  int ifd = open(in, O_RDONLY | O_CLOEXEC);
  if (ifd < 0)
    return ls_cli_fail("import", "%s: %s", in, strerror(errno));
  struct stat st;
  if (fstat(ifd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(ifd);
    return ls_cli_fail("import", "%s: not a regular file", in);
  }
  if (st.st_size == 0) {
    close(ifd);
    return ls_cli_fail("import", "%s: empty file", in);
  }
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, ifd, 0);
  close(ifd);
  if (map == MAP_FAILED)
    return ls_cli_fail("import", "%s: %s", in, strerror(errno));
  int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (ofd < 0) {
    munmap(map, (size_t)st.st_size);
    return ls_cli_fail("import", "%s: cannot create: %s", out,
                       strerror(errno));
  }
  /* Only a regular file we made may be removed on failure: never a device
   * such as /dev/null, which root could otherwise delete. */
  struct stat ost;
  bool removable = fstat(ofd, &ost) == 0 && S_ISREG(ost.st_mode);
  ls_import_stats is;
  char err[1024];
  int rc = ls_import_chrome(map, (size_t)st.st_size, in, ofd, &is, err,
                            sizeof err);
  munmap(map, (size_t)st.st_size);
  if (close(ofd) != 0 && rc == 0)
    snprintf(err, sizeof err, "%s: %s", out, strerror(errno)), rc = -1;
  if (rc != 0) {
    if (removable)
      unlink(out); /* no half-written trace left behind */
    return ls_cli_fail("import", "%s", err);
  }
  if (!quiet) {
    fprintf(stderr,
            "loopscope import: wrote %s: %llu of %llu JSON events as %llu "
            "trace events, %llu names",
            out, (unsigned long long)(is.events - is.skipped - is.bad),
            (unsigned long long)is.events, (unsigned long long)is.written,
            (unsigned long long)is.names);
    if (is.skipped)
      fprintf(stderr, "; %llu of unsupported types skipped",
              (unsigned long long)is.skipped);
    if (is.bad)
      fprintf(stderr, "; %llu without ph/ts/id ignored",
              (unsigned long long)is.bad);
    if (is.args_cut)
      fprintf(stderr, "; %llu args beyond 15 per event dropped",
              (unsigned long long)is.args_cut);
    fputc('\n', stderr);
  }
  return 0;
}

int ls_cmd_import(int argc, char **argv) {
  static const struct option longopts[] = {
      {"output", required_argument, NULL, 'o'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {0}};
  ls_cli_convert cl = {.cmd = "import", .in_what = "JSON", .in_ext = ".json",
                       .out_ext = ".fxt", .help = help, .shortopts = "o:qh",
                       .longopts = longopts};
  int rc = ls_cli_parse_convert(&cl, argc, argv);
  if (rc >= 0)
    return rc;
  rc = convert(cl.in, cl.out, cl.quiet);
  free(cl.default_out);
  return rc;
}
