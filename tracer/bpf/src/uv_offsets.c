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
};
#else
const ls__uv_offsets ls__uv = {.known = false, .version = "unknown"};
#endif
