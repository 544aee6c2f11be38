// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The USDT probes of our runtime (tracer/record/include/loopscope/trace.h,
 * provider "loopscope"). Category and name are char * into the target, and
 * trace.h promises they live as long as the process and are never reused
 * (literals or interned). So each string is copied once: the first record
 * that mentions a pointer carries its text, later ones only the pointer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "emit.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Pointers whose text user space already has. An evicted one is sent again:
 * harmless. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u64);
  __type(value, __u8);
} sent SEC(".maps");

static __always_inline bool known(const char *s) {
  __u64 key = (__u64)s;
  return !s || bpf_map_lookup_elem(&sent, &key);
}

static __always_inline void mark_sent(const char *s) {
  __u64 key = (__u64)s;
  __u8 one = 1;
  if (s)
    bpf_map_update_elem(&sent, &key, &one, BPF_ANY);
}

static __always_inline void usdt_emit(__u32 which, const char *cat,
                                      const char *name, __u64 id, __u64 arg) {
  if (known(cat) && known(name)) {
    ls_emit(LS_RAW_USDT, which, id, arg, (__u64)cat, (__u64)name);
    return;
  }
  struct ls_raw_usdt *r = ls_reserve(sizeof(*r));
  if (!r)
    return;
  ls_fill(&r->h, LS_RAW_USDT_STR, which);
  r->h.a = id;
  r->h.b = arg;
  r->h.c = (__u64)cat;
  r->h.d = (__u64)name;
  r->cat[0] = 0;
  r->name[0] = 0;
  if (cat)
    bpf_probe_read_user_str(r->cat, sizeof(r->cat), cat);
  if (name)
    bpf_probe_read_user_str(r->name, sizeof(r->name), name);
  /* After the reservation: a record that relies on this text is reserved,
   * and so read, after this one. */
  mark_sent(cat);
  mark_sent(name);
  ls_submit(r, sizeof(*r) + 8);
}

SEC("usdt")
int BPF_USDT(usdt_begin, const char *cat, const char *name, __u64 id, __u64 arg) {
  usdt_emit(LS_USDT_BEGIN, cat, name, id, arg);
  return 0;
}

SEC("usdt")
int BPF_USDT(usdt_end, const char *cat, const char *name, __u64 arg) {
  usdt_emit(LS_USDT_END, cat, name, 0, arg);
  return 0;
}

SEC("usdt")
int BPF_USDT(usdt_instant, const char *cat, const char *name, __u64 id, __u64 arg) {
  usdt_emit(LS_USDT_INSTANT, cat, name, id, arg);
  return 0;
}

SEC("usdt")
int BPF_USDT(usdt_counter, const char *name, __s64 value) {
  usdt_emit(LS_USDT_COUNTER, 0, name, 0, value);
  return 0;
}

SEC("usdt")
int BPF_USDT(usdt_flow_begin, __u64 id) {
  usdt_emit(LS_USDT_FLOW_BEGIN, 0, 0, id, 0);
  return 0;
}

SEC("usdt")
int BPF_USDT(usdt_flow_end, __u64 id) {
  usdt_emit(LS_USDT_FLOW_END, 0, 0, id, 0);
  return 0;
}

SEC("usdt")
int BPF_USDT(usdt_async_begin, const char *cat, const char *name, __u64 id) {
  usdt_emit(LS_USDT_ASYNC_BEGIN, cat, name, id, 0);
  return 0;
}

SEC("usdt")
int BPF_USDT(usdt_async_end, const char *cat, const char *name, __u64 id) {
  usdt_emit(LS_USDT_ASYNC_END, cat, name, id, 0);
  return 0;
}

/* No strings: user space knows the seven events it stands for. */
SEC("usdt")
int BPF_USDT(usdt_await_in_place, __u64 id, __u64 trigger, __u64 co_id) {
  ls_emit(LS_RAW_USDT, LS_USDT_AWAIT_IN_PLACE, id, trigger, co_id, 0);
  return 0;
}
