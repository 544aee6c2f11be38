/* An eBPF tracing session: inspect the target, load and attach the BPF
 * programs, drain the ring buffer into the converter, detach. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "loop.skel.h"
#include "usdt.skel.h"

/* Uprobes of one program in one file, attached as one uprobe_multi link. */
typedef struct batch {
  struct bpf_program *prog;
  const char *path;
  bool ret;
  unsigned n, cap;
  uint64_t *offsets;
  uint64_t *cookies;
  uint64_t *ref_ctrs;  /* USDT semaphores, or NULL */
} batch;

#define MAX_BATCHES 16

struct ls_bpf {
  ls_bpf_opts o;
  ls_bpf_mode mode;
  bool multi;             /* kernel has uprobe_multi links (6.6+) */
  bool multi_failed;
  batch batches[MAX_BATCHES];
  unsigned nbatches;
  int multi_fds[MAX_BATCHES];
  unsigned nmulti;
  struct ls_loop_bpf *loop;
  struct ls_usdt_bpf *usdt;
  struct bpf_link **links;
  unsigned nlinks, cap;
  struct ring_buffer *rb;
  int lost_fd;
  int ncpus;
  uint64_t lost_seen;
  ls__conv *conv;
  ls_bpf_stats st;
  ls__usdt_site *sites;  /* USDT mode: spec id = index */
  size_t nsites;
  char target[PATH_MAX]; /* the file the probes are in */
};

/* ------------------------------------------------------------ the probes */

enum prog { P_GENERIC, P_TIMERS, P_STREAM, P_FS, P_JS };

/* One function to probe: at entry (enter_kind), at return (exit_kind), or
 * both. `which` goes into the cookie. Names are the ELF symbols (C++ ones
 * mangled): node 20 ships them unstripped. */
typedef struct probe {
  const char *sym;
  ls_bpf_level level;
  enum prog prog;
  uint32_t enter_kind, exit_kind, which;
  const char *what; /* what is missing without it */
} probe;

/* An I/O watcher's callback, at the callbacks level. */
#define IO_CALLBACK(sym, which, what) \
  {sym, LS_BPF_CALLBACKS, P_GENERIC, LS_RAW_IO_ENTER, LS_RAW_IO_EXIT, which, what}
/* A kind of thread-pool work, at the full level: libuv's uv__<stem>_work
 * runs it on a worker, uv__<stem>_done completes it on the loop. */
#define POOL_WORK(stem, prog, which, what)                                    \
  {"uv__" stem "_work", LS_BPF_FULL, prog, LS_RAW_WORK_ENTER,                 \
   LS_RAW_WORK_EXIT, which, what " work"},                                    \
  {"uv__" stem "_done", LS_BPF_FULL, prog, LS_RAW_DONE_ENTER,                 \
   LS_RAW_DONE_EXIT, which, what " completions"}

