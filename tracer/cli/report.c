/* loopscope report: where the loop's time went.
 *
 * One pass over the trace with a stack of open slices per thread. Memory is
 * bounded by threads x nesting depth, plus the timers scheduled but not yet
 * fired, plus one duration per callback (8 bytes) kept for percentiles. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "loopscope/u64map.h"
#include "report.h"

enum { FR_OTHER, FR_ITER, FR_PHASE, FR_CALLBACK };

typedef struct ls__frame {
  uint64_t ts_ns;
  int what, idx;         /* FR_*, phase or kind index */
  const char *label;
  uint64_t id;
  uint64_t inner_cb_ns;  /* phases: top-level callback time inside */
} ls__frame;

typedef struct ls__rthread {
  ls__frame *stack;
  size_t depth, cap;
  bool seen;             /* fig.first_ns is set */
  ls_report_loop fig;    /* a loop's figures, if it turns out to be one */
} ls__rthread;

typedef struct ls__samples {
  uint64_t *v;
  size_t n, cap;
} ls__samples;

typedef struct ls__rstate {
  ls_reader *r;
  ls_report *rep;
  ls_u64map thread_ids;   /* ls_u64_mix(pid, tid) -> index + 1 */
  ls__rthread *threads;
  size_t nthreads, threads_cap;
  ls_u64map timer_due;    /* async id -> due time, ns */
  ls_u64map timer_delay;  /* async id -> delay, ns (re-arms intervals) */
  ls__samples kind_durs[LS_KIND_COUNT];
  ls__samples lateness;
  bool oom;
} ls__rstate;

static void add_sample(ls__rstate *s, ls__samples *d, uint64_t v) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 256;
    uint64_t *p = realloc(d->v, cap * sizeof *p);
    if (!p) {
      s->oom = true;
      return;
    }
    d->v = p;
    d->cap = cap;
  }
  d->v[d->n++] = v;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t rank(const ls__samples *d, unsigned pct) {
  size_t k = (d->n * pct + 99) / 100; /* ceil(n * pct / 100), >= 1 */
  return d->v[k ? k - 1 : 0];
}

static void summarise(ls__samples *d, ls_report_dist *out) {
  out->count = d->n;
  if (d->n == 0)
    return;
  qsort(d->v, d->n, sizeof *d->v, cmp_u64);
  out->total_ns = 0;
  for (size_t i = 0; i < d->n; i++)
    out->total_ns += d->v[i];
  out->p50_ns = rank(d, 50);
  out->p99_ns = rank(d, 99);
  out->max_ns = d->v[d->n - 1];
}

static ls__rthread *thread_of(ls__rstate *s, uint64_t pid, uint64_t tid) {
  uint64_t key = ls_u64_mix(pid, tid);
  uint64_t *slot = ls_u64map_get(&s->thread_ids, key);
  if (slot)
    return &s->threads[*slot - 1];
  if (s->nthreads == s->threads_cap) {
    size_t cap = s->threads_cap ? s->threads_cap * 2 : 8;
    ls__rthread *p = realloc(s->threads, cap * sizeof *p);
    if (!p)
      return NULL;
    s->threads = p;
    s->threads_cap = cap;
  }
  if (!(slot = ls_u64map_put(&s->thread_ids, key, NULL)))
    return NULL;
  s->threads[s->nthreads] = (ls__rthread){.fig = {.pid = pid, .tid = tid}};
  *slot = ++s->nthreads;
  return &s->threads[s->nthreads - 1];
}

static void keep_longest(ls_report *rep, const ls_report_callback *cb) {
  unsigned n = rep->nlongest;
  if (n == LS_REPORT_LONGEST && cb->dur_ns <= rep->longest[n - 1].dur_ns)
    return;
  unsigned i = n < LS_REPORT_LONGEST ? n++ : n - 1;
  while (i > 0 && rep->longest[i - 1].dur_ns < cb->dur_ns) {
    rep->longest[i] = rep->longest[i - 1];
    i--;
  }
  rep->longest[i] = *cb;
  rep->nlongest = n;
}

/* A timer callback starts: lateness against the due time its sched instant
 * gave; an interval is due again one delay after this start. */
static void timer_fires(ls__rstate *s, const ls__frame *f) {
  uint64_t *due = ls_u64map_get(&s->timer_due, f->id);
  if (!due) {
    s->rep->timers_unscheduled++;
    return;
  }
  add_sample(s, &s->lateness, f->ts_ns > *due ? f->ts_ns - *due : 0);
  if (f->idx == LS_KIND_INTERVAL) {
    uint64_t *delay = ls_u64map_get(&s->timer_delay, f->id);
    *due = f->ts_ns + (delay ? *delay : 0);
  } else {
    ls_u64map_remove(&s->timer_due, f->id);
    ls_u64map_remove(&s->timer_delay, f->id);
  }
}

