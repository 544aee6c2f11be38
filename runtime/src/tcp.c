/* TCP streams, after libuv's stream.c / tcp.c on Linux. */
#include "internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <stddef.h>
#include <unistd.h>


enum {
  TCP_READING = 1u << 0,
  TCP_LISTENING = 1u << 1,
  TCP_SHUTTING = 1u << 2, /* shutdown requested */
  TCP_SHUT = 1u << 3,     /* write side shut down */
  TCP_READ_EOF = 1u << 4,
};

_Static_assert(sizeof(ls_buf) == sizeof(struct iovec) &&
                   offsetof(ls_buf, base) == offsetof(struct iovec, iov_base) &&
                   offsetof(ls_buf, len) == offsetof(struct iovec, iov_len),
               "ls_buf doubles as struct iovec");

#define READ_SIZE 65536
#define READS_PER_EVENT 32

static void stream_io(ls_loop *loop, ls__io *w, unsigned events);
static void server_io(ls_loop *loop, ls__io *w, unsigned events);
static void stream_write(ls_tcp *tcp);

static ls_tcp *tcp_of(ls__io *w) { return ls__queue_data(w, ls_tcp, io); }

/* Active while it reads, listens, connects or has writes to push. */
static void update_active(ls_tcp *tcp) {
  if (tcp->io.pevents && !(tcp->flags & LS__HANDLE_CLOSING))
    ls__handle_start((ls_handle *)tcp);
  else
    ls__handle_stop((ls_handle *)tcp);
}

/* Runs a user callback of this socket as an I/O slice, then the drain. */
#define TCP_CALLBACK(loop, label, id, trigger, call)                         \
  do {                                                                       \
    uint64_t prev_ = ls__cb_enter(loop, LS_KIND_IO, label, id, trigger);     \
    call;                                                                    \
    ls__cb_leave(loop, LS_KIND_IO, label, prev_);                            \
    ls__drain_if_queued(loop);                                               \
  } while (0)

/* A request (connect, write or shutdown: they share LS_REQ_FIELDS) starts:
 * it is the socket's, gets a new async id triggered by the running
 * callback, keeps the loop alive until it completes, and is a scheduling
 * point in the trace. */
#define REQ_START(req, tcp, callback, name)                                  \
  do {                                                                       \
    (req)->handle = (tcp);                                                   \
    (req)->cb = (callback);                                                  \
    (req)->async_id = ls_new_async_id((tcp)->loop);                          \
    (req)->trigger_id = (tcp)->loop->current_async_id;                       \
    (tcp)->loop->active_reqs++;                                              \
    ls__trace_sched(name, (req)->async_id, 0);                               \
  } while (0)

int ls_tcp_init(ls_loop *loop, ls_tcp *tcp) {
  if (!loop || !tcp)
    return LS_EINVAL;
  ls__handle_init(loop, (ls_handle *)tcp, LS_HANDLE_TCP, "tcp");
  tcp->write_queue_size = 0;
  ls__io_init(&tcp->io, stream_io, -1);
  tcp->tcp_flags = 0;
  tcp->alloc_cb = NULL;
  tcp->read_cb = NULL;
  tcp->connection_cb = NULL;
  tcp->connect_req = NULL;
  tcp->shutdown_req = NULL;
  ls__queue_init(&tcp->write_queue);
  ls__queue_init(&tcp->write_completed_queue);
  tcp->accepted_fd = -1;
  tcp->delayed_error = 0;
  return 0;
}

static int check_usable(const ls_tcp *tcp) {
  if (!tcp || tcp->type != LS_HANDLE_TCP)
    return LS_EINVAL;
  if (!ls__handle_usable((const ls_handle *)tcp))
    return LS_EINVAL;
  return 0;
}

/* The entry check of a call on an open socket: the socket, then the
 * other arguments (`args_ok`). */
static int check_call(const ls_tcp *tcp, bool args_ok) {
  int err = check_usable(tcp);
  if (err)
    return err;
  return args_ok ? 0 : LS_EINVAL;
}

