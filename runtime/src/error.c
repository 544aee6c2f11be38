/* Error codes to text. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrordesc_np */
#endif
#include <string.h>

#include "loopscope/error.h"

const char *ls_strerror(int err) {
  if (err == LS_EOF)
    return "end of file";
  const char *s = err < 0 ? strerrordesc_np(-err) : NULL;
  return s ? s : "unknown error";
}

const char *ls_err_name(int err) {
  if (err == LS_EOF)
    return "EOF";
  const char *s = err < 0 ? strerrorname_np(-err) : NULL;
  return s ? s : "UNKNOWN";
}
