/* promise_unhandled: what an unhandled rejection does.
 *
 * A promise is rejected and nobody handles it; a timer and an immediate are
 * queued behind it. After the microtask queue drains, the default mode
 * (like node) prints the reason and ends the process with exit code 1: the
 * timer and the immediate never run. Pass warn, none or strict to compare
 * (the same as LOOPSCOPE_UNHANDLED_REJECTIONS):
 *   promise_unhandled           exit 1, "never printed" is not printed
 *   promise_unhandled warn      a warning, then the timer and the immediate
 */
#include <stdio.h>

#include "loopscope/promise.h"
#include "loopscope/runtime.h"

static ls_loop loop;
static ls_timer timer;
static ls_immediate immediate;

static void on_timer(ls_timer *t) {
  (void)t;
  printf("timer (never printed in the default mode)\n");
}

static void on_immediate(ls_immediate *imm) {
  (void)imm;
  printf("immediate (never printed in the default mode)\n");
}

static void tick(void *arg) {
  (void)arg;
  printf("nextTick: still runs, the check comes after the drain\n");
}

int main(int argc, char **argv) {
  ls_loop_init(&loop);
  if (argc > 1) {
    ls_rejection_mode mode;
    if (ls_rejection_mode_parse(argv[1], &mode) != 0) {
      fprintf(stderr, "usage: %s [throw|strict|warn|none]\n", argv[0]);
      return 2;
    }
    ls_promise_set_rejection_mode(&loop, mode);
  }
  ls_promise_unref(ls_promise_rejected(&loop, ls_error(0, "nobody catches me")));
  ls_timer_init(&loop, &timer);
  ls_set_timeout(&timer, on_timer, 0);
  ls_set_immediate(&loop, &immediate, on_immediate);
  ls_next_tick(&loop, tick, NULL);
  int code = ls_run_main(&loop);
  ls_loop_close(&loop);
  printf("exit code %d\n", code);
  return code;
}