static int open_socket(ls_tcp *tcp, int family) {
  if (tcp->io.fd >= 0)
    return 0;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  tcp->io.fd = fd;
  return 0;
}

static socklen_t addr_len(const struct sockaddr *addr) {
  if (addr->sa_family == AF_INET)
    return sizeof(struct sockaddr_in);
  if (addr->sa_family == AF_INET6)
    return sizeof(struct sockaddr_in6);
  return 0;
}

int ls_tcp_bind(ls_tcp *tcp, const struct sockaddr *addr) {
  int err = check_usable(tcp);
  if (err)
    return err;
  if (!addr || !addr_len(addr))
    return LS_EAFNOSUPPORT;
  if ((err = open_socket(tcp, addr->sa_family)))
    return err;
  int on = 1;
  setsockopt(tcp->io.fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (bind(tcp->io.fd, addr, addr_len(addr)) != 0)
    return -errno;
  return 0;
}

int ls_tcp_listen(ls_tcp *tcp, int backlog, ls_connection_cb cb) {
  int err = check_call(tcp, cb != NULL);
  if (err)
    return err;
  if (tcp->io.fd < 0)
    return LS_EBADF; /* bind first: the address picks the family */
  if (listen(tcp->io.fd, backlog) != 0)
    return -errno;
  /* A spare fd to give back when accept() runs out (see emfile_trick). */
  if (tcp->loop->emfile_fd < 0)
    tcp->loop->emfile_fd = open("/", O_RDONLY | O_CLOEXEC);
  tcp->connection_cb = cb;
  tcp->io.cb = server_io;
  if ((err = ls__io_start(tcp->loop, &tcp->io, EPOLLIN)))
    return err;
  tcp->tcp_flags |= TCP_LISTENING;
  update_active(tcp);
  return 0;
}

/* Out of fds with connections waiting: a level-triggered listen socket would
 * wake us forever. Give back the spare fd, accept and drop what waits, take
 * the spare again (libuv's uv__emfile_trick). */
static int emfile_trick(ls_loop *loop, int accept_fd) {
  if (loop->emfile_fd < 0)
    return LS_EMFILE;
  close(loop->emfile_fd);
  loop->emfile_fd = -1;
  int err;
  for (;;) {
    int fd = accept4(accept_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      err = errno == EINTR ? 0 : -errno;
      if (err)
        break;
      continue;
    }
    close(fd);
  }
  loop->emfile_fd = open("/", O_RDONLY | O_CLOEXEC);
  return err;
}

static void server_io(ls_loop *loop, ls__io *w, unsigned events) {
  (void)events;
  ls_tcp *server = tcp_of(w);
  while (server->tcp_flags & TCP_LISTENING && !loop->failed) {
    if (server->accepted_fd >= 0) {
      ls__io_stop(loop, &server->io, EPOLLIN);
      update_active(server);
      return;
    }
    int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = -errno;
      if (err == LS_EAGAIN || err == -EINTR)
        return;
      if (err == LS_ECONNABORTED)
        continue;
      if (err == LS_EMFILE || err == LS_ENFILE) {
        /* LS_EAGAIN: what waited was dropped; report the shortage. */
        int e = emfile_trick(loop, w->fd);
        if (e && e != LS_EAGAIN)
          err = e;
      }
      TCP_CALLBACK(loop, "tcp.connection", server->async_id,
                   server->trigger_id, server->connection_cb(server, err));
      if (err == LS_EMFILE || err == LS_ENFILE)
        return;
      continue;
    }
    server->accepted_fd = fd;
    TCP_CALLBACK(loop, "tcp.connection", server->async_id, server->trigger_id,
                 server->connection_cb(server, 0));
  }
}

