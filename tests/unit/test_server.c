/* Unit tests: server lifecycle on a loop (src/grpc/server.c). Each test
 * ends by checking that the loop closes with nothing left open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitspace/error.h"
#include "gitspace/grpc.h"
#include "gitspace/health.h"
#include "socket.h"

typedef struct {
  uv_loop_t loop;
  char dir[40];
  char path[64];
  gs_server_options opts;
  int done_calls;
  gs_server *server;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));

  snprintf(f->dir, sizeof(f->dir), "/tmp/gs-server-XXXXXX");
  if (mkdtemp(f->dir) == NULL) {
    free(f);
    return -1;
  }
  snprintf(f->path, sizeof(f->path), "%s/d.sock", f->dir);
  uv_loop_init(&f->loop);
  f->opts.socket_path = f->path;
  f->opts.socket_mode = 0660;
  f->opts.max_message_bytes = 4 << 20;
  f->opts.max_connections = 16;
  f->opts.max_concurrent_streams = 16;
  f->opts.max_header_list_bytes = 16384;
  f->opts.drain_timeout_ms = 1000;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;

  rmdir(f->dir);
  free(f);
  return 0;
}

static void on_done(void *data) {
  fixture *f = data;

  f->done_calls++;
}

static void test_gs_server_shutdown_idle_closes_everything(void **state) {
  fixture *f = *state;
  gs_server *server = NULL;
  gs_health *health = NULL;
  char err[256];

  assert_int_equal(gs_server_new(&f->loop, &f->opts, &server), 0);
  assert_int_equal(gs_health_new(server, &health), 0);
  assert_int_equal(gs_server_add_service(server, gs_health_service(health)), 0);
  assert_int_equal(gs_server_listen(server, err, sizeof(err)), 0);
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_LIVE);
  gs_server_shutdown(server, on_done, f);
  assert_true(gs_server_draining(server));
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(f->done_calls, 1);
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_ABSENT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  gs_health_free(health);
  gs_server_free(server);
}

static void on_timer(uv_timer_t *t) {
  fixture *f = t->data;

  gs_server_shutdown(f->server, on_done, f);
  uv_close((uv_handle_t *)t, NULL);
}

/* A client that connects and says nothing does not stop the shutdown. */
static void test_gs_server_shutdown_with_silent_client(void **state) {
  fixture *f = *state;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  gs_server *server = NULL;
  gs_server_stats stats;
  uv_timer_t timer;
  char err[256];
  int fd;

  assert_int_equal(gs_server_new(&f->loop, &f->opts, &server), 0);
  assert_int_equal(gs_server_listen(server, err, sizeof(err)), 0);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  f->server = server;
  uv_timer_init(&f->loop, &timer);
  timer.data = f;
  uv_timer_start(&timer, on_timer, 50, 0);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(f->done_calls, 1);
  gs_server_get_stats(server, &stats);
  assert_int_equal(stats.connections_accepted, 1);
  assert_int_equal(stats.connections_open, 0);
  assert_int_equal(stats.calls_open, 0);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  close(fd);
  gs_server_free(server);
}

static void test_gs_server_listen_refuses_live_socket(void **state) {
  fixture *f = *state;
  gs_server *a = NULL;
  gs_server *b = NULL;
  char err[256];

  assert_int_equal(gs_server_new(&f->loop, &f->opts, &a), 0);
  assert_int_equal(gs_server_new(&f->loop, &f->opts, &b), 0);
  assert_int_equal(gs_server_listen(a, err, sizeof(err)), 0);
  assert_int_equal(gs_server_listen(b, err, sizeof(err)), GS_EADDRINUSE);
  assert_non_null(strstr(err, "another process"));
  gs_server_shutdown(b, NULL, NULL);
  gs_server_shutdown(a, on_done, f);
  assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(f->done_calls, 1);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  gs_server_free(a);
  gs_server_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          test_gs_server_shutdown_idle_closes_everything, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_gs_server_shutdown_with_silent_client, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_server_listen_refuses_live_socket,
                                      setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