static const probe probes[] = {
  {"uv_run", LS_BPF_PHASES, P_GENERIC, LS_RAW_RUN_ENTER, LS_RAW_RUN_EXIT, 0, NULL},
  {"uv__run_timers", LS_BPF_PHASES, P_TIMERS, LS_RAW_TIMERS_ENTER, LS_RAW_TIMERS_EXIT, 0, NULL},
  {"uv__io_poll", LS_BPF_PHASES, P_GENERIC, LS_RAW_POLL_ENTER, LS_RAW_POLL_EXIT, 0, NULL},
  {"uv__run_idle", LS_BPF_PHASES, P_GENERIC, LS_RAW_IDLE_ENTER, 0, 0, "idle phases"},
  {"uv__run_prepare", LS_BPF_PHASES, P_GENERIC, LS_RAW_PREPARE_ENTER, 0, 0, "prepare phases"},
  {"uv__run_check", LS_BPF_PHASES, P_GENERIC, LS_RAW_CHECK_ENTER, LS_RAW_CHECK_EXIT, 0, "check and close phases"},
  IO_CALLBACK("uv__stream_io", LS_IO_STREAM, "stream callbacks"),
  IO_CALLBACK("uv__server_io", LS_IO_SERVER, "accept callbacks"),
  IO_CALLBACK("uv__async_io", LS_IO_ASYNC, "async callbacks"),
  IO_CALLBACK("uv__work_done", LS_IO_WORK, "thread-pool completions"),
  IO_CALLBACK("uv__udp_io", LS_IO_UDP, "udp callbacks"),
  IO_CALLBACK("uv__poll_io", LS_IO_POLL, "uv_poll callbacks"),
  IO_CALLBACK("uv__signal_event", LS_IO_SIGNAL, "signal callbacks"),
  /* node::InternalCallbackScope: every entry from the loop into JS. */
  {"_ZN4node21InternalCallbackScopeC2EPNS_11EnvironmentEN2v85LocalINS3_6ObjectEEERKNS_13async_contextEi",
   LS_BPF_CALLBACKS, P_JS, LS_RAW_JS_ENTER, 0, 0, "JS entries"},
  {"_ZN4node21InternalCallbackScopeC2EPNS_9AsyncWrapEi",
   LS_BPF_CALLBACKS, P_GENERIC, LS_RAW_JS_ENTER, 0, 0, "JS entries from AsyncWrap"},
  /* The complete-object constructors: aliases of the ones above in node 20
   * (same address, attached once), separate code in other builds. */
  {"_ZN4node21InternalCallbackScopeC1EPNS_11EnvironmentEN2v85LocalINS3_6ObjectEEERKNS_13async_contextEi",
   LS_BPF_CALLBACKS, P_JS, LS_RAW_JS_ENTER, 0, 0, "JS entries"},
  {"_ZN4node21InternalCallbackScopeC1EPNS_9AsyncWrapEi",
   LS_BPF_CALLBACKS, P_GENERIC, LS_RAW_JS_ENTER, 0, 0, "JS entries from AsyncWrap"},
  {"_ZN4node21InternalCallbackScope5CloseEv",
   LS_BPF_CALLBACKS, P_GENERIC, LS_RAW_JS_CLOSE, 0, 0, "JS entry ends"},
  /* Reached only when the microtask queue has work: checkpoints that find it
   * empty (most of them) cost no probe hit. */
  {"_ZN2v88internal9Execution16TryRunMicrotasksEPNS0_7IsolateEPNS0_14MicrotaskQueueE",
   LS_BPF_CALLBACKS, P_GENERIC, LS_RAW_MICROTASKS_ENTER, LS_RAW_MICROTASKS_EXIT, 0, "microtask checkpoints"},
  {"_ZN4node10HandleWrap7OnCloseEP11uv_handle_s",
   LS_BPF_CALLBACKS, P_GENERIC, LS_RAW_CLOSE_CB_ENTER, LS_RAW_CLOSE_CB_EXIT, 0, "close callbacks"},
  {"uv__work_submit", LS_BPF_FULL, P_GENERIC, LS_RAW_WORK_SUBMIT, 0, 0, "thread-pool queueing"},
  POOL_WORK("fs", P_FS, LS_WORK_FS, "fs"),
  POOL_WORK("queue", P_GENERIC, LS_WORK_USER, "uv_queue_work"),
  POOL_WORK("getaddrinfo", P_GENERIC, LS_WORK_GETADDRINFO, "getaddrinfo"),
  POOL_WORK("getnameinfo", P_GENERIC, LS_WORK_GETNAMEINFO, "getnameinfo"),
  POOL_WORK("random", P_GENERIC, LS_WORK_RANDOM, "random"),
  {"uv__write", LS_BPF_FULL, P_STREAM, LS_RAW_WRITE_QUEUE, 0, 0, "stream write queues"},
  {"uv__write_callbacks", LS_BPF_FULL, P_STREAM, LS_RAW_WRITE_QUEUE, 0, 0, "stream write queues after writes"},
  {"uv_timer_start", LS_BPF_FULL, P_GENERIC, LS_RAW_TIMER_START, 0, 0, "timer starts"},
};
#undef IO_CALLBACK
#undef POOL_WORK
#define NPROBES (sizeof(probes) / sizeof(probes[0]))
/* The first three are the loop itself: without them there is nothing. */
#define NREQUIRED 3

static const char *const usdt_names[LS_USDT_COUNT] = {
  [LS_USDT_BEGIN] = "begin",           [LS_USDT_END] = "end",
  [LS_USDT_INSTANT] = "instant",       [LS_USDT_COUNTER] = "counter",
  [LS_USDT_FLOW_BEGIN] = "flow_begin", [LS_USDT_FLOW_END] = "flow_end",
  [LS_USDT_ASYNC_BEGIN] = "async_begin", [LS_USDT_ASYNC_END] = "async_end",
  [LS_USDT_AWAIT_IN_PLACE] = "await_in_place",
};

/* ------------------------------------------------------------ messages */

static void say(const ls_bpf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ls__say(void (*log)(void *ctx, const char *msg), void *log_ctx,
             const char *fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof(msg), fmt, ap);
  if (log)
    log(log_ctx, msg);
  else
    fprintf(stderr, "loopscope: %s\n", msg);
}