int ls_tcp_accept(ls_tcp *server, ls_tcp *client) {
  int err = check_usable(server);
  if (err || (err = check_usable(client)))
    return err;
  if (!(server->tcp_flags & TCP_LISTENING))
    return LS_EINVAL;
  if (server->accepted_fd < 0)
    return LS_EAGAIN;
  if (client->io.fd >= 0)
    return LS_EISCONN;
  client->io.fd = server->accepted_fd;
  server->accepted_fd = -1;
  if (!ls__io_active(&server->io, EPOLLIN)) {
    if ((err = ls__io_start(server->loop, &server->io, EPOLLIN)))
      return err;
    update_active(server);
  }
  return 0;
}

int ls_tcp_connect(ls_connect_req *req, ls_tcp *tcp,
                   const struct sockaddr *addr, ls_connect_cb cb) {
  int err = check_call(tcp, req && addr);
  if (err)
    return err;
  if (!addr_len(addr))
    return LS_EAFNOSUPPORT;
  if (tcp->connect_req)
    return LS_EALREADY;
  if (tcp->tcp_flags & TCP_LISTENING)
    return LS_EINVAL;
  if ((err = open_socket(tcp, addr->sa_family)))
    return err;
  int r;
  do
    r = connect(tcp->io.fd, addr, addr_len(addr));
  while (r == -1 && errno == EINTR);
  if (r == -1 && errno != EINPROGRESS) {
    /* Refused at once: report it from the pending phase, like libuv. */
    if (errno == ECONNREFUSED)
      tcp->delayed_error = LS_ECONNREFUSED;
    else
      return -errno;
  }
  if ((err = ls__io_start(tcp->loop, &tcp->io, EPOLLOUT)))
    return err;
  REQ_START(req, tcp, cb, "connect");
  tcp->connect_req = req;
  update_active(tcp);
  if (tcp->delayed_error)
    ls__io_feed(tcp->loop, &tcp->io);
  return 0;
}

static int sockname(const ls_tcp *tcp, struct sockaddr *addr, socklen_t *len,
                    int (*fn)(int, struct sockaddr *, socklen_t *)) {
  if (!tcp || tcp->type != LS_HANDLE_TCP || !addr || !len)
    return LS_EINVAL;
  if (tcp->io.fd < 0)
    return LS_EBADF;
  if (fn(tcp->io.fd, addr, len) != 0)
    return -errno;
  return 0;
}

int ls_tcp_getsockname(const ls_tcp *tcp, struct sockaddr *addr,
                       socklen_t *len) {
  return sockname(tcp, addr, len, getsockname);
}

int ls_tcp_getpeername(const ls_tcp *tcp, struct sockaddr *addr,
                       socklen_t *len) {
  return sockname(tcp, addr, len, getpeername);
}

int ls_tcp_nodelay(ls_tcp *tcp, int enable) {
  int err = check_usable(tcp);
  if (err)
    return err;
  if (tcp->io.fd < 0)
    return LS_EBADF;
  if (setsockopt(tcp->io.fd, IPPROTO_TCP, TCP_NODELAY, &enable,
                 sizeof(enable)) != 0)
    return -errno;
  return 0;
}

/* ---- reading ---- */

int ls_read_start(ls_tcp *tcp, ls_alloc_cb alloc_cb, ls_read_cb read_cb) {
  int err = check_call(tcp, alloc_cb && read_cb);
  if (err)
    return err;
  if (tcp->io.fd < 0 || tcp->tcp_flags & TCP_LISTENING)
    return LS_ENOTCONN;
  tcp->alloc_cb = alloc_cb;
  tcp->read_cb = read_cb;
  tcp->tcp_flags |= TCP_READING;
  if ((err = ls__io_start(tcp->loop, &tcp->io, EPOLLIN)))
    return err;
  update_active(tcp);
  return 0;
}

int ls_read_stop(ls_tcp *tcp) {
  if (!tcp || tcp->type != LS_HANDLE_TCP)
    return LS_EINVAL;
  if (!(tcp->tcp_flags & TCP_READING))
    return 0;
  tcp->tcp_flags &= ~TCP_READING;
  ls__io_stop(tcp->loop, &tcp->io, EPOLLIN);
  update_active(tcp);
  return 0;
}

