/* loopscope dump: one line per record, for reading a trace with grep/less.
 *
 *   TIME_US  THREAD  TYPE  CATEGORY/NAME  [dur=...]  [id=...]  ARGS
 *
 * TIME_US counts from the first timed record in the file (negative for a
 * record of another thread that happened earlier). Thread names come from the
 * trace's name records (kept per thread: memory grows with threads only). */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "loopscope/u64map.h"

static void help(void) {
  printf(
      "usage: loopscope dump TRACE [--kind K[,K...]] [--from T] [--to T]\n"
      "                            [--tid N] [--limit N]\n"
      "\n"
      "Prints one line per event: time (us from the first event), thread,\n"
      "type, category/name, duration or id, arguments. Lost-event records\n"
      "print as LOST; a truncated file is reported on stderr.\n"
      "\n"
      "  -k, --kind K     only events whose category is K (a callback kind\n"
      "                   such as timer, io, immediate, or phase, loop,\n"
      "                   sched, promise, counter, pool, mark, flow ...);\n"
      "                   'lost' selects lost-event records, 'name' names,\n"
      "                   'meta' the trace's metadata; K also matches one\n"
      "                   part of a comma-separated (imported) category\n"
      "  -f, --from T     only events at or after T (us; or 5ms, 300ns, 2s)\n"
      "  -t, --to T       only events at or before T\n"
      "  -T, --tid N      only thread N\n"
      "  -n, --limit N    stop after N lines\n"
      "  -h, --help       this help\n"
      "\n"
      "Types: B begin, E end, X complete, i instant, C counter, b/n/e async\n"
      "begin/instant/end, s/t/f flow begin/step/end, M name, LOST.\n");
}

typedef struct ls__dump {
  char **kinds;
  size_t nkinds;
  uint64_t from_ns, to_ns, tid, limit, printed;
  bool has_tid;
  bool have_origin;
  uint64_t origin_ns;
  ls_u64map thread_names; /* ls_u64_mix(pid, tid) -> const char * */
} ls__dump;

static const char type_code[][3] = {
    [LS_EV_INSTANT] = "i",      [LS_EV_COUNTER] = "C",
    [LS_EV_BEGIN] = "B",        [LS_EV_END] = "E",
    [LS_EV_COMPLETE] = "X",     [LS_EV_ASYNC_BEGIN] = "b",
    [LS_EV_ASYNC_INSTANT] = "n", [LS_EV_ASYNC_END] = "e",
    [LS_EV_FLOW_BEGIN] = "s",   [LS_EV_FLOW_STEP] = "t",
    [LS_EV_FLOW_END] = "f"};

/* K matches a category equal to it or, for imported Chrome categories such
 * as "node,node.async_hooks", equal to one of its comma-separated parts. */
static bool category_has(const char *category, const char *k) {
  size_t n = strlen(k);
  for (const char *p = category; p; p = strchr(p, ',')) {
    if (*p == ',')
      p++;
    if (strncmp(p, k, n) == 0 && (p[n] == 0 || p[n] == ','))
      return true;
  }
  return false;
}

static bool kind_selected(const ls__dump *d, const char *kind) {
  if (d->nkinds == 0)
    return true;
  for (size_t i = 0; i < d->nkinds; i++)
    if (category_has(kind, d->kinds[i]))
      return true;
  return false;
}

static void print_arg(const ls_arg *a) {
  printf(" %s=", a->name);
  switch (a->type) {
  case LS_ARG_I32:
  case LS_ARG_I64:
    printf("%" PRId64, a->v.i);
    break;
  case LS_ARG_U32:
  case LS_ARG_U64:
  case LS_ARG_KOID:
    printf("%" PRIu64, a->v.u);
    break;
  case LS_ARG_POINTER:
    printf("0x%" PRIx64, a->v.u);
    break;
  case LS_ARG_DOUBLE:
    printf("%g", a->v.d);
    break;
  case LS_ARG_STRING:
    printf("\"%s\"", a->v.s);
    break;
  case LS_ARG_BOOL:
    printf("%s", a->v.b ? "true" : "false");
    break;
  default:
    printf("null");
    break;
  }
}