static void say(const ls_bpf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ls__say(b->o.log, b->o.log_ctx, fmt, ap);
  va_end(ap);
}

/* Set while a load may fail for a reason we handle (no uprobe_multi in an
 * older kernel): libbpf's warnings would only alarm. */
static bool libbpf_quiet;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
                        va_list ap) {
  if (level != LIBBPF_WARN || libbpf_quiet)
    return 0;
  fputs("libbpf: ", stderr);
  return vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------------------------ checks */

/* Root is not enough in a container: what counts is the capabilities. */
static bool can_trace(void) {
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  unsigned long long eff = 0;
  if (!f)
    return geteuid() == 0;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "CapEff: %llx", &eff) == 1)
      break;
  fclose(f);
  const unsigned long long sys_admin = 1ULL << 21, perfmon = 1ULL << 38,
                           bpf = 1ULL << 39;
  return (eff & sys_admin) || ((eff & perfmon) && (eff & bpf));
}

int ls_bpf_check_system(char *err, size_t errlen) {
  if (!can_trace()) {
    snprintf(err, errlen, "needs root or CAP_SYS_ADMIN for uprobes (%s)",
             geteuid() == 0 ? "root here lacks it: a container without "
                              "--privileged?"
                            : "run it with sudo");
    return -1;
  }
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    snprintf(err, errlen, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s); "
                          "a kernel built with CONFIG_DEBUG_INFO_BTF is needed",
             strerror(errno));
    return -1;
  }
  if (access("/sys/bus/event_source/devices/uprobe/type", R_OK) != 0) {
    snprintf(err, errlen, "the kernel has no uprobes (/sys/bus/event_source/"
                          "devices/uprobe missing: CONFIG_UPROBE_EVENTS)");
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ the target */

/* Calls fn on each distinct file mapped executable in the process. */
static bool each_mapped_file(pid_t pid, bool (*fn)(const char *path, void *ctx),
                             void *ctx) {
  char path[64], line[PATH_MAX + 256], last[PATH_MAX] = "", seen[PATH_MAX + 64];
  snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return false;
  bool done = false;
  while (!done && fgets(line, sizeof(line), f)) {
    char perms[8];
    int off = 0;
    if (sscanf(line, "%*s %7s %*s %*s %*s %n", perms, &off) < 1 || !off ||
        perms[2] != 'x')
      continue;
    char *file = line + off;
    file[strcspn(file, "\n")] = 0;
    if (file[0] != '/' || !strcmp(file, last))
      continue;
    snprintf(last, sizeof(last), "%s", file);
    /* The path is the process's own: in a container, only its root (seen
     * from here through /proc) has it. */
    if (pid == getpid())
      snprintf(seen, sizeof(seen), "%s", file);
    else
      snprintf(seen, sizeof(seen), "/proc/%d/root%s", (int)pid, file);
    done = fn(seen, ctx);
  }
  fclose(f);
  return done;
}

/* Each keeps the path of the first file that has it in out (PATH_MAX). */
static bool keep_path(void *out, const char *path) {
  size_t n = strlen(path);
  if (n >= PATH_MAX) /* unusable as a uprobe target anyway */
    return false;
  memcpy(out, path, n + 1);
  return true;
}

static bool file_has_usdt(const char *path, void *out) {
  return ls__elf_has_usdt(path, "loopscope") && keep_path(out, path);
}

static bool file_has_libuv(const char *path, void *out) {
  static const char *const names[] = {"uv_run"};
  uint64_t off;
  char err[256];
  return ls__elf_func_offsets(path, names, &off, NULL, 1, err, sizeof(err)) == 0 &&
         off && keep_path(out, path);
}

/* Calls fn on the files the target has (or will have, when it has not
 * exec'd yet: then the maps are still ours) mapped: its executable first. */
static bool each_target_file(ls_bpf *b, const char *exe,
                             bool (*fn)(const char *path, void *ctx), void *ctx) {
  if (fn(exe, ctx))
    return true;
  if (!b->o.exe)
    return each_mapped_file(b->o.pid, fn, ctx);
  char libs[16][PATH_MAX];
  int n = ls__elf_needed(exe, libs, 16);
  for (int i = 0; i < n; i++)
    if (fn(libs[i], ctx))
      return true;
  return false;
}

/* Decides the mode and the file the probes go into: our runtime's USDT
 * probes first, else libuv's functions. */
static int find_target(ls_bpf *b, const char *exe, char *err, size_t errlen) {
  if (each_target_file(b, exe, file_has_usdt, b->target)) {
    b->mode = LS_BPF_MODE_USDT;
    if (ls__usdt_sites(b->target, "loopscope", usdt_names, LS_USDT_COUNT,
                       &b->sites, &b->nsites, err, errlen) < 0)
      return -1;
    return 0;
  }
  b->mode = LS_BPF_MODE_LIBUV;
  if (each_target_file(b, exe, file_has_libuv, b->target))
    return 0;
  snprintf(err, errlen, "%s has no libuv symbols (uv_run not found, nor in the "
                        "libraries it loads) and no loopscope USDT probes: "
                        "nothing to attach to (a stripped binary?)", exe);
  return -1;
}

/* ------------------------------------------------------------ attaching */

static int add_link(ls_bpf *b, struct bpf_link *l) {
  if (b->nlinks == b->cap) {
    unsigned cap = b->cap ? 2 * b->cap : 32;
    struct bpf_link **links = realloc(b->links, cap * sizeof(*links));
    if (!links) {
      bpf_link__destroy(l);
      return -ENOMEM;
    }
    b->links = links;
    b->cap = cap;
  }
  b->links[b->nlinks++] = l;
  b->st.probes++;
  return 0;
}

/* uprobe_multi (Linux 6.6): one link for many uprobes. Removing a uprobe
 * waits for an RCU grace period, and perf-event uprobes are removed one at a
 * time, ~130 ms each here: 50 probes took 7 s to detach. A multi link waits
 * once. libbpf 1.1 predates it, hence the raw bpf(2) call; the constants are
 * the kernel's UAPI values. */
#define LS_BPF_LINK_CREATE 28
#define LS_BPF_TRACE_UPROBE_MULTI 48
#define LS_BPF_F_UPROBE_MULTI_RETURN 1

struct uprobe_multi_attr {
  uint32_t prog_fd, target_fd, attach_type, flags;
  uint64_t path, offsets, ref_ctr_offsets, cookies;
  uint32_t cnt, flags2, pid;
};

static int link_uprobe_multi(const ls_bpf *b, const batch *bt) {
  struct uprobe_multi_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_fd = (uint32_t)bpf_program__fd(bt->prog);
  a.attach_type = LS_BPF_TRACE_UPROBE_MULTI;
  a.path = (uintptr_t)bt->path;
  a.offsets = (uintptr_t)bt->offsets;
  a.cookies = (uintptr_t)bt->cookies;
  a.ref_ctr_offsets = (uintptr_t)bt->ref_ctrs;
  a.cnt = bt->n;
  a.flags2 = bt->ret ? LS_BPF_F_UPROBE_MULTI_RETURN : 0;
  a.pid = (uint32_t)b->o.pid;
  int fd = (int)syscall(__NR_bpf, LS_BPF_LINK_CREATE, &a, sizeof(a));
  return fd < 0 ? -errno : fd;
}

/* Adds a uprobe to the batch of its program and file. */
static int batch_add(ls_bpf *b, struct bpf_program *prog, const char *path,
                     bool ret, uint64_t off, uint64_t cookie, uint64_t ref_ctr) {
  batch *bt = NULL;
  for (unsigned i = 0; i < b->nbatches && !bt; i++)
    if (b->batches[i].prog == prog && b->batches[i].ret == ret &&
        !strcmp(b->batches[i].path, path))
      bt = &b->batches[i];
  if (!bt) {
    if (b->nbatches == MAX_BATCHES)
      return -E2BIG;
    bt = &b->batches[b->nbatches++];
    *bt = (batch){.prog = prog, .path = path, .ret = ret};
  }
  if (bt->n == bt->cap) {
    unsigned cap = bt->cap ? 2 * bt->cap : 16;
    uint64_t *o = realloc(bt->offsets, cap * sizeof(*o));
    if (o)
      bt->offsets = o;
    uint64_t *c = realloc(bt->cookies, cap * sizeof(*c));
    if (c)
      bt->cookies = c;
    uint64_t *r = realloc(bt->ref_ctrs, cap * sizeof(*r));
    if (r)
      bt->ref_ctrs = r;
    if (!o || !c || !r)
      return -ENOMEM;
    bt->cap = cap;
  }
  bt->offsets[bt->n] = off;
  bt->cookies[bt->n] = cookie;
  bt->ref_ctrs[bt->n++] = ref_ctr;
  b->st.probes++;
  return 0;
}

static int attach_uprobe(ls_bpf *b, struct bpf_program *prog, const char *path,
                         uint64_t off, bool ret, uint32_t kind, uint32_t which) {
  uint64_t cookie = LS_RAW_COOKIE(kind, which);
  if (b->multi)
    return batch_add(b, prog, path, ret, off, cookie, 0);
  LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret, .bpf_cookie = cookie);
  struct bpf_link *l =
      bpf_program__attach_uprobe_opts(prog, b->o.pid, path, off, &uo);
  if (!l)
    return -errno;
  return add_link(b, l);
}

