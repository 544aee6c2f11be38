/* libFuzzer target: the reader on arbitrary bytes must return records and
 * then EOF or a clean error; never crash, hang or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loopscope/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ls_reader *r;
  char err[256];
  if (ls_reader_open_mem(&r, data, size, err, sizeof err) != 0) {
    if (strlen(err) == 0)
      abort(); /* every refusal must say why */
    return 0;
  }
  ls_record rec;
  size_t records = 0;
  uint64_t sum = 0; /* touch every string, so ASan sees bad pointers */
  int rc;
  while ((rc = ls_reader_next(r, &rec)) == LS_FMT_OK) {
    if (++records > size / 8)
      abort(); /* each record must consume at least one word */
    if (rec.kind == LS_REC_EVENT || rec.kind == LS_REC_LOST) {
      sum += strlen(rec.event.category) + strlen(rec.event.name);
      for (unsigned i = 0; i < rec.event.nargs; i++) {
        sum += strlen(rec.event.args[i].name);
        if (rec.event.args[i].type == LS_ARG_STRING)
          sum += strlen(rec.event.args[i].v.s);
      }
      sum += ls_ticks_to_ns(r, rec.event.ts);
    } else if (rec.kind != LS_REC_INIT) {
      sum += strlen(rec.name);
      if (rec.kind == LS_REC_META)
        sum += strlen(rec.value);
    }
  }
  if (rc != LS_FMT_EOF && strlen(ls_reader_error(r)) == 0)
    abort(); /* every error must say what was wrong */
  if (ls_reader_offset(r) > ls_reader_size(r) ||
      ls_reader_dropped(r) > ls_reader_size(r))
    abort();
  sum += strlen(ls_reader_info(r)->provider) + strlen(ls_reader_info(r)->source);
  ls_reader_close(r);
  return sum == 1 ? 1 : 0; /* keep `sum` live; libFuzzer ignores the value */
}
