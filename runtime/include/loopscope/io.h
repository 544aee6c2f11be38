/* fd watchers on the epoll backend.
 *
 * ls__io is the internal watcher every fd-based handle embeds (one per fd).
 * Like libuv, new interest is handed to epoll at the start of the next poll,
 * in the order the watchers were started -- which is what makes fds that
 * became ready together dispatch in Node's order -- and events of an fd
 * closed during a dispatch batch are dropped. ls_io is the public handle on top of it: watch
 * any pollable fd for readability / writability, like uv_poll_t. The fd
 * stays the caller's: closing the handle does not close it.
 */
#ifndef LOOPSCOPE_IO_H
#define LOOPSCOPE_IO_H

#include "loopscope/handle.h"

typedef void (*ls__io_cb)(ls_loop *loop, ls__io *w, unsigned events);

struct ls__io {
  ls__io_cb cb;
  ls__queue pending_queue; /* on loop->pending_queue when fed */
  ls__queue watcher_queue; /* on loop->watcher_queue while epoll lags */
  int fd;
  unsigned events;  /* registered with epoll */
  unsigned pevents; /* wanted */
};

enum ls_io_event {
  LS_READABLE = 1,
  LS_WRITABLE = 2,
  LS_DISCONNECT = 4 /* hang-up seen (reported with LS_READABLE) */
};

typedef struct ls_io ls_io;
/* status < 0: the fd reported an error (events then says which were
 * wanted). */
typedef void (*ls_io_cb)(ls_io *handle, int status, int events);

struct ls_io {
  LS_HANDLE_FIELDS
  ls_io_cb cb;
  ls__io io;
};

/* LS_EBADF if fd is not open. */
int ls_io_init(ls_loop *loop, ls_io *handle, int fd);
/* events: LS_READABLE | LS_WRITABLE. LS_EPERM when the fd cannot be polled
 * (a regular file), LS_EEXIST when another watcher has this fd. */
int ls_io_start(ls_io *handle, int events, ls_io_cb cb);
int ls_io_stop(ls_io *handle);

#endif
