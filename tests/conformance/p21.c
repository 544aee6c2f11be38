/* p21: unref'd timers do not keep the loop alive; beforeExit may restart
 * it; work scheduled from exit never runs.
 * twin: timed -- the unref interval must not be due when beforeExit restarts
 * the loop. */
#include "twin.h"

static ls_timer unref_timer, ref_timer, iv, from_exit;
static ls_immediate from_before_exit;
static int rounds;

static void on_timer(ls_timer *t) { log_line(t->data); }

static void on_immediate(ls_immediate *i) {
  (void)i;
  log_line("immediate scheduled in beforeExit");
}

static void on_before_exit(ls_loop *l, int code, void *arg) {
  (void)l;
  (void)arg;
  printf("beforeExit code=%d round=%d\n", code, rounds);
  if (rounds++ < 1)
    ls_set_immediate(&loop, &from_before_exit, on_immediate);
}

static void on_exit_hook(ls_loop *l, int code, void *arg) {
  (void)l;
  (void)arg;
  printf("exit code=%d\n", code);
  from_exit.data = "never: timers in exit handler";
  ls_set_timeout(&from_exit, on_timer, 0);
}

int main(void) {
  ls_loop_init(&loop);
  ls_timer_init(&loop, &unref_timer);
  ls_timer_init(&loop, &ref_timer);
  ls_timer_init(&loop, &iv);
  ls_timer_init(&loop, &from_exit);
  unref_timer.data = "unref 100ms timer (never)";
  ls_set_timeout(&unref_timer, on_timer, 100);
  ls_timer_unref(&unref_timer);
  ref_timer.data = "ref 10ms timer";
  ls_set_timeout(&ref_timer, on_timer, 10);
  iv.data = "unref interval (never)";
  ls_set_interval(&iv, on_timer, 50);
  ls_timer_unref(&iv);
  ls_loop_on_before_exit(&loop, on_before_exit, NULL);
  ls_loop_on_exit(&loop, on_exit_hook, NULL);
  return twin_run();
}
