/* A buffered JSON text writer on a file descriptor: just what the exporter
 * needs, written for speed (one bounds check per token, no allocation per
 * event). Strings are escaped per RFC 8259 and made valid UTF-8: a byte that
 * does not start a well-formed UTF-8 sequence becomes U+FFFD, because trace
 * strings come from programs and files we do not control. */
#ifndef LOOPSCOPE_JSONW_H
#define LOOPSCOPE_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LS__JW_BUF (256 * 1024)
/* Room for any single number or short token written without a check. */
#define LS__JW_SLACK 64

typedef struct ls__jw {
  int fd;
  int err;        /* first write error (negative errno), sticky */
  size_t len;
  uint64_t bytes; /* bytes written to this fd so far, buffered included */
  char buf[LS__JW_BUF];
} ls__jw;

void ls__jw_reset(ls__jw *w, int fd);
/* Writes out the buffer; returns w->err. */
int ls__jw_flush(ls__jw *w);
void ls__jw_str(ls__jw *w, const char *s);
void ls__jw_u64(ls__jw *w, uint64_t v);
void ls__jw_i64(ls__jw *w, int64_t v);
/* Shortest text that reads back as the same double; null when not finite. */
void ls__jw_double(ls__jw *w, double v);
/* Nanoseconds as microseconds with exactly three decimals. */
void ls__jw_us(ls__jw *w, uint64_t ns);
/* "0x..." string: ids may exceed 2^53, which JSON numbers cannot carry. */
void ls__jw_hex(ls__jw *w, uint64_t v);

static inline void ls__jw_need(ls__jw *w, size_t n) {
  if (w->len + n > LS__JW_BUF)
    ls__jw_flush(w);
}

static inline void ls__jw_raw(ls__jw *w, const char *s, size_t n) {
  if (n > LS__JW_BUF / 2) { /* only huge strings; never on the hot path */
    ls__jw_flush(w);
    for (size_t off = 0; off < n; off += LS__JW_BUF / 2) {
      size_t k = n - off < LS__JW_BUF / 2 ? n - off : LS__JW_BUF / 2;
      memcpy(w->buf, s + off, k);
      w->len = k;
      w->bytes += k;
      ls__jw_flush(w);
    }
    return;
  }
  ls__jw_need(w, n);
  memcpy(w->buf + w->len, s, n);
  w->len += n;
  w->bytes += n;
}

#define LS__JW_LIT(w, lit) ls__jw_raw((w), (lit), sizeof(lit) - 1)

#endif