static void on_sched(ls__rstate *s, const ls_event *ev, uint64_t ns) {
  const ls_arg *id = ls_event_arg(ev, "id");
  const ls_arg *delay = ls_event_arg(ev, "delay_ms");
  const ls_arg *due = ls_event_arg(ev, "due");
  if (!id || (!delay && !due))
    return;
  uint64_t delay_ns = delay ? (uint64_t)(ls_arg_number(delay) * 1e6) : 0;
  /* The runtime's own due time when it gives one, else start + delay. */
  uint64_t due_ns = due ? ls_ticks_to_ns(s->r, ls_arg_u64(due)) : ns + delay_ns;
  uint64_t *a = ls_u64map_put(&s->timer_due, ls_arg_u64(id), NULL);
  uint64_t *b = ls_u64map_put(&s->timer_delay, ls_arg_u64(id), NULL);
  if (!a || !b) {
    s->oom = true;
    return;
  }
  *a = due_ns;
  *b = delay_ns;
}

static int begin(ls__rstate *s, ls__rthread *t, const ls_event *ev,
                 uint64_t ns) {
  if (t->depth == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    ls__frame *p = realloc(t->stack, cap * sizeof *p);
    if (!p)
      return -1;
    t->stack = p;
    t->cap = cap;
  }
  ls__frame *f = &t->stack[t->depth++];
  *f = (ls__frame){.ts_ns = ns, .what = FR_OTHER, .label = ev->name};
  int k;
  if (strcmp(ev->category, LS_CAT_LOOP) == 0) {
    f->what = FR_ITER;
  } else if (strcmp(ev->category, LS_CAT_PHASE) == 0) {
    if ((k = ls_phase_from_name(ev->name)) >= 0)
      f->what = FR_PHASE, f->idx = k;
  } else if ((k = ls_kind_from_name(ev->category)) >= 0) {
    f->what = FR_CALLBACK;
    f->idx = k;
    const ls_arg *id = ls_event_arg(ev, "id");
    f->id = id ? ls_arg_u64(id) : 0;
    if ((k == LS_KIND_TIMER || k == LS_KIND_INTERVAL) && id)
      timer_fires(s, f);
  }
  return 0;
}

static bool in_iteration(const ls__rthread *t) {
  for (size_t i = 0; i < t->depth; i++)
    if (t->stack[i].what == FR_ITER)
      return true;
  return false;
}

static void end(ls__rstate *s, ls__rthread *t, const ls_event *ev,
                uint64_t ns) {
  ls_report *rep = s->rep;
  ls_report_loop *fig = &t->fig;
  if (t->depth == 0) {
    rep->unmatched_ends++;
    return;
  }
  ls__frame *f = &t->stack[--t->depth];
  uint64_t dur = ns > f->ts_ns ? ns - f->ts_ns : 0;
  switch (f->what) {
  case FR_ITER:
    fig->iterations++;
    fig->iterations_ns += dur;
    break;
  case FR_PHASE: {
    if (!in_iteration(t))
      fig->phases_outside_ns += dur;
    fig->phase_ns[f->idx] += dur;
    fig->phase_count[f->idx]++;
    if (f->idx == LS_PHASE_POLL)
      fig->poll_idle_ns += dur > f->inner_cb_ns ? dur - f->inner_cb_ns : 0;
    break;
  }
  case FR_CALLBACK: {
    add_sample(s, &s->kind_durs[f->idx], dur);
    ls_report_callback cb = {.dur_ns = dur, .ts_ns = f->ts_ns, .tid = ev->tid,
                             .id = f->id, .kind = ls_kind_names[f->idx],
                             .label = f->label};
    keep_longest(rep, &cb);
    /* Only the outermost callback counts as loop work; its phase learns
     * how much of it was callbacks rather than waiting. */
    size_t i = t->depth;
    while (i > 0 && t->stack[i - 1].what != FR_CALLBACK &&
           t->stack[i - 1].what != FR_PHASE)
      i--;
    if (i > 0 && t->stack[i - 1].what == FR_CALLBACK)
      break;
    rep->callback_ns += dur;
    /* A loop's share counts what ran in its loop time, not, say, node's
     * main script before the first iteration. */
    if (i > 0 || in_iteration(t))
      fig->callback_ns += dur;
    if (i > 0)
      t->stack[i - 1].inner_cb_ns += dur;
    break;
  }
  default:
    break;
  }
}

