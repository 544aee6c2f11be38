/* write -> read round trips of every record kind the writer produces. */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

Test(roundtrip, header_info) {
  int fd = memfd_create("trace", MFD_CLOEXEC);
  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, fd, 2400000000u, "ebpf"), 0);
  ls_reader *r = close_and_read(w, fd);
  const ls_trace_info *info = ls_reader_info(r);
  cr_assert_eq(info->ticks_per_second, 2400000000u);
  cr_assert_str_eq(info->provider, "loopscope");
  cr_assert_str_eq(info->source, "ebpf");
  cr_assert_eq(ls_ticks_to_ns(r, 2400), 1000);

  ls_record rec;
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_OK);
  cr_assert_eq(rec.kind, LS_REC_META);
  cr_assert_eq(rec.offset, 8, "the provider info follows the magic");
  cr_assert_str_eq(rec.name, "provider");
  cr_assert_str_eq(rec.value, "loopscope");
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_OK);
  cr_assert_eq(rec.kind, LS_REC_INIT);
  cr_assert_eq(rec.ticks_per_second, 2400000000u);
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_OK);
  cr_assert_eq(rec.kind, LS_REC_META);
  cr_assert_str_eq(rec.name, "source");
  cr_assert_str_eq(rec.value, "ebpf");
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_EOF);
  cr_assert_eq(ls_reader_dropped(r), 0);
  cr_assert_eq(ls_reader_offset(r), ls_reader_size(r));
  close_read(r, fd);
}

Test(roundtrip, every_event_type) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  for (int t = LS_EV_INSTANT; t <= LS_EV_FLOW_END; t++) {
    ls_event ev = {.type = t, .ts = 1000 + t, .pid = 42, .tid = 43,
                   .category = "cat", .name = "name", .id = 7000 + t,
                   .end_ts = 5000 + t, .nargs = 1};
    ev.args[0] = (ls_arg){.name = "n", .type = LS_ARG_U32, .v.u = t};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
  }
  ls_reader *r = close_and_read(w, fd);
  ls_record rec;
  for (int t = LS_EV_INSTANT; t <= LS_EV_FLOW_END; t++) {
    cr_assert(next_of(r, &rec, LS_REC_EVENT));
    const ls_event *ev = &rec.event;
    cr_assert_eq(ev->type, t);
    cr_assert_eq(ev->ts, 1000u + t);
    cr_assert_eq(ev->pid, 42);
    cr_assert_eq(ev->tid, 43);
    cr_assert_str_eq(ev->category, "cat");
    cr_assert_str_eq(ev->name, "name");
    bool has_id = t == LS_EV_COUNTER || t >= LS_EV_ASYNC_BEGIN;
    cr_assert_eq(ev->id, has_id ? 7000u + t : 0, "type %d", t);
    cr_assert_eq(ev->end_ts, t == LS_EV_COMPLETE ? 5000u + t : 0);
    cr_assert_eq(ev->nargs, 1);
    cr_assert_eq(ls_arg_u64(ls_event_arg(ev, "n")), (uint64_t)t);
  }
  cr_assert_not(next_of(r, &rec, LS_REC_EVENT));
  close_read(r, fd);
}

