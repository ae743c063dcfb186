/* Unit tests: the libcurl-on-libuv client (src/http/http.c) against a small
 * HTTP/1.1 server running on the same loop. Each test ends by checking that
 * the loop closes with nothing left open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitspace/error.h"
#include "gitspace/http.h"

typedef struct {
  uv_loop_t loop;
  uv_tcp_t listener;
  int port;
  gs_http *http;
  /* What the last completed request saw. */
  int done_calls;
  long status;
  int error;
  char body[256];
  size_t body_len;
  char digest[128];
  char streamed[256];
  size_t streamed_len;
  int closed_calls;
  uv_timer_t timer;
} fixture;

typedef struct {
  uv_tcp_t tcp;
  uv_write_t wreq;
  char in[4096];
  size_t in_len;
  fixture *f;
} peer;

static void peer_closed(uv_handle_t *h) {
  free(h->data);
}

static void peer_written(uv_write_t *w, int status) {
  peer *p = w->data;

  (void)status;
  uv_close((uv_handle_t *)&p->tcp, peer_closed);
}

static void peer_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf) {
  peer *p = h->data;

  (void)n;
  buf->base = p->in + p->in_len;
  buf->len = sizeof(p->in) - p->in_len - 1;
}

static const char *peer_response(const char *path) {
  static char big[8192];

  if (strncmp(path, "/ok ", 4) == 0) {
    return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
           "Docker-Content-Digest: sha256:abc\r\nConnection: close\r\n\r\n"
           "hello";
  }
  if (strncmp(path, "/missing ", 9) == 0) {
    return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
           "Connection: close\r\n\r\n";
  }
  if (strncmp(path, "/big ", 5) == 0) {
    int n = snprintf(big, sizeof(big),
                     "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n"
                     "Connection: close\r\n\r\n");

    memset(big + n, 'x', 4000);
    big[n + 4000] = '\0';
    return big;
  }
  if (strncmp(path, "/stream ", 8) == 0) {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
           "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  }
  return NULL; /* "/slow": never answers */
}

static void peer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  peer *p = s->data;
  const char *resp;
  uv_buf_t out;

  (void)buf;
  if (n < 0) {
    uv_close((uv_handle_t *)&p->tcp, peer_closed);
    return;
  }
  p->in_len += (size_t)n;
  p->in[p->in_len] = '\0';
  if (strstr(p->in, "\r\n\r\n") == NULL) {
    return;
  }
  uv_read_stop(s);
  resp = peer_response(strchr(p->in, ' ') + 1);
  if (resp == NULL) {
    return; /* closed when the client gives up, or at teardown */
  }
  out = uv_buf_init((char *)resp, (unsigned)strlen(resp));
  p->wreq.data = p;
  uv_write(&p->wreq, s, &out, 1, peer_written);
}

static void server_on_conn(uv_stream_t *l, int status) {
  fixture *f = l->data;
  peer *p = calloc(1, sizeof(*p));

  assert_int_equal(status, 0);
  p->f = f;
  uv_tcp_init(&f->loop, &p->tcp);
  p->tcp.data = p;
  assert_int_equal(uv_accept(l, (uv_stream_t *)&p->tcp), 0);
  uv_read_start((uv_stream_t *)&p->tcp, peer_alloc, peer_read);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  struct sockaddr_in addr;
  struct sockaddr_storage name;
  int len = sizeof(name);

  uv_loop_init(&f->loop);
  uv_tcp_init(&f->loop, &f->listener);
  f->listener.data = f;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_bind(&f->listener, (const struct sockaddr *)&addr, 0);
  uv_listen((uv_stream_t *)&f->listener, 16, server_on_conn);
  uv_tcp_getsockname(&f->listener, (struct sockaddr *)&name, &len);
  f->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
  assert_int_equal(gs_http_new(&f->loop, &f->http), 0);
  *state = f;
  return 0;
}

static void close_any(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) {
    uv_close(h, h->type == UV_TCP && h->data != NULL && h->data != arg
                    ? peer_closed
                    : NULL);
  }
}

static void on_http_closed(void *data) {
  fixture *f = data;

  f->closed_calls++;
}

static int teardown(void **state) {
  fixture *f = *state;

  gs_http_close(f->http, on_http_closed, f);
  uv_close((uv_handle_t *)&f->listener, NULL);
  f->listener.data = NULL;
  uv_walk(&f->loop, close_any, f);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(f->closed_calls, 1);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
  return 0;
}

