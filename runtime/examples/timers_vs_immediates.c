/* timers_vs_immediates: who runs first, setTimeout(0) or setImmediate?
 *
 * It depends on where they are scheduled (../shared/SEMANTICS.md):
 *   - from an I/O callback: the immediate, always (check follows poll);
 *   - from a timer callback: the immediate, always (a new timer starts
 *     "now" and cannot be due in the same timers run);
 *   - from the main program after a 2 ms busy wait: the timeout (it is
 *     already due when the first timers run happens).
 * Trace it and look at which phase each callback sits in.
 */
#include <stdio.h>
#include <time.h>

#include "loopscope/runtime.h"

static ls_loop loop;
static ls_timer main_timer, timer_outer, timer_inner, io_timer;
static ls_immediate main_imm, timer_imm, io_imm;
static ls_fs stat_req;

static void say_timer(ls_timer *t) {
  printf("  timeout   (%s)\n", (const char *)t->data);
}

static void say_imm(ls_immediate *i) {
  printf("  immediate (%s)\n", (const char *)i->data);
}

static void busy_wait_ms(int ms) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  do
    clock_gettime(CLOCK_MONOTONIC, &b);
  while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

/* setTimeout(0) and setImmediate from the same place. */
static void pair(ls_timer *t, ls_timer_cb tcb, ls_immediate *i,
                 ls_immediate_cb icb, const char *where) {
  t->data = (void *)where;
  i->data = (void *)where;
  ls_set_timeout(t, tcb, 0);
  ls_set_immediate(&loop, i, icb);
}

/* The experiments run one after the other, each started by the last
 * callback of the previous one, so their lines do not interleave. */
static void on_outer(ls_timer *t) {
  (void)t;
  printf("scheduled from a timer callback:\n");
  pair(&timer_inner, say_timer, &timer_imm, say_imm, "from a timer");
}

static void io_pair_done(ls_timer *t) {
  say_timer(t);
  ls_set_timeout(&timer_outer, on_outer, 0);
}

static void on_stat(ls_fs *req) {
  ls_fs_cleanup(req);
  printf("scheduled from an I/O callback:\n");
  pair(&io_timer, io_pair_done, &io_imm, say_imm, "from I/O");
}

static void main_pair_done(ls_immediate *i) {
  say_imm(i);
  ls_fs_stat(&loop, &stat_req, "/", on_stat);
}

int main(void) {
  ls_loop_init(&loop);
  ls_timer_init(&loop, &main_timer);
  ls_timer_init(&loop, &timer_outer);
  ls_timer_init(&loop, &timer_inner);
  ls_timer_init(&loop, &io_timer);
  printf("scheduled from main, then a 2 ms busy wait:\n");
  pair(&main_timer, say_timer, &main_imm, main_pair_done, "from main");
  busy_wait_ms(2);
  ls_run_main(&loop);
  ls_loop_close(&loop);
  return 0;
}
