/* Streaming FXT -> Chrome Trace Event JSON (see export.h for the mapping).
 *
 * State is per thread: the stack of open slices (for balanced "E" events and
 * for closing/reopening slices across split files) and the flow ends waiting
 * to see whether a slice begins next. Strings are not copied: the reader
 * keeps them valid until it is closed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonw.h"
#include "loopscope/export.h"
#include "loopscope/u64map.h"

#define LS__META_MAX 1024 /* metadata records kept for the "metadata" object */

typedef struct ls__open_slice {
  const char *cat, *name;
} ls__open_slice;

typedef struct ls__pending_flow {
  uint64_t id, ts_ns;
} ls__pending_flow;

typedef struct ls__xthread {
  uint64_t pid, tid;
  const char *name;      /* from a thread-name record, or NULL */
  uint64_t last_ns;      /* latest time seen on the thread */
  ls__open_slice *stack;
  size_t depth, stack_cap;
  ls__pending_flow *flows;
  size_t nflows, flows_cap;
} ls__xthread;

typedef struct ls__xproc {
  uint64_t pid;
  const char *name;
} ls__xproc;

typedef struct ls__exporter {
  ls_reader *r;
  const ls_export_opts *opts;
  ls_export_stats *st;
  ls__jw *w;
  const char *out_path;
  char path[4096];       /* current output file */
  bool to_stdout, first_event, warned;
  ls_u64map thread_ids;  /* ls_u64_mix(pid, tid) (+ probe) -> index + 1 */
  ls__xthread *threads;
  size_t nthreads, threads_cap;
  ls__xproc *procs;
  size_t nprocs, procs_cap;
  const char *meta[LS__META_MAX][2];
  size_t nmeta;
  char *err;
  size_t errlen;
} ls__exporter;

static bool grow_array(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return true;
  size_t n = *cap ? *cap * 2 : 8;
  while (n < need)
    n *= 2;
  void *p = realloc(*arr, n * elem);
  if (!p)
    return false;
  *arr = p;
  *cap = n;
  return true;
}

