/* The name tables of vocab.h. These strings are what goes into the file, so
 * changing one changes the format (FORMAT.md lists them). */
#include <string.h>

#include "loopscope/vocab.h"

const char *const ls_phase_names[LS_PHASE_COUNT] = {
    [LS_PHASE_TIMERS] = "timers",   [LS_PHASE_PENDING] = "pending",
    [LS_PHASE_IDLE] = "idle",       [LS_PHASE_PREPARE] = "prepare",
    [LS_PHASE_POLL] = "poll",       [LS_PHASE_CHECK] = "check",
    [LS_PHASE_CLOSE] = "close",
};

const char *const ls_kind_names[LS_KIND_COUNT] = {
    [LS_KIND_TIMER] = "timer",         [LS_KIND_INTERVAL] = "interval",
    [LS_KIND_IMMEDIATE] = "immediate", [LS_KIND_IO] = "io",
    [LS_KIND_FS] = "fs",               [LS_KIND_CLOSE] = "close",
    [LS_KIND_TICK] = "tick",           [LS_KIND_MICROTASK] = "microtask",
    [LS_KIND_STREAM] = "stream",       [LS_KIND_USER] = "user",
};

const char *const ls_counter_names[LS_COUNTER_COUNT] = {
    [LS_COUNTER_TIMERS] = "timers",
    [LS_COUNTER_IMMEDIATES] = "immediates",
    [LS_COUNTER_TICKS] = "ticks",
    [LS_COUNTER_MICROTASKS] = "microtasks",
    [LS_COUNTER_HANDLES] = "handles",
    [LS_COUNTER_REQUESTS] = "requests",
    [LS_COUNTER_POOL_QUEUE] = "pool_queue",
    [LS_COUNTER_ELU] = "elu",
    [LS_COUNTER_LAG_US] = "lag_us",
};

const char *const ls_promise_ev_names[LS_PROMISE_EV_COUNT] = {
    [LS_PROMISE_CREATED] = "created",
    [LS_PROMISE_RESOLVED] = "resolved",
    [LS_PROMISE_REJECTED] = "rejected",
    [LS_PROMISE_HANDLED_LATE] = "handled_late",
    [LS_PROMISE_UNHANDLED] = "unhandled",
};

/* The tables are a handful of entries: a linear scan beats any index. */
static int find_name(const char *const *table, int n, const char *name) {
  if (name == NULL)
    return -1;
  for (int i = 0; i < n; i++)
    if (strcmp(table[i], name) == 0)
      return i;
  return -1;
}

int ls_phase_from_name(const char *name) {
  return find_name(ls_phase_names, LS_PHASE_COUNT, name);
}

int ls_kind_from_name(const char *category) {
  return find_name(ls_kind_names, LS_KIND_COUNT, category);
}

int ls_counter_from_name(const char *name) {
  return find_name(ls_counter_names, LS_COUNTER_COUNT, name);
}