Test(roundtrip, every_arg_type) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  ls_event ev = {.type = LS_EV_INSTANT, .ts = 1, .pid = 1, .tid = 2,
                 .category = "c", .name = "args", .nargs = 15};
  ls_arg *a = ev.args;
  a[0] = (ls_arg){"null", LS_ARG_NULL, {.u = 0}};
  a[1] = (ls_arg){"i32", LS_ARG_I32, {.i = -5}};
  a[2] = (ls_arg){"u32", LS_ARG_U32, {.u = 4000000000u}};
  a[3] = (ls_arg){"i64", LS_ARG_I64, {.i = INT64_MIN + 3}};
  a[4] = (ls_arg){"i64small", LS_ARG_I64, {.i = -70000}};
  a[5] = (ls_arg){"u64", LS_ARG_U64, {.u = UINT64_MAX - 1}};
  a[6] = (ls_arg){"u64small", LS_ARG_U64, {.u = 123}};
  a[7] = (ls_arg){"double", LS_ARG_DOUBLE, {.d = -2.5e-300}};
  a[8] = (ls_arg){"string", LS_ARG_STRING, {.s = "héllo"}};
  a[9] = (ls_arg){"empty", LS_ARG_STRING, {.s = ""}};
  a[10] = (ls_arg){"pointer", LS_ARG_POINTER, {.u = 0x7ffc0000beefu}};
  a[11] = (ls_arg){"koid", LS_ARG_KOID, {.u = 12}};
  a[12] = (ls_arg){"true", LS_ARG_BOOL, {.b = true}};
  a[13] = (ls_arg){"false", LS_ARG_BOOL, {.b = false}};
  a[14] = (ls_arg){"u32big", LS_ARG_U32, {.u = UINT64_C(1) << 40}};
  cr_assert_eq(ls_writer_event(w, &ev), 0);
  ls_reader *r = close_and_read(w, fd);
  ls_record rec;
  cr_assert(next_of(r, &rec, LS_REC_EVENT));
  const ls_event *e = &rec.event;
  cr_assert_eq(e->nargs, 15);
  for (unsigned i = 0; i < 15; i++)
    cr_assert_str_eq(e->args[i].name, a[i].name, "args keep their order");
  cr_assert_eq(ls_event_arg(e, "null")->type, LS_ARG_NULL);
  cr_assert_eq(ls_event_arg(e, "i32")->type, LS_ARG_I32);
  cr_assert_eq(ls_event_arg(e, "i32")->v.i, -5);
  cr_assert_eq(ls_event_arg(e, "u32")->type, LS_ARG_U32);
  cr_assert_eq(ls_event_arg(e, "u32")->v.u, 4000000000u);
  cr_assert_eq(ls_event_arg(e, "i64")->type, LS_ARG_I64);
  cr_assert_eq(ls_event_arg(e, "i64")->v.i, INT64_MIN + 3);
  /* 64-bit values that fit in 32 bits take the one-word encodings */
  cr_assert_eq(ls_event_arg(e, "i64small")->type, LS_ARG_I32);
  cr_assert_eq(ls_arg_i64(ls_event_arg(e, "i64small")), -70000);
  cr_assert_eq(ls_event_arg(e, "u64")->type, LS_ARG_U64);
  cr_assert_eq(ls_event_arg(e, "u64")->v.u, UINT64_MAX - 1);
  cr_assert_eq(ls_event_arg(e, "u64small")->type, LS_ARG_U32);
  cr_assert_eq(ls_arg_u64(ls_event_arg(e, "u64small")), 123);
  cr_assert_eq(ls_event_arg(e, "double")->type, LS_ARG_DOUBLE);
  cr_assert_eq(ls_event_arg(e, "double")->v.d, -2.5e-300);
  cr_assert_eq(ls_arg_number(ls_event_arg(e, "double")), -2.5e-300);
  cr_assert_eq(ls_event_arg(e, "string")->type, LS_ARG_STRING);
  cr_assert_str_eq(ls_event_arg(e, "string")->v.s, "héllo");
  cr_assert_str_eq(ls_event_arg(e, "empty")->v.s, "");
  cr_assert_eq(ls_event_arg(e, "pointer")->type, LS_ARG_POINTER);
  cr_assert_eq(ls_event_arg(e, "pointer")->v.u, 0x7ffc0000beefu);
  cr_assert_eq(ls_event_arg(e, "koid")->type, LS_ARG_KOID);
  cr_assert_eq(ls_event_arg(e, "koid")->v.u, 12);
  cr_assert_eq(ls_event_arg(e, "true")->type, LS_ARG_BOOL);
  cr_assert(ls_event_arg(e, "true")->v.b);
  cr_assert_not(ls_event_arg(e, "false")->v.b);
  cr_assert_eq(ls_event_arg(e, "u32big")->type, LS_ARG_U64,
               "a U32 too big for 32 bits is widened, not cut");
  cr_assert_eq(ls_event_arg(e, "u32big")->v.u, UINT64_C(1) << 40);
  cr_assert_null(ls_event_arg(e, "absent"));
  close_read(r, fd);
}