static void read_cb(ls_tcp *tcp, long nread, const ls_buf *buf) {
  TCP_CALLBACK(tcp->loop, "tcp.read", tcp->async_id, tcp->trigger_id,
               tcp->read_cb(tcp, nread, buf));
}

static void stream_read(ls_tcp *tcp) {
  ls_loop *loop = tcp->loop;
  for (int count = READS_PER_EVENT;
       count > 0 && tcp->tcp_flags & TCP_READING && !loop->failed; count--) {
    ls_buf buf = {NULL, 0};
    tcp->alloc_cb(tcp, READ_SIZE, &buf);
    if (!buf.base || buf.len == 0) {
      read_cb(tcp, LS_ENOBUFS, &buf);
      return;
    }
    ssize_t n;
    do
      n = read(tcp->io.fd, buf.base, buf.len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = -errno;
      if (err == LS_EAGAIN) {
        read_cb(tcp, 0, &buf);
      } else {
        read_cb(tcp, err, &buf);
        if (tcp->io.fd >= 0)
          ls_read_stop(tcp);
      }
      return;
    }
    if (n == 0) {
      tcp->tcp_flags |= TCP_READ_EOF;
      ls_read_stop(tcp);
      read_cb(tcp, LS_EOF, &buf);
      return;
    }
    bool partial = (size_t)n < buf.len;
    read_cb(tcp, n, &buf);
    if (partial)
      return;
  }
}

/* ---- writing ---- */

static size_t bufs_size(const ls_buf *bufs, unsigned n) {
  size_t total = 0;
  for (unsigned i = 0; i < n; i++)
    total += bufs[i].len;
  return total;
}

int ls_write(ls_write_req *req, ls_tcp *tcp, const ls_buf bufs[],
             unsigned nbufs, ls_write_cb cb) {
  int err = check_call(tcp, req && bufs && nbufs != 0);
  if (err)
    return err;
  if (tcp->io.fd < 0)
    return LS_EBADF;
  if (tcp->tcp_flags & (TCP_SHUTTING | TCP_SHUT))
    return LS_EPIPE;
  if (tcp->tcp_flags & TCP_LISTENING)
    return LS_ENOTCONN;
  req->bufs = req->bufsml;
  if (nbufs > sizeof(req->bufsml) / sizeof(req->bufsml[0])) {
    req->bufs = malloc(nbufs * sizeof(*bufs));
    if (!req->bufs)
      return LS_ENOMEM;
  }
  memcpy(req->bufs, bufs, nbufs * sizeof(*bufs));
  req->nbufs = nbufs;
  req->write_index = 0;
  req->error = 0;
  bool was_empty = ls__queue_empty(&tcp->write_queue);
  ls__queue_init(&req->queue);
  ls__queue_insert_tail(&tcp->write_queue, &req->queue);
  tcp->write_queue_size += bufs_size(bufs, nbufs);
  REQ_START(req, tcp, cb, "write");
  /* Still connecting: the connect completion's POLLOUT writes it. */
  if (tcp->connect_req)
    return 0;
  if (was_empty)
    stream_write(tcp);
  return 0;
}

/* The request is done (written or failed): its callback runs from the
 * pending queue, never from inside ls_write. */
static void write_done(ls_tcp *tcp, ls_write_req *req, int error) {
  tcp->write_queue_size -=
      bufs_size(req->bufs + req->write_index, req->nbufs - req->write_index);
  req->error = error;
  ls__queue_remove(&req->queue);
  ls__queue_insert_tail(&tcp->write_completed_queue, &req->queue);
  ls__io_feed(tcp->loop, &tcp->io);
}

/* Writes as much of the queue as the kernel takes; waits for POLLOUT for
 * the rest. */
