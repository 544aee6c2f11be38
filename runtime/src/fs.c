/* File system requests: the blocking call runs on a pool worker, the
 * callback on the loop thread. */
#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static const char *const fs_labels[] = {
    [LS_FS_OPEN] = "fs.open",   [LS_FS_READ] = "fs.read",
    [LS_FS_WRITE] = "fs.write", [LS_FS_CLOSE] = "fs.close",
    [LS_FS_STAT] = "fs.stat",   [LS_FS_READ_FILE] = "fs.readFile",
};

static ssize_t read_whole_file(ls_fs *req) {
  int fd = open(req->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = -errno;
    close(fd);
    return err;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return LS_EISDIR;
  }
  /* st_size is a hint only (pipes and /proc files say 0): grow as needed. */
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  size_t len = 0;
  char *data = malloc(cap);
  ssize_t result = 0;
  while (data) {
    if (len + 1 >= cap) {
      char *bigger = realloc(data, cap * 2);
      if (!bigger) {
        free(data);
        data = NULL;
        break;
      }
      data = bigger;
      cap *= 2;
    }
    ssize_t n = read(fd, data + len, cap - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      result = -errno;
      break;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  if (!data)
    return LS_ENOMEM;
  if (result < 0) {
    free(data);
    return result;
  }
  data[len] = '\0';
  req->contents = data;
  return (ssize_t)len;
}

static ssize_t result_of(ssize_t r) { return r < 0 ? -errno : r; }

static void fs_work(ls_work *work) {
  ls_fs *req = ls__queue_data(work, ls_fs, work);
  ssize_t r;
  switch (req->type) {
  case LS_FS_OPEN:
    r = result_of(open(req->path, req->flags | O_CLOEXEC, req->mode));
    break;
  case LS_FS_READ:
    r = req->offset < 0 ? read(req->fd, req->buf.base, req->buf.len)
                        : pread(req->fd, req->buf.base, req->buf.len,
                                (off_t)req->offset);
    r = result_of(r);
    break;
  case LS_FS_WRITE:
    r = req->offset < 0 ? write(req->fd, req->buf.base, req->buf.len)
                        : pwrite(req->fd, req->buf.base, req->buf.len,
                                 (off_t)req->offset);
    r = result_of(r);
    break;
  case LS_FS_CLOSE:
    r = result_of(close(req->fd));
    break;
  case LS_FS_STAT:
    r = result_of(stat(req->path, &req->statbuf));
    break;
  case LS_FS_READ_FILE:
    r = read_whole_file(req);
    break;
  default:
    r = LS_EINVAL;
  }
  req->result = r;
}

static void fs_after(ls_work *work, int status) {
  ls_fs *req = ls__queue_data(work, ls_fs, work);
  if (status)
    req->result = status;
  req->cb(req);
}

static int submit(ls_loop *loop, ls_fs *req, ls_fs_type type,
                  const char *path, ls_fs_cb cb) {
  if (!loop || !req || !cb)
    return LS_EINVAL;
  req->loop = loop;
  req->type = type;
  req->cb = cb;
  req->result = 0;
  req->path = NULL;
  req->contents = NULL;
  if (path && !(req->path = strdup(path)))
    return LS_ENOMEM;
  req->work.label = fs_labels[type];
  int err = ls__pool_submit(loop, &req->work, LS_KIND_FS, fs_work, fs_after);
  if (err) {
    free(req->path);
    req->path = NULL;
  }
  return err;
}

int ls_fs_open(ls_loop *loop, ls_fs *req, const char *path, int flags,
               int mode, ls_fs_cb cb) {
  if (!path)
    return LS_EINVAL;
  req->flags = flags;
  req->mode = mode;
  return submit(loop, req, LS_FS_OPEN, path, cb);
}

static int fd_request(ls_loop *loop, ls_fs *req, ls_fs_type type, int fd,
                      ls_buf buf, int64_t offset, ls_fs_cb cb) {
  if (!req)
    return LS_EINVAL;
  if (fd < 0)
    return LS_EBADF;
  req->fd = fd;
  req->buf = buf;
  req->offset = offset;
  return submit(loop, req, type, NULL, cb);
}

int ls_fs_read(ls_loop *loop, ls_fs *req, int fd, ls_buf buf, int64_t offset,
               ls_fs_cb cb) {
  return fd_request(loop, req, LS_FS_READ, fd, buf, offset, cb);
}

int ls_fs_write(ls_loop *loop, ls_fs *req, int fd, ls_buf buf, int64_t offset,
                ls_fs_cb cb) {
  return fd_request(loop, req, LS_FS_WRITE, fd, buf, offset, cb);
}

int ls_fs_close(ls_loop *loop, ls_fs *req, int fd, ls_fs_cb cb) {
  return fd_request(loop, req, LS_FS_CLOSE, fd, ls_buf_init(NULL, 0), -1, cb);
}

int ls_fs_stat(ls_loop *loop, ls_fs *req, const char *path, ls_fs_cb cb) {
  if (!path)
    return LS_EINVAL;
  return submit(loop, req, LS_FS_STAT, path, cb);
}

int ls_fs_read_file(ls_loop *loop, ls_fs *req, const char *path, ls_fs_cb cb) {
  if (!path)
    return LS_EINVAL;
  return submit(loop, req, LS_FS_READ_FILE, path, cb);
}

void ls_fs_cleanup(ls_fs *req) {
  if (!req)
    return;
  free(req->path);
  req->path = NULL;
  free(req->contents);
  req->contents = NULL;
}