static int on_event(ls__rstate *s, const ls_event *ev) {
  ls__rthread *t = thread_of(s, ev->pid, ev->tid);
  if (!t)
    return -1;
  uint64_t ns = ls_ticks_to_ns(s->r, ev->ts);
  if (!t->seen || ns < t->fig.first_ns)
    t->fig.first_ns = ns;
  if (ns > t->fig.last_ns)
    t->fig.last_ns = ns;
  t->seen = true;
  switch (ev->type) {
  case LS_EV_BEGIN:
    return begin(s, t, ev, ns);
  case LS_EV_END:
    end(s, t, ev, ns);
    return 0;
  case LS_EV_COMPLETE:
    if (begin(s, t, ev, ns))
      return -1;
    end(s, t, ev, ev->end_ts > ev->ts ? ls_ticks_to_ns(s->r, ev->end_ts) : ns);
    return 0;
  case LS_EV_INSTANT:
    if (strcmp(ev->category, LS_CAT_SCHED) == 0)
      on_sched(s, ev, ns);
    return 0;
  default:
    return 0;
  }
}

static bool is_loop(const ls_report_loop *l) {
  if (l->iterations)
    return true;
  for (int p = 0; p < LS_PHASE_COUNT; p++)
    if (l->phase_count[p])
      return true;
  return false;
}

/* The main loop first: the thread FORMAT.md names "loop" (node's other
 * loops are "loop-N"), else the process's first thread (tid = pid); then
 * the busiest, ties in order of appearance. */
static int main_rank(const ls_report_loop *l) {
  return 2 * (l->name && strcmp(l->name, "loop") == 0) + (l->tid == l->pid);
}

static bool goes_before(const ls_report_loop *x, const ls_report_loop *y) {
  int rx = main_rank(x), ry = main_rank(y);
  return rx != ry ? rx > ry : x->loop_ns > y->loop_ns;
}

/* Finishes each loop thread's figures and lists them, main loop first. */
static int collect_loops(ls__rstate *s) {
  ls_report *rep = s->rep;
  size_t n = 0;
  for (size_t i = 0; i < s->nthreads; i++)
    n += is_loop(&s->threads[i].fig);
  if (!n)
    return 0;
  if (!(rep->loops = malloc(n * sizeof *rep->loops)))
    return -1;
  for (size_t i = 0; i < s->nthreads; i++) {
    ls_report_loop *l = &s->threads[i].fig;
    if (!is_loop(l))
      continue;
    l->loop_ns = l->iterations ? l->iterations_ns + l->phases_outside_ns
                               : l->last_ns - l->first_ns;
    if (l->loop_ns)
      l->elu = (double)(l->loop_ns - (l->poll_idle_ns < l->loop_ns
                                          ? l->poll_idle_ns
                                          : l->loop_ns)) /
               (double)l->loop_ns;
    size_t at = rep->nloops++; /* insertion sort: stable, and n is small */
    for (; at > 0 && goes_before(l, &rep->loops[at - 1]); at--)
      rep->loops[at] = rep->loops[at - 1];
    rep->loops[at] = *l;
  }
  rep->loops[0].main = main_rank(&rep->loops[0]) > 0;
  return 0;
}

static void see_time(ls_report *rep, uint64_t ns) {
  if (rep->records == 0 || ns < rep->first_ns)
    rep->first_ns = ns;
  if (ns > rep->last_ns)
    rep->last_ns = ns;
  rep->records++;
}

