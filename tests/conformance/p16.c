/* p16: a destroyed socket's close callback runs in the close phase, after
 * the check phase of the same iteration and before its timers; the server's
 * close callback waits for the accepted socket to close too.
 *
 * "timeout 0" before "server close cb" holds only when >= 1 ms passed
 * between the setTimeout and the timers run closing that iteration: the
 * server side sees the client's FIN in the next poll. Node's JS takes about
 * that long (node itself printed the other order in 4 of 15 runs here); the
 * twin busy-waits 2 ms, as p23 does, to make the timer due for certain.
 * twin: timed -- relies on >= 1 ms passing before the timers run. */
#include "twin.h"

static ls_tcp server, accepted, client;
static ls_connect_req connect_req;
static ls_shutdown_req end_req;
static ls_timer timeout;
static ls_immediate immediate;
static bool server_closed;
static int connections;
static char read_buf[256];

static void on_server_close_cb(void *arg) {
  (void)arg;
  log_line("server close cb");
}

/* net.Server#_emitCloseIfDrained: once the listener and every connection
 * are gone, 'close' is emitted from a nextTick. */
static void emit_close_if_drained(void) {
  if (server_closed && connections == 0)
    ls_next_tick(&loop, on_server_close_cb, NULL);
}

static void on_alloc(ls_tcp *t, size_t size, ls_buf *buf) {
  (void)t;
  (void)size;
  *buf = ls_buf_init(read_buf, sizeof(read_buf));
}

/* allowHalfOpen is false: the peer's end (or an error) destroys it. */
static void on_accepted_read(ls_tcp *t, long nread, const ls_buf *buf) {
  (void)buf;
  if (nread >= 0)
    return;
  ls_close((ls_handle *)t, NULL);
  connections--;
  emit_close_if_drained();
}

static void on_connection(ls_tcp *srv, int status) {
  if (status < 0 || ls_tcp_init(&loop, &accepted) ||
      ls_tcp_accept(srv, &accepted))
    return;
  connections++;
  ls_shutdown(&end_req, &accepted, NULL); /* s.end() */
  ls_read_start(&accepted, on_alloc, on_accepted_read);
}

static void on_timeout(ls_timer *t) {
  (void)t;
  log_line("timeout 0");
}

static void on_immediate(ls_immediate *i) {
  (void)i;
  log_line("immediate");
}

static void on_client_close(ls_handle *h) {
  (void)h;
  log_line("socket close event (close phase)");
}

static void on_connect(ls_connect_req *req, int status) {
  (void)req;
  if (status < 0) {
    fprintf(stderr, "connect: %s\n", ls_strerror(status));
    return;
  }
  log_line("connect cb (poll phase)");
  ls_set_timeout(&timeout, on_timeout, 0);
  ls_set_immediate(&loop, &immediate, on_immediate);
  ls_close((ls_handle *)&client, on_client_close); /* c.destroy() */
  busy_wait_ms(2);
  ls_next_tick(&loop, log_line, "nextTick");
  ls_close((ls_handle *)&server, NULL); /* server.close(cb) */
  server_closed = true;
  emit_close_if_drained();
}

int main(void) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  socklen_t len = sizeof(bound);
  ls_loop_init(&loop);
  ls_timer_init(&loop, &timeout);
  ls_ip4_addr("127.0.0.1", 0, &addr);
  ls_tcp_init(&loop, &server);
  int err = ls_tcp_bind(&server, (struct sockaddr *)&addr);
  if (!err)
    err = ls_tcp_listen(&server, 16, on_connection);
  if (!err)
    err = ls_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
  if (!err) {
    ls_tcp_init(&loop, &client);
    err = ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                         on_connect);
  }
  if (err) {
    fprintf(stderr, "p16: %s\n", ls_strerror(err));
    return 1;
  }
  return twin_run();
}