static void on_done(gs_http_request *req, const gs_http_response *resp,
                    void *data) {
  fixture *f = data;
  const char *digest = gs_http_header(req, "docker-content-digest");

  f->done_calls++;
  f->status = resp->status;
  f->error = resp->error;
  f->body_len = resp->body_len;
  snprintf(f->body, sizeof(f->body), "%s", resp->body);
  snprintf(f->digest, sizeof(f->digest), "%s", digest ? digest : "");
}

/* The listener keeps the loop alive: turn it until a request completes. */
static void run_until_done(fixture *f) {
  while (f->done_calls == 0) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
}

static void start(fixture *f, const char *path, gs_http_options *o) {
  char url[128];

  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", f->port, path);
  o->url = url;
  assert_int_equal(gs_http_start(f->http, o, on_done, f, NULL), 0);
}

static void test_gs_http_start_ok_body_and_header(void **state) {
  fixture *f = *state;
  gs_http_options o = {0};
  const char *hdrs[] = {"Accept: application/json", NULL};

  o.headers = hdrs;
  start(f, "/ok", &o);
  assert_int_equal(f->done_calls, 0); /* never from within the call */
  run_until_done(f);
  assert_int_equal(f->done_calls, 1);
  assert_int_equal(f->status, 200);
  assert_int_equal(f->error, 0);
  assert_string_equal(f->body, "hello");
  assert_string_equal(f->digest, "sha256:abc");
}

static void test_gs_http_start_head_404(void **state) {
  fixture *f = *state;
  gs_http_options o = {0};

  o.method = "HEAD";
  start(f, "/missing", &o);
  run_until_done(f);
  assert_int_equal(f->status, 404);
  assert_int_equal(f->error, 0);
  assert_int_equal(f->body_len, 0);
  assert_string_equal(f->digest, "");
}

static void test_gs_http_start_timeout(void **state) {
  fixture *f = *state;
  gs_http_options o = {0};

  o.timeout_ms = 200;
  start(f, "/slow", &o);
  run_until_done(f);
  assert_int_equal(f->done_calls, 1);
  assert_int_equal(f->error, GS_ETIMEDOUT);
  assert_int_equal(f->status, 0);
}

static void test_gs_http_start_refused(void **state) {
  fixture *f = *state;
  gs_http_options o = {0};

  o.url = "http://127.0.0.1:1/";
  assert_int_equal(gs_http_start(f->http, &o, on_done, f, NULL), 0);
  run_until_done(f);
  assert_int_equal(f->done_calls, 1);
  assert_int_equal(f->error, GS_ECONNREFUSED);
}

static void test_gs_http_start_body_over_limit(void **state) {
  fixture *f = *state;
  gs_http_options o = {0};

  o.max_body = 1000;
  start(f, "/big", &o);
  run_until_done(f);
  assert_int_equal(f->error, GS_ERANGE);
}

static int on_chunk(gs_http_request *req, const char *chunk, size_t len,
                    void *data) {
  fixture *f = data;

  (void)req;
  memcpy(f->streamed + f->streamed_len, chunk, len);
  f->streamed_len += len;
  return 0;
}

static void test_gs_http_start_streamed(void **state) {
  fixture *f = *state;
  gs_http_options o = {0};

  o.on_data = on_chunk;
  start(f, "/stream", &o);
  run_until_done(f);
  assert_int_equal(f->error, 0);
  assert_int_equal(f->streamed_len, 5);
  assert_memory_equal(f->streamed, "abcde", 5);
  assert_int_equal(f->body_len, 0);
}

static void on_cancel_timer(uv_timer_t *t) {
  gs_http_cancel(t->data);
  uv_close((uv_handle_t *)t, NULL);
}

static void test_gs_http_cancel_never_calls_done(void **state) {
  fixture *f = *state;
  gs_http_options o = {0};
  gs_http_request *req = NULL;
  uv_timer_t *t = &f->timer;
  char url[128];

  snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow", f->port);
  o.url = url;
  assert_int_equal(gs_http_start(f->http, &o, on_done, f, &req), 0);
  uv_timer_init(&f->loop, t);
  t->data = req;
  uv_timer_start(t, on_cancel_timer, 100, 0);
  uv_run(&f->loop, UV_RUN_ONCE);
  while (!uv_is_closing((uv_handle_t *)t)) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  assert_int_equal(f->done_calls, 0);
}

/* Closing with requests in flight cancels them without calling done. */
static void test_gs_http_close_with_requests_in_flight(void **state) {
  fixture *f = *state;
  gs_http_options o = {0};

  start(f, "/slow", &o);
  start(f, "/slow", &o);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(f->done_calls, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_gs_http_start_ok_body_and_header,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_http_start_head_404, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_http_start_timeout, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_http_start_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_http_start_body_over_limit, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_http_start_streamed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_http_cancel_never_calls_done,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_gs_http_close_with_requests_in_flight, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