static int link_batches(ls_bpf *b, char *err, size_t errlen) {
  for (unsigned i = 0; i < b->nbatches; i++) {
    bool sems = false;
    for (unsigned k = 0; k < b->batches[i].n; k++)
      sems |= b->batches[i].ref_ctrs[k] != 0;
    if (!sems) { /* the kernel takes NULL for "no semaphores" */
      free(b->batches[i].ref_ctrs);
      b->batches[i].ref_ctrs = NULL;
    }
    int fd = link_uprobe_multi(b, &b->batches[i]);
    if (fd < 0) {
      snprintf(err, errlen, "cannot attach %u uprobes in %s (pid %d): %s",
               b->batches[i].n, b->batches[i].path, (int)b->o.pid,
               strerror(-fd));
      return -1;
    }
    b->multi_fds[b->nmulti++] = fd;
  }
  return 0;
}

/* Where a uprobe on a function is cheap. The kernel emulates `push %rbp`
 * after the breakpoint; most other first instructions need a single-step
 * trap as well, ~20 us more per hit here. Two shapes in node 20 start
 * otherwise: InternalCallbackScope::Close() tests "already closed" and
 * returns before its frame setup (`push %rbp; mov %rsp,%rbp`, within a few
 * bytes: probing there also skips the destructor's second, empty Close()),
 * and uv__async_io checks its argument and jumps to uv__async_io.part.0,
 * which does the work (its other path asserts). Stack untouched before the
 * frame setup, so a return probe there still finds the return address. */
