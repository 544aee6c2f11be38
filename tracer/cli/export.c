/* loopscope export: a trace to Chrome Trace Event JSON (tracer/export). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "loopscope/export.h"

static void help(void) {
  printf(
      "usage: loopscope export TRACE [-o OUT.json] [--split-size SIZE] [-q]\n"
      "\n"
      "Writes TRACE as Chrome Trace Event JSON, which Perfetto\n"
      "(ui.perfetto.dev) and chrome://tracing open. The export is streamed:\n"
      "memory stays small whatever the trace size.\n"
      "\n"
      "  -o, --output FILE     output file, '-' for stdout (default: TRACE\n"
      "                        with .json instead of .fxt)\n"
      "  -s, --split-size SIZE start a new file past SIZE (e.g. 256MB):\n"
      "                        OUT.json, OUT.1.json, ... each valid on its own\n"
      "  -q, --quiet           no summary on stderr\n"
      "  -h, --help            this help\n"
      "\n"
      "Slices are B/E pairs per thread, flows are s/f events (cat \"flow\"),\n"
      "counters C, instants i, awaits and backpressure b/e, names M. Without\n"
      "--split-size, a warning is printed past 256 MB (chrome://tracing fails\n"
      "on larger files).\n");
}

static void on_progress(void *ctx, uint64_t done, uint64_t total) {
  ls_cli_progress_update(ctx, done, total);
}

static void on_warn_size(void *ctx, const char *path, uint64_t bytes) {
  ls_cli_progress_done(ctx);
  fprintf(stderr,
          "loopscope export: warning: %s is over %llu MB; chrome://tracing "
          "may not load it (use --split-size 256MB)\n",
          path, (unsigned long long)(bytes >> 20));
}

static int split_option(void *ctx, int c, const char *arg) {
  (void)c; /* 's', the only one */
  if (!ls_cli_parse_size(arg, ctx))
    return ls_cli_usage("export", "bad --split-size '%s' (e.g. 256MB)", arg);
  return 0;
}

int ls_cmd_export(int argc, char **argv) {
  static const struct option longopts[] = {
      {"output", required_argument, NULL, 'o'},
      {"split-size", required_argument, NULL, 's'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {0}};
  uint64_t split = 0;
  ls_cli_convert cl = {.cmd = "export", .in_what = "TRACE", .in_ext = ".fxt",
                       .out_ext = ".json", .help = help, .shortopts = "o:s:qh",
                       .longopts = longopts, .own_option = split_option,
                       .ctx = &split};
  int rc = ls_cli_parse_convert(&cl, argc, argv);
  if (rc >= 0)
    return rc;
  const char *trace = cl.in, *out = cl.out;
  char *def = cl.default_out;
  if (split && strcmp(out, "-") == 0) {
    free(def);
    return ls_cli_usage("export", "--split-size needs an output file");
  }

  ls_reader *r;
  if (ls_cli_open_trace("export", trace, &r)) {
    free(def);
    return 1;
  }
  ls_cli_progress progress;
  ls_cli_progress_init(&progress, "export", strcmp(out, "-") == 0);
  ls_export_opts opts = {.split_bytes = split,
                         .progress = on_progress,
                         .progress_ctx = &progress,
                         .warn_size = on_warn_size};
  ls_export_stats st;
  char err[1024];
  rc = ls_export_chrome(r, out, &opts, &st, err, sizeof err);
  ls_cli_progress_done(&progress);
  /* Read errors are in err; this warns about a torn tail, or fails a file
   * with no whole record at all. */
  int trc = ls_cli_finish_trace("export", trace, r, LS_FMT_OK);
  if (rc != 0) {
    ls_cli_fail("export", "%s", err);
  } else if (trc != 0) {
    rc = trc;
  } else if (!cl.quiet) {
    fprintf(stderr, "loopscope export: wrote %s%s: %llu events, %llu bytes",
            strcmp(out, "-") == 0 ? "<stdout>" : out,
            st.files > 1 ? " (+ parts)" : "",
            (unsigned long long)st.events, (unsigned long long)st.bytes);
    if (st.files > 1)
      fprintf(stderr, " in %u files", st.files);
    if (st.lost)
      fprintf(stderr, "; the trace lost %llu events",
              (unsigned long long)st.lost);
    fputc('\n', stderr);
    if (st.unmatched_ends || st.closed_at_end)
      fprintf(stderr,
              "loopscope export: %llu slice ends without a begin dropped, "
              "%llu slices still open at the end closed\n",
              (unsigned long long)st.unmatched_ends,
              (unsigned long long)st.closed_at_end);
  }
  ls_reader_close(r);
  free(def);
  return rc == 0 ? 0 : 1;
}
