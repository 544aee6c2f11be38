/* Error codes: every runtime call that can fail returns 0 (or a count) on
 * success and a negative errno value on failure, like libuv. Misuse (closing a
 * handle twice, starting a closed handle, arming an armed timer) is reported
 * with a code too, never with an abort. */
#ifndef LOOPSCOPE_ERROR_H
#define LOOPSCOPE_ERROR_H

#include <errno.h>

#define LS_EOF (-4095) /* end of stream: the peer shut down its side */

#define LS_E2BIG (-E2BIG)
#define LS_EACCES (-EACCES)
#define LS_EADDRINUSE (-EADDRINUSE)
#define LS_EADDRNOTAVAIL (-EADDRNOTAVAIL)
#define LS_EAFNOSUPPORT (-EAFNOSUPPORT)
#define LS_EAGAIN (-EAGAIN)
#define LS_EALREADY (-EALREADY)
#define LS_EBADF (-EBADF)
#define LS_EBUSY (-EBUSY)
#define LS_ECANCELED (-ECANCELED)
#define LS_ECONNABORTED (-ECONNABORTED)
#define LS_ECONNREFUSED (-ECONNREFUSED)
#define LS_ECONNRESET (-ECONNRESET)
#define LS_EEXIST (-EEXIST)
#define LS_EINVAL (-EINVAL)
#define LS_EISCONN (-EISCONN)
#define LS_EISDIR (-EISDIR)
#define LS_EMFILE (-EMFILE)
#define LS_ENFILE (-ENFILE)
#define LS_ENOBUFS (-ENOBUFS)
#define LS_ENOENT (-ENOENT)
#define LS_ENOMEM (-ENOMEM)
#define LS_ENOSPC (-ENOSPC)
#define LS_ENOTCONN (-ENOTCONN)
#define LS_ENOTSOCK (-ENOTSOCK)
#define LS_EPERM (-EPERM)
#define LS_EPIPE (-EPIPE)
#define LS_ETIMEDOUT (-ETIMEDOUT)

/* Human-readable message for a code ("connection refused"); never NULL, also
 * for codes the runtime does not know. */
const char *ls_strerror(int err);
/* Symbolic name ("ECONNREFUSED", "EOF"); never NULL. */
const char *ls_err_name(int err);

#endif