static uint64_t cheap_probe_point(const char *path, uint64_t off, uint64_t size,
                                  uint64_t part) {
#if defined(__x86_64__)
  static const unsigned char frame[] = {0x55, 0x48, 0x89, 0xe5};
  unsigned char code[32];
  /* within the function: a short one may run into its neighbour's prologue */
  size_t len = size < sizeof(code) ? (size_t)size : sizeof(code);
  if (len < 1 || ls__elf_read(path, off, code, len) < 0 || code[0] == 0x55)
    return off;
  for (size_t k = 1; k + sizeof(frame) <= len; k++)
    if (!memcmp(code + k, frame, sizeof(frame)))
      return off + k;
  if (part && ls__elf_read(path, part, code, 1) == 0 && code[0] == 0x55)
    return part;
#else
  (void)path, (void)size, (void)part;
#endif
  return off;
}

static int attach_libuv(ls_bpf *b, char *err, size_t errlen) {
  const char *names[2 * NPROBES];
  char parts[NPROBES][160];
  uint64_t offs[2 * NPROBES], sizes[2 * NPROBES];
  for (size_t i = 0; i < NPROBES; i++) {
    names[i] = probes[i].sym;
    snprintf(parts[i], sizeof(parts[i]), "%s.part.0", probes[i].sym);
    names[NPROBES + i] = parts[i];
  }
  if (ls__elf_func_offsets(b->target, names, offs, sizes, 2 * NPROBES, err,
                           errlen) < 0)
    return -1;
  for (size_t i = 0; i < NPROBES; i++)
    if (offs[i])
      offs[i] = cheap_probe_point(b->target, offs[i], sizes[i], offs[NPROBES + i]);
  for (size_t i = 0; i < NREQUIRED; i++)
    if (!offs[i]) {
      snprintf(err, errlen, "%s has no symbol %s: cannot follow its event loop",
               b->target, probes[i].sym);
      return -1;
    }
  for (size_t i = 0; i < NPROBES; i++) {
    const probe *p = &probes[i];
    if (p->level > b->o.level)
      continue;
    if (!offs[i]) {
      say(b, "%s has no symbol %s: no %s", b->target, p->sym, p->what);
      continue;
    }
    bool dup = false; /* aliases: one address, one probe */
    for (size_t k = 0; k < i; k++)
      dup |= offs[k] == offs[i] && probes[k].enter_kind == p->enter_kind &&
             probes[k].level <= b->o.level;
    if (dup)
      continue;
    struct bpf_program *enter =
        p->prog == P_TIMERS ? b->loop->progs.timers_enter
        : p->prog == P_STREAM ? b->loop->progs.stream_write
        : p->prog == P_FS     ? b->loop->progs.fs_req
        : p->prog == P_JS     ? b->loop->progs.js_scope
                              : b->loop->progs.fn_enter;
    int rc = 0;
    if (p->enter_kind)
      rc = attach_uprobe(b, enter, b->target, offs[i], false, p->enter_kind,
                         p->which);
    if (!rc && p->exit_kind)
      rc = attach_uprobe(b, b->loop->progs.fn_exit, b->target, offs[i], true,
                         p->exit_kind, p->which);
    if (rc) {
      snprintf(err, errlen, "cannot attach a uprobe to %s in %s (pid %d): %s",
               p->sym, b->target, (int)b->o.pid, strerror(-rc));
      return -1;
    }
  }
  return b->multi ? link_batches(b, err, errlen) : 0;
}

