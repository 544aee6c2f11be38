/* Handles: long-lived objects owned by the caller and watched by the loop
 * (idle / prepare / check hooks, fd watchers, TCP sockets).
 *
 * An active, ref'd handle keeps the loop alive; ls_unref lets the loop exit
 * around it. ls_close stops the handle at once and calls its close callback
 * in the close phase; until then the memory must stay valid. Closing a
 * closing or closed handle returns LS_EINVAL.
 */
#ifndef LOOPSCOPE_HANDLE_H
#define LOOPSCOPE_HANDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "loopscope/loop.h"

typedef enum ls_handle_type {
  LS_HANDLE_UNKNOWN = 0,
  LS_HANDLE_IDLE,
  LS_HANDLE_PREPARE,
  LS_HANDLE_CHECK,
  LS_HANDLE_IO,
  LS_HANDLE_TCP,
  LS_HANDLE_TYPE_COUNT
} ls_handle_type;

typedef void (*ls_close_cb)(ls_handle *handle);

#define LS_HANDLE_FIELDS                                                     \
  void *data;            /* for the user */                                  \
  const char *label;     /* trace label of its callbacks; may be changed */  \
  ls_loop *loop;                                                             \
  ls_handle_type type;                                                       \
  /* private */                                                              \
  unsigned flags;                                                            \
  ls_close_cb close_cb;                                                      \
  ls__queue handle_queue;                                                    \
  ls_handle *next_closing;                                                   \
  uint64_t async_id;                                                         \
  uint64_t trigger_id;

struct ls_handle {
  LS_HANDLE_FIELDS
};

int ls_close(ls_handle *handle, ls_close_cb cb);
void ls_ref(ls_handle *handle);
void ls_unref(ls_handle *handle);
bool ls_has_ref(const ls_handle *handle);
bool ls_is_active(const ls_handle *handle);
bool ls_is_closing(const ls_handle *handle);

/* Idle, prepare and check hooks: callbacks run once per iteration in their
 * phase, newest started first (libuv order). An active idle handle makes
 * poll non-blocking. */
typedef struct ls_idle ls_idle;
typedef struct ls_prepare ls_prepare;
typedef struct ls_check ls_check;
typedef void (*ls_idle_cb)(ls_idle *handle);
typedef void (*ls_prepare_cb)(ls_prepare *handle);
typedef void (*ls_check_cb)(ls_check *handle);

struct ls_idle {
  LS_HANDLE_FIELDS
  ls_idle_cb cb;
  ls__queue node;
};
struct ls_prepare {
  LS_HANDLE_FIELDS
  ls_prepare_cb cb;
  ls__queue node;
};
struct ls_check {
  LS_HANDLE_FIELDS
  ls_check_cb cb;
  ls__queue node;
};

int ls_idle_init(ls_loop *loop, ls_idle *handle);
int ls_idle_start(ls_idle *handle, ls_idle_cb cb);
int ls_idle_stop(ls_idle *handle);
int ls_prepare_init(ls_loop *loop, ls_prepare *handle);
int ls_prepare_start(ls_prepare *handle, ls_prepare_cb cb);
int ls_prepare_stop(ls_prepare *handle);
int ls_check_init(ls_loop *loop, ls_check *handle);
int ls_check_start(ls_check *handle, ls_check_cb cb);
int ls_check_stop(ls_check *handle);

#endif
