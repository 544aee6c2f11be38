/* The reader against fixtures built by hand from the FXT spec, and the
 * writer's bytes against the spec's layouts. */
#include "helpers.h"

#include <string.h>

#include "fixtures.h"

/* A reader over the fixture `build` writes. Its bytes stay in a static
 * buffer: each test runs in a process of its own. */
static ls_reader *open_fixture(void (*build)(fx_buf *)) {
  static fx_buf b;
  b.n = 0;
  build(&b);
  ls_reader *r;
  char err[256];
  cr_assert_eq(ls_reader_open_mem(&r, b.w, b.n * 8, err, sizeof err), 0,
               "%s", err);
  return r;
}

static void next_ok(ls_reader *r, ls_record *rec, ls_record_kind kind) {
  cr_assert_eq(ls_reader_next(r, rec), LS_FMT_OK, "%s", ls_reader_error(r));
  cr_assert_eq(rec->kind, kind, "kind %d, want %d", rec->kind, kind);
}

/* The fixture ends here, whole; closes the reader. */
static void close_at_end(ls_reader *r) {
  ls_record rec;
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_EOF, "%s", ls_reader_error(r));
  cr_assert_eq(ls_reader_dropped(r), 0);
  ls_reader_close(r);
}

Test(spec, magic_bytes) {
  /* "For a little endian system, the first eight bytes are
   * 10 00 04 46 78 54 16 00." */
  static const uint8_t want[8] = {0x10, 0x00, 0x04, 0x46,
                                  0x78, 0x54, 0x16, 0x00};
  int fd;
  ls_writer *w = mem_writer(&fd);
  cr_assert_eq(ls_writer_close(w), 0);
  size_t len;
  uint8_t *bytes = file_bytes(fd, &len);
  cr_assert_geq(len, 8);
  cr_assert_arr_eq(bytes, want, 8);
  free(bytes);
  close(fd);
}

Test(spec, indexed) {
  ls_reader *r = open_fixture(fx_indexed);
  cr_assert_eq(ls_reader_info(r)->ticks_per_second, 1000000);
  ls_record rec;
  next_ok(r, &rec, LS_REC_INIT);
  cr_assert_eq(rec.ticks_per_second, 1000000);
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_eq(rec.event.type, LS_EV_BEGIN);
  cr_assert_eq(rec.event.ts, 1000000);
  cr_assert_eq(ls_ticks_to_ns(r, rec.event.ts), 1000000000);
  cr_assert_eq(rec.event.pid, 0x1234);
  cr_assert_eq(rec.event.tid, 0x5678);
  cr_assert_str_eq(rec.event.category, "cat");
  cr_assert_str_eq(rec.event.name, "name8chr");
  cr_assert_eq(rec.event.nargs, 0);
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_eq(rec.event.type, LS_EV_END);
  cr_assert_eq(rec.event.ts, 2500000);
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_eq(rec.event.type, LS_EV_COUNTER);
  cr_assert_eq(rec.event.id, 42);
  cr_assert_eq(rec.event.nargs, 1);
  cr_assert_str_eq(rec.event.args[0].name, "name8chr");
  cr_assert_eq(rec.event.args[0].type, LS_ARG_I32);
  cr_assert_eq(rec.event.args[0].v.i, -7);
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_eq(rec.event.type, LS_EV_COMPLETE);
  cr_assert_eq(rec.event.ts, 10);
  cr_assert_eq(rec.event.end_ts, 20);
  close_at_end(r);
}

Test(spec, inline_strings_threads_and_every_arg) {
  ls_reader *r = open_fixture(fx_inline);
  ls_record rec;
  next_ok(r, &rec, LS_REC_EVENT);
  const ls_event *e = &rec.event;
  cr_assert_eq(e->type, LS_EV_INSTANT);
  cr_assert_eq(e->ts, 77);
  cr_assert_eq(e->pid, 0x10);
  cr_assert_eq(e->tid, 0x11);
  cr_assert_str_eq(e->category, "inline");
  cr_assert_str_eq(e->name, "x");
  cr_assert_eq(e->nargs, 10);
  static const ls_arg_type types[] = {
      LS_ARG_NULL,   LS_ARG_I32,    LS_ARG_U32,     LS_ARG_I64,
      LS_ARG_U64,    LS_ARG_DOUBLE, LS_ARG_STRING,  LS_ARG_POINTER,
      LS_ARG_KOID,   LS_ARG_BOOL};
  for (unsigned i = 0; i < 10; i++) {
    char name[2] = {(char)('a' + i), 0};
    cr_assert_str_eq(e->args[i].name, name);
    cr_assert_eq(e->args[i].type, types[i], "arg %s", name);
  }
  cr_assert_eq(e->args[1].v.i, -2);
  cr_assert_eq(e->args[2].v.u, 3000000000u);
  cr_assert_eq(e->args[3].v.i, INT64_C(-5000000000000));
  cr_assert_eq(e->args[4].v.u, UINT64_C(0xfedcba9876543210));
  cr_assert_eq(e->args[5].v.d, 1.5);
  cr_assert_str_eq(e->args[6].v.s, "hello world");
  cr_assert_eq(e->args[7].v.u, 0xdeadbeef);
  cr_assert_eq(e->args[8].v.u, 999);
  cr_assert(e->args[9].v.b);
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_eq(rec.event.type, LS_EV_ASYNC_BEGIN);
  cr_assert_eq(rec.event.id, 5);
  cr_assert_eq(rec.event.tid, 0x12);
  cr_assert_str_eq(rec.event.category, "");
  cr_assert_str_eq(rec.event.name, "");
  close_at_end(r);
}

