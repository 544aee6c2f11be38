/* TCP: echo on IPv4 and IPv6 loopback, write queue accounting, shutdown,
 * refused connect, peer reset, cancelled writes, fd exhaustion, misuse. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "loopscope/runtime.h"

static ls_loop loop;

static void setup(void) { cr_assert_eq(ls_loop_init(&loop), 0); }
static void teardown(void) { cr_assert_eq(ls_loop_close(&loop), 0); }

TestSuite(tcp, .init = setup, .fini = teardown);

/* Listens on the loopback address of `family` at a free port. */
static void listen_on(ls_tcp *server, int family, ls_connection_cb cb,
                      struct sockaddr_storage *bound) {
  struct sockaddr_storage addr;
  if (family == AF_INET)
    cr_assert_eq(ls_ip4_addr("127.0.0.1", 0, (struct sockaddr_in *)&addr), 0);
  else
    cr_assert_eq(ls_ip6_addr("::1", 0, (struct sockaddr_in6 *)&addr), 0);
  cr_assert_eq(ls_tcp_init(&loop, server), 0);
  cr_assert_eq(ls_tcp_bind(server, (struct sockaddr *)&addr), 0);
  cr_assert_eq(ls_tcp_listen(server, 16, cb), 0);
  socklen_t len = sizeof(*bound);
  cr_assert_eq(ls_tcp_getsockname(server, (struct sockaddr *)bound, &len), 0);
}

static ls_tcp server, peer, client;
static ls_connect_req connect_req;
static ls_write_req write_req;
static ls_shutdown_req shutdown_req, peer_shutdown;
static char peer_buf[65536];
static int closes;

static void on_close(ls_handle *h) {
  (void)h;
  closes++;
}

static void alloc_static(ls_tcp *t, size_t size, ls_buf *buf) {
  (void)t;
  (void)size;
  *buf = ls_buf_init(peer_buf, sizeof(peer_buf));
}

/* ---- echo ---- */

#define PAYLOAD (4u << 20) /* more than the socket buffers take at once */

typedef struct echo_write {
  ls_write_req req;
  char bytes[];
} echo_write;

static char *payload, *echoed;
static size_t echoed_len, queued_after_write;
static int write_status = 1, shutdown_status = 1;
static bool got_eof;
static char client_buf[65536];

static void on_echo_written(ls_write_req *req, int status) {
  cr_expect_eq(status, 0);
  free(req->data);
}

static void on_peer_shutdown(ls_shutdown_req *req, int status) {
  cr_expect_eq(status, 0);
  ls_close((ls_handle *)req->handle, on_close);
}

/* The server side echoes what it reads, and ends when the client ends. */
static void on_peer_read(ls_tcp *t, long nread, const ls_buf *buf) {
  if (nread > 0) {
    echo_write *w = malloc(sizeof(*w) + (size_t)nread);
    cr_assert_not_null(w);
    memcpy(w->bytes, buf->base, (size_t)nread);
    w->req.data = w;
    ls_buf b = ls_buf_init(w->bytes, (size_t)nread);
    cr_assert_eq(ls_write(&w->req, t, &b, 1, on_echo_written), 0);
  } else if (nread == LS_EOF) {
    cr_assert_eq(ls_shutdown(&peer_shutdown, t, on_peer_shutdown), 0);
  }
}

static void on_connection(ls_tcp *srv, int status) {
  cr_assert_eq(status, 0);
  cr_assert_eq(ls_tcp_init(&loop, &peer), 0);
  cr_assert_eq(ls_tcp_accept(srv, &peer), 0);
  cr_assert_eq(ls_read_start(&peer, alloc_static, on_peer_read), 0);
  ls_close((ls_handle *)srv, on_close); /* one connection is enough */
}

static void client_alloc(ls_tcp *t, size_t size, ls_buf *buf) {
  (void)t;
  (void)size;
  *buf = ls_buf_init(client_buf, sizeof(client_buf));
}

static void on_client_read(ls_tcp *t, long nread, const ls_buf *buf) {
  if (nread > 0) {
    cr_assert_leq(echoed_len + (size_t)nread, PAYLOAD);
    memcpy(echoed + echoed_len, buf->base, (size_t)nread);
    echoed_len += (size_t)nread;
  } else if (nread == LS_EOF) {
    got_eof = true;
    ls_close((ls_handle *)t, on_close);
  }
}

static void on_written(ls_write_req *req, int status) {
  cr_expect_eq(req->handle, &client);
  write_status = status;
}

static void on_shutdown(ls_shutdown_req *req, int status) {
  (void)req;
  shutdown_status = status;
}

