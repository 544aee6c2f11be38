/* File system requests on the thread pool. The callback runs on the loop
 * thread (poll phase); req->result is >= 0 on success (an fd, a byte count)
 * or a negative error code. Call ls_fs_cleanup on the request after the
 * callback to free what it owns (the path copy, read_file's contents).
 */
#ifndef LOOPSCOPE_FS_H
#define LOOPSCOPE_FS_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "loopscope/pool.h"
#include "loopscope/tcp.h" /* ls_buf */

typedef enum ls_fs_type {
  LS_FS_OPEN,
  LS_FS_READ,
  LS_FS_WRITE,
  LS_FS_CLOSE,
  LS_FS_STAT,
  LS_FS_READ_FILE
} ls_fs_type;

typedef struct ls_fs ls_fs;
typedef void (*ls_fs_cb)(ls_fs *req);

struct ls_fs {
  void *data; /* for the user */
  ls_loop *loop;
  ls_fs_type type;
  ls_fs_cb cb;
  ssize_t result;
  char *path;       /* copy of the path argument */
  struct stat statbuf; /* stat */
  char *contents;   /* read_file: the bytes, NUL-terminated; result = size */
  /* private */
  int fd;
  int flags;
  int mode;
  ls_buf buf;
  int64_t offset;
  ls_work work;
};

int ls_fs_open(ls_loop *loop, ls_fs *req, const char *path, int flags,
               int mode, ls_fs_cb cb);
/* offset < 0: at the current file position. */
int ls_fs_read(ls_loop *loop, ls_fs *req, int fd, ls_buf buf, int64_t offset,
               ls_fs_cb cb);
int ls_fs_write(ls_loop *loop, ls_fs *req, int fd, ls_buf buf, int64_t offset,
                ls_fs_cb cb);
int ls_fs_close(ls_loop *loop, ls_fs *req, int fd, ls_fs_cb cb);
int ls_fs_stat(ls_loop *loop, ls_fs *req, const char *path, ls_fs_cb cb);
/* fs.readFile: open, read everything, close, in one pool job. */
int ls_fs_read_file(ls_loop *loop, ls_fs *req, const char *path, ls_fs_cb cb);
void ls_fs_cleanup(ls_fs *req);

#endif