static void stream_write(ls_tcp *tcp) {
  while (!ls__queue_empty(&tcp->write_queue)) {
    ls_write_req *req =
        ls__queue_data(ls__queue_head(&tcp->write_queue), ls_write_req, queue);
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = (struct iovec *)(req->bufs + req->write_index);
    unsigned iovcnt = req->nbufs - req->write_index;
    msg.msg_iovlen = iovcnt > IOV_MAX ? IOV_MAX : iovcnt;
    ssize_t n;
    /* MSG_NOSIGNAL: a peer that went away is an LS_EPIPE, not SIGPIPE. */
    do
      n = sendmsg(tcp->io.fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN) {
        if (ls__io_start(tcp->loop, &tcp->io, EPOLLOUT) == 0)
          update_active(tcp);
        return;
      }
      write_done(tcp, req, -errno);
      continue;
    }
    tcp->write_queue_size -= (size_t)n;
    while (n > 0) {
      ls_buf *b = &req->bufs[req->write_index];
      size_t take = (size_t)n < b->len ? (size_t)n : b->len;
      b->base += take;
      b->len -= take;
      n -= (ssize_t)take;
      if (b->len == 0)
        req->write_index++;
    }
    while (req->write_index < req->nbufs && req->bufs[req->write_index].len == 0)
      req->write_index++;
    if (req->write_index < req->nbufs) {
      if (ls__io_start(tcp->loop, &tcp->io, EPOLLOUT) == 0)
        update_active(tcp);
      return; /* partial write: the kernel buffer is full */
    }
    write_done(tcp, req, 0);
  }
}

static void do_shutdown(ls_tcp *tcp);

static void write_callbacks(ls_tcp *tcp) {
  ls_loop *loop = tcp->loop;
  ls__queue done;
  ls__queue_move(&tcp->write_completed_queue, &done);
  while (!ls__queue_empty(&done)) {
    ls_write_req *req =
        ls__queue_data(ls__queue_head(&done), ls_write_req, queue);
    ls__queue_remove(&req->queue);
    if (req->bufs != req->bufsml)
      free(req->bufs);
    req->bufs = NULL;
    loop->active_reqs--;
    if (req->cb && !loop->failed)
      TCP_CALLBACK(loop, "tcp.write", req->async_id, req->trigger_id,
                   req->cb(req, req->error));
  }
  if (ls__queue_empty(&tcp->write_queue))
    do_shutdown(tcp);
}

/* uv__drain(): the write queue is empty; stop watching POLLOUT, and carry
 * out a requested shutdown. */
static void do_shutdown(ls_tcp *tcp) {
  ls_loop *loop = tcp->loop;
  bool closing = tcp->flags & (LS__HANDLE_CLOSING | LS__HANDLE_CLOSED);
  if (!closing && !tcp->connect_req && tcp->io.fd >= 0) {
    ls__io_stop(loop, &tcp->io, EPOLLOUT);
    update_active(tcp);
  }
  if (!(tcp->tcp_flags & TCP_SHUTTING) || !tcp->shutdown_req)
    return;
  ls_shutdown_req *req = tcp->shutdown_req;
  tcp->shutdown_req = NULL;
  loop->active_reqs--;
  int err = 0;
  if (closing)
    err = LS_ECANCELED;
  else if (shutdown(tcp->io.fd, SHUT_WR) != 0)
    err = -errno;
  else
    tcp->tcp_flags |= TCP_SHUT;
  if (req->cb && !loop->failed)
    TCP_CALLBACK(loop, "tcp.shutdown", req->async_id, req->trigger_id,
                 req->cb(req, err));
}

int ls_shutdown(ls_shutdown_req *req, ls_tcp *tcp, ls_shutdown_cb cb) {
  int err = check_call(tcp, req != NULL);
  if (err)
    return err;
  if (tcp->io.fd < 0 || tcp->tcp_flags & TCP_LISTENING)
    return LS_ENOTCONN;
  if (tcp->tcp_flags & (TCP_SHUTTING | TCP_SHUT))
    return LS_EALREADY;
  if ((err = ls__io_start(tcp->loop, &tcp->io, EPOLLOUT)))
    return err;
  REQ_START(req, tcp, cb, "shutdown");
  tcp->shutdown_req = req;
  tcp->tcp_flags |= TCP_SHUTTING;
  update_active(tcp);
  return 0;
}

