/* h2_echo: the floor of the stack, a fixed gRPC answer over HTTP/2 on libuv. */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <uv.h>

#define ECHO_READ_BYTES 65536
#define ECHO_WRITE_BYTES 16384
#define ECHO_MAX_STREAMS 256
#define ECHO_BACKLOG 128

#define ECHO_NV(name, value)                                                   \
  {                                                                            \
    (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1,                   \
        sizeof(value) - 1,                                                     \
        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE           \
  }

/* HealthCheckResponse{status: SERVING} behind a 5-byte gRPC frame header. */
static const uint8_t echo_body[] = {0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x01};

static nghttp2_nv echo_headers_ok[] = {
    ECHO_NV(":status", "200"),
    ECHO_NV("content-type", "application/grpc"),
};
static nghttp2_nv echo_headers_405[] = {ECHO_NV(":status", "405")};
static nghttp2_nv echo_trailers[] = {ECHO_NV("grpc-status", "0")};

typedef struct echo_conn {
  uv_pipe_t pipe;
  uv_shutdown_t shutdown;
  nghttp2_session *session;
  char rbuf[ECHO_READ_BYTES];
} echo_conn;

typedef struct echo_stream {
  size_t sent; /* bytes of echo_body already handed to nghttp2 */
  bool post;
} echo_stream;

/* One uv_write of everything nghttp2 had queued; freed when it completes. */
typedef struct echo_write {
  uv_write_t req;
  size_t len;
  size_t cap;
  uint8_t data[];
} echo_write;

static nghttp2_session_callbacks *echo_callbacks;

static void echo_conn_free(uv_handle_t *handle) {
  echo_conn *conn = handle->data;

  nghttp2_session_del(conn->session);
  free(conn);
}

static void echo_conn_close(echo_conn *conn) {
  if (!uv_is_closing((uv_handle_t *)&conn->pipe)) {
    uv_close((uv_handle_t *)&conn->pipe, echo_conn_free);
  }
}

static void echo_conn_shutdown_done(uv_shutdown_t *req, int status) {
  (void)status;
  echo_conn_close(req->data);
}

static void echo_write_done(uv_write_t *req, int status) {
  echo_write *w = (echo_write *)req;

  if (status < 0) {
    echo_conn_close(req->handle->data);
  }
  free(w);
}

static echo_write *echo_write_grow(echo_write *w, size_t need) {
  size_t cap = w ? w->cap : ECHO_WRITE_BYTES;
  echo_write *bigger;

  while (cap < need) {
    cap *= 2;
  }
  if (w && cap == w->cap) {
    return w;
  }
  bigger = realloc(w, sizeof(*w) + cap);
  if (bigger == NULL) {
    free(w);
    return NULL;
  }
  if (w == NULL) {
    bigger->len = 0;
  }
  bigger->cap = cap;
  return bigger;
}

/* Hands everything nghttp2 wants to send to one uv_write. Returns 0 or -1. */
static int echo_conn_flush(echo_conn *conn) {
  echo_write *w = NULL;
  const uint8_t *data;
  ssize_t n;
  uv_buf_t buf;

  while ((n = nghttp2_session_mem_send(conn->session, &data)) > 0) {
    w = echo_write_grow(w, (w ? w->len : 0) + (size_t)n);
    if (w == NULL) {
      return -1;
    }
    memcpy(w->data + w->len, data, (size_t)n);
    w->len += (size_t)n;
  }
  if (n < 0 || w == NULL) {
    free(w);
    return n < 0 ? -1 : 0;
  }

  buf = uv_buf_init((char *)w->data, (unsigned)w->len);
  if (uv_write(&w->req, (uv_stream_t *)&conn->pipe, &buf, 1, echo_write_done) !=
      0) {
    free(w);
    return -1;
  }
  return 0;
}

/* Flushes, then ends the connection once neither side has more to say. */
static void echo_conn_pump(echo_conn *conn) {
  if (echo_conn_flush(conn) != 0) {
    echo_conn_close(conn);
    return;
  }
  if (nghttp2_session_want_read(conn->session) ||
      nghttp2_session_want_write(conn->session)) {
    return;
  }
  conn->shutdown.data = conn;
  if (uv_shutdown(&conn->shutdown, (uv_stream_t *)&conn->pipe,
                  echo_conn_shutdown_done) != 0) {
    echo_conn_close(conn);
  }
}

static ssize_t echo_body_read(nghttp2_session *session, int32_t stream_id,
                              uint8_t *buf, size_t length, uint32_t *flags,
                              nghttp2_data_source *source, void *user_data) {
  echo_stream *stream = source->ptr;
  size_t n = sizeof(echo_body) - stream->sent;

  (void)user_data;
  if (n > length) {
    n = length;
  }
  memcpy(buf, echo_body + stream->sent, n);
  stream->sent += n;
  if (stream->sent < sizeof(echo_body)) {
    return (ssize_t)n;
  }

  /* The trailers, not the data, end the stream. */
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  if (nghttp2_submit_trailer(session, stream_id, echo_trailers, 1) != 0) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return (ssize_t)n;
}

static int echo_stream_respond(nghttp2_session *session, int32_t stream_id,
                               echo_stream *stream) {
  nghttp2_data_provider body;

  if (!stream->post) {
    return nghttp2_submit_response(session, stream_id, echo_headers_405, 1,
                                   NULL);
  }
  body.source.ptr = stream;
  body.read_callback = echo_body_read;
  return nghttp2_submit_response(session, stream_id, echo_headers_ok, 2, &body);
}

static int echo_on_begin_headers(nghttp2_session *session,
                                 const nghttp2_frame *frame, void *user_data) {
  echo_stream *stream;

  (void)user_data;
  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  stream = calloc(1, sizeof(*stream));
  if (stream == NULL) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return nghttp2_session_set_stream_user_data(session, frame->hd.stream_id,
                                              stream);
}

static int echo_on_header(nghttp2_session *session, const nghttp2_frame *frame,
                          const uint8_t *name, size_t namelen,
                          const uint8_t *value, size_t valuelen, uint8_t flags,
                          void *user_data) {
  echo_stream *stream;

  (void)flags;
  (void)user_data;
  if (namelen != 7 || memcmp(name, ":method", 7) != 0) {
    return 0;
  }
  stream = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (stream != NULL) {
    stream->post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
  }
  return 0;
}

/* The request body is consumed by nghttp2 (which also returns the flow
 * control window); the answer goes out once the client has ended its side. */
static int echo_on_frame_recv(nghttp2_session *session,
                              const nghttp2_frame *frame, void *user_data) {
  echo_stream *stream;

  (void)user_data;
  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
      !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    return 0;
  }
  stream = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (stream == NULL) {
    return 0;
  }
  if (echo_stream_respond(session, frame->hd.stream_id, stream) != 0) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

static int echo_on_stream_close(nghttp2_session *session, int32_t stream_id,
                                uint32_t error_code, void *user_data) {
  (void)error_code;
  (void)user_data;
  free(nghttp2_session_get_stream_user_data(session, stream_id));
  return 0;
}

static void echo_conn_alloc(uv_handle_t *handle, size_t suggested,
                            uv_buf_t *buf) {
  echo_conn *conn = handle->data;

  (void)suggested;
  *buf = uv_buf_init(conn->rbuf, sizeof(conn->rbuf));
}

static void echo_conn_read(uv_stream_t *handle, ssize_t nread,
                           const uv_buf_t *buf) {
  echo_conn *conn = handle->data;

  if (nread < 0) {
    echo_conn_close(conn);
    return;
  }
  if (nghttp2_session_mem_recv(conn->session, (const uint8_t *)buf->base,
                               (size_t)nread) < 0) {
    echo_conn_close(conn);
    return;
  }
  echo_conn_pump(conn);
}

static void echo_server_accept(uv_stream_t *server, int status) {
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, ECHO_MAX_STREAMS},
  };
  echo_conn *conn;

  if (status < 0) {
    return;
  }
  conn = calloc(1, sizeof(*conn));
  if (conn == NULL) {
    return;
  }
  uv_pipe_init(server->loop, &conn->pipe, 0);
  conn->pipe.data = conn;
  if (uv_accept(server, (uv_stream_t *)&conn->pipe) != 0 ||
      nghttp2_session_server_new(&conn->session, echo_callbacks, conn) != 0) {
    echo_conn_close(conn);
    return;
  }

  /* SETTINGS is the server's first frame: queue it before reading. */
  if (nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings, 1) !=
          0 ||
      uv_read_start((uv_stream_t *)&conn->pipe, echo_conn_alloc,
                    echo_conn_read) != 0) {
    echo_conn_close(conn);
    return;
  }
  echo_conn_pump(conn);
}