int ls_report_compute(ls_reader *r, ls_report *rep,
                      ls_cli_progress *progress) {
  ls__rstate s = {.r = r, .rep = rep};
  *rep = (ls_report){.source = ls_reader_info(r)->source};
  ls_record rec;
  int status;
  while ((status = ls_reader_next(r, &rec)) == LS_FMT_OK) {
    if (rec.kind == LS_REC_EVENT) {
      rep->events++;
      see_time(rep, ls_ticks_to_ns(r, rec.event.ts));
      if (rec.event.type == LS_EV_COMPLETE)
        see_time(rep, ls_ticks_to_ns(r, rec.event.end_ts));
      if (on_event(&s, &rec.event)) {
        status = LS_FMT_ENOMEM;
        break;
      }
    } else if (rec.kind == LS_REC_LOST) {
      see_time(rep, ls_ticks_to_ns(r, rec.ts));
      rep->lost += rec.count;
      rep->lost_records++;
    } else if (rec.kind == LS_REC_META && strcmp(rec.name, "source") == 0) {
      rep->source = rec.value;
    } else if (rec.kind == LS_REC_THREAD_NAME) {
      ls__rthread *t = thread_of(&s, rec.pid, rec.tid);
      if (!t) {
        status = LS_FMT_ENOMEM;
        break;
      }
      t->fig.name = rec.name;
    }
    if (s.oom) {
      status = LS_FMT_ENOMEM;
      break;
    }
    if (progress && (rep->records & 0xffff) == 0)
      ls_cli_progress_update(progress, ls_reader_offset(r), ls_reader_size(r));
  }
  if (progress)
    ls_cli_progress_done(progress);
  rep->dropped_bytes = ls_reader_dropped(r);
  if (collect_loops(&s) && status >= 0)
    status = LS_FMT_ENOMEM;
  for (int k = 0; k < LS_KIND_COUNT; k++) {
    summarise(&s.kind_durs[k], &rep->kinds[k]);
    free(s.kind_durs[k].v);
  }
  summarise(&s.lateness, &rep->lateness);
  free(s.lateness.v);
  for (size_t i = 0; i < s.nthreads; i++)
    free(s.threads[i].stack);
  free(s.threads);
  ls_u64map_free(&s.thread_ids);
  ls_u64map_free(&s.timer_due);
  ls_u64map_free(&s.timer_delay);
  return status < 0 ? status : 0;
}