/* ---- connect completion and the I/O callback ---- */

static void flush_write_queue(ls_tcp *tcp, int error) {
  while (!ls__queue_empty(&tcp->write_queue)) {
    ls_write_req *req =
        ls__queue_data(ls__queue_head(&tcp->write_queue), ls_write_req, queue);
    write_done(tcp, req, error);
  }
}

static void connect_done(ls_tcp *tcp) {
  ls_loop *loop = tcp->loop;
  ls_connect_req *req = tcp->connect_req;
  int error = tcp->delayed_error;
  if (error) {
    tcp->delayed_error = 0;
  } else {
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    getsockopt(tcp->io.fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error == EINPROGRESS)
      return;
    error = -so_error;
  }
  tcp->connect_req = NULL;
  loop->active_reqs--;
  if (error < 0 || ls__queue_empty(&tcp->write_queue))
    ls__io_stop(loop, &tcp->io, EPOLLOUT);
  update_active(tcp);
  if (req->cb && !loop->failed)
    TCP_CALLBACK(loop, "tcp.connect", req->async_id, req->trigger_id,
                 req->cb(req, error));
  if (tcp->io.fd < 0)
    return;
  if (error < 0) {
    flush_write_queue(tcp, LS_ECANCELED);
    write_callbacks(tcp);
  }
}

static void stream_io(ls_loop *loop, ls__io *w, unsigned events) {
  ls_tcp *tcp = tcp_of(w);
  if (tcp->connect_req) {
    connect_done(tcp);
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP) && tcp->tcp_flags & TCP_READING)
    stream_read(tcp);
  if (tcp->io.fd < 0 || loop->failed)
    return; /* closed by a read callback */
  if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
    stream_write(tcp);
    write_callbacks(tcp);
  }
}

/* ---- close ---- */

void ls__tcp_close(ls_tcp *tcp) {
  tcp->tcp_flags &= ~(TCP_READING | TCP_LISTENING);
  if (tcp->io.fd >= 0) {
    ls__io_close(tcp->loop, &tcp->io);
    close(tcp->io.fd);
    tcp->io.fd = -1;
  }
  if (tcp->accepted_fd >= 0) {
    close(tcp->accepted_fd);
    tcp->accepted_fd = -1;
  }
}

/* Close phase, before the close callback: cancel what is still queued. */
void ls__tcp_destroy(ls_tcp *tcp) {
  ls_loop *loop = tcp->loop;
  if (tcp->connect_req) {
    ls_connect_req *req = tcp->connect_req;
    tcp->connect_req = NULL;
    loop->active_reqs--;
    if (req->cb && !loop->failed)
      TCP_CALLBACK(loop, "tcp.connect", req->async_id, req->trigger_id,
                   req->cb(req, LS_ECANCELED));
  }
  flush_write_queue(tcp, LS_ECANCELED);
  ls__queue_remove(&tcp->io.pending_queue);
  write_callbacks(tcp);
}

int ls_ip4_addr(const char *ip, int port, struct sockaddr_in *addr) {
  if (!ip || !addr || port < 0 || port > 65535)
    return LS_EINVAL;
  memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, ip, &addr->sin_addr) == 1 ? 0 : LS_EINVAL;
}

int ls_ip6_addr(const char *ip, int port, struct sockaddr_in6 *addr) {
  if (!ip || !addr || port < 0 || port > 65535)
    return LS_EINVAL;
  memset(addr, 0, sizeof(*addr));
  addr->sin6_family = AF_INET6;
  addr->sin6_port = htons((uint16_t)port);
  return inet_pton(AF_INET6, ip, &addr->sin6_addr) == 1 ? 0 : LS_EINVAL;
}
