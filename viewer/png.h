/* A minimal PNG writer (8-bit RGB, zlib from Debian): SDL2 only writes BMP,
 * and screenshots for tests and the README want PNG. */
#ifndef LOOPSCOPE_VIEWER_PNG_H
#define LOOPSCOPE_VIEWER_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Writes w x h pixels given as 0xAARRGGBB words, `pitch` bytes apart per
 * row, to path. Returns 0, or -1 with a message in err. */
int ls_png_write(const char *path, const uint32_t *argb, int w, int h,
                 int pitch, char *err, size_t errlen);

#endif