Test(roundtrip, names_lost_and_meta) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  cr_assert_eq(ls_writer_process_name(w, 100, "demo"), 0);
  cr_assert_eq(ls_writer_thread_name(w, 100, 101, "loop"), 0);
  cr_assert_eq(ls_writer_thread_name(w, 100, 102, "pool-1"), 0);
  cr_assert_eq(ls_writer_lost(w, 100, 101, 555, 17), 0);
  cr_assert_eq(ls_writer_lost(w, 100, 102, 556, UINT64_C(1) << 33), 0);
  cr_assert_eq(ls_writer_meta(w, "program", "./demo --fast"), 0);
  ls_reader *r = close_and_read(w, fd);
  ls_record rec;
  cr_assert(next_of(r, &rec, LS_REC_PROCESS_NAME));
  cr_assert_eq(rec.pid, 100);
  cr_assert_str_eq(rec.name, "demo");
  cr_assert(next_of(r, &rec, LS_REC_THREAD_NAME));
  cr_assert_eq(rec.pid, 100);
  cr_assert_eq(rec.tid, 101);
  cr_assert_str_eq(rec.name, "loop");
  cr_assert(next_of(r, &rec, LS_REC_THREAD_NAME));
  cr_assert_eq(rec.tid, 102);
  cr_assert_str_eq(rec.name, "pool-1");
  cr_assert(next_of(r, &rec, LS_REC_LOST));
  cr_assert_eq(rec.pid, 100);
  cr_assert_eq(rec.tid, 101);
  cr_assert_eq(rec.ts, 555);
  cr_assert_eq(rec.count, 17);
  cr_assert(next_of(r, &rec, LS_REC_LOST));
  cr_assert_eq(rec.tid, 102);
  cr_assert_eq(rec.count, UINT64_C(1) << 33);
  cr_assert(next_of(r, &rec, LS_REC_META));
  cr_assert_str_eq(rec.name, "program");
  cr_assert_str_eq(rec.value, "./demo --fast");
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_EOF);
  close_read(r, fd);
}

/* More distinct strings than the 32767-entry table: indexes are reused and
 * every event still reads back with its own name. */
Test(roundtrip, string_table_overflow) {
  enum { N = 40000 };
  int fd;
  ls_writer *w = mem_writer(&fd);
  char name[32];
  for (unsigned i = 0; i < N; i++) {
    snprintf(name, sizeof name, "label-%u", i);
    ls_event ev = {.type = LS_EV_BEGIN, .ts = i, .pid = 1, .tid = 1,
                   .category = (i % 2) ? "timer" : "io", .name = name,
                   .nargs = 1};
    ev.args[0] = (ls_arg){.name = "s", .type = LS_ARG_STRING, .v.s = name};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
  }
  ls_reader *r = close_and_read(w, fd);
  ls_record rec;
  for (unsigned i = 0; i < N; i++) {
    snprintf(name, sizeof name, "label-%u", i);
    cr_assert(next_of(r, &rec, LS_REC_EVENT));
    cr_assert_str_eq(rec.event.name, name);
    cr_assert_str_eq(rec.event.category, (i % 2) ? "timer" : "io");
    cr_assert_str_eq(ls_event_arg(&rec.event, "s")->v.s, name);
  }
  cr_assert_not(next_of(r, &rec, LS_REC_EVENT));
  close_read(r, fd);
}

/* Once the table is full every new string evicts one; the strings of the
 * record being written must never be the ones taken, even when the first
 * eviction's sweep has cleared their second-chance marks (category "c"). */
