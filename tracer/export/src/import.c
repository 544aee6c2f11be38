/* Chrome Trace Event JSON -> FXT. The whole document is parsed with cJSON
 * (memory proportional to the input), the events sorted by time (Chrome JSON
 * need not be ordered: node writes its metadata last), then written with the
 * trace writer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "loopscope/export.h"
#include "loopscope/u64map.h"

/* Synthetic pids/tids for string ids start above any real pid. */
#define LS__SYNTH_ID_BASE (UINT64_C(1) << 32)

typedef struct ls__item {
  const cJSON *ev;
  double ts;
  size_t index;
} ls__item;

/* A growing array of events. */
typedef struct ls__evs {
  const cJSON **evs;
  size_t n, cap;
} ls__evs;

/* Per thread: the open "B" events, and the flow ends ("f" without
 * "bp":"e") waiting for the next slice to begin, which Chrome binds them to. */
typedef struct ls__istack {
  uint64_t pid, tid;
  ls__evs open, flows_to_next;
} ls__istack;

typedef struct ls__importer {
  ls_writer *w;
  ls_import_stats *st;
  const char *name;
  int64_t offset_ns;       /* added to every time so none is negative */
  ls_u64map str_ids;       /* FNV-1a of a string pid/tid -> synthetic id */
  uint64_t next_synth;
  ls_u64map stack_ids;     /* ls_u64_mix(pid, tid) -> index + 1 */
  ls__istack *stacks;
  size_t nstacks, stacks_cap;
  char *printed[LS_MAX_ARGS]; /* nested args printed as JSON, per event */
  unsigned nprinted;
  char *err;
  size_t errlen;
} ls__importer;

static uint64_t fnv1a(const char *s) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
  return h;
}

static int by_time(const void *a, const void *b) {
  const ls__item *x = a, *y = b;
  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static const char *str_field(const cJSON *ev, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An id as Chrome writes it: a number, "0x1f", "123", or any other string
 * (hashed). */
static bool parse_id(const cJSON *v, uint64_t *id) {
  if (cJSON_IsNumber(v)) {
    *id = (uint64_t)(int64_t)v->valuedouble;
    return true;
  }
  if (!cJSON_IsString(v) || !v->valuestring[0])
    return false;
  char *end;
  unsigned long long x = strtoull(v->valuestring, &end, 0);
  *id = *end ? fnv1a(v->valuestring) : x;
  return true;
}

static bool event_id(const cJSON *ev, uint64_t *id) {
  if (parse_id(cJSON_GetObjectItemCaseSensitive(ev, "id"), id))
    return true;
  const cJSON *id2 = cJSON_GetObjectItemCaseSensitive(ev, "id2");
  return parse_id(cJSON_GetObjectItemCaseSensitive(id2, "local"), id) ||
         parse_id(cJSON_GetObjectItemCaseSensitive(id2, "global"), id);
}

/* pid or tid: a number, or a string given a synthetic number (and named
 * after the string the first time it is seen). */
static int koid(ls__importer *im, const cJSON *v, bool thread, uint64_t pid,
                uint64_t *out) {
  if (cJSON_IsNumber(v)) {
    *out = (uint64_t)(int64_t)v->valuedouble;
    return 0;
  }
  if (!cJSON_IsString(v)) {
    *out = 0;
    return 0;
  }
  bool added;
  uint64_t *slot = ls_u64map_put(&im->str_ids, fnv1a(v->valuestring), &added);
  if (!slot)
    return -1;
  if (added) {
    *slot = im->next_synth++;
    int rc = thread ? ls_writer_thread_name(im->w, pid, *slot, v->valuestring)
                    : ls_writer_process_name(im->w, *slot, v->valuestring);
    if (rc)
      return rc;
    im->st->names++;
  }
  *out = *slot;
  return 0;
}

static ls__istack *stack_of(ls__importer *im, uint64_t pid, uint64_t tid) {
  uint64_t key = ls_u64_mix(pid, tid);
  uint64_t *slot = ls_u64map_get(&im->stack_ids, key);
  if (slot)
    return &im->stacks[*slot - 1];
  if (im->nstacks == im->stacks_cap) {
    size_t cap = im->stacks_cap ? im->stacks_cap * 2 : 8;
    ls__istack *p = realloc(im->stacks, cap * sizeof *p);
    if (!p)
      return NULL;
    im->stacks = p;
    im->stacks_cap = cap;
  }
  if (!(slot = ls_u64map_put(&im->stack_ids, key, NULL)))
    return NULL;
  im->stacks[im->nstacks] = (ls__istack){.pid = pid, .tid = tid};
  *slot = ++im->nstacks;
  return &im->stacks[im->nstacks - 1];
}

static int evs_push(ls__evs *a, const cJSON *ev) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    const cJSON **p = realloc(a->evs, cap * sizeof *p);
    if (!p)
      return LS_FMT_ENOMEM;
    a->evs = p;
    a->cap = cap;
  }
  a->evs[a->n++] = ev;
  return 0;
}

