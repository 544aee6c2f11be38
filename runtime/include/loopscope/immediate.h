/* setImmediate: callbacks run in the check phase. The phase detaches the
 * whole queue before running it, so an immediate queued by an immediate runs
 * in the next iteration; nextTicks and microtasks drain between two
 * immediates. A ref'd queued immediate keeps the loop alive and makes poll
 * non-blocking. ls_immediate is caller-owned and reusable once it ran or was
 * cleared (and from its own callback); start from a zeroed struct or
 * ls_immediate_init. */
#ifndef LOOPSCOPE_IMMEDIATE_H
#define LOOPSCOPE_IMMEDIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "loopscope/loop.h"

typedef struct ls_immediate ls_immediate;
typedef void (*ls_immediate_cb)(ls_immediate *immediate);

struct ls_immediate {
  void *data;        /* for the user */
  const char *label; /* trace label; NULL = "setImmediate" */
  ls_loop *loop;
  /* private */
  ls_immediate_cb cb;
  ls__queue node;
  bool queued;
  bool refed;
  uint64_t async_id;
  uint64_t trigger_id;
};

void ls_immediate_init(ls_immediate *immediate);
/* Queues `immediate` (LS_EBUSY if it is still queued). */
int ls_set_immediate(ls_loop *loop, ls_immediate *immediate, ls_immediate_cb cb);
/* A no-op when it is not queued. */
void ls_clear_immediate(ls_immediate *immediate);
void ls_immediate_ref(ls_immediate *immediate);
void ls_immediate_unref(ls_immediate *immediate);

#endif