Test(roundtrip, eviction_spares_the_current_record) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  char name[32], argn[LS_MAX_ARGS][32];
  for (unsigned i = 0; i < 32767; i++) { /* fill the table */
    snprintf(name, sizeof name, "fill-%u", i);
    ls_event ev = {.type = LS_EV_INSTANT, .category = "c", .name = name};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
  }
  for (unsigned i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "new-%u", i);
    ls_event ev = {.type = LS_EV_INSTANT, .category = "c", .name = name,
                   .nargs = LS_MAX_ARGS};
    for (unsigned k = 0; k < LS_MAX_ARGS; k++) {
      snprintf(argn[k], sizeof argn[k], "a%u-%u", i, k);
      ev.args[k] = (ls_arg){.name = argn[k], .type = LS_ARG_U32, .v.u = k};
    }
    cr_assert_eq(ls_writer_event(w, &ev), 0);
  }
  ls_reader *r = close_and_read(w, fd);
  ls_record rec;
  for (unsigned i = 0; i < 32767; i++)
    cr_assert(next_of(r, &rec, LS_REC_EVENT));
  for (unsigned i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "new-%u", i);
    cr_assert(next_of(r, &rec, LS_REC_EVENT));
    cr_assert_str_eq(rec.event.category, "c");
    cr_assert_str_eq(rec.event.name, name);
    for (unsigned k = 0; k < LS_MAX_ARGS; k++) {
      char want[32];
      snprintf(want, sizeof want, "a%u-%u", i, k);
      cr_assert_str_eq(rec.event.args[k].name, want);
      cr_assert_eq(rec.event.args[k].v.u, k);
    }
  }
  close_read(r, fd);
}

/* More threads than the 255-entry thread table, used round robin. */
Test(roundtrip, thread_table_overflow) {
  enum { THREADS = 300, ROUNDS = 3 };
  int fd;
  ls_writer *w = mem_writer(&fd);
  for (unsigned k = 0; k < ROUNDS * THREADS; k++) {
    ls_event ev = {.type = LS_EV_INSTANT, .ts = k, .pid = 7 + k % 2,
                   .tid = 1000 + k % THREADS, .category = "c", .name = "n"};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
  }
  ls_reader *r = close_and_read(w, fd);
  ls_record rec;
  for (unsigned k = 0; k < ROUNDS * THREADS; k++) {
    cr_assert(next_of(r, &rec, LS_REC_EVENT));
    cr_assert_eq(rec.event.pid, 7 + k % 2);
    cr_assert_eq(rec.event.tid, 1000 + k % THREADS);
    cr_assert_eq(rec.event.ts, k);
  }
  close_read(r, fd);
}

/* The pointer cache must not confuse a reused buffer with its old text. */
Test(roundtrip, reused_buffer) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  char buf[16];
  const char *names[] = {"first", "second", "first", "third"};
  for (unsigned i = 0; i < 4; i++) {
    strcpy(buf, names[i]);
    ls_event ev = {.type = LS_EV_INSTANT, .category = buf, .name = buf};
    cr_assert_eq(ls_writer_event(w, &ev), 0);
  }
  ls_reader *r = close_and_read(w, fd);
  ls_record rec;
  for (unsigned i = 0; i < 4; i++) {
    cr_assert(next_of(r, &rec, LS_REC_EVENT));
    cr_assert_str_eq(rec.event.name, names[i]);
    cr_assert_str_eq(rec.event.category, names[i]);
  }
  close_read(r, fd);
}

/* Strings above the spec's 32000-byte limit are cut at a UTF-8 boundary. */
Test(roundtrip, long_string_is_cut) {
  size_t n = 40000;
  char *big = malloc(n + 1);
  for (size_t i = 0; i < n; i += 2)
    memcpy(big + i, "\xc3\xa9", 2); /* é, two bytes */
  big[n] = '\0';
  big[1] = 'x'; /* shift the pairs by one so 32000 falls mid-character */
  big[0] = 'x';
  big[2] = 'x';
  int fd;
  ls_writer *w = mem_writer(&fd);
  ls_event ev = {.type = LS_EV_INSTANT, .category = "c", .name = big};
  cr_assert_eq(ls_writer_event(w, &ev), 0);
  cr_assert_eq(ls_writer_event(w, &ev), 0);
  ls_reader *r = close_and_read(w, fd);
  ls_record rec;
  for (int k = 0; k < 2; k++) {
    cr_assert(next_of(r, &rec, LS_REC_EVENT));
    size_t len = strlen(rec.event.name);
    cr_assert_leq(len, 32000);
    cr_assert_geq(len, 31999);
    cr_assert_eq(memcmp(rec.event.name, big, len), 0);
    cr_assert_neq((uint8_t)big[len] & 0xC0, 0x80, "cut between characters");
  }
  close_read(r, fd);
  free(big);
}

