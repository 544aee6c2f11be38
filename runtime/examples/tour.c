/* tour: a short walk through the event loop (`make demo` traces it).
 *
 * Every line says which queue or phase ran it. Run it under
 * LOOPSCOPE_TRACE=tour.fxt and open the trace to see the same story as
 * phases, callbacks and the arrows from each scheduling point to its
 * callback.
 */
#include <stdio.h>
#include <string.h>

#include "loopscope/runtime.h"

static ls_loop loop;

static void say(void *line) { printf("%s\n", (const char *)line); }

/* ---- 1. ticks, microtasks, timers, immediates ---- */

static ls_timer interval, late_timer, io_timer;
static ls_immediate first_immediate, io_immediate;
static int interval_runs;

static void on_interval(ls_timer *t) {
  printf("[timers]    setInterval 5 ms, run %d\n", ++interval_runs);
  if (interval_runs == 3)
    ls_clear_timer(t);
}

static void on_late_timer(ls_timer *t) {
  (void)t;
  say("[timers]    setTimeout 30 ms");
}

static void on_first_immediate(ls_immediate *i) {
  (void)i;
  say("[check]     setImmediate from main");
}

/* ---- 2. fs on the thread pool ---- */

static ls_fs read_req;

static void on_io_timer(ls_timer *t) {
  (void)t;
  say("[timers]    setTimeout 0 from the fs callback: after the immediate");
}

static void on_io_immediate(ls_immediate *i) {
  (void)i;
  say("[check]     setImmediate from the fs callback: always first");
}

static void on_read_file(ls_fs *req) {
  if (req->result < 0)
    printf("[poll]      readFile failed: %s\n", ls_strerror((int)req->result));
  else
    printf("[poll]      readFile done on the pool: %zd bytes\n", req->result);
  ls_fs_cleanup(req);
  ls_set_timeout(&io_timer, on_io_timer, 0);
  ls_set_immediate(&loop, &io_immediate, on_io_immediate);
}

/* ---- 3. TCP echo on loopback ---- */

static ls_tcp server, accepted, client;
static ls_connect_req connect_req;
static ls_write_req ping_req, echo_req;
static char server_buf[256], client_buf[256], echo_copy[256];

static void alloc_server(ls_tcp *t, size_t n, ls_buf *buf) {
  (void)t;
  (void)n;
  *buf = ls_buf_init(server_buf, sizeof(server_buf));
}

static void alloc_client(ls_tcp *t, size_t n, ls_buf *buf) {
  (void)t;
  (void)n;
  *buf = ls_buf_init(client_buf, sizeof(client_buf));
}

static void on_server_read(ls_tcp *t, long nread, const ls_buf *buf) {
  if (nread > 0) {
    memcpy(echo_copy, buf->base, (size_t)nread);
    ls_buf echo = ls_buf_init(echo_copy, (size_t)nread);
    ls_write(&echo_req, t, &echo, 1, NULL);
  } else if (nread < 0) {
    ls_close((ls_handle *)t, NULL);
  }
}

static void on_connection(ls_tcp *srv, int status) {
  if (status < 0 || ls_tcp_init(&loop, &accepted) ||
      ls_tcp_accept(srv, &accepted))
    return;
  say("[poll]      server accepted a connection");
  ls_read_start(&accepted, alloc_server, on_server_read);
  ls_close((ls_handle *)srv, NULL);
}

static void on_client_closed(ls_handle *h) {
  (void)h;
  say("[close]     client socket closed");
}

static void on_client_read(ls_tcp *t, long nread, const ls_buf *buf) {
  if (nread <= 0)
    return;
  printf("[poll]      client read the echo: \"%.*s\"\n", (int)nread, buf->base);
  ls_close((ls_handle *)t, on_client_closed);
}

static void on_ping_written(ls_write_req *req, int status) {
  (void)req;
  printf("[pending]   write callback (%s)\n",
         status ? ls_strerror(status) : "ok");
}

static void on_connect(ls_connect_req *req, int status) {
  if (status < 0) {
    printf("[poll]      connect failed: %s\n", ls_strerror(status));
    return;
  }
  say("[poll]      client connected");
  static char ping[] = "hello, loop";
  ls_buf b = ls_buf_init(ping, sizeof(ping) - 1);
  ls_write(&ping_req, req->handle, &b, 1, on_ping_written);
  ls_read_start(req->handle, alloc_client, on_client_read);
}

static int start_echo(void) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  socklen_t len = sizeof(bound);
  int err;
  ls_ip4_addr("127.0.0.1", 0, &addr);
  if ((err = ls_tcp_init(&loop, &server)) ||
      (err = ls_tcp_bind(&server, (struct sockaddr *)&addr)) ||
      (err = ls_tcp_listen(&server, 8, on_connection)) ||
      (err = ls_tcp_getsockname(&server, (struct sockaddr *)&bound, &len)) ||
      (err = ls_tcp_init(&loop, &client)) ||
      (err = ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                            on_connect)))
    return err;
  return 0;
}

static void on_exit_hook(ls_loop *l, int code, void *arg) {
  (void)arg;
  printf("[exit]      loop empty after %llu iterations, exit code %d\n",
         (unsigned long long)l->iteration, code);
}

int main(int argc, char **argv) {
  (void)argc;
  int err = ls_loop_init(&loop);
  if (err) {
    fprintf(stderr, "tour: %s\n", ls_strerror(err));
    return 1;
  }
  say("[main]      scheduling timers, an immediate, a tick, a microtask, "
      "a file read and a TCP echo");
  ls_timer_init(&loop, &interval);
  ls_timer_init(&loop, &late_timer);
  ls_timer_init(&loop, &io_timer);
  ls_set_interval(&interval, on_interval, 5);
  ls_set_timeout(&late_timer, on_late_timer, 30);
  ls_set_immediate(&loop, &first_immediate, on_first_immediate);
  ls_queue_microtask(&loop, say, "[microtask] queueMicrotask: after every nextTick");
  ls_next_tick(&loop, say, "[tick]      nextTick: first thing after main");
  ls_fs_read_file(&loop, &read_req, argv[0], on_read_file);
  if ((err = start_echo()))
    fprintf(stderr, "tour: tcp echo: %s\n", ls_strerror(err));
  ls_loop_on_exit(&loop, on_exit_hook, NULL);
  int code = ls_run_main(&loop);
  ls_loop_close(&loop);
  return code;
}
