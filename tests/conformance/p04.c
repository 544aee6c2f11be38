/* p04: the same per-callback drain for immediates; an immediate queued in
 * the check phase runs in the next iteration. */
#include "twin.h"

static ls_immediate a, b, c;

static void on_c(ls_immediate *i) {
  (void)i;
  log_line("immediate C (queued by A)");
}

static void on_a(ls_immediate *i) {
  (void)i;
  log_line("immediate A");
  ls_set_immediate(&loop, &c, on_c);
  ls_next_tick(&loop, log_line, "  tick in A");
  ls_queue_microtask(&loop, log_line, "  promise in A");
}

static void on_b(ls_immediate *i) {
  (void)i;
  log_line("immediate B");
  ls_queue_microtask(&loop, log_line, "  promise in B");
}

int main(void) {
  ls_loop_init(&loop);
  ls_set_immediate(&loop, &a, on_a);
  ls_set_immediate(&loop, &b, on_b);
  return twin_run();
}
