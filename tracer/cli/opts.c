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

/* Splits "1.5ms" into 1.5 and "ms"; the number must be finite and >= 0. */
static bool number_and_unit(const char *s, double *v, const char **unit) {
  if (!s || !*s || isspace((unsigned char)*s) || *s == '-')
    return false;
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  if (end == s || errno || !isfinite(*v) || *v < 0)
    return false;
  *unit = end;
  return true;
}

bool ls_cli_parse_size(const char *s, uint64_t *bytes) {
  static const struct { const char *unit; double mult; } units[] = {
      {"", 1},        {"b", 1},
      {"k", 0x1p10},  {"kb", 0x1p10}, {"kib", 0x1p10},
      {"m", 0x1p20},  {"mb", 0x1p20}, {"mib", 0x1p20},
      {"g", 0x1p30},  {"gb", 0x1p30}, {"gib", 0x1p30},
  };
  double v;
  const char *unit;
  if (!number_and_unit(s, &v, &unit))
    return false;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcasecmp(unit, units[i].unit) == 0) {
      double b = v * units[i].mult;
      if (b < 1 || b > 0x1p62)
        return false;
      *bytes = (uint64_t)b;
      return true;
    }
  }
  return false;
}

bool ls_cli_parse_time(const char *s, uint64_t *ns) {
  static const struct { const char *unit; double mult; } units[] = {
      {"", 1e3}, {"us", 1e3}, {"ns", 1}, {"ms", 1e6}, {"s", 1e9},
  };
  double v;
  const char *unit;
  if (!number_and_unit(s, &v, &unit))
    return false;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(unit, units[i].unit) == 0) {
      double t = v * units[i].mult;
      if (t > 0x1p63)
        return false;
      *ns = (uint64_t)llround(t);
      return true;
    }
  }
  return false;
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
