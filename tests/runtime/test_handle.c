/* Handles: idle / prepare / check, close, ref, loop liveness and close;
 * fd watchers. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

#include "loopscope/runtime.h"

static ls_loop loop;
static char order[256];

static void setup(void) {
  cr_assert_eq(ls_loop_init(&loop), 0);
  order[0] = '\0';
}

static void teardown(void) { cr_assert_eq(ls_loop_close(&loop), 0); }

TestSuite(handle, .init = setup, .fini = teardown);

static void put(const char *s) { strcat(order, s); }

static ls_idle idle;
static ls_prepare prepare;
static ls_check check;
static ls_immediate imm;
static int turns;

static void on_idle(ls_idle *h) {
  (void)h;
  put("I");
}
static void on_prepare(ls_prepare *h) {
  (void)h;
  put("P");
}
static void on_imm(ls_immediate *i) {
  (void)i;
  put("M");
}
static void on_closed(ls_handle *h) {
  (void)h;
  put("X");
}

static void on_check(ls_check *h) {
  (void)h;
  put("C");
  if (++turns == 2) {
    ls_close((ls_handle *)&idle, on_closed);
    ls_close((ls_handle *)&prepare, on_closed);
    ls_close((ls_handle *)&check, on_closed);
  } else {
    ls_set_immediate(&loop, &imm, on_imm);
  }
}

Test(handle, hooks_run_in_phase_order_and_close_in_close_phase) {
  cr_assert_eq(ls_idle_init(&loop, &idle), 0);
  cr_assert_eq(ls_prepare_init(&loop, &prepare), 0);
  cr_assert_eq(ls_check_init(&loop, &check), 0);
  cr_assert_eq(ls_idle_start(&idle, on_idle), 0);
  cr_assert_eq(ls_prepare_start(&prepare, on_prepare), 0);
  cr_assert_eq(ls_check_start(&check, on_check), 0);
  cr_expect(ls_is_active((ls_handle *)&idle));
  ls_run(&loop, LS_RUN_DEFAULT);
  /* Check handles run before the immediates of the check phase (Node's own
   * check handle is the oldest, and libuv runs the newest first), so an
   * immediate queued by a check callback runs in the same phase. */
  cr_expect_str_eq(order, "IPCMIPCXXX");
}

Test(handle, double_close_and_closed_handle_use_are_errors) {
  ls_idle_init(&loop, &idle);
  cr_expect_eq(ls_close((ls_handle *)&idle, NULL), 0);
  cr_expect_eq(ls_close((ls_handle *)&idle, NULL), LS_EINVAL);
  cr_expect_eq(ls_idle_start(&idle, on_idle), LS_EINVAL);
  cr_expect(ls_is_closing((ls_handle *)&idle));
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(ls_close((ls_handle *)&idle, NULL), LS_EINVAL);
  cr_expect_eq(ls_close(NULL, NULL), LS_EINVAL);
}

Test(handle, loop_close_refuses_open_handles) {
  ls_check_init(&loop, &check);
  cr_expect_eq(ls_loop_close(&loop), LS_EBUSY);
  ls_close((ls_handle *)&check, NULL);
  cr_expect_eq(ls_loop_close(&loop), LS_EBUSY); /* close cb still pending */
  ls_run(&loop, LS_RUN_DEFAULT);
}

Test(handle, unref_handle_lets_the_loop_exit) {
  ls_prepare_init(&loop, &prepare);
  ls_prepare_start(&prepare, on_prepare);
  ls_unref((ls_handle *)&prepare);
  cr_expect(!ls_has_ref((ls_handle *)&prepare));
  cr_expect_eq(ls_run(&loop, LS_RUN_DEFAULT), 0);
  cr_expect_str_eq(order, "");
  ls_ref((ls_handle *)&prepare);
  cr_expect_eq(ls_run(&loop, LS_RUN_NOWAIT), 1);
  cr_expect_str_eq(order, "P");
  ls_close((ls_handle *)&prepare, NULL);
  ls_run(&loop, LS_RUN_DEFAULT);
}

/* ---- fd watchers ---- */

static ls_io io;
static int pipe_fds[2];

static void on_readable_close_self(ls_io *h, int status, int events) {
  cr_expect_eq(status, 0);
  cr_expect(events & LS_READABLE);
  char c;
  cr_expect_eq(read(h->io.fd, &c, 1), 1);
  put("R");
  /* A callback may close its own handle. */
  cr_expect_eq(ls_close((ls_handle *)h, on_closed), 0);
}

Test(handle, io_watcher_callback_closes_its_own_handle) {
  cr_assert_eq(pipe(pipe_fds), 0);
  cr_assert_eq(ls_io_init(&loop, &io, pipe_fds[0]), 0);
  cr_assert_eq(ls_io_start(&io, LS_READABLE, on_readable_close_self), 0);
  cr_assert_eq(write(pipe_fds[1], "ab", 2), 2);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "RX");
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

static void on_io_nothing(ls_io *h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
}

Test(handle, io_watcher_errors) {
  cr_expect_eq(ls_io_init(&loop, &io, -1), LS_EBADF);
  cr_expect_eq(ls_io_init(&loop, &io, 9999), LS_EBADF);
  int fd = open("/proc/self/exe", O_RDONLY);
  cr_assert_geq(fd, 0);
  cr_assert_eq(ls_io_init(&loop, &io, fd), 0);
  /* Regular files cannot be polled. */
  cr_expect_eq(ls_io_start(&io, LS_READABLE, on_io_nothing), LS_EPERM);
  cr_expect_eq(ls_io_start(&io, 0, on_io_nothing), LS_EINVAL);
  ls_close((ls_handle *)&io, NULL);
  ls_run(&loop, LS_RUN_DEFAULT);
  close(fd);

  ls_io second;
  cr_assert_eq(pipe(pipe_fds), 0);
  ls_io_init(&loop, &io, pipe_fds[0]);
  ls_io_init(&loop, &second, pipe_fds[0]);
  cr_expect_eq(ls_io_start(&io, LS_READABLE, on_io_nothing), 0);
  cr_expect_eq(ls_io_start(&second, LS_READABLE, on_io_nothing), LS_EEXIST);
  ls_close((ls_handle *)&io, NULL);
  ls_close((ls_handle *)&second, NULL);
  ls_run(&loop, LS_RUN_DEFAULT);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

static void on_hangup(ls_io *h, int status, int events) {
  (void)status;
  if (events & LS_DISCONNECT) {
    put("H");
    ls_close((ls_handle *)h, NULL);
  }
}

Test(handle, io_watcher_sees_hangup) {
  cr_assert_eq(pipe(pipe_fds), 0);
  ls_io_init(&loop, &io, pipe_fds[0]);
  ls_io_start(&io, LS_READABLE, on_hangup);
  close(pipe_fds[1]);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_str_eq(order, "H");
  close(pipe_fds[0]);
}