/* Applies the thread and time filters; prints the line's head. */
static bool line_head(ls__dump *d, const ls_reader *r, uint64_t pid,
                      uint64_t tid, uint64_t ticks, const char *type) {
  if (d->has_tid && tid != d->tid)
    return false;
  /* Signed: threads are drained in chunks, so a later record in the file
   * can be earlier in time than the first one (FORMAT.md). */
  int64_t rel = (int64_t)(ls_ticks_to_ns(r, ticks) - d->origin_ns);
  if (rel < 0 ? d->from_ns > 0
              : (uint64_t)rel < d->from_ns || (uint64_t)rel > d->to_ns)
    return false;
  uint64_t *name = ls_u64map_get(&d->thread_names, ls_u64_mix(pid, tid));
  char thread[64];
  if (name)
    snprintf(thread, sizeof thread, "%s/%" PRIu64,
             (const char *)(uintptr_t)*name, tid);
  else
    snprintf(thread, sizeof thread, "%" PRIu64, tid);
  printf("%14.3f  %-12s %-4s", (double)rel / 1e3, thread, type);
  return true;
}

static void dump_event(ls__dump *d, const ls_reader *r, const ls_event *ev) {
  if (!kind_selected(d, ev->category))
    return;
  const char *type = (unsigned)ev->type <= LS_EV_FLOW_END ? type_code[ev->type]
                                                          : "?";
  if (!line_head(d, r, ev->pid, ev->tid, ev->ts, type))
    return;
  printf(" %s/%s", ev->category, ev->name);
  if (ev->type == LS_EV_COMPLETE) {
    char dur[32];
    uint64_t b = ls_ticks_to_ns(r, ev->ts), e = ls_ticks_to_ns(r, ev->end_ts);
    printf(" dur=%s", ls_cli_fmt_dur(dur, sizeof dur, e > b ? e - b : 0));
  } else if (ev->type >= LS_EV_ASYNC_BEGIN ||
             (ev->type == LS_EV_COUNTER && ev->id)) {
    printf(" id=%" PRIu64, ev->id);
  }
  for (unsigned i = 0; i < ev->nargs; i++)
    print_arg(&ev->args[i]);
  putchar('\n');
  d->printed++;
}

static void dump_record(ls__dump *d, const ls_reader *r, const ls_record *rec) {
  /* Times count from the first timed record, filtered out or not. */
  if (!d->have_origin &&
      (rec->kind == LS_REC_EVENT || rec->kind == LS_REC_LOST)) {
    d->have_origin = true;
    d->origin_ns = ls_ticks_to_ns(
        r, rec->kind == LS_REC_EVENT ? rec->event.ts : rec->ts);
  }
  switch (rec->kind) {
  case LS_REC_EVENT:
    dump_event(d, r, &rec->event);
    break;
  case LS_REC_LOST:
    if (kind_selected(d, "lost") &&
        line_head(d, r, rec->pid, rec->tid, rec->ts, "LOST")) {
      printf(" %" PRIu64 " events lost\n", rec->count);
      d->printed++;
    }
    break;
  case LS_REC_THREAD_NAME: {
    uint64_t *slot = ls_u64map_put(&d->thread_names,
                                   ls_u64_mix(rec->pid, rec->tid), NULL);
    if (slot) /* without memory the thread just prints unnamed */
      *slot = (uintptr_t)rec->name;
  } /* fallthrough */
  case LS_REC_PROCESS_NAME:
    /* rec->tid is only set for thread names; process names are shown
     * when no thread is selected. */
    if (kind_selected(d, "name") &&
        (!d->has_tid ||
         (rec->kind == LS_REC_THREAD_NAME && rec->tid == d->tid))) {
      printf("%14s  %-12" PRIu64 " %-4s %s pid=%" PRIu64 " \"%s\"\n", "",
             rec->kind == LS_REC_THREAD_NAME ? rec->tid : 0, "M",
             rec->kind == LS_REC_THREAD_NAME ? "thread_name" : "process_name",
             rec->pid, rec->name);
      d->printed++;
    }
    break;
  case LS_REC_META:
    /* Facts about the whole trace: shown unfiltered, or when asked for. */
    if ((d->nkinds || d->has_tid || d->from_ns || d->to_ns != UINT64_MAX)
            ? d->nkinds && kind_selected(d, "meta")
            : true) {
      printf("%14s  %-12s %-4s %s=\"%s\"\n", "", "-", "meta", rec->name,
             rec->value);
      d->printed++;
    }
    break;
  default:
    break;
  }
}