static void on_connect(ls_connect_req *req, int status) {
  cr_assert_eq(status, 0);
  ls_tcp *t = req->handle;
  cr_assert_eq(ls_tcp_nodelay(t, 1), 0);
  ls_buf b = ls_buf_init(payload, PAYLOAD);
  cr_assert_eq(ls_write(&write_req, t, &b, 1, on_written), 0);
  /* The kernel cannot take 4 MiB at once: the rest stays queued. */
  queued_after_write = t->write_queue_size;
  cr_assert_eq(ls_shutdown(&shutdown_req, t, on_shutdown), 0);
  cr_expect_eq(ls_write(&write_req, t, &b, 1, on_written), LS_EPIPE);
  cr_assert_eq(ls_read_start(t, client_alloc, on_client_read), 0);
}

static void echo_over(int family) {
  payload = malloc(PAYLOAD);
  echoed = malloc(PAYLOAD);
  cr_assert(payload && echoed);
  for (size_t i = 0; i < PAYLOAD; i++)
    payload[i] = (char)(i * 7 + i / 251);
  struct sockaddr_storage bound;
  listen_on(&server, family, on_connection, &bound);
  cr_assert_eq(ls_tcp_init(&loop, &client), 0);
  cr_assert_eq(ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                              on_connect),
               0);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_gt(queued_after_write, 0);
  cr_expect_eq(write_status, 0);
  cr_expect_eq(shutdown_status, 0);
  cr_expect(got_eof);
  cr_expect_eq(client.write_queue_size, 0);
  cr_expect_eq(echoed_len, PAYLOAD);
  cr_expect(memcmp(payload, echoed, PAYLOAD) == 0);
  cr_expect_eq(closes, 3);
  free(payload);
  free(echoed);
}

Test(tcp, echo_ipv4) { echo_over(AF_INET); }

Test(tcp, echo_ipv6) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0)
    cr_skip_test("no IPv6 here");
  close(fd);
  echo_over(AF_INET6);
}

/* ---- errors ---- */

static int connect_status = 1;

static void on_connect_status(ls_connect_req *req, int status) {
  connect_status = status;
  ls_close((ls_handle *)req->handle, on_close);
}

Test(tcp, refused_connect_reaches_the_callback) {
  /* Bind a port, then close it: nothing listens there. */
  struct sockaddr_storage bound;
  listen_on(&server, AF_INET, on_connection, &bound);
  ls_close((ls_handle *)&server, NULL);
  ls_run(&loop, LS_RUN_DEFAULT);
  ls_tcp_init(&loop, &client);
  cr_assert_eq(ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                              on_connect_status),
               0);
  cr_expect_eq(ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                              on_connect_status),
               LS_EALREADY);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(connect_status, LS_ECONNREFUSED);
  cr_expect_str_eq(ls_err_name(connect_status), "ECONNREFUSED");
}

static long read_error = 1;

static void on_reset_read(ls_tcp *t, long nread, const ls_buf *buf) {
  (void)buf;
  if (nread < 0) {
    read_error = nread;
    ls_close((ls_handle *)t, on_close);
  }
}

/* Once the client's first bytes arrive, the peer closes with SO_LINGER 0:
 * an RST instead of a FIN. */
static void on_peer_read_then_reset(ls_tcp *t, long nread, const ls_buf *buf) {
  (void)buf;
  if (nread <= 0)
    return;
  struct linger lg = {1, 0};
  cr_assert_eq(setsockopt(t->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  ls_close((ls_handle *)t, on_close);
}

static void on_reset_connection(ls_tcp *srv, int status) {
  cr_assert_eq(status, 0);
  ls_tcp_init(&loop, &peer);
  cr_assert_eq(ls_tcp_accept(srv, &peer), 0);
  cr_assert_eq(ls_read_start(&peer, alloc_static, on_peer_read_then_reset), 0);
  ls_close((ls_handle *)srv, on_close);
}

static void on_connect_read(ls_connect_req *req, int status) {
  cr_assert_eq(status, 0);
  ls_buf b = ls_buf_init("ping", 4);
  cr_assert_eq(ls_write(&write_req, req->handle, &b, 1, NULL), 0);
  cr_assert_eq(ls_read_start(req->handle, client_alloc, on_reset_read), 0);
}

Test(tcp, peer_reset_reaches_the_read_callback) {
  struct sockaddr_storage bound;
  listen_on(&server, AF_INET, on_reset_connection, &bound);
  ls_tcp_init(&loop, &client);
  ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                 on_connect_read);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(read_error, LS_ECONNRESET);
  cr_expect_eq(closes, 3);
}

static int cancelled_write = 1;

static void on_cancelled_write(ls_write_req *req, int status) {
  (void)req;
  cancelled_write = status;
}

/* Closing a socket whose connect has not completed cancels everything. */
Test(tcp, close_cancels_queued_requests) {
  struct sockaddr_storage bound;
  listen_on(&server, AF_INET, on_connection, &bound);
  ls_tcp_init(&loop, &client);
  cr_assert_eq(ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                              on_connect_status),
               0);
  ls_buf b = ls_buf_init("hello", 5);
  cr_assert_eq(ls_write(&write_req, &client, &b, 1, on_cancelled_write), 0);
  cr_expect_eq(client.write_queue_size, 5);
  ls_close((ls_handle *)&client, on_close);
  ls_close((ls_handle *)&server, on_close);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(connect_status, LS_ECANCELED);
  cr_expect_eq(cancelled_write, LS_ECANCELED);
  cr_expect_eq(closes, 2);
}

