/* The records the BPF programs put in the ring buffer, shared by the *.bpf.c
 * programs and the user-space loader. Kept small and fixed-size: a probe hit
 * costs one ring-buffer reservation and no string copies (except the first
 * time a USDT probe mentions a category or name: the target may be gone by
 * the time user space could read it). */
#ifndef LS_BPF_RAW_H
#define LS_BPF_RAW_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* What happened. The loader attaches one generic entry program and one
 * generic return program to most functions and tells them which function it
 * is through the BPF cookie: high 32 bits a kind, low 32 bits a `which`. */
enum ls_raw_kind {
  LS_RAW_RUN_ENTER = 1,  /* uv_run(loop, mode): a = loop, b = mode */
  LS_RAW_RUN_EXIT,
  LS_RAW_TIMERS_ENTER,   /* a = loop->time (ms), b = earliest due (ms) or ~0,
                            c = active handles, d = active requests */
  LS_RAW_TIMERS_EXIT,
  LS_RAW_IDLE_ENTER,
  LS_RAW_PREPARE_ENTER,
  LS_RAW_POLL_ENTER,     /* a = loop, b = timeout (ms, -1 = infinite) */
  LS_RAW_POLL_EXIT,
  LS_RAW_CHECK_ENTER,
  LS_RAW_CHECK_EXIT,
  LS_RAW_IO_ENTER,       /* which = enum ls_raw_io */
  LS_RAW_IO_EXIT,
  LS_RAW_JS_ENTER,       /* node::InternalCallbackScope ctor: a = this,
                            b, c = async id, trigger async id: the bits of
                            node's doubles (0: unknown) */
  LS_RAW_JS_CLOSE,       /* InternalCallbackScope::Close: a = this */
  LS_RAW_MICROTASKS_ENTER, /* v8 Execution::TryRunMicrotasks: the queue */
  LS_RAW_MICROTASKS_EXIT,  /* had work (empty checkpoints never get here) */
  LS_RAW_CLOSE_CB_ENTER,   /* node::HandleWrap::OnClose */
  LS_RAW_CLOSE_CB_EXIT,
  LS_RAW_WORK_SUBMIT,    /* uv__work_submit: a = loop, b = work */
  LS_RAW_WORK_ENTER,     /* worker thread: which = enum ls_raw_work, a = work,
                            c = uv_fs_type for fs work (-1 unknown) */
  LS_RAW_WORK_EXIT,
  LS_RAW_DONE_ENTER,     /* loop thread: which = enum ls_raw_work, a = work,
                            b = status, c = uv_fs_type for fs */
  LS_RAW_DONE_EXIT,
  LS_RAW_WRITE_QUEUE,    /* a = stream, b = fd, c = write_queue_size */
  LS_RAW_TIMER_START,    /* uv_timer_start: a = handle, c = timeout (ms) */
  LS_RAW_USDT,           /* which = enum ls_usdt_probe, a = id, b = arg,
                            c = category, d = name (pointers in the target) */
  LS_RAW_USDT_STR,       /* the same, as struct ls_raw_usdt with the texts */
};

/* The libuv functions that dispatch I/O callbacks. */
enum ls_raw_io {
  LS_IO_STREAM,   /* uv__stream_io: reads, writes, connects */
  LS_IO_SERVER,   /* uv__server_io: accept */
  LS_IO_ASYNC,    /* uv__async_io: uv_async_send wakeups */
  LS_IO_WORK,     /* uv__work_done: thread-pool completions */
  LS_IO_UDP,      /* uv__udp_io */
  LS_IO_POLL,     /* uv__poll_io: uv_poll_t */
  LS_IO_SIGNAL,   /* uv__signal_event */
  LS_IO_COUNT
};

/* Thread-pool work functions (worker side) and their done callbacks. */
enum ls_raw_work {
  LS_WORK_FS,
  LS_WORK_USER,        /* uv_queue_work: crypto, zlib, addons */
  LS_WORK_GETADDRINFO,
  LS_WORK_GETNAMEINFO,
  LS_WORK_RANDOM,
  LS_WORK_COUNT
};

/* The USDT probes of trace.h (provider "loopscope"). */
enum ls_usdt_probe {
  LS_USDT_BEGIN,       /* cat, name, a = id, b = arg */
  LS_USDT_END,         /* cat, name, b = arg */
  LS_USDT_INSTANT,     /* cat, name, a = id, b = arg */
  LS_USDT_COUNTER,     /* name, b = value */
  LS_USDT_FLOW_BEGIN,  /* a = id */
  LS_USDT_FLOW_END,    /* a = id */
  LS_USDT_ASYNC_BEGIN, /* cat, name, a = id */
  LS_USDT_ASYNC_END,   /* cat, name, a = id */
  LS_USDT_AWAIT_IN_PLACE, /* a = async id, b = trigger, c = coroutine id */
  LS_USDT_COUNT
};

struct ls_raw {
  __u64 ts;     /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
  __u32 tgid;
  __u32 tid;
  __u32 kind;   /* enum ls_raw_kind */
  __u32 which;
  __u64 a, b, c, d;
};

#define LS_RAW_STR 64
struct ls_raw_usdt {
  struct ls_raw h;
  char cat[LS_RAW_STR];
  char name[LS_RAW_STR];
};

#define LS_RAW_COOKIE(kind, which) (((__u64)(kind) << 32) | (__u32)(which))

#endif