static void free_printed(ls__importer *im) {
  for (unsigned i = 0; i < im->nprinted; i++)
    cJSON_free(im->printed[i]);
  im->nprinted = 0;
}

/* Chrome args -> FXT args; objects and arrays become their JSON text. */
static void convert_args(ls__importer *im, const cJSON *args, ls_event *e,
                         bool numbers_only) {
  const cJSON *a;
  e->nargs = 0;
  cJSON_ArrayForEach(a, args) {
    if (!a->string)
      continue;
    if (numbers_only && !cJSON_IsNumber(a))
      continue;
    if (e->nargs == LS_MAX_ARGS) {
      im->st->args_cut++;
      continue;
    }
    ls_arg *o = &e->args[e->nargs];
    o->name = a->string;
    if (cJSON_IsNumber(a)) {
      double d = a->valuedouble;
      if (d == floor(d) && fabs(d) < 0x1p53)
        o->type = LS_ARG_I64, o->v.i = (int64_t)d;
      else
        o->type = LS_ARG_DOUBLE, o->v.d = d;
    } else if (cJSON_IsString(a)) {
      o->type = LS_ARG_STRING, o->v.s = a->valuestring;
    } else if (cJSON_IsBool(a)) {
      o->type = LS_ARG_BOOL, o->v.b = cJSON_IsTrue(a);
    } else if (cJSON_IsNull(a)) {
      o->type = LS_ARG_NULL;
    } else {
      char *text = cJSON_PrintUnformatted(a);
      if (!text)
        continue;
      im->printed[im->nprinted++] = text;
      o->type = LS_ARG_STRING, o->v.s = text;
    }
    e->nargs++;
  }
}

/* Times beyond this many microseconds (285 years) are not times. */
#define LS__TS_MAX_US 9e15

static uint64_t to_ns(const ls__importer *im, double us) {
  double ns = us * 1000.0 + (double)im->offset_ns;
  return ns > 0 ? (uint64_t)(ns + 0.5) : 0; /* < 2^64 given LS__TS_MAX_US */
}

static int write_flow(ls__importer *im, ls_event_type type, const ls_event *at,
                      uint64_t id) {
  ls_event f = {.type = type, .ts = at->ts, .pid = at->pid, .tid = at->tid,
                .category = "flow", .name = "flow", .id = id};
  im->st->written++;
  return ls_writer_event(im->w, &f);
}

/* Flow ends bound to the next slice: inside the slice that has just begun,
 * or at their own time when none came (slice NULL). */
static int write_flows_to_next(ls__importer *im, ls__istack *s,
                               const ls_event *slice) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < s->flows_to_next.n; i++) {
    const cJSON *f = s->flows_to_next.evs[i];
    uint64_t id = 0;
    event_id(f, &id); /* checked when it was held */
    ls_event at = {.pid = s->pid, .tid = s->tid};
    at.ts = slice ? slice->ts
                  : to_ns(im, cJSON_GetObjectItemCaseSensitive(f, "ts")->valuedouble);
    rc = write_flow(im, LS_EV_FLOW_END, &at, id);
  }
  s->flows_to_next.n = 0;
  return rc;
}

/* Flow ends go just after the begin of the slice they bind to, inside it,
 * which is where FXT readers bind them (FORMAT.md): the flow ends waiting for
 * this slice, and with flow v2 (the slice itself carries bind_id with
 * flow_in / flow_out) its own flow end and begin. */