int ls_cmd_dump(int argc, char **argv) {
  static const struct option longopts[] = {
      {"kind", required_argument, NULL, 'k'},
      {"from", required_argument, NULL, 'f'},
      {"to", required_argument, NULL, 't'},
      {"tid", required_argument, NULL, 'T'},
      {"limit", required_argument, NULL, 'n'},
      {"help", no_argument, NULL, 'h'},
      {0}};
  ls__dump d = {.to_ns = UINT64_MAX, .limit = UINT64_MAX};
  char *kinds = NULL;
  int c, rc = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "k:f:t:T:n:h", longopts, NULL)) != -1) {
    switch (c) {
    case 'k':
      kinds = optarg;
      break;
    case 'f':
      if (!ls_cli_parse_time(optarg, &d.from_ns))
        return ls_cli_usage("dump", "bad --from '%s'", optarg);
      break;
    case 't':
      if (!ls_cli_parse_time(optarg, &d.to_ns))
        return ls_cli_usage("dump", "bad --to '%s'", optarg);
      break;
    case 'T':
      if (!ls_cli_parse_u64(optarg, &d.tid))
        return ls_cli_usage("dump", "bad --tid '%s'", optarg);
      d.has_tid = true;
      break;
    case 'n':
      if (!ls_cli_parse_u64(optarg, &d.limit))
        return ls_cli_usage("dump", "bad --limit '%s'", optarg);
      break;
    case 'h':
      help();
      return 0;
    default:
      return ls_cli_usage("dump", "unknown option");
    }
  }
  if (optind != argc - 1)
    return ls_cli_usage("dump", "expected one TRACE file");
  if (d.from_ns > d.to_ns)
    return ls_cli_usage("dump", "--from is after --to");
  char *kind_list = kinds ? strdup(kinds) : NULL;
  if (kind_list) {
    char *save, *k;
    d.kinds = calloc(strlen(kind_list) / 2 + 1, sizeof *d.kinds);
    for (k = strtok_r(kind_list, ",", &save); k; k = strtok_r(NULL, ",", &save))
      d.kinds[d.nkinds++] = k;
  }

  const char *path = argv[optind];
  ls_reader *r;
  if ((rc = ls_cli_open_trace("dump", path, &r)) == 0) {
    ls_record rec;
    int status = LS_FMT_OK;
    ls_cli_progress progress;
    ls_cli_progress_init(&progress, "dump", true);
    for (uint64_t n = 1; d.printed < d.limit &&
                         (status = ls_reader_next(r, &rec)) == LS_FMT_OK;
         n++) {
      dump_record(&d, r, &rec);
      if ((n & 0xffff) == 0)
        ls_cli_progress_update(&progress, ls_reader_offset(r),
                               ls_reader_size(r));
    }
    ls_cli_progress_done(&progress);
    if (d.printed >= d.limit)
      status = LS_FMT_OK;
    fflush(stdout);
    rc = ls_cli_finish_trace("dump", path, r, status);
    ls_reader_close(r);
  }
  ls_u64map_free(&d.thread_names);
  free(d.kinds);
  free(kind_list);
  return rc;
}
