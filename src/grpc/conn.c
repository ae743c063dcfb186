/* One client connection: an nghttp2 session over a libuv pipe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitspace/error.h"
#include "gitspace/log.h"
#include "server_int.h"

static void conn_on_close(uv_handle_t *handle);
static void conn_linger(gs_conn *conn);

int gs_conn_new(gs_server *server, gs_conn **out) {
  gs_conn *conn;

  conn = calloc(1, sizeof(*conn));
  if (conn == NULL) {
    return GS_ENOMEM;
  }
  conn->server = server;
  snprintf(conn->id, sizeof(conn->id), "c%llu",
           (unsigned long long)server->next_conn_id++);
  uv_pipe_init(server->loop, &conn->pipe, 0);
  conn->pipe.data = conn;
  uv_timer_init(server->loop, &conn->timer);
  conn->timer.data = conn;
  conn->handles_open = 2;
  conn->next = server->conns;
  if (server->conns != NULL) {
    server->conns->prev = conn;
  }
  server->conns = conn;
  server->stats.connections_open++;
  *out = conn;
  return 0;
}

static int conn_send_settings(gs_conn *conn) {
  const gs_server_options *o = &conn->server->opts;
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, o->max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GS_STREAM_WINDOW},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       (uint32_t)o->max_header_list_bytes},
  };
  int rv;

  rv = nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, iv,
                               sizeof(iv) / sizeof(*iv));
  if (rv == 0) {
    rv = nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE,
                                               0, GS_CONN_WINDOW);
  }
  return rv;
}

static void conn_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  gs_conn *conn = handle->data;

  (void)suggested;
  /* Input is consumed before the callback returns: one buffer serves all. */
  buf->base = (char *)conn->server->read_buf;
  buf->len = sizeof(conn->server->read_buf);
}

static void conn_on_read(uv_stream_t *stream, ssize_t nread,
                         const uv_buf_t *buf) {
  gs_conn *conn = stream->data;
  ssize_t rv;

  if (nread == 0) {
    return;
  }
  if (nread < 0) {
    if (nread != UV_EOF) {
      GS_DEBUG(conn->id, "read -> %s", uv_strerror((int)nread));
    }
    gs_conn_close(conn);
    return;
  }
  if (conn->lingering) {
    return; /* the session is over; the peer's last bytes are dropped */
  }
  conn->in_recv = true;
  rv = nghttp2_session_mem_recv(conn->session, (const uint8_t *)buf->base,
                                (size_t)nread);
  conn->in_recv = false;
  if (rv < 0) {
    GS_WARN(conn->id, "http2 input -> %s; closing the connection",
            nghttp2_strerror((int)rv));
    if (rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
      gs_conn_close(conn);
      return;
    }
    nghttp2_session_terminate_session(conn->session, NGHTTP2_PROTOCOL_ERROR);
    conn->close_when_flushed = true;
  }
  gs_conn_flush(conn);
}

static void conn_handshake_expired(uv_timer_t *timer) {
  gs_conn *conn = timer->data;

  GS_WARN(conn->id,
          "handshake -> no HTTP/2 preface and SETTINGS within %u "
          "ms; closing",
          conn->server->opts.handshake_timeout_ms);
  gs_conn_close(conn);
}

static void conn_idle_expired(uv_timer_t *timer) {
  gs_conn *conn = timer->data;

  GS_DEBUG(conn->id, "idle -> no call for %u ms; closing",
           conn->server->opts.idle_timeout_ms);
  gs_conn_goaway(conn);
}

/* Starts the idle timer when no call is open, stops it when one is. */
void gs_conn_calls_changed(gs_conn *conn) {
  unsigned ms = conn->server->opts.idle_timeout_ms;

  if (conn->closing || conn->lingering || !conn->handshake_done) {
    return;
  }
  if (conn->calls != NULL || ms == 0) {
    uv_timer_stop(&conn->timer);
  } else {
    uv_timer_start(&conn->timer, conn_idle_expired, ms, 0);
  }
}

