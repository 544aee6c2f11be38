/* Timers with Node's model (lib/internal/timers.js), not libuv's heap.
 *
 * Armed timers sit in one FIFO list per (truncated) delay; the lists sit in a
 * priority queue ordered by (expiry, list id). The timers phase drains each
 * due list of all its due timers before looking at the next list, running
 * nextTicks and microtasks between two callbacks. A timer's start time is the
 * fresh clock at the moment it is armed, so a timer armed inside a timer
 * callback never fires in the same pass.
 *
 * Delays are coerced like Node's: anything not in [1, 2^31-1] (0, 0.5, -5,
 * NaN, too large) becomes 1 ms; fractions truncate.
 *
 * ls_timer is caller-owned and reusable: ls_timer_init once, then arm it
 * with ls_set_timeout / ls_set_interval (LS_EBUSY while it waits to fire;
 * its own callback may arm it again, as a new timer). A timer is not a
 * handle and needs no close, but the loop reads the struct after its
 * callback returns (to re-arm an interval, or to retire a fired timeout), so
 * free it only outside its own callback.
 */
#ifndef LOOPSCOPE_TIMER_H
#define LOOPSCOPE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "loopscope/loop.h"

#define LS_TIMEOUT_MAX 2147483647.0

typedef struct ls_timer ls_timer;
typedef void (*ls_timer_cb)(ls_timer *timer);

struct ls_timer {
  void *data;        /* for the user */
  const char *label; /* trace label; NULL = "setTimeout" / "setInterval" */
  ls_loop *loop;
  /* private */
  ls_timer_cb cb;
  ls__queue node;       /* in its delay's list */
  uint64_t idle_start;  /* Node's _idleStart */
  int64_t idle_timeout; /* truncated delay; -1 once cleared */
  uint32_t repeat;      /* interval delay, 0 for a timeout */
  bool refed;
  bool destroyed; /* not armed: fired, cleared or never armed */
  uint64_t async_id;
  uint64_t trigger_id;
};

int ls_timer_init(ls_loop *loop, ls_timer *timer);
int ls_set_timeout(ls_timer *timer, ls_timer_cb cb, double delay_ms);
int ls_set_interval(ls_timer *timer, ls_timer_cb cb, double delay_ms);
/* clearTimeout / clearInterval: a no-op on a timer that is not armed. */
void ls_clear_timer(ls_timer *timer);
/* Re-arms with the same delay from now (also after it fired); a no-op after
 * a clear. */
int ls_timer_refresh(ls_timer *timer);
void ls_timer_ref(ls_timer *timer);
void ls_timer_unref(ls_timer *timer);
bool ls_timer_has_ref(const ls_timer *timer);
bool ls_timer_armed(const ls_timer *timer);

#endif
