/* Ring-buffer plumbing shared by the BPF objects (included, not linked: each
 * object gets its own ring buffer and loss counter). */
#ifndef LS_EMIT_BPF_H
#define LS_EMIT_BPF_H

#include "raw.h"

/* Set by the loader before load. */
const volatile __u32 target_tgid = 0;
/* Wake the reader each time another 2^wakeup_shift bytes (256 KiB) have
 * piled up, not per event: a wakeup costs more than the probe itself. Not
 * "whenever above the mark" either: a reader that falls behind would then be
 * woken by every event, ~15 us each. The reader also drains on a timer, so a
 * missed crossing (two CPUs racing past the mark) costs only latency. */
const volatile __u32 wakeup_shift = 18;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 8 << 20); /* the loader may change it */
} events SEC(".maps");

/* Records dropped because the ring was full. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} lost SEC(".maps");

static __always_inline void *ls_reserve(__u64 size) {
  void *r = bpf_ringbuf_reserve(&events, size, 0);
  if (!r) {
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost, &zero);
    if (n)
      (*n)++;
  }
  return r;
}

static __always_inline void ls_fill(struct ls_raw *r, __u32 kind, __u32 which) {
  __u64 id = bpf_get_current_pid_tgid();
  r->ts = bpf_ktime_get_ns();
  r->tgid = id >> 32;
  r->tid = (__u32)id;
  r->kind = kind;
  r->which = which;
}

static __always_inline void ls_submit(void *r, __u64 size) {
  __u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
  __u64 before = waiting > size ? waiting - size : 0;
  bpf_ringbuf_submit(r, (waiting >> wakeup_shift) != (before >> wakeup_shift)
                            ? BPF_RB_FORCE_WAKEUP
                            : BPF_RB_NO_WAKEUP);
}

static __always_inline void ls_emit(__u32 kind, __u32 which, __u64 a, __u64 b,
                                    __u64 c, __u64 d) {
  struct ls_raw *r = ls_reserve(sizeof(*r));
  if (!r)
    return;
  ls_fill(r, kind, which);
  r->a = a;
  r->b = b;
  r->c = c;
  r->d = d;
  ls_submit(r, sizeof(*r) + 8); /* + the ring's record header */
}

#endif