Test(tcp, misuse_is_an_error_code) {
  ls_buf b = ls_buf_init("x", 1);
  ls_tcp_init(&loop, &client);
  cr_expect_eq(ls_write(&write_req, &client, &b, 1, NULL), LS_EBADF);
  cr_expect_eq(ls_read_start(&client, alloc_static, on_reset_read),
               LS_ENOTCONN);
  cr_expect_eq(ls_shutdown(&shutdown_req, &client, NULL), LS_ENOTCONN);
  cr_expect_eq(ls_tcp_listen(&client, 1, on_connection), LS_EBADF);
  cr_expect_eq(ls_tcp_accept(&client, &peer), LS_EINVAL);
  struct sockaddr_in6 bad;
  cr_expect_eq(ls_ip6_addr("not an address", 1, &bad), LS_EINVAL);
  struct sockaddr unknown = {.sa_family = AF_UNIX};
  cr_expect_eq(ls_tcp_bind(&client, &unknown), LS_EAFNOSUPPORT);
  cr_expect_eq(ls_close((ls_handle *)&client, NULL), 0);
  cr_expect_eq(ls_close((ls_handle *)&client, NULL), LS_EINVAL);
  struct sockaddr_in addr;
  ls_ip4_addr("127.0.0.1", 0, &addr);
  cr_expect_eq(ls_tcp_bind(&client, (struct sockaddr *)&addr), LS_EINVAL);
  ls_run(&loop, LS_RUN_DEFAULT);
}

Test(tcp, address_in_use) {
  struct sockaddr_storage bound;
  listen_on(&server, AF_INET, on_connection, &bound);
  ls_tcp_init(&loop, &client);
  cr_expect_eq(ls_tcp_bind(&client, (struct sockaddr *)&bound), LS_EADDRINUSE);
  ls_close((ls_handle *)&client, NULL);
  ls_close((ls_handle *)&server, NULL);
  ls_run(&loop, LS_RUN_DEFAULT);
}

/* ---- fd exhaustion (each Criterion test runs in its own process) ---- */

static int connection_error = 1;
static int fillers[64];
static int nfillers;

static void on_emfile_connection(ls_tcp *srv, int status) {
  connection_error = status;
  ls_close((ls_handle *)srv, on_close);
}

static void on_connect_any(ls_connect_req *req, int status) {
  (void)status; /* the server dropped it: refused, reset or accepted */
  ls_close((ls_handle *)req->handle, on_close);
}

Test(tcp, out_of_fds_is_an_error_not_a_spin) {
  struct sockaddr_storage bound;
  listen_on(&server, AF_INET, on_emfile_connection, &bound);
  ls_tcp_init(&loop, &client);
  cr_assert_eq(ls_tcp_connect(&connect_req, &client, (struct sockaddr *)&bound,
                              on_connect_any),
               0);
  /* Use up every fd left, so the accept fails with EMFILE. */
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  int probe = open("/dev/null", O_RDONLY);
  cr_assert_geq(probe, 0);
  close(probe);
  rl.rlim_cur = (rlim_t)probe + 8;
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  int fd;
  while (nfillers < 64 && (fd = open("/dev/null", O_RDONLY)) >= 0)
    fillers[nfillers++] = fd;
  cr_assert_lt(nfillers, 64);
  ls_tcp extra;
  ls_tcp_init(&loop, &extra);
  struct sockaddr_in any;
  ls_ip4_addr("127.0.0.1", 0, &any);
  cr_expect_eq(ls_tcp_bind(&extra, (struct sockaddr *)&any), LS_EMFILE);
  ls_close((ls_handle *)&extra, NULL);
  ls_run(&loop, LS_RUN_DEFAULT);
  cr_expect_eq(connection_error, LS_EMFILE);
  for (int i = 0; i < nfillers; i++)
    close(fillers[i]);
}
