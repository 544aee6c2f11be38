// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The USDT probes of our runtime (tracer/record/include/loopscope/trace.h,
 * provider "loopscope"). Category and name are char * into the target: they
 * are copied here because the target may have exited by the time user space
 * reads the record. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "emit.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void usdt_emit(__u32 which, const char *cat,
                                      const char *name, __u64 id, __u64 arg) {
  struct ls_raw_usdt *r = ls_reserve(sizeof(*r));
  if (!r)
    return;
  ls_fill(&r->h, LS_RAW_USDT, which);
  r->h.a = id;
  r->h.b = arg;
  r->h.c = 0;
  r->h.d = 0;
  r->cat[0] = 0;
  r->name[0] = 0;
  if (cat)
    bpf_probe_read_user_str(r->cat, sizeof(r->cat), cat);
  if (name)
    bpf_probe_read_user_str(r->name, sizeof(r->name), name);
  ls_submit(r);
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