__attribute__((format(printf, 2, 3))) static int fail(ls__exporter *x,
                                                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->err, x->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static ls__xthread *thread_of(ls__exporter *x, uint64_t pid, uint64_t tid) {
  ls__xthread *t;
  /* Probe successive keys on the (never yet seen) mix collision. */
  for (uint64_t key = ls_u64_mix(pid, tid);; key++) {
    uint64_t *slot = ls_u64map_get(&x->thread_ids, key);
    if (!slot)
      break;
    t = &x->threads[*slot - 1];
    if (t->pid == pid && t->tid == tid)
      return t;
  }
  if (!grow_array((void **)&x->threads, &x->threads_cap, x->nthreads + 1,
                  sizeof *x->threads))
    return NULL;
  uint64_t key = ls_u64_mix(pid, tid);
  while (ls_u64map_get(&x->thread_ids, key))
    key++;
  uint64_t *slot = ls_u64map_put(&x->thread_ids, key, NULL);
  if (!slot)
    return NULL;
  t = &x->threads[x->nthreads++];
  *t = (ls__xthread){.pid = pid, .tid = tid};
  *slot = x->nthreads;
  return t;
}

/* ---------------------------------------------------------- event text */

/* Starts an event object: separator, ph, ts, pid, tid. */
static void ev_open(ls__exporter *x, char ph, uint64_t ns, uint64_t pid,
                    uint64_t tid) {
  ls__jw *w = x->w;
  if (x->first_event)
    x->first_event = false;
  else
    LS__JW_LIT(w, ",\n");
  char head[8] = "{\"ph\":\"";
  ls__jw_raw(w, head, 7);
  ls__jw_raw(w, &ph, 1);
  LS__JW_LIT(w, "\",\"ts\":");
  ls__jw_us(w, ns);
  LS__JW_LIT(w, ",\"pid\":");
  ls__jw_u64(w, pid);
  LS__JW_LIT(w, ",\"tid\":");
  ls__jw_u64(w, tid);
  x->st->events++;
}

static void ev_names(ls__exporter *x, const char *cat, const char *name) {
  LS__JW_LIT(x->w, ",\"cat\":");
  ls__jw_str(x->w, cat && *cat ? cat : "loopscope");
  LS__JW_LIT(x->w, ",\"name\":");
  ls__jw_str(x->w, name);
}

static bool arg_is_number(const ls_arg *a) {
  return a->type != LS_ARG_NULL && a->type != LS_ARG_STRING &&
         a->type != LS_ARG_POINTER && a->type != LS_ARG_BOOL;
}

static void arg_value(ls__jw *w, const ls_arg *a) {
  switch (a->type) {
  case LS_ARG_I32:
  case LS_ARG_I64:
    ls__jw_i64(w, a->v.i);
    break;
  case LS_ARG_U32:
  case LS_ARG_U64:
  case LS_ARG_KOID:
    ls__jw_u64(w, a->v.u);
    break;
  case LS_ARG_DOUBLE:
    ls__jw_double(w, a->v.d);
    break;
  case LS_ARG_STRING:
    ls__jw_str(w, a->v.s);
    break;
  case LS_ARG_POINTER:
    ls__jw_hex(w, a->v.u);
    break;
  case LS_ARG_BOOL:
    if (a->v.b)
      LS__JW_LIT(w, "true");
    else
      LS__JW_LIT(w, "false");
    break;
  case LS_ARG_NULL:
  default:
    LS__JW_LIT(w, "null");
    break;
  }
}

/* ,"args":{...} with every argument, or only numeric ones (counters). */
static void ev_args(ls__exporter *x, const ls_event *ev, bool numbers_only) {
  ls__jw *w = x->w;
  bool first = true;
  for (unsigned i = 0; i < ev->nargs && i < LS_MAX_ARGS; i++) {
    const ls_arg *a = &ev->args[i];
    if (numbers_only && !arg_is_number(a))
      continue;
    if (first)
      LS__JW_LIT(w, ",\"args\":{");
    else
      LS__JW_LIT(w, ",");
    first = false;
    ls__jw_str(w, a->name);
    LS__JW_LIT(w, ":");
    arg_value(w, a);
  }
  if (!first)
    LS__JW_LIT(w, "}");
}

static void ev_close(ls__exporter *x) { LS__JW_LIT(x->w, "}"); }

static void emit_name(ls__exporter *x, bool thread, uint64_t pid, uint64_t tid,
                      const char *name) {
  ev_open(x, 'M', 0, pid, tid);
  if (thread)
    LS__JW_LIT(x->w, ",\"name\":\"thread_name\",\"args\":{\"name\":");
  else
    LS__JW_LIT(x->w, ",\"name\":\"process_name\",\"args\":{\"name\":");
  ls__jw_str(x->w, name);
  LS__JW_LIT(x->w, "}}");
}

static void emit_flow_end(ls__exporter *x, ls__xthread *t,
                          const ls__pending_flow *f, bool next_slice) {
  ev_open(x, 'f', f->ts_ns, t->pid, t->tid);
  LS__JW_LIT(x->w, ",\"cat\":\"flow\",\"name\":\"flow\",\"id\":");
  ls__jw_hex(x->w, f->id);
  if (!next_slice)
    LS__JW_LIT(x->w, ",\"bp\":\"e\"");
  ev_close(x);
}

/* Writes the thread's waiting flow ends: bound to the slice that begins
 * next when it begins at their very timestamp (a flow end written just before
 * its slice, as Chrome JSON imports and older traces have it), else to their
 * enclosing slice (FORMAT.md: a callback's flow end follows its begin). */
static void flush_flows(ls__exporter *x, ls__xthread *t, bool slice_begins,
                        uint64_t ns) {
  for (size_t i = 0; i < t->nflows; i++)
    emit_flow_end(x, t, &t->flows[i], slice_begins && ns == t->flows[i].ts_ns);
  t->nflows = 0;
}

static void emit_end(ls__exporter *x, ls__xthread *t, uint64_t ns,
                     const ls__open_slice *s) {
  ev_open(x, 'E', ns, t->pid, t->tid);
  ev_names(x, s->cat, s->name);
}

/* ------------------------------------------------------------ records */

static int on_event(ls__exporter *x, const ls_event *ev) {
  ls__xthread *t = thread_of(x, ev->pid, ev->tid);
  if (!t)
    return fail(x, "%s: out of memory", x->out_path);
  uint64_t ns = ls_ticks_to_ns(x->r, ev->ts);
  uint64_t end_ns = ns;
  if (ev->type == LS_EV_COMPLETE) {
    end_ns = ev->end_ts > ev->ts ? ls_ticks_to_ns(x->r, ev->end_ts) : ns;
  }
  if (end_ns > t->last_ns)
    t->last_ns = end_ns;

  if (ev->type == LS_EV_FLOW_END) {
    if (!grow_array((void **)&t->flows, &t->flows_cap, t->nflows + 1,
                    sizeof *t->flows))
      return fail(x, "%s: out of memory", x->out_path);
    t->flows[t->nflows++] = (ls__pending_flow){ev->id, ns};
    return 0;
  }
  if (t->nflows)
    flush_flows(x, t, ev->type == LS_EV_BEGIN || ev->type == LS_EV_COMPLETE,
                ns);

  ls__jw *w = x->w;
  switch (ev->type) {
  case LS_EV_BEGIN:
    if (!grow_array((void **)&t->stack, &t->stack_cap, t->depth + 1,
                    sizeof *t->stack))
      return fail(x, "%s: out of memory", x->out_path);
    t->stack[t->depth++] = (ls__open_slice){ev->category, ev->name};
    ev_open(x, 'B', ns, ev->pid, ev->tid);
    ev_names(x, ev->category, ev->name);
    ev_args(x, ev, false);
    break;
  case LS_EV_END:
    if (t->depth == 0) {
      x->st->unmatched_ends++;
      return 0;
    }
    emit_end(x, t, ns, &t->stack[--t->depth]);
    ev_args(x, ev, false);
    break;
  case LS_EV_COMPLETE:
    ev_open(x, 'X', ns, ev->pid, ev->tid);
    LS__JW_LIT(w, ",\"dur\":");
    ls__jw_us(w, end_ns - ns);
    ev_names(x, ev->category, ev->name);
    ev_args(x, ev, false);
    break;
  case LS_EV_INSTANT:
    ev_open(x, 'i', ns, ev->pid, ev->tid);
    LS__JW_LIT(w, ",\"s\":\"t\"");
    ev_names(x, ev->category, ev->name);
    ev_args(x, ev, false);
    break;
  case LS_EV_COUNTER:
    ev_open(x, 'C', ns, ev->pid, ev->tid);
    ev_names(x, ev->category, ev->name);
    if (ev->id) {
      LS__JW_LIT(w, ",\"id\":");
      ls__jw_hex(w, ev->id);
    }
    ev_args(x, ev, true);
    break;
  case LS_EV_ASYNC_BEGIN:
  case LS_EV_ASYNC_INSTANT:
  case LS_EV_ASYNC_END: {
    char ph = ev->type == LS_EV_ASYNC_BEGIN   ? 'b'
              : ev->type == LS_EV_ASYNC_END ? 'e'
                                            : 'n';
    ev_open(x, ph, ns, ev->pid, ev->tid);
    ev_names(x, ev->category, ev->name);
    LS__JW_LIT(w, ",\"id2\":{\"local\":");
    ls__jw_hex(w, ev->id);
    LS__JW_LIT(w, "}");
    ev_args(x, ev, false);
    break;
  }
  case LS_EV_FLOW_BEGIN:
  case LS_EV_FLOW_STEP:
    ev_open(x, ev->type == LS_EV_FLOW_BEGIN ? 's' : 't', ns, ev->pid, ev->tid);
    LS__JW_LIT(w, ",\"cat\":\"flow\",\"name\":\"flow\",\"id\":");
    ls__jw_hex(w, ev->id);
    break;
  default:
    return 0; /* the reader only yields the types above */
  }
  ev_close(x);
  return 0;
}

static int on_record(ls__exporter *x, const ls_record *rec) {
  ls__xthread *t;
  switch (rec->kind) {
  case LS_REC_EVENT:
    return on_event(x, &rec->event);
  case LS_REC_PROCESS_NAME:
    for (size_t i = 0; i < x->nprocs; i++) {
      if (x->procs[i].pid == rec->pid) {
        x->procs[i].name = rec->name;
        goto emit_process;
      }
    }
    if (!grow_array((void **)&x->procs, &x->procs_cap, x->nprocs + 1,
                    sizeof *x->procs))
      return fail(x, "%s: out of memory", x->out_path);
    x->procs[x->nprocs++] = (ls__xproc){rec->pid, rec->name};
  emit_process:
    emit_name(x, false, rec->pid, 0, rec->name);
    return 0;
  case LS_REC_THREAD_NAME:
    if (!(t = thread_of(x, rec->pid, rec->tid)))
      return fail(x, "%s: out of memory", x->out_path);
    t->name = rec->name;
    emit_name(x, true, rec->pid, rec->tid, rec->name);
    return 0;
  case LS_REC_LOST: {
    if (!(t = thread_of(x, rec->pid, rec->tid)))
      return fail(x, "%s: out of memory", x->out_path);
    uint64_t ns = ls_ticks_to_ns(x->r, rec->ts);
    if (ns > t->last_ns)
      t->last_ns = ns;
    if (t->nflows)
      flush_flows(x, t, false, ns);
    x->st->lost += rec->count;
    ev_open(x, 'i', ns, rec->pid, rec->tid);
    LS__JW_LIT(x->w, ",\"s\":\"t\",\"cat\":\"mark\",\"name\":\"lost\","
                     "\"args\":{\"count\":");
    ls__jw_u64(x->w, rec->count);
    LS__JW_LIT(x->w, "}}");
    return 0;
  }
  case LS_REC_META:
    if (x->nmeta < LS__META_MAX) {
      x->meta[x->nmeta][0] = rec->name;
      x->meta[x->nmeta][1] = rec->value;
      x->nmeta++;
    }
    return 0;
  case LS_REC_INIT:
  default:
    return 0;
  }
}

/* -------------------------------------------------------------- files */

void ls_export_part_name(char *buf, size_t len, const char *out_path,
                         unsigned part) {
  if (part == 0) {
    snprintf(buf, len, "%s", out_path);
    return;
  }
  size_t n = strlen(out_path);
  const char *slash = strrchr(out_path, '/');
  const char *base = slash ? slash + 1 : out_path;
  const char *dot = strrchr(base, '.');
  if (dot && dot > base) /* a leading dot names a hidden file, not a suffix */
    snprintf(buf, len, "%.*s.%u%s", (int)(dot - out_path), out_path, part, dot);
  else
    snprintf(buf, len, "%.*s.%u", (int)n, out_path, part);
}

static int open_part(ls__exporter *x, unsigned part) {
  int fd = STDOUT_FILENO;
  if (!x->to_stdout) {
    ls_export_part_name(x->path, sizeof x->path, x->out_path, part);
    fd = open(x->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      return fail(x, "%s: cannot create: %s", x->path, strerror(errno));
  }
  ls__jw_reset(x->w, fd);
  x->first_event = true;
  x->warned = false;
  x->st->files++;
  LS__JW_LIT(x->w, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
  return 0;
}

static int close_part(ls__exporter *x) {
  ls__jw *w = x->w;
  LS__JW_LIT(w, "\n],\n\"metadata\":{");
  for (size_t i = 0; i < x->nmeta; i++) {
    if (i)
      LS__JW_LIT(w, ",");
    ls__jw_str(w, x->meta[i][0]);
    LS__JW_LIT(w, ":");
    ls__jw_str(w, x->meta[i][1]);
  }
  LS__JW_LIT(w, "}}\n");
  int err = ls__jw_flush(w);
  x->st->bytes += w->bytes;
  if (!x->to_stdout && close(w->fd) != 0 && err == 0)
    err = -errno;
  if (err)
    return fail(x, "%s: write failed: %s", x->to_stdout ? "<stdout>" : x->path,
                strerror(-err));
  return 0;
}

/* Ends every open slice (at its thread's last time) so that a file balances;
 * when `reopen`, the next file begins them again at the same time. */
static void close_open_slices(ls__exporter *x, bool at_end) {
  for (size_t i = 0; i < x->nthreads; i++) {
    ls__xthread *t = &x->threads[i];
    if (at_end && t->nflows)
      flush_flows(x, t, false, t->last_ns);
    for (size_t d = t->depth; d-- > 0;) {
      emit_end(x, t, t->last_ns, &t->stack[d]);
      ev_close(x);
    }
    if (at_end) {
      x->st->closed_at_end += t->depth;
      t->depth = 0;
    }
  }
}

/* A new part starts with the names and the slices still open. */
static void replay_state(ls__exporter *x) {
  for (size_t i = 0; i < x->nprocs; i++)
    emit_name(x, false, x->procs[i].pid, 0, x->procs[i].name);
  for (size_t i = 0; i < x->nthreads; i++) {
    ls__xthread *t = &x->threads[i];
    if (t->name)
      emit_name(x, true, t->pid, t->tid, t->name);
    for (size_t d = 0; d < t->depth; d++) {
      ev_open(x, 'B', t->last_ns, t->pid, t->tid);
      ev_names(x, t->stack[d].cat, t->stack[d].name);
      LS__JW_LIT(x->w, ",\"args\":{\"continued\":true}}");
    }
  }
}

static int check_size(ls__exporter *x) {
  uint64_t bytes = x->w->bytes;
  if (x->opts->split_bytes && bytes >= x->opts->split_bytes) {
    close_open_slices(x, false);
    if (close_part(x) || open_part(x, x->st->files))
      return -1;
    replay_state(x);
  } else if (!x->opts->split_bytes && !x->warned &&
             bytes > LS_EXPORT_WARN_BYTES) {
    x->warned = true;
    if (x->opts->warn_size)
      x->opts->warn_size(x->opts->progress_ctx,
                         x->to_stdout ? "<stdout>" : x->path, bytes);
  }
  return 0;
}

int ls_export_chrome(ls_reader *r, const char *out_path,
                     const ls_export_opts *opts, ls_export_stats *stats,
                     char *err, size_t errlen) {
  static const ls_export_opts no_opts;
  ls_export_stats local;
  ls__exporter *x = calloc(1, sizeof *x);
  ls__jw *w = malloc(sizeof *w);
  if (!stats)
    stats = &local;
  *stats = (ls_export_stats){0};
  if (!x || !w) {
    free(x);
    free(w);
    snprintf(err, errlen, "%s: out of memory", out_path);
    return -1;
  }
  x->r = r;
  x->opts = opts ? opts : &no_opts;
  x->st = stats;
  x->w = w;
  x->out_path = out_path;
  x->to_stdout = strcmp(out_path, "-") == 0;
  x->err = err;
  x->errlen = errlen;

  int rc = 0;
  if (x->to_stdout && x->opts->split_bytes) {
    rc = fail(x, "--split-size needs an output file, not stdout");
    goto out;
  }
  if ((rc = open_part(x, 0)) != 0)
    goto out;
  ls_record rec;
  int status;
  while ((status = ls_reader_next(r, &rec)) == LS_FMT_OK) {
    stats->records++;
    if ((rc = on_record(x, &rec)) != 0 || (rc = check_size(x)) != 0)
      break;
    if ((stats->records & 0xffff) == 0 && x->opts->progress)
      x->opts->progress(x->opts->progress_ctx, ls_reader_offset(r),
                        ls_reader_size(r));
  }
  stats->dropped_bytes = ls_reader_dropped(r);
  if (rc == 0) {
    close_open_slices(x, true);
    rc = close_part(x);
    /* The JSON holds everything before the bad record; still an error. */
    if (rc == 0 && status < 0)
      rc = fail(x, "%s", ls_reader_error(r));
  } else if (!x->to_stdout) {
    close(w->fd);
  }
out:
  for (size_t i = 0; i < x->nthreads; i++) {
    free(x->threads[i].stack);
    free(x->threads[i].flows);
  }
  free(x->threads);
  free(x->procs);
  ls_u64map_free(&x->thread_ids);
  free(x);
  free(w);
  return rc;
}