Test(roundtrip, compact_encoding) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  ls_event begin = {.type = LS_EV_BEGIN, .ts = 1, .pid = 1, .tid = 1,
                    .category = LS_CAT_PHASE, .name = "poll"};
  cr_assert_eq(ls_writer_event(w, &begin), 0); /* interns strings + thread */
  uint64_t before = ls_writer_bytes(w);
  cr_assert_eq(ls_writer_event(w, &begin), 0);
  cr_assert_eq(ls_writer_bytes(w) - before, 16, "header + timestamp");
  begin.nargs = 1;
  begin.args[0] = (ls_arg){.name = "n", .type = LS_ARG_U64, .v.u = 99};
  cr_assert_eq(ls_writer_event(w, &begin), 0);
  before = ls_writer_bytes(w);
  cr_assert_eq(ls_writer_event(w, &begin), 0);
  cr_assert_eq(ls_writer_bytes(w) - before, 24, "a small U64 is one word");
  cr_assert_eq(ls_writer_close(w), 0);
  close(fd);
}

Test(roundtrip, rejects_bad_events) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  ls_event ev = {.type = 11, .category = "c", .name = "n"};
  cr_assert_eq(ls_writer_event(w, &ev), LS_FMT_EINVAL);
  ev.type = LS_EV_INSTANT;
  ev.nargs = 16;
  cr_assert_eq(ls_writer_event(w, &ev), LS_FMT_EINVAL);
  ev.nargs = 1;
  ev.args[0] = (ls_arg){.name = "a", .type = 10};
  cr_assert_eq(ls_writer_event(w, &ev), LS_FMT_EINVAL);
  cr_assert_eq(ls_writer_close(w), 0);
  ls_writer *w0;
  cr_assert_eq(ls_writer_open(&w0, fd, 0, NULL), LS_FMT_EINVAL);
  cr_assert_null(w0);
  close(fd);
}

Test(roundtrip, write_errors_are_reported) {
  int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  cr_assert(fd >= 0);
  ls_writer *w;
  cr_assert_eq(ls_writer_open(&w, fd, 1000, NULL), -ENOSPC);
  close(fd);
  int p[2];
  cr_assert_eq(pipe(p), 0);
  cr_assert_eq(ls_writer_open(&w, p[1], 1000, NULL), 0);
  close(p[0]);
  signal(SIGPIPE, SIG_IGN);
  ls_event ev = {.type = LS_EV_INSTANT, .category = "c", .name = "n"};
  cr_assert_eq(ls_writer_event(w, &ev), 0, "buffered: no error yet");
  cr_assert_eq(ls_writer_flush(w), -EPIPE);
  cr_assert_eq(ls_writer_event(w, &ev), -EPIPE, "the error sticks");
  cr_assert_eq(ls_writer_close(w), -EPIPE);
  close(p[1]);
}

Test(vocab, names_round_trip) {
  for (int i = 0; i < LS_PHASE_COUNT; i++)
    cr_assert_eq(ls_phase_from_name(ls_phase_names[i]), i);
  for (int i = 0; i < LS_KIND_COUNT; i++)
    cr_assert_eq(ls_kind_from_name(ls_kind_names[i]), i);
  for (int i = 0; i < LS_COUNTER_COUNT; i++)
    cr_assert_eq(ls_counter_from_name(ls_counter_names[i]), i);
  cr_assert_str_eq(ls_phase_names[LS_PHASE_POLL], "poll");
  cr_assert_str_eq(ls_kind_names[LS_KIND_MICROTASK], "microtask");
  cr_assert_eq(ls_phase_from_name("nope"), -1);
  cr_assert_eq(ls_kind_from_name(NULL), -1);
  cr_assert_eq(ls_counter_from_name(""), -1);
}
