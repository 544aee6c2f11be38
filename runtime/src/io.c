/* The epoll backend: fd watchers, the poll phase, the pending queue, and the
 * public ls_io handle. */
#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>


#define MAX_EVENTS 1024

int ls__io_backend_init(ls_loop *loop) {
  loop->backend_fd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->backend_fd < 0)
    return -errno;
  return 0;
}

void ls__io_backend_close(ls_loop *loop) {
  if (loop->backend_fd >= 0)
    close(loop->backend_fd);
  loop->backend_fd = -1;
  free(loop->watchers);
  loop->watchers = NULL;
  loop->nwatchers = 0;
}

void ls__io_init(ls__io *w, ls__io_cb cb, int fd) {
  w->cb = cb;
  w->fd = fd;
  w->events = 0;
  w->pevents = 0;
  ls__queue_init(&w->pending_queue);
  ls__queue_init(&w->watcher_queue);
}

static int grow_watchers(ls_loop *loop, int fd) {
  if ((unsigned)fd < loop->nwatchers)
    return 0;
  unsigned n = loop->nwatchers ? loop->nwatchers : 64;
  while (n <= (unsigned)fd)
    n *= 2;
  ls__io **w = realloc(loop->watchers, n * sizeof(*w));
  if (!w)
    return LS_ENOMEM;
  memset(w + loop->nwatchers, 0, (n - loop->nwatchers) * sizeof(*w));
  loop->watchers = w;
  loop->nwatchers = n;
  return 0;
}

/* Hands w->pevents to epoll. */
static int sync_epoll(ls_loop *loop, ls__io *w) {
  ls__queue_remove(&w->watcher_queue);
  if (w->events == w->pevents)
    return 0;
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.data.fd = w->fd;
  ev.events = w->pevents;
  int op = w->events == 0 ? EPOLL_CTL_ADD
           : w->pevents == 0 ? EPOLL_CTL_DEL
                             : EPOLL_CTL_MOD;
  int r = epoll_ctl(loop->backend_fd, op, w->fd, &ev);
  if (r != 0 && errno == EEXIST && op == EPOLL_CTL_ADD)
    r = epoll_ctl(loop->backend_fd, EPOLL_CTL_MOD, w->fd, &ev);
  if (r != 0)
    return -errno;
  w->events = w->pevents;
  return 0;
}

int ls__io_start(ls_loop *loop, ls__io *w, unsigned events) {
  if (w->fd < 0)
    return LS_EBADF;
  int err = grow_watchers(loop, w->fd);
  if (err)
    return err;
  if (loop->watchers[w->fd] && loop->watchers[w->fd] != w)
    return LS_EEXIST;
  w->pevents |= events;
  loop->watchers[w->fd] = w;
  if (w->pevents != w->events && ls__queue_empty(&w->watcher_queue))
    ls__queue_insert_tail(&loop->watcher_queue, &w->watcher_queue);
  return 0;
}

/* Gives a pending interest change to epoll now, to report its error. */
static int io_start_now(ls_loop *loop, ls__io *w, unsigned events) {
  unsigned old = w->pevents;
  int err = ls__io_start(loop, w, events);
  if (!err && (err = sync_epoll(loop, w))) {
    w->pevents = old;
    if (old == 0)
      loop->watchers[w->fd] = NULL;
  }
  return err;
}

/* Dropping all interest reaches epoll at once (one syscall), so the kernel
 * never reports a watcher we forgot; narrowing it waits for the poll. */
void ls__io_stop(ls_loop *loop, ls__io *w, unsigned events) {
  if (w->fd < 0)
    return;
  w->pevents &= ~events;
  if (w->pevents == 0) {
    sync_epoll(loop, w);
    if ((unsigned)w->fd < loop->nwatchers && loop->watchers[w->fd] == w)
      loop->watchers[w->fd] = NULL;
  } else if (w->pevents != w->events && ls__queue_empty(&w->watcher_queue)) {
    ls__queue_insert_tail(&loop->watcher_queue, &w->watcher_queue);
  }
}

bool ls__io_active(const ls__io *w, unsigned events) {
  return (w->pevents & events) != 0;
}

/* Before the fd is closed: forget it, also in the batch being dispatched, so
 * a new fd with the same number does not get the old fd's events. */
void ls__io_close(ls_loop *loop, ls__io *w) {
  ls__io_stop(loop, w, EPOLLIN | EPOLLOUT);
  ls__queue_remove(&w->pending_queue);
  ls__queue_remove(&w->watcher_queue);
  struct epoll_event *events = loop->poll_events;
  for (int i = loop->poll_index + 1; events && i < loop->poll_nevents; i++)
    if (events[i].data.fd == w->fd)
      events[i].data.fd = -1;
}

void ls__io_feed(ls_loop *loop, ls__io *w) {
  if (ls__queue_empty(&w->pending_queue))
    ls__queue_insert_tail(&loop->pending_queue, &w->pending_queue);
}

void ls__run_pending(ls_loop *loop) {
  ls__queue queue;
  ls__queue_move(&loop->pending_queue, &queue);
  while (!ls__queue_empty(&queue) && !loop->failed) {
    ls__queue *q = ls__queue_head(&queue);
    ls__queue_remove(q);
    ls__io *w = ls__queue_data(q, ls__io, pending_queue);
    w->cb(loop, w, EPOLLOUT);
  }
  ls__queue_prepend(&queue, &loop->pending_queue);
}