static int write_slice(ls__importer *im, const cJSON *ev, ls_event *e) {
  uint64_t bind = 0; /* read only when has_bind; -O3 cannot tell */
  bool has_bind = parse_id(cJSON_GetObjectItemCaseSensitive(ev, "bind_id"),
                           &bind);
  ls__istack *s = stack_of(im, e->pid, e->tid);
  if (!s)
    return LS_FMT_ENOMEM;
  im->st->written++;
  int rc = ls_writer_event(im->w, e);
  if (rc == 0)
    rc = write_flows_to_next(im, s, e);
  if (rc == 0 && has_bind &&
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "flow_in")))
    rc = write_flow(im, LS_EV_FLOW_END, e, bind);
  if (rc == 0 && has_bind &&
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "flow_out")))
    rc = write_flow(im, LS_EV_FLOW_BEGIN, e, bind);
  return rc;
}

static int import_event(ls__importer *im, const ls__item *it) {
  const cJSON *ev = it->ev;
  const char *ph = str_field(ev, "ph");
  ls_event e = {0};
  int rc;
  if ((rc = koid(im, cJSON_GetObjectItemCaseSensitive(ev, "pid"), false, 0,
                 &e.pid)) ||
      (rc = koid(im, cJSON_GetObjectItemCaseSensitive(ev, "tid"), true, e.pid,
                 &e.tid)))
    return rc;
  const char *cat = str_field(ev, "cat"), *name = str_field(ev, "name");
  e.category = cat ? cat : "";
  e.name = name ? name : "";
  e.ts = to_ns(im, it->ts);
  const cJSON *args = cJSON_GetObjectItemCaseSensitive(ev, "args");

  if (ph[0] == 'M') {
    const char *value = str_field(args, "name");
    if (!value)
      return 0;
    if (name && strcmp(name, "process_name") == 0)
      rc = ls_writer_process_name(im->w, e.pid, value);
    else if (name && strcmp(name, "thread_name") == 0)
      rc = ls_writer_thread_name(im->w, e.pid, e.tid, value);
    else
      return 0; /* sort indexes, labels: nothing to keep */
    im->st->names += rc == 0;
    return rc;
  }

  ls__istack *s;
  switch (ph[0]) {
  case 'B':
    e.type = LS_EV_BEGIN;
    if (!(s = stack_of(im, e.pid, e.tid)))
      return LS_FMT_ENOMEM;
    if ((rc = evs_push(&s->open, ev)))
      return rc;
    convert_args(im, args, &e, false);
    return write_slice(im, ev, &e);
  case 'E':
    e.type = LS_EV_END;
    if (!(s = stack_of(im, e.pid, e.tid)))
      return LS_FMT_ENOMEM;
    if (s->open.n) { /* Chrome's E may omit the names: take the B's */
      const cJSON *b = s->open.evs[--s->open.n];
      if (!cat && (cat = str_field(b, "cat")))
        e.category = cat;
      if (!name && (name = str_field(b, "name")))
        e.name = name;
    }
    break;
  case 'X': {
    e.type = LS_EV_COMPLETE;
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(ev, "dur");
    double d = cJSON_IsNumber(dur) ? dur->valuedouble : 0;
    e.end_ts = to_ns(im, it->ts + (d > 0 && d < LS__TS_MAX_US ? d : 0));
    convert_args(im, args, &e, false);
    return write_slice(im, ev, &e);
  }
  case 'i':
  case 'I':
  case 'R':
    e.type = LS_EV_INSTANT;
    break;
  case 'C':
    e.type = LS_EV_COUNTER;
    event_id(ev, &e.id);
    convert_args(im, args, &e, true);
    im->st->written++;
    return ls_writer_event(im->w, &e);
  case 'b':
  case 'S':
    e.type = LS_EV_ASYNC_BEGIN;
    break;
  case 'n':
  case 'T':
  case 'p':
    e.type = LS_EV_ASYNC_INSTANT;
    break;
  case 'e':
  case 'F':
    e.type = LS_EV_ASYNC_END;
    break;
  case 's':
    e.type = LS_EV_FLOW_BEGIN;
    break;
  case 't':
    e.type = LS_EV_FLOW_STEP;
    break;
  case 'f':
    e.type = LS_EV_FLOW_END;
    break;
  default:
    im->st->skipped++; /* samples, snapshots, memory dumps, ... */
    return 0;
  }
  if (e.type >= LS_EV_ASYNC_BEGIN && !event_id(ev, &e.id)) {
    im->st->bad++; /* async and flow events mean nothing without an id */
    return 0;
  }
  const char *bp = str_field(ev, "bp");
  if (e.type == LS_EV_FLOW_END && !(bp && strcmp(bp, "e") == 0)) {
    if (!(s = stack_of(im, e.pid, e.tid)))
      return LS_FMT_ENOMEM;
    return evs_push(&s->flows_to_next, ev); /* Chrome: binds to the next slice */
  }
  if (e.type >= LS_EV_FLOW_BEGIN) {
    /* FXT matches flows on id alone; FORMAT.md names them all flow/flow. */
    e.category = "flow";
    e.name = "flow";
  } else {
    convert_args(im, args, &e, false);
  }
  im->st->written++;
  return ls_writer_event(im->w, &e);
}