static void usdt_programs(const ls_bpf *b, struct bpf_program **progs) {
  struct bpf_program *all[LS_USDT_COUNT] = {
    b->usdt->progs.usdt_begin,       b->usdt->progs.usdt_end,
    b->usdt->progs.usdt_instant,     b->usdt->progs.usdt_counter,
    b->usdt->progs.usdt_flow_begin,  b->usdt->progs.usdt_flow_end,
    b->usdt->progs.usdt_async_begin, b->usdt->progs.usdt_async_end,
    b->usdt->progs.usdt_await_in_place,
  };
  memcpy(progs, all, sizeof(all));
}

/* The sites' argument specs go where usdt.bpf.h looks them up (by the
 * attach cookie), and each probe's sites become one uprobe_multi link, or
 * one perf-event uprobe each on an older kernel. (libbpf's own USDT attach
 * cannot read arguments like "8@32+ls_phase_names(%rip)".) */
static int attach_usdt(ls_bpf *b, char *err, size_t errlen) {
  struct bpf_program *progs[LS_USDT_COUNT];
  struct bpf_map *specs =
      bpf_object__find_map_by_name(b->usdt->obj, "__bpf_usdt_specs");
  usdt_programs(b, progs);
  for (size_t i = 0; i < b->nsites; i++) {
    const ls__usdt_site *site = &b->sites[i];
    uint32_t id = (uint32_t)i;
    int rc = bpf_map_update_elem(bpf_map__fd(specs), &id, &site->spec, 0) ? -errno : 0;
    if (!rc && b->multi) {
      rc = batch_add(b, progs[site->probe], b->target, false, site->offset, id,
                     site->semaphore);
    } else if (!rc) {
      LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = id,
                  .ref_ctr_offset = site->semaphore);
      struct bpf_link *l = bpf_program__attach_uprobe_opts(
          progs[site->probe], b->o.pid, b->target, site->offset, &uo);
      rc = l ? add_link(b, l) : -errno;
    }
    if (rc) {
      snprintf(err, errlen, "cannot attach USDT probe loopscope:%s at offset "
               "0x%llx of %s: %s", usdt_names[site->probe],
               (unsigned long long)site->offset, b->target, strerror(-rc));
      return -1;
    }
  }
  if (!b->nsites) {
    snprintf(err, errlen, "%s: no loopscope USDT probe sites", b->target);
    return -1;
  }
  return b->multi ? link_batches(b, err, errlen) : 0;
}

/* ------------------------------------------------------------ session */

static int on_record(void *ctx, void *data, size_t size) {
  ls_bpf *b = ctx;
  b->st.records++;
  ls__conv_record(b->conv, data, size);
  return 0;
}

static void log_conv(void *ctx, const char *msg) { say(ctx, "%s", msg); }