/* uv__io_poll(): wait at most `timeout` ms (-1 = no limit), dispatch in
 * kernel order, poll again at once after a full batch. Returns the number
 * of events dispatched. */
int ls__io_poll(ls_loop *loop, int timeout) {
  struct epoll_event events[MAX_EVENTS];
  int rounds = 48;
  int total = 0;
  uint64_t base = loop->time;
  int user_timeout = timeout;
  while (!ls__queue_empty(&loop->watcher_queue)) {
    ls__io *w = ls__queue_data(ls__queue_head(&loop->watcher_queue), ls__io,
                               watcher_queue);
    if (sync_epoll(loop, w) != 0)
      w->pevents = w->events; /* ENOMEM / ENOSPC: drop it, do not spin */
  }
  for (;;) {
    uint64_t wait_start = LS_TRACE_ON() && timeout != 0 ? ls__hrtime() : 0;
    int nfds = epoll_wait(loop->backend_fd, events, MAX_EVENTS, timeout);
    /* errno is read only when the wait failed: it is a call per poll. */
    int saved_errno = nfds < 0 ? errno : 0;
    ls__update_time(loop);
    if (wait_start)
      loop->idle_ns += ls__hrtime() - wait_start;
    if (nfds < 0) {
      if (saved_errno != EINTR)
        return total;
      nfds = 0;
    }
    int dispatched = 0;
    loop->poll_events = events;
    loop->poll_nevents = nfds;
    for (loop->poll_index = 0; loop->poll_index < nfds && !loop->failed;
         loop->poll_index++) {
      struct epoll_event *e = &events[loop->poll_index];
      int fd = e->data.fd;
      if (fd < 0)
        continue;
      ls__io *w = (unsigned)fd < loop->nwatchers ? loop->watchers[fd] : NULL;
      if (!w) {
        epoll_ctl(loop->backend_fd, EPOLL_CTL_DEL, fd, e);
        continue;
      }
      /* Errors and hang-ups go to whichever side is watched, as libuv does:
       * the read or write then reports the real error. */
      unsigned pe = e->events & (w->pevents | EPOLLERR | EPOLLHUP);
      if (pe & (EPOLLERR | EPOLLHUP))
        pe |= w->pevents & (EPOLLIN | EPOLLOUT);
      if (pe == 0)
        continue;
      w->cb(loop, w, pe);
      dispatched++;
    }
    loop->poll_events = NULL;
    loop->poll_nevents = 0;
    loop->poll_index = 0;
    total += dispatched;
    if (loop->failed)
      return total;
    if (dispatched != 0) {
      if (nfds == MAX_EVENTS && --rounds != 0) {
        timeout = 0;
        continue;
      }
      return total;
    }
    if (timeout == 0)
      return total;
    if (timeout == -1)
      continue;
    int64_t left = (int64_t)user_timeout - (int64_t)(loop->time - base);
    if (left <= 0)
      return total;
    timeout = (int)left;
  }
}

/* ---- the public fd watcher ---- */

static void io_handle_cb(ls_loop *loop, ls__io *w, unsigned events) {
  ls_io *h = ls__queue_data(w, ls_io, io);
  int status = 0;
  int ev = 0;
  if (events & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
      status = -err;
    else
      status = LS_EBADF;
  }
  if (events & EPOLLIN)
    ev |= LS_READABLE;
  if (events & EPOLLOUT)
    ev |= LS_WRITABLE;
  if (events & EPOLLHUP)
    ev |= LS_DISCONNECT;
  const char *label = h->label ? h->label : "io";
  uint64_t prev =
      ls__cb_enter(loop, LS_KIND_IO, label, h->async_id, h->trigger_id);
  h->cb(h, status, ev);
  ls__cb_leave(loop, LS_KIND_IO, label, prev);
  ls__drain_if_queued(loop);
}

int ls_io_init(ls_loop *loop, ls_io *h, int fd) {
  if (!loop || !h)
    return LS_EINVAL;
  if (fd < 0 || fcntl(fd, F_GETFD) < 0)
    return LS_EBADF;
  ls__handle_init(loop, (ls_handle *)h, LS_HANDLE_IO, "io");
  h->cb = NULL;
  ls__io_init(&h->io, io_handle_cb, fd);
  return 0;
}

int ls_io_start(ls_io *h, int events, ls_io_cb cb) {
  if (!h || !cb || h->type != LS_HANDLE_IO)
    return LS_EINVAL;
  if (!ls__handle_usable((ls_handle *)h))
    return LS_EINVAL;
  if (!(events & (LS_READABLE | LS_WRITABLE)))
    return LS_EINVAL;
  unsigned want = 0;
  if (events & LS_READABLE)
    want |= EPOLLIN;
  if (events & LS_WRITABLE)
    want |= EPOLLOUT;
  /* Replace the interest set rather than add to it. */
  ls__io_stop(h->loop, &h->io, ~want & (EPOLLIN | EPOLLOUT));
  int err = io_start_now(h->loop, &h->io, want);
  if (err)
    return err;
  h->cb = cb;
  ls__handle_start((ls_handle *)h);
  return 0;
}

int ls_io_stop(ls_io *h) {
  if (!h || h->type != LS_HANDLE_IO)
    return LS_EINVAL;
  ls__io_stop(h->loop, &h->io, EPOLLIN | EPOLLOUT);
  ls__handle_stop((ls_handle *)h);
  return 0;
}

void ls__io_close_handle(ls_io *h) { ls__io_close(h->loop, &h->io); }