Test(spec, kernel_objects_and_provider) {
  ls_reader *r = open_fixture(fx_objects);
  cr_assert_str_eq(ls_reader_info(r)->provider, "other");
  ls_record rec;
  next_ok(r, &rec, LS_REC_META);
  cr_assert_str_eq(rec.name, "provider");
  cr_assert_str_eq(rec.value, "other");
  next_ok(r, &rec, LS_REC_PROCESS_NAME);
  cr_assert_eq(rec.pid, 100);
  cr_assert_str_eq(rec.name, "proc");
  next_ok(r, &rec, LS_REC_THREAD_NAME);
  cr_assert_eq(rec.pid, 100);
  cr_assert_eq(rec.tid, 101);
  cr_assert_str_eq(rec.name, "thr");
  close_at_end(r);
}

Test(spec, skips_what_it_does_not_use) {
  ls_reader *r = open_fixture(fx_skipped);
  ls_record rec;
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_eq(rec.event.ts, 5);
  cr_assert_eq(rec.event.pid, 1, "the index-0 thread record was ignored");
  cr_assert_str_eq(rec.event.name, "c");
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_eq(rec.event.ts, 8);
  cr_assert_eq(rec.event.nargs, 1, "the blob argument is skipped");
  cr_assert_eq(rec.event.args[0].type, LS_ARG_U32);
  cr_assert_eq(rec.event.args[0].v.u, 7);
  close_at_end(r);
}

Test(spec, redefined_indexes) {
  ls_reader *r = open_fixture(fx_redefined);
  ls_record rec;
  next_ok(r, &rec, LS_REC_EVENT);
  const char *first = rec.event.name;
  cr_assert_str_eq(first, "first");
  cr_assert_eq(rec.event.tid, 10);
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_str_eq(rec.event.name, "second");
  cr_assert_eq(rec.event.tid, 20);
  cr_assert_str_eq(first, "first", "old strings stay valid");
  close_at_end(r);
}

Test(spec, providers_have_their_own_tables) {
  ls_reader *r = open_fixture(fx_providers);
  ls_record rec;
  next_ok(r, &rec, LS_REC_META);
  cr_assert_str_eq(rec.value, "a");
  next_ok(r, &rec, LS_REC_INIT);
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_str_eq(rec.event.name, "one");
  cr_assert_eq(rec.event.pid, 1);
  cr_assert_eq(ls_ticks_to_ns(r, rec.event.ts), 1000000000);
  next_ok(r, &rec, LS_REC_META);
  cr_assert_str_eq(rec.value, "b");
  next_ok(r, &rec, LS_REC_EVENT);
  cr_assert_str_eq(rec.event.name, "two");
  cr_assert_eq(rec.event.pid, 2);
  cr_assert_eq(ls_ticks_to_ns(r, rec.event.ts), 5, "a new provider: 1 ns");
  /* We keep one provider's tables: going back to provider 1 finds nothing
   * defined, which must be an error, not provider 2's strings. */
  cr_assert_eq(ls_reader_next(r, &rec), LS_FMT_ECORRUPT);
  cr_assert(strstr(ls_reader_error(r), "which was never defined") != NULL,
            "%s", ls_reader_error(r));
  ls_reader_close(r);
}

/* Our writer's output, word by word, against the layouts in FORMAT.md
 * (which quote the spec). */
Test(spec, writer_bits) {
  int fd;
  ls_writer *w = mem_writer(&fd);
  ls_event ev = {.type = LS_EV_BEGIN, .ts = 0, .pid = 1, .tid = 2,
                 .category = "loop", .name = "iteration", .nargs = 1};
  ev.args[0] = (ls_arg){.name = "n", .type = LS_ARG_U64, .v.u = 0};
  cr_assert_eq(ls_writer_event(w, &ev), 0);
  cr_assert_eq(ls_writer_close(w), 0);
  size_t len;
  uint8_t *bytes = file_bytes(fd, &len);
  static const uint64_t want[] = {
      UINT64_C(0x0016547846040010), /* magic */
      /* provider info: type 0, 3 words, metadata 1, provider 1, length 9 */
      UINT64_C(0x0090000000110030), UINT64_C(0x706f6373706f6f6c),
      UINT64_C(0x65),
      0x21, 1000000000, /* init: type 1, 2 words; tick rate */
      /* strings 1 "source", 2 "value", 3 "runtime" */
      UINT64_C(0x0000000600010022), UINT64_C(0x656372756f73),
      UINT64_C(0x0000000500020022), UINT64_C(0x65756c6176),
      UINT64_C(0x0000000700030022), UINT64_C(0x656d69746e7572),
      /* kernel object: type 7, 3 words, object type 0, name 1, 1 arg;
       * koid 0; string arg: name 2, value 3 */
      UINT64_C(0x0000010001000037), 0, UINT64_C(0x0000000300020016),
      /* strings 4 "loop", 5 "iteration", 6 "n" */
      UINT64_C(0x0000000400040022), UINT64_C(0x706f6f6c),
      UINT64_C(0x0000000900050032), UINT64_C(0x6f69746172657469),
      UINT64_C(0x6e), UINT64_C(0x0000000100060022), UINT64_C(0x6e),
      /* thread 1 = (1, 2) */
      UINT64_C(0x0000000000010033), 1, 2,
      /* the event of FORMAT.md's worked example */
      UINT64_C(0x0005000401120034), 0, UINT64_C(0x0000000000060012),
  };
  cr_assert_eq(len, sizeof want, "%zu bytes, want %zu", len, sizeof want);
  for (size_t i = 0; i < len / 8; i++) {
    uint64_t got;
    memcpy(&got, bytes + i * 8, 8);
    cr_assert_eq(got, want[i], "word %zu: 0x%016llx, want 0x%016llx", i,
                 (unsigned long long)got, (unsigned long long)want[i]);
  }
  free(bytes);
  close(fd);
}