static int load(ls_bpf *b, char *err, size_t errlen) {
  size_t ring = b->o.ring_bytes ? b->o.ring_bytes : 8u << 20;
  struct bpf_map *events, *lost;
  int rc;
  if (b->mode == LS_BPF_MODE_USDT) {
    if (!(b->usdt = ls_usdt_bpf__open()))
      goto open_failed;
    b->usdt->rodata->target_tgid = (uint32_t)b->o.pid;
    events = b->usdt->maps.events;
    lost = b->usdt->maps.lost;
    bpf_map__set_max_entries(events, (uint32_t)ring);
    struct bpf_map *specs =
        bpf_object__find_map_by_name(b->usdt->obj, "__bpf_usdt_specs");
    /* Our specs must be laid out as usdt.bpf.h reads them. */
    if (!specs || bpf_map__value_size(specs) != sizeof(ls__usdt_spec)) {
      snprintf(err, errlen, "libbpf's usdt.bpf.h does not lay out USDT "
                            "argument specs as loopscope was built for");
      return -1;
    }
    bpf_map__set_max_entries(specs, b->nsites ? (uint32_t)b->nsites : 1);
    b->multi = !b->multi_failed;
    if (b->multi) {
      struct bpf_program *progs[LS_USDT_COUNT];
      usdt_programs(b, progs);
      for (unsigned i = 0; i < LS_USDT_COUNT; i++)
        bpf_program__set_expected_attach_type(
            progs[i], (enum bpf_attach_type)LS_BPF_TRACE_UPROBE_MULTI);
    }
    libbpf_quiet = b->multi;
    rc = ls_usdt_bpf__load(b->usdt);
    libbpf_quiet = false;
    if (rc && b->multi) {
      ls_usdt_bpf__destroy(b->usdt);
      b->usdt = NULL;
      b->multi_failed = true;
      return load(b, err, errlen);
    }
  } else {
    if (!(b->loop = ls_loop_bpf__open()))
      goto open_failed;
    b->multi = !b->multi_failed;
    if (b->multi) {
      struct bpf_program *progs[] = {b->loop->progs.fn_enter,
                                     b->loop->progs.fn_exit,
                                     b->loop->progs.timers_enter,
                                     b->loop->progs.stream_write,
                                     b->loop->progs.fs_req,
                                     b->loop->progs.js_scope};
      for (unsigned i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
        bpf_program__set_expected_attach_type(
            progs[i], (enum bpf_attach_type)LS_BPF_TRACE_UPROBE_MULTI);
    }
    struct ls_loop_bpf__rodata *ro = b->loop->rodata;
    ro->target_tgid = (uint32_t)b->o.pid;
    if (ls__uv.known) {
      ro->off_loop_time = ls__uv.loop_time;
      ro->off_loop_timer_heap = ls__uv.loop_timer_heap;
      ro->off_loop_active_handles = ls__uv.loop_active_handles;
      ro->off_loop_active_reqs = ls__uv.loop_active_reqs;
      ro->off_timer_heap_to_timeout = ls__uv.timer_heap_to_timeout;
      ro->off_stream_wqs = ls__uv.stream_write_queue_size;
      ro->off_stream_fd = ls__uv.stream_fd;
      ro->off_work_to_fs_type = ls__uv.work_to_fs_type;
    } else {
      say(b, "built without libuv's uv.h: no timer lateness, loop counters or "
             "write queue sizes");
    }
    events = b->loop->maps.events;
    lost = b->loop->maps.lost;
    bpf_map__set_max_entries(events, (uint32_t)ring);
    libbpf_quiet = b->multi;
    rc = ls_loop_bpf__load(b->loop);
    libbpf_quiet = false;
    if (rc && b->multi) { /* an older kernel: one perf event per uprobe */
      ls_loop_bpf__destroy(b->loop);
      b->loop = NULL;
      b->multi_failed = true;
      return load(b, err, errlen);
    }
  }
  if (rc) {
    snprintf(err, errlen, "cannot load the BPF programs: %s%s", strerror(-rc),
             rc == -EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
    return -1;
  }
  b->lost_fd = bpf_map__fd(lost);
  b->ncpus = libbpf_num_possible_cpus();
  b->rb = ring_buffer__new(bpf_map__fd(events), on_record, b, NULL);
  if (!b->rb) {
    snprintf(err, errlen, "cannot open the BPF ring buffer: %s", strerror(errno));
    return -1;
  }
  return 0;
open_failed:
  snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
  return -1;
}

/* The thread group (process) of a thread id, or -1. */
static pid_t process_of(pid_t tid) {
  char path[64], line[128];
  long tgid = -1;
  snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
  FILE *f = fopen(path, "re");
  while (f && fgets(line, sizeof(line), f) && sscanf(line, "Tgid: %ld", &tgid) != 1)
    ;
  if (f)
    fclose(f);
  return (pid_t)tgid;
}

int ls_bpf_open(ls_bpf **bp, const ls_bpf_opts *opts, ls_writer *w, char *err,
                size_t errlen) {
  char exe[PATH_MAX], proc[64];
  *bp = NULL;
  if (opts->pid <= 0 || (kill(opts->pid, 0) < 0 && errno == ESRCH)) {
    snprintf(err, errlen, "no such process: %d", (int)opts->pid);
    return -1;
  }
  if (opts->exe) {
    snprintf(exe, sizeof(exe), "%s", opts->exe);
  } else {
    snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)opts->pid);
    ssize_t n = readlink(proc, exe, sizeof(exe) - 1);
    if (n < 0) {
      snprintf(err, errlen, "%s: %s", proc, strerror(errno));
      return -1;
    }
    exe[n] = 0;
    /* Replaced on disk since it started: the running inode is still here. */
    if (access(exe, R_OK) != 0)
      snprintf(exe, sizeof(exe), "%s", proc);
  }
  ls_bpf *b = calloc(1, sizeof(*b));
  if (!b) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  b->o = *opts;
  /* A thread id names its process: trace all of it. */
  pid_t tgid = process_of(opts->pid);
  if (tgid > 0 && tgid != opts->pid) {
    say(b, "%d is a thread of process %d: tracing the process", (int)opts->pid,
        (int)tgid);
    b->o.pid = tgid;
  }
  b->lost_fd = -1;
  libbpf_set_print(libbpf_print);
  if (find_target(b, exe, err, errlen) < 0 || load(b, err, errlen) < 0)
    goto fail;
  ls__conv_opts co = {
    .w = w, .tgid = (uint32_t)b->o.pid, .threshold_ns = opts->threshold_ns,
    .lateness = ls__uv.known, .poll_events = opts->level >= LS_BPF_CALLBACKS,
    .log = log_conv, .log_ctx = b,
  };
  const char *base = strrchr(exe, '/');
  ls_writer_process_name(w, (uint64_t)b->o.pid, base ? base + 1 : exe);
  if (ls__conv_new(&b->conv, &co) < 0) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  if ((b->mode == LS_BPF_MODE_USDT ? attach_usdt(b, err, errlen)
                                   : attach_libuv(b, err, errlen)) < 0)
    goto fail;
  *bp = b;
  return 0;
fail:
  ls_bpf_close(b, NULL);
  return -1;
}