int gs_conn_start(gs_conn *conn) {
  int rv;

  rv = nghttp2_session_server_new2(&conn->session, conn->server->callbacks,
                                   conn, conn->server->h2_options);
  if (rv != 0) {
    GS_ERROR(conn->id, "http2 session -> %s", nghttp2_strerror(rv));
    return GS_ENOMEM;
  }
  rv = conn_send_settings(conn);
  if (rv != 0) {
    GS_ERROR(conn->id, "http2 settings -> %s", nghttp2_strerror(rv));
    return GS_ENOMEM;
  }
  rv = uv_read_start((uv_stream_t *)&conn->pipe, conn_alloc, conn_on_read);
  if (rv != 0) {
    GS_ERROR(conn->id, "read -> %s", uv_strerror(rv));
    return GS_EIO;
  }
  GS_DEBUG(conn->id, "accept -> ok");
  if (conn->server->opts.handshake_timeout_ms > 0) {
    uv_timer_start(&conn->timer, conn_handshake_expired,
                   conn->server->opts.handshake_timeout_ms, 0);
  }
  if (conn->server->draining) {
    gs_conn_goaway(conn);
  }
  /* SETTINGS go out before the client says anything. */
  gs_conn_flush(conn);
  return 0;
}

static void conn_on_write(uv_write_t *req, int status);

/* Hands the gathered output to the socket: a direct write first, the rest
 * through uv_write, whose buffer then stays untouched until it completes. */
static int conn_write_out(gs_conn *conn) {
  uv_buf_t b;
  uint8_t *tmp;
  size_t tmp_cap;
  int n;

  if (conn->writing || conn->out_len == 0) {
    return 0;
  }
  b = uv_buf_init((char *)conn->out, (unsigned)conn->out_len);
  n = uv_try_write((uv_stream_t *)&conn->pipe, &b, 1);
  if (n < 0 && n != UV_EAGAIN) {
    GS_DEBUG(conn->id, "write -> %s", uv_strerror(n));
    return n;
  }
  if (n < 0) {
    n = 0;
  }
  if ((size_t)n == conn->out_len) {
    conn->out_len = 0;
    return 0;
  }
  /* Swap buffers: the unwritten rest becomes the in-flight buffer. */
  memmove(conn->out, conn->out + n, conn->out_len - (size_t)n);
  conn->out_len -= (size_t)n;
  tmp = conn->wbuf;
  tmp_cap = conn->wbuf_cap;
  conn->wbuf = conn->out;
  conn->wbuf_cap = conn->out_cap;
  b = uv_buf_init((char *)conn->wbuf, (unsigned)conn->out_len);
  conn->out = tmp;
  conn->out_cap = tmp_cap;
  conn->out_len = 0;
  conn->wreq.data = conn;
  n = uv_write(&conn->wreq, (uv_stream_t *)&conn->pipe, &b, 1, conn_on_write);
  if (n != 0) {
    return n;
  }
  conn->writing = true;
  return 0;
}

static void conn_pause_reading(gs_conn *conn) {
  if (!conn->read_paused) {
    uv_read_stop((uv_stream_t *)&conn->pipe);
    conn->read_paused = true;
  }
}

static void conn_resume_reading(gs_conn *conn) {
  if (conn->read_paused) {
    conn->read_paused = false;
    uv_read_start((uv_stream_t *)&conn->pipe, conn_alloc, conn_on_read);
  }
}

static void conn_on_write(uv_write_t *req, int status) {
  gs_conn *conn = req->data;

  conn->writing = false;
  if (conn->closing) {
    return;
  }
  if (status < 0) {
    GS_DEBUG(conn->id, "write -> %s", uv_strerror(status));
    gs_conn_close(conn);
    return;
  }
  gs_conn_flush(conn);
  if (!conn->closing && conn->out_len < GS_CONN_OUTPUT_HIGH) {
    conn_resume_reading(conn);
  }
}

static void conn_run_writable(gs_conn *conn) {
  for (gs_call *call = conn->calls; call != NULL;) {
    gs_call *next = call->next;

    if (call->notify_writable) {
      call->notify_writable = false;
      gs_call_run_writable(call);
    }
    call = next;
  }
}

