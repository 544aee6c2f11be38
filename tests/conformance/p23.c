/* p23: a setTimeout(0) scheduled in the check phase fires in the timers run
 * at the end of that iteration, before the next check phase, when >= 1 ms
 * passed (the callback busy-waits 3 ms to make it so).
 * twin: timed -- relies on >= 1 ms passing in the check phase. */
#include "twin.h"

static ls_fs read_req;
static ls_immediate first, second;
static ls_timer timeout;

static void on_timeout(ls_timer *t) {
  (void)t;
  log_line("timeout 0 from immediate");
}

static void on_second(ls_immediate *i) {
  (void)i;
  log_line("immediate 2 from immediate");
}

static void on_first(ls_immediate *i) {
  (void)i;
  log_line("immediate 1");
  ls_set_timeout(&timeout, on_timeout, 0);
  ls_set_immediate(&loop, &second, on_second);
  busy_wait_ms(3);
}

static void on_read(ls_fs *req) {
  ls_fs_cleanup(req);
  ls_set_immediate(&loop, &first, on_first);
}

int main(int argc, char **argv) {
  (void)argc;
  ls_loop_init(&loop);
  ls_timer_init(&loop, &timeout);
  ls_fs_read_file(&loop, &read_req, argv[0], on_read);
  return twin_run();
}