int ls_import_chrome(const char *json, size_t len, const char *name, int fd,
                     ls_import_stats *stats, char *err, size_t errlen) {
  ls_import_stats local;
  if (!stats)
    stats = &local;
  *stats = (ls_import_stats){0};
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (!root) {
    const char *at = cJSON_GetErrorPtr();
    size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : 0;
    snprintf(err, errlen, "%s: not valid JSON (error at byte %zu)", name, off);
    return -1;
  }
  const cJSON *events = root;
  if (!cJSON_IsArray(root)) {
    events = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
    if (!cJSON_IsArray(events)) {
      snprintf(err, errlen,
               "%s: not a Chrome trace (no \"traceEvents\" array, and not an "
               "array of events)",
               name);
      cJSON_Delete(root);
      return -1;
    }
  }

  ls__importer im = {.st = stats, .name = name, .err = err, .errlen = errlen,
                     .next_synth = LS__SYNTH_ID_BASE};
  size_t n = (size_t)cJSON_GetArraySize(events), count = 0;
  ls__item *items = malloc((n ? n : 1) * sizeof *items);
  int rc = items ? 0 : LS_FMT_ENOMEM;
  double min_ts = 0;
  const cJSON *ev;
  cJSON_ArrayForEach(ev, events) {
    if (!items)
      break;
    stats->events++;
    const char *ph = str_field(ev, "ph");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "ts");
    /* Metadata events need no time. */
    bool meta = ph && ph[0] == 'M';
    if (!ph || !ph[0] || ph[1] || (!cJSON_IsNumber(ts) && !meta) ||
        (cJSON_IsNumber(ts) && !(fabs(ts->valuedouble) < LS__TS_MAX_US))) {
      stats->bad++;
      continue;
    }
    double t = cJSON_IsNumber(ts) ? ts->valuedouble : 0;
    /* Names first: they must precede the events that use them. */
    items[count] = (ls__item){ev, meta ? -INFINITY : t, count};
    count++;
    if (!meta && t < min_ts)
      min_ts = t;
  }
  if (rc == 0) {
    qsort(items, count, sizeof *items, by_time);
    im.offset_ns = min_ts < 0 ? (int64_t)(-min_ts * 1000.0 + 0.5) : 0;
    rc = ls_writer_open(&im.w, fd, 1000000000, "import");
    if (rc == 0)
      rc = ls_writer_meta(im.w, "imported_from", name);
    for (size_t i = 0; rc == 0 && i < count; i++) {
      if (items[i].ts == -INFINITY)
        items[i].ts = min_ts; /* ts unused by names */
      rc = import_event(&im, &items[i]);
      free_printed(&im);
    }
    for (size_t i = 0; rc == 0 && i < im.nstacks; i++)
      rc = write_flows_to_next(&im, &im.stacks[i], NULL);
    int crc = im.w ? ls_writer_close(im.w) : 0;
    if (rc == 0)
      rc = crc;
  }
  if (rc != 0)
    snprintf(err, errlen, "%s: writing the trace failed (%s)", name,
             rc == LS_FMT_ENOMEM ? "out of memory"
             : rc == LS_FMT_EINVAL ? "an event could not be encoded"
                                   : "write error");
  for (size_t i = 0; i < im.nstacks; i++) {
    free(im.stacks[i].open.evs);
    free(im.stacks[i].flows_to_next.evs);
  }
  free(im.stacks);
  ls_u64map_free(&im.stack_ids);
  ls_u64map_free(&im.str_ids);
  free(items);
  cJSON_Delete(root);
  return rc == 0 ? 0 : -1;
}
