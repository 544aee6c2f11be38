/* TCP sockets (IPv4 and IPv6): listen, accept, connect, read, write,
 * shutdown, close -- libuv's stream model with Node's semantics around it.
 *
 * - Reads: ls_read_start asks alloc_cb for a buffer and calls read_cb with
 *   nread > 0 (data), LS_EOF (peer shut down), 0 (nothing now: give the
 *   buffer back) or a negative error (LS_ECONNRESET ...).
 * - Writes are queued per socket; write_queue_size counts the bytes not yet
 *   accepted by the kernel. A write that completes at once still calls back
 *   in the next pending phase, never from inside ls_write.
 * - Connect errors (LS_ECONNREFUSED) reach the connect callback.
 * - Closing cancels the requests still queued (their callbacks get
 *   LS_ECANCELED in the close phase, before the close callback).
 */
#ifndef LOOPSCOPE_TCP_H
#define LOOPSCOPE_TCP_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "loopscope/handle.h"
#include "loopscope/io.h"

typedef struct ls_buf {
  char *base;
  size_t len;
} ls_buf;

static inline ls_buf ls_buf_init(char *base, size_t len) {
  ls_buf b = {base, len};
  return b;
}

typedef struct ls_tcp ls_tcp;
typedef struct ls_connect_req ls_connect_req;
typedef struct ls_write_req ls_write_req;
typedef struct ls_shutdown_req ls_shutdown_req;

typedef void (*ls_alloc_cb)(ls_tcp *tcp, size_t suggested, ls_buf *buf);
typedef void (*ls_read_cb)(ls_tcp *tcp, long nread, const ls_buf *buf);
typedef void (*ls_connection_cb)(ls_tcp *server, int status);
typedef void (*ls_connect_cb)(ls_connect_req *req, int status);
typedef void (*ls_write_cb)(ls_write_req *req, int status);
typedef void (*ls_shutdown_cb)(ls_shutdown_req *req, int status);

#define LS_REQ_FIELDS   \
  void *data;           \
  ls_tcp *handle;       \
  uint64_t async_id;    \
  uint64_t trigger_id;

struct ls_connect_req {
  LS_REQ_FIELDS
  ls_connect_cb cb;
};

struct ls_shutdown_req {
  LS_REQ_FIELDS
  ls_shutdown_cb cb;
};

struct ls_write_req {
  LS_REQ_FIELDS
  ls_write_cb cb;
  /* private */
  ls__queue queue;
  ls_buf *bufs;
  unsigned nbufs;
  unsigned write_index;
  int error;
  ls_buf bufsml[4];
};

struct ls_tcp {
  LS_HANDLE_FIELDS
  size_t write_queue_size; /* bytes queued, not yet written */
  /* private */
  ls__io io;
  unsigned tcp_flags;
  ls_alloc_cb alloc_cb;
  ls_read_cb read_cb;
  ls_connection_cb connection_cb;
  ls_connect_req *connect_req;
  ls_shutdown_req *shutdown_req;
  ls__queue write_queue;
  ls__queue write_completed_queue;
  int accepted_fd;
  int delayed_error;
};

int ls_tcp_init(ls_loop *loop, ls_tcp *tcp);
/* addr: a struct sockaddr_in or sockaddr_in6 (port 0 = any free port). */
int ls_tcp_bind(ls_tcp *tcp, const struct sockaddr *addr);
int ls_tcp_listen(ls_tcp *tcp, int backlog, ls_connection_cb cb);
/* Call from the connection callback: takes the new connection into
 * `client` (an initialised, unconnected ls_tcp). If the callback does not
 * accept, the server stops accepting until ls_tcp_accept is called. */
int ls_tcp_accept(ls_tcp *server, ls_tcp *client);
int ls_tcp_connect(ls_connect_req *req, ls_tcp *tcp,
                   const struct sockaddr *addr, ls_connect_cb cb);
int ls_tcp_getsockname(const ls_tcp *tcp, struct sockaddr *addr, socklen_t *len);
int ls_tcp_getpeername(const ls_tcp *tcp, struct sockaddr *addr, socklen_t *len);
int ls_tcp_nodelay(ls_tcp *tcp, int enable);

int ls_read_start(ls_tcp *tcp, ls_alloc_cb alloc_cb, ls_read_cb read_cb);
int ls_read_stop(ls_tcp *tcp);
/* Queues bufs (the array is copied, the bytes are not: keep them until the
 * callback). */
int ls_write(ls_write_req *req, ls_tcp *tcp, const ls_buf bufs[],
             unsigned nbufs, ls_write_cb cb);
/* Shuts the write side down once the write queue is empty. */
int ls_shutdown(ls_shutdown_req *req, ls_tcp *tcp, ls_shutdown_cb cb);

/* Fill a socket address from text; LS_EINVAL when it does not parse. */
int ls_ip4_addr(const char *ip, int port, struct sockaddr_in *addr);
int ls_ip6_addr(const char *ip, int port, struct sockaddr_in6 *addr);

#endif
