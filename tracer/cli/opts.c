#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void vsay(const char *cmd, const char *fmt, va_list ap) {
  fprintf(stderr, "loopscope%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

int ls_cli_usage(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(cmd, fmt, ap);
  va_end(ap);
  fprintf(stderr, "Try 'loopscope %s --help'.\n", cmd ? cmd : "");
  return 2;
}

int ls_cli_fail(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(cmd, fmt, ap);
  va_end(ap);
  return 1;
}

const struct option ls_cli_trace_longopts[] = {
    {"pid", required_argument, NULL, 'p'},        /* attach */
    {"output", required_argument, NULL, 'o'},     /* all */
    {"duration", required_argument, NULL, 'd'},   /* eBPF */
    {"level", required_argument, NULL, 'l'},      /* eBPF */
    {"threshold-ms", required_argument, NULL, 't'}, /* eBPF */
    {"flight", required_argument, NULL, 'F'},     /* record on the runtime */
    {"ebpf", no_argument, NULL, 'e'},             /* record */
    {"help", no_argument, NULL, 'h'},
    {0}};

/* IN.in_ext -> IN.out_ext; any other name gets out_ext appended. */
static char *swap_ext(const char *in, const char *in_ext, const char *out_ext) {
  size_t n = strlen(in), ni = strlen(in_ext), no = strlen(out_ext);
  char *out = malloc(n + no + 1);
  if (!out)
    return NULL;
  if (n > ni && strcmp(in + n - ni, in_ext) == 0)
    n -= ni;
  memcpy(out, in, n);
  memcpy(out + n, out_ext, no + 1);
  return out;
}

int ls_cli_parse_convert(ls_cli_convert *c, int argc, char **argv) {
  int opt, rc;
  c->out = NULL;
  c->quiet = false;
  c->default_out = NULL;
  optind = 1;
  while ((opt = getopt_long(argc, argv, c->shortopts, c->longopts, NULL)) != -1) {
    switch (opt) {
    case 'o':
      c->out = optarg;
      break;
    case 'q':
      c->quiet = true;
      break;
    case 'h':
      c->help();
      return 0;
    case '?':
      return ls_cli_usage(c->cmd, "unknown option");
    default: /* a letter of shortopts beyond o, q and h */
      if ((rc = c->own_option(c->ctx, opt, optarg)))
        return rc;
    }
  }
  if (optind != argc - 1)
    return ls_cli_usage(c->cmd, "expected one %s file", c->in_what);
  c->in = argv[optind];
  if (!c->out &&
      !(c->out = c->default_out = swap_ext(c->in, c->in_ext, c->out_ext)))
    return ls_cli_fail(c->cmd, "out of memory");
  return -1;
}

/* A unit and what it multiplies by. */
typedef struct unit {
  const char *name;
  double mult;
} unit;

/* "1.5ms" with a unit from the table (compared as `cmp` does) -> 1.5e6.
 * The number must be finite and >= 0. */
static bool scaled(const char *s, const unit *units, size_t n,
                   int (*cmp)(const char *, const char *), double *v) {
  if (!s || !*s || isspace((unsigned char)*s) || *s == '-')
    return false;
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || errno || !isfinite(x) || x < 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (cmp(end, units[i].name) == 0) {
      *v = x * units[i].mult;
      return true;
    }
  }
  return false;
}

bool ls_cli_parse_size(const char *s, uint64_t *bytes) {
  static const unit units[] = {
      {"", 1},        {"b", 1},
      {"k", 0x1p10},  {"kb", 0x1p10}, {"kib", 0x1p10},
      {"m", 0x1p20},  {"mb", 0x1p20}, {"mib", 0x1p20},
      {"g", 0x1p30},  {"gb", 0x1p30}, {"gib", 0x1p30},
  };
  double b;
  if (!scaled(s, units, sizeof units / sizeof units[0], strcasecmp, &b) ||
      b < 1 || b > 0x1p62)
    return false;
  *bytes = (uint64_t)b;
  return true;
}

bool ls_cli_parse_time(const char *s, uint64_t *ns) {
  static const unit units[] = {
      {"", 1e3}, {"us", 1e3}, {"ns", 1}, {"ms", 1e6}, {"s", 1e9},
  };
  double t;
  if (!scaled(s, units, sizeof units / sizeof units[0], strcmp, &t) ||
      t > 0x1p63)
    return false;
  *ns = (uint64_t)llround(t);
  return true;
}

bool ls_cli_parse_u64(const char *s, uint64_t *v) {
  if (!s || !isdigit((unsigned char)*s))
    return false;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(s, &end, 10);
  if (*end || errno)
    return false;
  *v = x;
  return true;
}

int ls_cli_open_trace(const char *cmd, const char *path, ls_reader **r) {
  char err[1024];
  if (ls_reader_open(r, path, err, sizeof err) != 0)
    return ls_cli_fail(cmd, "%s", err);
  return 0;
}

int ls_cli_finish_trace(const char *cmd, const char *path, ls_reader *r,
                        int status) {
  uint64_t dropped = ls_reader_dropped(r);
  if (status >= 0 && dropped && dropped == ls_reader_size(r))
    return ls_cli_fail(cmd, "%s: truncated before its first record (%llu "
                            "bytes): not a usable trace",
                       path, (unsigned long long)dropped);
  if (dropped)
    fprintf(stderr, "%s: truncated, %llu bytes dropped at offset %llu\n", path,
            (unsigned long long)dropped,
            (unsigned long long)(ls_reader_size(r) - dropped));
  if (status < 0)
    return ls_cli_fail(cmd, "%s", ls_reader_error(r));
  return 0;
}

const char *ls_cli_fmt_dur(char *buf, size_t len, uint64_t ns) {
  if (ns < 1000)
    snprintf(buf, len, "%llu ns", (unsigned long long)ns);
  else if (ns < 1000000)
    snprintf(buf, len, "%.3f us", ns / 1e3);
  else if (ns < 1000000000)
    snprintf(buf, len, "%.3f ms", ns / 1e6);
  else
    snprintf(buf, len, "%.3f s", ns / 1e9);
  return buf;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ls_cli_progress_init(ls_cli_progress *p, const char *what,
                          bool streams_stdout) {
  *p = (ls_cli_progress){.what = what,
                         .tty = isatty(STDERR_FILENO) == 1 &&
                                !(streams_stdout && isatty(STDOUT_FILENO) == 1),
                         .last_ns = now_ns()};
}

void ls_cli_progress_update(ls_cli_progress *p, uint64_t done, uint64_t total) {
  if (!p->tty || total == 0)
    return;
  uint64_t t = now_ns();
  if (t - p->last_ns < 200000000u)
    return;
  p->last_ns = t;
  p->shown = true;
  fprintf(stderr, "\r%s: %3.0f%%", p->what, 100.0 * (double)done / (double)total);
  fflush(stderr);
}

void ls_cli_progress_done(ls_cli_progress *p) {
  if (p->shown)
    fprintf(stderr, "\r\033[K");
  p->shown = false;
}