void gs_conn_flush(gs_conn *conn) {
  int rv;

  conn->dirty = false;
  if (conn->closing || conn->session == NULL) {
    return;
  }
  if (conn->in_recv || conn->in_send) {
    gs_server_mark_dirty(conn->server, conn);
    return;
  }
  /* nghttp2 stops at the output high-water mark; when the socket takes all
   * of it at once, go round again rather than wait for an event. */
  do {
    conn->in_send = true;
    rv = nghttp2_session_send(conn->session);
    conn->in_send = false;
    if (rv != 0) {
      GS_WARN(conn->id, "http2 output -> %s", nghttp2_strerror(rv));
      gs_conn_close(conn);
      return;
    }
    if (conn->out_len == 0) {
      break;
    }
    if (conn_write_out(conn) != 0) {
      gs_conn_close(conn);
      return;
    }
  } while (!conn->writing && nghttp2_session_want_write(conn->session));
  conn_run_writable(conn);
  if (conn->closing) {
    return;
  }
  if (conn->writing && conn->out_len >= GS_CONN_OUTPUT_HIGH) {
    conn_pause_reading(conn);
  }
  if (conn->writing || conn->out_len > 0) {
    return;
  }
  if (conn->close_when_flushed ||
      (!nghttp2_session_want_read(conn->session) &&
       !nghttp2_session_want_write(conn->session))) {
    conn_linger(conn);
  }
}

static void conn_linger_expired(uv_timer_t *timer) {
  gs_conn_close(timer->data);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status) {
  gs_conn *conn = req->data;

  if (status < 0 && !conn->closing) {
    gs_conn_close(conn);
  }
}

/* Ends the connection once everything is written: a peer that is still
 * sending (a WINDOW_UPDATE, a PING) would otherwise hit a closed socket and
 * may drop frames it has not read yet, our last trailers among them. */
static void conn_linger(gs_conn *conn) {
  if (conn->lingering) {
    return;
  }
  conn->lingering = true;
  uv_timer_start(&conn->timer, conn_linger_expired, GS_CONN_LINGER_MS, 0);
  conn->shutdown_req.data = conn;
  if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->pipe,
                  conn_on_shutdown) != 0) {
    gs_conn_close(conn);
    return;
  }
  conn_resume_reading(conn);
}

void gs_conn_goaway(gs_conn *conn) {
  if (conn->goaway_sent || conn->closing || conn->session == NULL) {
    return;
  }
  conn->goaway_sent = true;
  nghttp2_submit_goaway(conn->session, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(conn->session),
                        NGHTTP2_NO_ERROR, NULL, 0);
  gs_server_mark_dirty(conn->server, conn);
}

void gs_conn_close(gs_conn *conn) {
  if (conn->closing) {
    return;
  }
  conn->closing = true;
  while (conn->calls != NULL) {
    gs_call_detach(conn->calls);
  }
  if (conn->session != NULL) {
    nghttp2_session_del(conn->session);
    conn->session = NULL;
  }
  GS_DEBUG(conn->id, "close -> ok");
  uv_close((uv_handle_t *)&conn->timer, conn_on_close);
  uv_close((uv_handle_t *)&conn->pipe, conn_on_close);
}

static void conn_on_close(uv_handle_t *handle) {
  gs_conn *conn = handle->data;
  gs_server *server = conn->server;

  if (--conn->handles_open > 0) {
    return;
  }
  free(conn->out);
  free(conn->wbuf);
  gs_server_conn_closed(server, conn);
  free(conn);
}

/* ---- nghttp2 callbacks --------------------------------------------------- */

static ssize_t conn_h2_send(nghttp2_session *session, const uint8_t *data,
                            size_t length, int flags, void *user_data) {
  gs_conn *conn = user_data;
  size_t need = conn->out_len + length;

  (void)session;
  (void)flags;
  if (conn->out_len > 0 && need > GS_CONN_OUTPUT_HIGH) {
    return NGHTTP2_ERR_WOULDBLOCK;
  }
  if (need > conn->out_cap) {
    size_t cap = conn->out_cap == 0 ? 16384 : conn->out_cap;
    uint8_t *p;

    while (cap < need) {
      cap *= 2;
    }
    p = realloc(conn->out, cap);
    if (p == NULL) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    conn->out = p;
    conn->out_cap = cap;
  }
  memcpy(conn->out + conn->out_len, data, length);
  conn->out_len += length;
  return (ssize_t)length;
}

