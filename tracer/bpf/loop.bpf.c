// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* uprobes on libuv's loop (and node's callback entry points).
 *
 * Most functions share two generic programs: fn_enter sends the first three
 * arguments, fn_exit the return value, and the BPF cookie the loader set at
 * attach time says which function it was. Only probes that must read the
 * target's memory (loop time and timer heap, stream write queue) have their
 * own program. Everything else, phase bookkeeping included, happens in user
 * space: a probe hit costs a trap and one ring-buffer record. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "emit.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* libuv struct offsets from uv.h (see uv_offsets.c); 0 = unknown, in which
 * case the fields are not read. */
const volatile __u32 off_loop_time = 0;
const volatile __u32 off_loop_timer_heap = 0;
const volatile __u32 off_loop_active_handles = 0;
const volatile __u32 off_loop_active_reqs = 0;
const volatile __u32 off_timer_heap_to_timeout = 0; /* from heap_node */
const volatile __u32 off_stream_wqs = 0;
const volatile __u32 off_stream_fd = 0;
const volatile __s32 off_work_to_fs_type = 0;

SEC("uprobe")
int BPF_KPROBE(fn_enter, __u64 a0, __u64 a1, __u64 a2) {
  __u64 cookie = bpf_get_attach_cookie(ctx);
  ls_emit(cookie >> 32, (__u32)cookie, a0, a1, a2, 0);
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(fn_exit, __u64 ret) {
  __u64 cookie = bpf_get_attach_cookie(ctx);
  ls_emit(cookie >> 32, (__u32)cookie, ret, 0, 0, 0);
  return 0;
}

/* uv__run_timers(loop): the loop's clock and the earliest timer's due time
 * give the lateness of this timers phase. */
SEC("uprobe")
int BPF_KPROBE(timers_enter, void *loop) {
  __u64 now = 0, due = ~0ULL;
  __u32 handles = 0, reqs = 0;
  if (off_loop_time) {
    void *min = 0;
    bpf_probe_read_user(&now, sizeof(now), loop + off_loop_time);
    bpf_probe_read_user(&min, sizeof(min), loop + off_loop_timer_heap);
    if (min)
      bpf_probe_read_user(&due, sizeof(due), min + off_timer_heap_to_timeout);
    bpf_probe_read_user(&handles, sizeof(handles),
                        loop + off_loop_active_handles);
    bpf_probe_read_user(&reqs, sizeof(reqs), loop + off_loop_active_reqs);
  }
  ls_emit(LS_RAW_TIMERS_ENTER, 0, now, due, handles, reqs);
  return 0;
}

/* node::InternalCallbackScope(this, env, resource, const async_context &ctx,
 * flags): node's async ids are two doubles in ctx, passed on as their bits
 * (no floating point in BPF). */
SEC("uprobe")
int BPF_KPROBE(js_scope, void *scope, void *env, void *resource, void *async_ctx) {
  __u64 ids[2] = {0, 0};
  bpf_probe_read_user(ids, sizeof(ids), async_ctx);
  ls_emit(LS_RAW_JS_ENTER, 0, (__u64)scope, ids[0], ids[1], 0);
  return 0;
}

/* uv__fs_work(w) and uv__fs_done(w, status): which fs operation. */
SEC("uprobe")
int BPF_KPROBE(fs_req, void *work, long status) {
  __u64 cookie = bpf_get_attach_cookie(ctx);
  int type = -1;
  if (off_work_to_fs_type)
    bpf_probe_read_user(&type, sizeof(type), work + off_work_to_fs_type);
  ls_emit(cookie >> 32, (__u32)cookie, (__u64)work, status, type, 0);
  return 0;
}

/* uv__write(stream) and uv__write_callbacks(stream): bytes still queued. */
SEC("uprobe")
int BPF_KPROBE(stream_write, void *stream) {
  __u64 size = 0;
  int fd = -1;
  if (!off_stream_wqs)
    return 0;
  bpf_probe_read_user(&size, sizeof(size), stream + off_stream_wqs);
  bpf_probe_read_user(&fd, sizeof(fd), stream + off_stream_fd);
  ls_emit(LS_RAW_WRITE_QUEUE, 0, (__u64)stream, fd, size, 0);
  return 0;
}