static double share(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* One loop's phases and utilisation; `what` says which loop it is. */
static void print_loop(const ls_report_loop *l, const char *what, FILE *out) {
  char a[32], b[32], c[32];
  fprintf(out, "\n%s: ", what);
  if (l->name)
    fprintf(out, "thread \"%s\", ", l->name);
  fprintf(out, "tid %llu, %llu iterations\n", (unsigned long long)l->tid,
          (unsigned long long)l->iterations);
  if (!l->iterations)
    fprintf(out, "(no loop iterations: shares are of the thread's span)\n");
  fprintf(out, "Phases         %12s %8s %8s\n", "total", "share", "count");
  for (int p = 0; p < LS_PHASE_COUNT; p++)
    fprintf(out, "  %-12s %12s %7.1f%% %8llu\n", ls_phase_names[p],
            ls_cli_fmt_dur(a, sizeof a, l->phase_ns[p]),
            share(l->phase_ns[p], l->loop_ns),
            (unsigned long long)l->phase_count[p]);
  if (!l->phase_count[LS_PHASE_POLL]) {
    fprintf(out, "Event-loop utilisation: n/a (no poll phase)\n"
                 "  callbacks %s (%.1f%% of its span)\n",
            ls_cli_fmt_dur(c, sizeof c, l->callback_ns),
            share(l->callback_ns, l->loop_ns));
    return;
  }
  fprintf(out, "Event-loop utilisation: %.1f%%\n", 100.0 * l->elu);
  fprintf(out, "  loop time %s, poll wait (idle) %s, callbacks %s (%.1f%%)\n",
          ls_cli_fmt_dur(a, sizeof a, l->loop_ns),
          ls_cli_fmt_dur(b, sizeof b, l->poll_idle_ns),
          ls_cli_fmt_dur(c, sizeof c, l->callback_ns),
          share(l->callback_ns, l->loop_ns));
}

void ls_report_print(const ls_report *rep, const char *path, FILE *out) {
  char a[32], b[32], c[32], d[32];
  fprintf(out, "%s: %s trace, %llu events over %s, %zu loop thread%s\n",
          path, rep->source ? rep->source : "unknown",
          (unsigned long long)rep->events,
          ls_cli_fmt_dur(a, sizeof a, rep->last_ns - rep->first_ns),
          rep->nloops, rep->nloops == 1 ? "" : "s");
  /* Each loop apart: summed, a second loop's idle poll would hide how
   * busy the main one is. */
  for (size_t i = 0; i < rep->nloops; i++)
    print_loop(&rep->loops[i],
               i ? "Other loop" : rep->loops[0].main ? "Main loop" : "Busiest loop",
               out);
  if (!rep->nloops)
    fprintf(out, "\nNo loop iterations or phases: callbacks %s (%.1f%% of "
                 "the trace)\n",
            ls_cli_fmt_dur(a, sizeof a, rep->callback_ns),
            share(rep->callback_ns, rep->last_ns - rep->first_ns));

  fprintf(out, "\nCallbacks%s %8s %12s %12s %12s %12s\n",
          rep->nloops > 1 ? ", all threads" : "", "count", "total", "p50",
          "p99", "max");
  for (int k = 0; k < LS_KIND_COUNT; k++) {
    const ls_report_dist *dist = &rep->kinds[k];
    if (!dist->count)
      continue;
    fprintf(out, "  %-10s %6llu %12s %12s %12s %12s\n", ls_kind_names[k],
            (unsigned long long)dist->count,
            ls_cli_fmt_dur(a, sizeof a, dist->total_ns),
            ls_cli_fmt_dur(b, sizeof b, dist->p50_ns),
            ls_cli_fmt_dur(c, sizeof c, dist->p99_ns),
            ls_cli_fmt_dur(d, sizeof d, dist->max_ns));
  }

  fprintf(out, "\nLongest callbacks\n");
  for (unsigned i = 0; i < rep->nlongest; i++) {
    const ls_report_callback *cb = &rep->longest[i];
    fprintf(out, "  %2u. %12s  %-10s %-24s at %s  tid %llu  id %llu\n", i + 1,
            ls_cli_fmt_dur(a, sizeof a, cb->dur_ns), cb->kind, cb->label,
            ls_cli_fmt_dur(b, sizeof b, cb->ts_ns - rep->first_ns),
            (unsigned long long)cb->tid, (unsigned long long)cb->id);
  }
  if (!rep->nlongest)
    fprintf(out, "  (no callbacks)\n");

  fprintf(out, "\nTimer lateness (callback start - due)\n");
  if (rep->lateness.count)
    fprintf(out, "  %llu timers: mean %s, p50 %s, p99 %s, max %s\n",
            (unsigned long long)rep->lateness.count,
            ls_cli_fmt_dur(a, sizeof a,
                           rep->lateness.total_ns / rep->lateness.count),
            ls_cli_fmt_dur(b, sizeof b, rep->lateness.p50_ns),
            ls_cli_fmt_dur(c, sizeof c, rep->lateness.p99_ns),
            ls_cli_fmt_dur(d, sizeof d, rep->lateness.max_ns));
  else
    fprintf(out, "  (no timer fired after its sched instant)\n");
  if (rep->timers_unscheduled)
    fprintf(out, "  %llu timer callbacks had no sched instant in the trace\n",
            (unsigned long long)rep->timers_unscheduled);

  fprintf(out, "\nLost events: %llu", (unsigned long long)rep->lost);
  if (rep->lost_records)
    fprintf(out, " (in %llu records): figures above miss them",
            (unsigned long long)rep->lost_records);
  fputc('\n', out);
}

void ls_report_free(ls_report *rep) {
  free(rep->loops);
  rep->loops = NULL;
  rep->nloops = 0;
}

static void help(void) {
  printf(
      "usage: loopscope report TRACE\n"
      "\n"
      "Where the event loop's time went:\n"
      "  - per loop thread (the main loop first, then any other, such as\n"
      "    node's worker or inspector loops): per phase total time, share\n"
      "    of loop time and count; event-loop utilisation (1 - poll wait /\n"
      "    loop time, where poll wait is the poll phase minus the callbacks\n"
      "    run inside it), as node's eventLoopUtilization() per loop\n"
      "  - callbacks by kind: count, total, p50 / p99 / max duration\n"
      "    (nearest-rank percentiles, durations include nested work)\n"
      "  - the 10 longest callbacks with their labels\n"
      "  - timer lateness: callback start minus due time (from the sched\n"
      "    instant's due, or its time + delay_ms, matched by async id)\n"
      "  - lost events\n"
      "\n"
      "  -h, --help  this help\n");
}

int ls_cmd_report(int argc, char **argv) {
  static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                           {0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (c == 'h') {
      help();
      return 0;
    }
    return ls_cli_usage("report", "unknown option");
  }
  if (optind != argc - 1)
    return ls_cli_usage("report", "expected one TRACE file");
  const char *path = argv[optind];
  ls_reader *r;
  if (ls_cli_open_trace("report", path, &r))
    return 1;
  ls_report rep;
  ls_cli_progress progress;
  ls_cli_progress_init(&progress, "report", false);
  int status = ls_report_compute(r, &rep, &progress);
  ls_report_print(&rep, path, stdout);
  ls_report_free(&rep);
  fflush(stdout);
  int rc;
  if (status == LS_FMT_ENOMEM)
    rc = ls_cli_fail("report", "%s: out of memory", path);
  else
    rc = ls_cli_finish_trace("report", path, r, status);
  ls_reader_close(r);
  return rc;
}
