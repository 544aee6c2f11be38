/* The flight recorder: nothing is written until SIGUSR2 (or the stop at
 * exit), and then only the last window. */
#include "helpers.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

static off_t file_size(const char *path) {
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  return st.st_size;
}

Test(record_flight, sigusr2_writes_the_last_window) {
  char *path = tmp_trace("flight");
  ls_trace_opts opts = {.mode = LS_TRACE_FLIGHT_RECORDER, .window_s = 0.2};
  cr_assert_eq(ls_trace_start(path, &opts), 0);
  off_t header = file_size(path);
  uint64_t start = now_ns(), id = 0, id_half = 0;
  while (now_ns() - start < 1000000000) {
    for (int i = 0; i < 50; i++)
      LS_TRACE_INSTANT(LS_CAT_SCHED, "setTimeout", ++id, 1);
    if (id_half == 0 && now_ns() - start >= 500000000)
      id_half = id;
    usleep(1000);
  }
  cr_assert_eq(file_size(path), header, "the flight recorder wrote early");
  uint64_t signal_t = now_ns();
  cr_assert_eq(kill(getpid(), SIGUSR2), 0);
  /* the writer thread answers the signal; give it up to 10 s */
  for (int i = 0; i < 1000 && file_size(path) == header; i++)
    usleep(10000);
  cr_assert_gt(file_size(path), header, "SIGUSR2 wrote nothing");
  /* no events since the signal, so the dump at stop adds nothing */
  cr_assert_eq(ls_trace_stop(), 0);

  trace tr;
  trace_load(&tr, path);
  uint64_t first = 0, last = 0, first_ts = 0, last_ts = 0;
  for (size_t j = 0; j < tr.n; j++) {
    const ls_event *ev = &tr.recs[j].event;
    if (tr.recs[j].kind != LS_REC_EVENT)
      continue;
    uint64_t got = arg_u(ev, "id");
    if (first == 0) {
      first = got;
      first_ts = ev->ts;
    } else {
      cr_assert_eq(got, last + 1, "a gap inside the window: %llu after %llu",
                   (unsigned long long)got, (unsigned long long)last);
    }
    last = got;
    last_ts = ev->ts;
    /* the window ends at the dump, which comes after the signal; 2 ms for
     * the difference between the TSC and CLOCK_MONOTONIC */
    cr_assert_geq(ev->ts + 2000000, signal_t - 200000000,
                  "an event older than the window");
  }
  cr_assert_eq(last, id, "the newest events are missing");
  cr_assert_gt(first, id_half, "the first half second is still there");
  cr_assert_leq(last_ts - first_ts, 200000000);
  trace_free(&tr);
  unlink(path);
  free(path);
}

/* Without a signal, the stop (at exit) writes the window. */
Test(record_flight, stop_writes_the_window) {
  char *path = tmp_trace("flight-stop");
  ls_trace_opts opts = {.mode = LS_TRACE_FLIGHT_RECORDER, .window_s = 5};
  cr_assert_eq(ls_trace_start(path, &opts), 0);
  for (uint64_t i = 1; i <= 1000; i++)
    LS_TRACE_INSTANT(LS_CAT_SCHED, "nextTick", i, 0);
  cr_assert_eq(ls_trace_stop(), 0);
  trace tr;
  trace_load(&tr, path);
  uint64_t n = 0;
  for (size_t j = 0; j < tr.n; j++)
    if (tr.recs[j].kind == LS_REC_EVENT)
      cr_assert_eq(arg_u(&tr.recs[j].event, "id"), ++n);
  cr_assert_eq(n, 1000);
  trace_free(&tr);
  unlink(path);
  free(path);
}

/* A ring smaller than the window keeps the newest slots it can: overwritten
 * ones are gone, never half-written ones. The writer cannot tell an idle
 * producer from one rewriting the oldest slot, so it keeps capacity - 1. */
Test(record_flight, small_ring_keeps_the_newest) {
  char *path = tmp_trace("flight-small");
  ls_trace_opts opts = {.mode = LS_TRACE_FLIGHT_RECORDER, .window_s = 60,
                        .ring_slots = 256};
  cr_assert_eq(ls_trace_start(path, &opts), 0);
  for (uint64_t i = 1; i <= 100000; i++)
    LS_TRACE_INSTANT(LS_CAT_SCHED, "nextTick", i, 0);
  cr_assert_eq(ls_trace_stop(), 0);
  cr_assert_eq(ls_trace_lost(), 0); /* overwriting is not loss */
  trace tr;
  trace_load(&tr, path);
  uint64_t n = 0, expect = 100000 - 255 + 1;
  for (size_t j = 0; j < tr.n; j++)
    if (tr.recs[j].kind == LS_REC_EVENT) {
      cr_assert_eq(arg_u(&tr.recs[j].event, "id"), expect++);
      n++;
    }
  cr_assert_eq(n, 255);
  trace_free(&tr);
  unlink(path);
  free(path);
}

static void *short_thread(void *arg) {
  (void)arg;
  ls_trace_thread_name("short");
  for (uint64_t i = 1; i <= 100; i++)
    LS_TRACE_INSTANT(LS_CAT_SCHED, "then", i, 0);
  return NULL;
}

static off_t wait_for_growth(const char *path, off_t from) {
  for (int i = 0; i < 1000 && file_size(path) == from; i++)
    usleep(10000);
  cr_assert_gt(file_size(path), from, "SIGUSR2 wrote nothing");
  return file_size(path);
}

/* Each dump appends what the last one did not write; a thread that ended
 * before the dump is in it. */
Test(record_flight, dumps_append_without_repeats) {
  char *path = tmp_trace("flight-twice");
  ls_trace_opts opts = {.mode = LS_TRACE_FLIGHT_RECORDER, .window_s = 60};
  cr_assert_eq(ls_trace_start(path, &opts), 0);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, short_thread, NULL), 0);
  pthread_join(th, NULL);
  for (uint64_t i = 1; i <= 100; i++)
    LS_TRACE_INSTANT(LS_CAT_SCHED, "nextTick", i, 0);
  off_t size = file_size(path);
  cr_assert_eq(kill(getpid(), SIGUSR2), 0);
  size = wait_for_growth(path, size);
  for (uint64_t i = 101; i <= 150; i++)
    LS_TRACE_INSTANT(LS_CAT_SCHED, "nextTick", i, 0);
  cr_assert_eq(kill(getpid(), SIGUSR2), 0);
  wait_for_growth(path, size);
  cr_assert_eq(ls_trace_stop(), 0);

  trace tr;
  trace_load(&tr, path);
  uint64_t ticks = 0, thens = 0, short_tid = 0;
  for (size_t j = 0; j < tr.n; j++) {
    const ls_record *rec = &tr.recs[j];
    if (rec->kind == LS_REC_THREAD_NAME && strcmp(rec->name, "short") == 0)
      short_tid = rec->tid;
    if (rec->kind != LS_REC_EVENT)
      continue;
    if (strcmp(rec->event.name, "then") == 0) {
      cr_assert_eq(rec->event.tid, short_tid);
      cr_assert_eq(arg_u(&rec->event, "id"), ++thens);
    } else {
      cr_assert_eq(arg_u(&rec->event, "id"), ++ticks);
    }
  }
  cr_assert_eq(thens, 100);
  cr_assert_eq(ticks, 150);
  trace_free(&tr);
  unlink(path);
  free(path);
}
