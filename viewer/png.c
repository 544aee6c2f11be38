/* PNG writer (png.h): signature, IHDR, one IDAT, IEND. Each row uses the
 * "Sub" filter, which turns the flat colour runs of a timeline into zeros
 * that deflate squeezes well. */
#include "png.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static int chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len) {
  uint8_t hdr[8];
  put32(hdr, len);
  memcpy(hdr + 4, type, 4);
  uLong crc = crc32(0, hdr + 4, 4);
  if (len)
    crc = crc32(crc, data, len);
  uint8_t tail[4];
  put32(tail, (uint32_t)crc);
  return fwrite(hdr, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
                 fwrite(tail, 1, 4, f) == 4
             ? 0
             : -1;
}

int ls_png_write(const char *path, const uint32_t *argb, int w, int h,
                 int pitch, char *err, size_t errlen) {
  if (w <= 0 || h <= 0) {
    snprintf(err, errlen, "%s: empty image", path);
    return -1;
  }
  size_t row = 1 + (size_t)w * 3;
  size_t raw_len = row * (size_t)h;
  uint8_t *raw = malloc(raw_len);
  uLongf z_len = compressBound((uLong)raw_len);
  uint8_t *z = malloc(z_len);
  if (raw == NULL || z == NULL) {
    free(raw);
    free(z);
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  for (int y = 0; y < h; y++) {
    const uint32_t *src = (const uint32_t *)((const uint8_t *)argb + (size_t)y * pitch);
    uint8_t *dst = raw + (size_t)y * row;
    dst[0] = 1; /* Sub */
    uint8_t prev[3] = {0, 0, 0};
    for (int x = 0; x < w; x++) {
      uint8_t px[3] = {(uint8_t)(src[x] >> 16), (uint8_t)(src[x] >> 8),
                       (uint8_t)src[x]};
      for (int c = 0; c < 3; c++) {
        dst[1 + x * 3 + c] = (uint8_t)(px[c] - prev[c]);
        prev[c] = px[c];
      }
    }
  }
  int rc = compress2(z, &z_len, raw, (uLong)raw_len, 9);
  free(raw);
  if (rc != Z_OK) {
    free(z);
    snprintf(err, errlen, "%s: deflate failed (%d)", path, rc);
    return -1;
  }
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    free(z);
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  uint8_t ihdr[13];
  put32(ihdr, (uint32_t)w);
  put32(ihdr + 4, (uint32_t)h);
  ihdr[8] = 8;  /* bit depth */
  ihdr[9] = 2;  /* RGB */
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  int bad = fwrite(sig, 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) ||
            chunk(f, "IDAT", z, (uint32_t)z_len) || chunk(f, "IEND", NULL, 0);
  free(z);
  if (fclose(f) != 0)
    bad = 1;
  if (bad) {
    snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}