ls_bpf_mode ls_bpf_get_mode(const ls_bpf *b) { return b->mode; }
pid_t ls_bpf_get_pid(const ls_bpf *b) { return b->o.pid; }
const char *ls_bpf_get_target(const ls_bpf *b) { return b->target; }

static void check_lost(ls_bpf *b) {
  uint64_t vals[b->ncpus > 0 ? b->ncpus : 1], sum = 0;
  uint32_t zero = 0;
  /* valgrind cannot see bpf(2) fill it */
  memset(vals, 0, sizeof(vals));
  if (b->lost_fd < 0 || b->ncpus <= 0 ||
      bpf_map_lookup_elem(b->lost_fd, &zero, vals) < 0)
    return;
  for (int i = 0; i < b->ncpus; i++)
    sum += vals[i];
  if (sum > b->lost_seen) {
    ls__conv_lost(b->conv, sum - b->lost_seen);
    b->st.lost += sum - b->lost_seen;
    b->lost_seen = sum;
  }
}

int ls_bpf_poll(ls_bpf *b, int timeout_ms) {
  uint64_t before = b->st.records;
  /* The BPF side wakes us only when the ring fills up; otherwise the
   * timeout is the wakeup and consume() reads what came meanwhile. */
  int rc = ring_buffer__poll(b->rb, timeout_ms);
  if (rc < 0 && rc != -EINTR)
    return rc;
  rc = ring_buffer__consume(b->rb);
  if (rc < 0 && rc != -EINTR)
    return rc;
  check_lost(b);
  return (int)(b->st.records - before);
}

void ls_bpf_get_stats(const ls_bpf *b, ls_bpf_stats *st) {
  *st = b->st;
  st->events = b->conv ? ls__conv_events(b->conv) : 0;
}

int ls_bpf_close(ls_bpf *b, ls_bpf_stats *st) {
  int err = 0;
  if (!b)
    return 0;
  /* Detach first: nothing new arrives while the rest is drained. */
  for (unsigned i = 0; i < b->nlinks; i++)
    bpf_link__destroy(b->links[i]);
  free(b->links);
  for (unsigned i = 0; i < b->nmulti; i++)
    close(b->multi_fds[i]);
  for (unsigned i = 0; i < b->nbatches; i++) {
    free(b->batches[i].offsets);
    free(b->batches[i].cookies);
    free(b->batches[i].ref_ctrs);
  }
  free(b->sites);
  if (b->rb && b->conv) {
    ring_buffer__consume(b->rb);
    check_lost(b);
  }
  if (st)
    ls_bpf_get_stats(b, st);
  if (b->conv) /* with the ends of the slices still open */
    err = ls__conv_finish(b->conv, st ? &st->events : NULL);
  ring_buffer__free(b->rb);
  ls_loop_bpf__destroy(b->loop);
  ls_usdt_bpf__destroy(b->usdt);
  free(b);
  return err;
}
