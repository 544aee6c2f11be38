/* p05: inside an I/O (poll phase) callback, setImmediate always fires before
 * setTimeout(0). */
#include "twin.h"

static ls_fs read_req;
static ls_timer timeout;
static ls_immediate immediate;

static void on_timeout(ls_timer *t) {
  (void)t;
  log_line("timeout 0");
}

static void on_immediate(ls_immediate *i) {
  (void)i;
  log_line("immediate");
}

static void on_read(ls_fs *req) {
  ls_fs_cleanup(req);
  log_line("readFile cb (poll phase)");
  ls_set_timeout(&timeout, on_timeout, 0);
  ls_set_immediate(&loop, &immediate, on_immediate);
  ls_next_tick(&loop, log_line, "nextTick");
  ls_queue_microtask(&loop, log_line, "promise");
}

int main(int argc, char **argv) {
  (void)argc;
  ls_loop_init(&loop);
  ls_timer_init(&loop, &timeout);
  ls_fs_read_file(&loop, &read_req, argv[0], on_read); /* __filename */
  return twin_run();
}