static gs_call *conn_stream_call(nghttp2_session *session, int32_t id) {
  return nghttp2_session_get_stream_user_data(session, id);
}

static int conn_h2_begin_headers(nghttp2_session *session,
                                 const nghttp2_frame *frame, void *user_data) {
  gs_conn *conn = user_data;
  gs_call *call;

  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  call = gs_call_new(conn, frame->hd.stream_id);
  if (call == NULL) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, call);
  return 0;
}

static int conn_h2_header(nghttp2_session *session, const nghttp2_frame *frame,
                          const uint8_t *name, size_t namelen,
                          const uint8_t *value, size_t valuelen, uint8_t flags,
                          void *user_data) {
  gs_call *call = conn_stream_call(session, frame->hd.stream_id);

  (void)flags;
  (void)user_data;
  if (call == NULL || frame->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0; /* trailers from the client carry nothing we use */
  }
  return gs_call_on_header(call, name, namelen, value, valuelen);
}

static int conn_h2_frame_recv(nghttp2_session *session,
                              const nghttp2_frame *frame, void *user_data) {
  gs_conn *conn = user_data;
  gs_call *call;
  bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

  if (frame->hd.type == NGHTTP2_SETTINGS && !conn->handshake_done) {
    conn->handshake_done = true;
    uv_timer_stop(&conn->timer);
    gs_conn_calls_changed(conn);
    return 0;
  }
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
    return 0;
  }
  call = conn_stream_call(session, frame->hd.stream_id);
  if (call == NULL) {
    return 0;
  }
  if (frame->hd.type == NGHTTP2_HEADERS &&
      frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    gs_call_on_headers_done(call, end_stream);
  } else if (end_stream) {
    gs_call_on_request_end(call);
  }
  return 0;
}

static int conn_h2_data_chunk(nghttp2_session *session, uint8_t flags,
                              int32_t stream_id, const uint8_t *data,
                              size_t len, void *user_data) {
  gs_call *call = conn_stream_call(session, stream_id);

  (void)flags;
  (void)user_data;
  if (call == NULL) {
    return 0;
  }
  return gs_call_on_data(call, data, len);
}

static int conn_h2_frame_send(nghttp2_session *session,
                              const nghttp2_frame *frame, void *user_data) {
  nghttp2_stream *stream;

  (void)user_data;
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0 ||
      (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)) {
    return 0;
  }
  /* The answer is complete while the client is still sending: tell it to
   * stop (RFC 9113, section 8.1). */
  stream = nghttp2_session_find_stream(session, frame->hd.stream_id);
  if (stream != NULL && nghttp2_stream_get_state(stream) ==
                            NGHTTP2_STREAM_STATE_HALF_CLOSED_LOCAL) {
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                              NGHTTP2_NO_ERROR);
  }
  return 0;
}

static int conn_h2_stream_close(nghttp2_session *session, int32_t stream_id,
                                uint32_t error_code, void *user_data) {
  gs_call *call = conn_stream_call(session, stream_id);

  (void)user_data;
  if (call != NULL) {
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    gs_call_on_stream_close(call, error_code);
  }
  return 0;
}

static int conn_h2_invalid_frame(nghttp2_session *session,
                                 const nghttp2_frame *frame, int lib_error,
                                 void *user_data) {
  gs_conn *conn = user_data;

  (void)session;
  GS_WARN(conn->id, "http2 frame on stream %d -> refused: %s",
          (int)frame->hd.stream_id, nghttp2_strerror(lib_error));
  return 0;
}

int gs_conn_setup_callbacks(nghttp2_session_callbacks *cbs) {
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(
      cbs, conn_h2_invalid_frame);
  nghttp2_session_callbacks_set_send_callback(cbs, conn_h2_send);
  nghttp2_session_callbacks_set_on_begin_headers_callback(
      cbs, conn_h2_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, conn_h2_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, conn_h2_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
                                                            conn_h2_data_chunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, conn_h2_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
                                                         conn_h2_stream_close);
  return 0;
}
