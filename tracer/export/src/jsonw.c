#include "jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void ls__jw_reset(ls__jw *w, int fd) {
  w->fd = fd;
  w->err = 0;
  w->len = 0;
  w->bytes = 0;
}

int ls__jw_flush(ls__jw *w) {
  const char *p = w->buf;
  size_t n = w->len;
  w->len = 0;
  while (n > 0 && w->err == 0) {
    ssize_t k = write(w->fd, p, n);
    if (k < 0) {
      if (errno != EINTR)
        w->err = -errno;
      continue;
    }
    if (k == 0) {
      w->err = -EIO;
      break;
    }
    p += k;
    n -= (size_t)k;
  }
  return w->err;
}

static inline void put(ls__jw *w, char c) {
  w->buf[w->len++] = c;
  w->bytes++;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  if (c >= 0xc2 && c <= 0xdf)
    return (s[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
      return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 ||
        (s[3] & 0xc0) != 0x80)
      return 0;
    return 4;
  }
  return 0;
}

void ls__jw_str(ls__jw *w, const char *str) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  ls__jw_need(w, 2);
  put(w, '"');
  for (;;) {
    /* Copy the run of plain ASCII in one go: the common case. */
    const unsigned char *run = s;
    while (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
      s++;
    if (s > run)
      ls__jw_raw(w, (const char *)run, (size_t)(s - run));
    unsigned char c = *s;
    if (c == 0)
      break;
    ls__jw_need(w, 8);
    if (c == '"' || c == '\\') {
      put(w, '\\');
      put(w, (char)c);
      s++;
    } else if (c < 0x20) {
      const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
                      : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
      if (esc) {
        put(w, esc[0]);
        put(w, esc[1]);
      } else {
        put(w, '\\'); put(w, 'u'); put(w, '0'); put(w, '0');
        put(w, hex[c >> 4]);
        put(w, hex[c & 15]);
      }
      s++;
    } else {
      size_t n = utf8_len(s);
      if (n) {
        for (size_t i = 0; i < n; i++)
          put(w, (char)s[i]);
        s += n;
      } else {
        ls__jw_raw(w, "\\ufffd", 6);
        s++;
      }
    }
  }
  ls__jw_need(w, 1);
  put(w, '"');
}

/* Writes v's decimal digits backwards ending at end; returns the start. */
static char *digits(char *end, uint64_t v) {
  do {
    *--end = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return end;
}

void ls__jw_u64(ls__jw *w, uint64_t v) {
  char tmp[24], *end = tmp + sizeof tmp, *p = digits(end, v);
  ls__jw_raw(w, p, (size_t)(end - p));
}

void ls__jw_i64(ls__jw *w, int64_t v) {
  if (v < 0) {
    LS__JW_LIT(w, "-");
    ls__jw_u64(w, (uint64_t)0 - (uint64_t)v);
  } else {
    ls__jw_u64(w, (uint64_t)v);
  }
}

void ls__jw_double(ls__jw *w, double v) {
  if (!isfinite(v)) {
    LS__JW_LIT(w, "null");
    return;
  }
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%.17g", v);
  /* Prefer the shorter %.15g form when it reads back exactly. */
  char shorter[32];
  int m = snprintf(shorter, sizeof shorter, "%.15g", v);
  if (strtod(shorter, NULL) == v)
    ls__jw_raw(w, shorter, (size_t)m);
  else
    ls__jw_raw(w, tmp, (size_t)n);
}

void ls__jw_us(ls__jw *w, uint64_t ns) {
  char tmp[32], *end = tmp + sizeof tmp;
  uint64_t frac = ns % 1000;
  *--end = (char)('0' + frac % 10);
  *--end = (char)('0' + frac / 10 % 10);
  *--end = (char)('0' + frac / 100);
  *--end = '.';
  char *p = digits(end, ns / 1000);
  ls__jw_raw(w, p, (size_t)(tmp + sizeof tmp - p));
}

void ls__jw_hex(ls__jw *w, uint64_t v) {
  static const char hex[] = "0123456789abcdef";
  char tmp[24], *end = tmp + sizeof tmp, *p = end;
  *--p = '"';
  do {
    *--p = hex[v & 15];
    v >>= 4;
  } while (v);
  *--p = 'x';
  *--p = '0';
  *--p = '"';
  ls__jw_raw(w, p, (size_t)(end - p));
}
