/* libuv's struct layout, taken from uv.h when loopscope is built (node ships
 * the headers of the libuv it bundles). The BPF programs read loop->time, the
 * timer heap and stream write queues at these offsets; session.c checks them
 * against the live process before trusting them. */
#include "internal.h"

#ifdef LS_HAVE_UV_H
#include <stddef.h>
#include <uv.h>

#define LS__STR2(x) #x
#define LS__STR(x) LS__STR2(x)

const ls__uv_offsets ls__uv = {
  .known = true,
  .version = LS__STR(UV_VERSION_MAJOR) "." LS__STR(UV_VERSION_MINOR) "."
             LS__STR(UV_VERSION_PATCH),
  .loop_time = offsetof(uv_loop_t, time),
  .loop_timer_heap = offsetof(uv_loop_t, timer_heap),
  .loop_active_handles = offsetof(uv_loop_t, active_handles),
  .loop_active_reqs = offsetof(uv_loop_t, active_reqs.count),
  .timer_heap_to_timeout =
      offsetof(uv_timer_t, timeout) - offsetof(uv_timer_t, heap_node),
  .stream_write_queue_size = offsetof(uv_stream_t, write_queue_size),
  .stream_fd = offsetof(uv_stream_t, io_watcher.fd),
  .work_to_fs_type = (int32_t)offsetof(uv_fs_t, fs_type) -
                     (int32_t)offsetof(uv_fs_t, work_req),
};

/* Names of uv_fs_type values, for the fs work of a thread-pool slice. */
#define LS__FS_OPS(X)                                                        \
  X(OPEN, open) X(CLOSE, close) X(READ, read) X(WRITE, write)                \
  X(SENDFILE, sendfile) X(STAT, stat) X(LSTAT, lstat) X(FSTAT, fstat)        \
  X(FTRUNCATE, ftruncate) X(UTIME, utime) X(FUTIME, futime)                  \
  X(ACCESS, access) X(CHMOD, chmod) X(FCHMOD, fchmod) X(FSYNC, fsync)        \
  X(FDATASYNC, fdatasync) X(UNLINK, unlink) X(RMDIR, rmdir)                  \
  X(MKDIR, mkdir) X(MKDTEMP, mkdtemp) X(RENAME, rename) X(SCANDIR, scandir)  \
  X(LINK, link) X(SYMLINK, symlink) X(READLINK, readlink) X(CHOWN, chown)    \
  X(FCHOWN, fchown) X(REALPATH, realpath) X(COPYFILE, copyfile)              \
  X(LCHOWN, lchown) X(OPENDIR, opendir) X(READDIR, readdir)                  \
  X(CLOSEDIR, closedir) X(STATFS, statfs) X(MKSTEMP, mkstemp)                \
  X(LUTIME, lutime)
#define LS__FS_NAME(e, s) [UV_FS_##e] = "fs." #s,
#define LS__FS_SYNC_NAME(e, s) [UV_FS_##e] = "fs." #s " (sync)",
static const char *const fs_names[] = {LS__FS_OPS(LS__FS_NAME)};
static const char *const fs_sync_names[] = {LS__FS_OPS(LS__FS_SYNC_NAME)};

const char *ls__uv_fs_name(int64_t type, bool sync) {
  if (type < 0 || (size_t)type >= sizeof(fs_names) / sizeof(fs_names[0]) ||
      !fs_names[type])
    return sync ? "fs (sync)" : "fs";
  return sync ? fs_sync_names[type] : fs_names[type];
}
#else
const ls__uv_offsets ls__uv = {.known = false, .version = "unknown"};

const char *ls__uv_fs_name(int64_t type, bool sync) {
  (void)type;
  return sync ? "fs (sync)" : "fs";
}
#endif