static int echo_callbacks_init(void) {
  if (nghttp2_session_callbacks_new(&echo_callbacks) != 0) {
    return -1;
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(
      echo_callbacks, echo_on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(echo_callbacks,
                                                   echo_on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(echo_callbacks,
                                                       echo_on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(echo_callbacks,
                                                         echo_on_stream_close);
  return 0;
}

static void echo_on_signal(uv_signal_t *handle, int signum) {
  (void)signum;
  uv_stop(handle->loop);
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  uv_pipe_t server;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  int rv;

  if (argc != 2) {
    fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
    return 2;
  }
  if (echo_callbacks_init() != 0) {
    fprintf(stderr, "h2_echo: out of memory\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);

  /* A socket file left by an earlier run would make bind fail. */
  unlink(argv[1]);
  uv_pipe_init(loop, &server, 0);
  rv = uv_pipe_bind(&server, argv[1]);
  if (rv == 0) {
    rv = uv_listen((uv_stream_t *)&server, ECHO_BACKLOG, echo_server_accept);
  }
  if (rv != 0) {
    fprintf(stderr, "h2_echo: listen on %s -> %s\n", argv[1], uv_strerror(rv));
    return 1;
  }

  uv_signal_init(loop, &sigint);
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigint, echo_on_signal, SIGINT);
  uv_signal_start(&sigterm, echo_on_signal, SIGTERM);
  uv_run(loop, UV_RUN_DEFAULT);

  unlink(argv[1]);
  nghttp2_session_callbacks_del(echo_callbacks);
  return 0;
}
