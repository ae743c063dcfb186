/* One gRPC call: request headers and message in, messages and status out. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitspace/error.h"
#include "gitspace/log.h"
#include "server_int.h"
#include "pb_strings.h"
#include "timeout.h"

#define CALL_STATUS_MESSAGE_MAX 1024

static void call_maybe_free(gs_call *call);
static void call_respond(gs_call *call, gs_status code, const char *message);

/* A bump allocator over the call's arena, then malloc. */
static void *call_arena_alloc(void *data, size_t size) {
  gs_call *call = data;
  size_t need =
      (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);

  if (need <= sizeof(call->arena) - call->arena_used) {
    void *p = call->arena + call->arena_used;

    call->arena_used += need;
    return p;
  }
  return malloc(size);
}

static void call_arena_free(void *data, void *p) {
  gs_call *call = data;
  uint8_t *b = p;

  if (b >= call->arena && b < call->arena + sizeof(call->arena)) {
    return; /* released with the call */
  }
  free(p);
}

gs_call *gs_call_new(gs_conn *conn, int32_t stream_id) {
  /* The arena is left uninitialised: only what the decoder writes is read. */
  gs_call *call = malloc(sizeof(*call));

  if (call == NULL) {
    return NULL;
  }
  memset(call, 0, offsetof(gs_call, arena));
  call->arena_allocator.alloc = call_arena_alloc;
  call->arena_allocator.free = call_arena_free;
  call->arena_allocator.allocator_data = call;
  call->conn = conn;
  call->server = conn->server;
  call->stream_id = stream_id;
  call->transport_open = true;
  call->started_ns = uv_hrtime();
  snprintf(call->id, sizeof(call->id), "%s/s%d", conn->id, (int)stream_id);
  gs_frame_decoder_init(&call->decoder, conn->server->opts.max_message_bytes);
  call->next = conn->calls;
  if (conn->calls != NULL) {
    conn->calls->prev = call;
  }
  conn->calls = call;
  conn->server->stats.calls_open++;
  if (call->next == NULL) {
    gs_conn_calls_changed(conn);
  }
  return call;
}

static bool call_header_is(const uint8_t *name, size_t len, const char *want) {
  return strlen(want) == len && memcmp(name, want, len) == 0;
}

/* "application/grpc" or "application/grpc+proto", parameters allowed:
 * another codec ("+json") is not one we speak. */
static bool call_content_type_ok(const uint8_t *v, size_t len) {
  static const char base[] = "application/grpc";
  static const char proto[] = "+proto";
  size_t n = sizeof(base) - 1;

  if (len < n || strncasecmp((const char *)v, base, n) != 0) {
    return false;
  }
  if (len - n >= sizeof(proto) - 1 &&
      strncasecmp((const char *)v + n, proto, sizeof(proto) - 1) == 0) {
    n += sizeof(proto) - 1;
  }
  return len == n || v[n] == ';';
}

int gs_call_on_header(gs_call *call, const uint8_t *name, size_t namelen,
                      const uint8_t *value, size_t valuelen) {
  call->header_bytes += namelen + valuelen + 32;
  if (call->header_bytes > call->server->opts.max_header_list_bytes) {
    call->headers_too_big = true; /* answered once the headers end */
    return 0;
  }
  if (call_header_is(name, namelen, ":path")) {
    free(call->path);
    call->path = strndup((const char *)value, valuelen);
    if (call->path == NULL) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
  } else if (call_header_is(name, namelen, ":method")) {
    call->is_post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
  } else if (call_header_is(name, namelen, "content-type")) {
    call->content_type_seen = true;
    call->content_type_ok = call_content_type_ok(value, valuelen);
  } else if (call_header_is(name, namelen, "grpc-timeout")) {
    if (gs_grpc_timeout_parse((const char *)value, valuelen,
                              &call->timeout_ms) != 0) {
      call->bad_timeout = true;
    } else {
      call->has_deadline = true;
    }
  } else if (call_header_is(name, namelen, "grpc-encoding")) {
    call->bad_encoding = !(valuelen == 8 && memcmp(value, "identity", 8) == 0);
    snprintf(call->encoding, sizeof(call->encoding), "%.*s",
             (int)(valuelen < 31 ? valuelen : 31), (const char *)value);
  }
  return 0;
}

static const char *call_path(const gs_call *call) {
  return call->path != NULL ? call->path : "(no path)";
}

static gs_log_level call_log_level(const gs_call *call) {
  return call->service != NULL ? call->service->call_log_level : GS_LOG_INFO;
}

static void call_log_result(const gs_call *call) {
  gs_log_level level = call_log_level(call);
  double ms;

  if (call->status != GS_STATUS_OK && level < GS_LOG_INFO) {
    level = GS_LOG_INFO;
  }
  if (level < gs_log_threshold) {
    return; /* no clock read, no formatting, when the line is off */
  }
  ms = (double)(uv_hrtime() - call->started_ns) / 1e6;
  if (call->status_message != NULL && call->status != GS_STATUS_OK) {
    gs_log_write(level, call->id, "%s -> %s (%s) %.2f ms", call_path(call),
                 gs_status_name(call->status), call->status_message, ms);
  } else {
    gs_log_write(level, call->id, "%s -> %s %.2f ms", call_path(call),
                 gs_status_name(call->status), ms);
  }
}

/* ---- deadline ------------------------------------------------------------ */

static void call_timer_closed(uv_handle_t *handle) {
  gs_call *call = handle->data;

  call->timer_open = false;
  call_maybe_free(call);
}

static void call_stop_timer(gs_call *call) {
  if (call->timer_open && !uv_is_closing((uv_handle_t *)&call->timer)) {
    uv_close((uv_handle_t *)&call->timer, call_timer_closed);
  }
}

static void call_cancel(gs_call *call) {
  if (call->cancelled) {
    return;
  }
  call->cancelled = true;
  call_stop_timer(call);
  if (call->handler_active && call->cancel_cb != NULL) {
    void (*cb)(gs_call *, void *) = call->cancel_cb;

    call->cancel_cb = NULL;
    cb(call, call->cancel_data);
  }
}

static void call_deadline_passed(uv_timer_t *timer) {
  gs_call *call = timer->data;

  call_respond(call, GS_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
  call_cancel(call);
}

static void call_start_timer(gs_call *call) {
  uint64_t ms = call->timeout_ms;

  uv_timer_init(call->server->loop, &call->timer);
  call->timer.data = call;
  call->timer_open = true;
  uv_timer_start(&call->timer, call_deadline_passed, ms, 0);
}

/* ---- response ------------------------------------------------------------ */

static nghttp2_nv call_nv(const char *name, const char *value) {
  nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name),
                   strlen(value), NGHTTP2_NV_FLAG_NONE};

  return nv;
}

static ssize_t call_data_source_read(nghttp2_session *session,
                                     int32_t stream_id, uint8_t *buf,
                                     size_t length, uint32_t *data_flags,
                                     nghttp2_data_source *source,
                                     void *user_data) {
  (void)session;
  (void)stream_id;
  (void)user_data;
  return gs_call_read_data(source->ptr, buf, length, data_flags);
}

static void call_mark_dirty(gs_call *call) {
  if (call->conn != NULL) {
    gs_server_mark_dirty(call->server, call->conn);
  }
}

static int call_start_response(gs_call *call) {
  nghttp2_nv nva[] = {call_nv(":status", "200"),
                      call_nv("content-type", "application/grpc"),
                      call_nv("grpc-accept-encoding", "identity")};
  nghttp2_data_provider dp;

  dp.source.ptr = call;
  dp.read_callback = call_data_source_read;
  call->response_started = true;
  return nghttp2_submit_response(call->conn->session, call->stream_id, nva,
                                 sizeof(nva) / sizeof(*nva), &dp);
}

static void call_status_headers(gs_call *call, nghttp2_nv *nv, char *code,
                                size_t codelen, char *msg, size_t msglen) {
  snprintf(code, codelen, "%d", (int)call->status);
  nv[0] = call_nv("grpc-status", code);
  if (call->status_message != NULL) {
    gs_status_encode_message(call->status_message, strlen(call->status_message),
                             msg, msglen);
  } else {
    msg[0] = '\0';
  }
  nv[1] = call_nv("grpc-message", msg);
}

/* An error before any message: one HEADERS frame with the status. */
static void call_send_trailers_only(gs_call *call) {
  char code[8];
  char msg[CALL_STATUS_MESSAGE_MAX * 3 + 1];
  nghttp2_nv nva[5];
  size_t n = 2;

  nva[0] = call_nv(":status", "200");
  nva[1] = call_nv("content-type", "application/grpc");
  call_status_headers(call, &nva[2], code, sizeof(code), msg, sizeof(msg));
  n += msg[0] != '\0' ? 2 : 1;
  if (call->status == GS_STATUS_UNIMPLEMENTED && call->bad_encoding) {
    nva[n++] = call_nv("grpc-accept-encoding", "identity");
  }
  call->response_started = true;
  call->trailers_sent = true;
  nghttp2_submit_response(call->conn->session, call->stream_id, nva, n, NULL);
}

static void call_send_trailers(gs_call *call) {
  char code[8];
  char msg[CALL_STATUS_MESSAGE_MAX * 3 + 1];
  nghttp2_nv nva[2];

  call_status_headers(call, nva, code, sizeof(code), msg, sizeof(msg));
  call->trailers_sent = true;
  nghttp2_submit_trailer(call->conn->session, call->stream_id, nva,
                         msg[0] != '\0' ? 2 : 1);
}

/* Sets the call's final status and sends it when the transport is open. */
static void call_respond(gs_call *call, gs_status code, const char *message) {
  if (call->finished) {
    return;
  }
  call->finished = true;
  call->status = code;
  if (message != NULL) {
    call->status_message = strndup(message, CALL_STATUS_MESSAGE_MAX);
  }
  call_log_result(call);
  if (!call->transport_open || call->conn == NULL) {
    return;
  }
  if (!call->response_started) {
    call_send_trailers_only(call);
  } else if (call->deferred) {
    call->deferred = false;
    nghttp2_session_resume_data(call->conn->session, call->stream_id);
  }
  call_mark_dirty(call);
}

/* A plain HTTP answer, for requests that are not gRPC at all. */
static void call_respond_http(gs_call *call, const char *status) {
  nghttp2_nv nva[] = {call_nv(":status", status)};

  call->finished = true;
  call->status = GS_STATUS_INTERNAL;
  call->response_started = true;
  call->trailers_sent = true;
  GS_INFO(call->id, "%s -> HTTP %s", call_path(call), status);
  nghttp2_submit_response(call->conn->session, call->stream_id, nva, 1, NULL);
  call_mark_dirty(call);
}

ssize_t gs_call_read_data(gs_call *call, uint8_t *buf, size_t length,
                          uint32_t *data_flags) {
  size_t done = 0;
  size_t before = call->out_bytes;

  while (done < length && call->out_head != NULL) {
    gs_out_chunk *c = call->out_head;
    size_t n = c->len - c->off;

    n = n < length - done ? n : length - done;
    memcpy(buf + done, c->data + c->off, n);
    c->off += n;
    done += n;
    if (c->off == c->len) {
      call->out_head = c->next;
      if (call->out_head == NULL) {
        call->out_tail = NULL;
      }
      free(c);
    }
  }
  call->out_bytes -= done;
  if (call->out_head == NULL && call->finished) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    call_send_trailers(call);
    return (ssize_t)done;
  }
  if (done == 0) {
    call->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  if (before >= GS_CALL_OUTPUT_HIGH && call->out_bytes < GS_CALL_OUTPUT_HIGH &&
      call->writable_cb != NULL) {
    call->notify_writable = true;
  }
  return (ssize_t)done;
}

void gs_call_run_writable(gs_call *call) {
  if (call->writable_cb != NULL && call->handler_active && !call->cancelled) {
    call->writable_cb(call, call->writable_data);
  }
}

/* ---- request ------------------------------------------------------------- */

void gs_call_on_headers_done(gs_call *call, bool end_stream) {
  const gs_method *m;
  char msg[256];

  if (call->headers_too_big) {
    snprintf(msg, sizeof(msg), "request headers exceed the limit of %zu bytes",
             call->server->opts.max_header_list_bytes);
    call_respond(call, GS_STATUS_RESOURCE_EXHAUSTED, msg);
    return;
  }
  if (!call->is_post) {
    call_respond_http(call, "405");
    return;
  }
  if (!call->content_type_ok) {
    call_respond_http(call, "415");
    return;
  }
  if (call->path == NULL) {
    call_respond(call, GS_STATUS_UNIMPLEMENTED, "request has no :path");
    return;
  }
  m = gs_server_find_method(call->server, call->path, &call->service);
  if (m == NULL) {
    snprintf(msg, sizeof(msg), "unknown method %.200s", call->path);
    call_respond(call, GS_STATUS_UNIMPLEMENTED, msg);
    return;
  }
  call->method = m;
  if (call->bad_timeout) {
    call_respond(call, GS_STATUS_INVALID_ARGUMENT,
                 "grpc-timeout: malformed value");
    return;
  }
  if (call->bad_encoding) {
    snprintf(msg, sizeof(msg),
             "grpc-encoding %s is not supported; use identity", call->encoding);
    call_respond(call, GS_STATUS_UNIMPLEMENTED, msg);
    return;
  }
  if (call->has_deadline && call->timeout_ms == 0) {
    call_respond(call, GS_STATUS_DEADLINE_EXCEEDED,
                 "deadline exceeded before the call started");
    return;
  }
  if (call->has_deadline) {
    call_start_timer(call);
  }
  if (end_stream) {
    gs_call_on_request_end(call);
  }
}

static int call_take_message(void *arg, bool compressed, uint8_t *body,
                             size_t len) {
  gs_call *call = arg;

  call->messages_in++;
  if (compressed) {
    free(body);
    return GS_EPROTO;
  }
  if (call->messages_in > 1) {
    free(body);
    return GS_EINVAL;
  }
  call->message = body;
  call->message_len = len;
  return 0;
}

/* Counts the request bytes this call holds in its connection's and the
 * server's totals. Returns false when either is over its limit. */
static bool call_account(gs_call *call) {
  gs_server *server = call->server;
  size_t held = call->message_len;
  bool ok;

  if (call->decoder.body != NULL) {
    held += call->decoder.body_need;
  }
  server->pending_bytes = server->pending_bytes - call->pending + held;
  if (call->conn != NULL) {
    call->conn->pending_bytes =
        call->conn->pending_bytes - call->pending + held;
  }
  call->pending = held;
  ok = server->opts.max_pending_bytes == 0 ||
       server->pending_bytes <= server->opts.max_pending_bytes;
  if (call->conn != NULL && server->opts.max_pending_bytes_per_connection > 0) {
    ok = ok && call->conn->pending_bytes <=
                   server->opts.max_pending_bytes_per_connection;
  }
  return ok;
}

/* Drops what the request holds, and its share of the totals. */
static void call_release_request(gs_call *call) {
  gs_frame_decoder_free(&call->decoder);
  free(call->message);
  call->message = NULL;
  call->message_len = 0;
  call_account(call);
}

int gs_call_on_data(gs_call *call, const uint8_t *data, size_t len) {
  char msg[160];
  int rv;

  if (call->finished || call->method == NULL) {
    return 0;
  }
  rv =
      gs_frame_decoder_feed(&call->decoder, data, len, call_take_message, call);
  if (rv == 0 && !call_account(call)) {
    call_release_request(call);
    call_respond(call, GS_STATUS_RESOURCE_EXHAUSTED,
                 "too many request bytes are waiting for their messages "
                 "to end; retry later");
    return 0;
  }
  switch (rv) {
  case 0:
    return 0;
  case GS_ERANGE:
    snprintf(msg, sizeof(msg),
             "request message of %zu bytes exceeds the limit of %zu bytes",
             gs_frame_decoder_announced(&call->decoder),
             call->server->opts.max_message_bytes);
    call_respond(call, GS_STATUS_RESOURCE_EXHAUSTED, msg);
    break;
  case GS_EPROTO:
    if (call->messages_in > 0) {
      call_respond(call, GS_STATUS_UNIMPLEMENTED,
                   "compressed messages are not supported; send identity");
    } else {
      call_respond(call, GS_STATUS_INTERNAL,
                   "malformed message prefix: bad compression flag");
    }
    break;
  case GS_EINVAL:
    call_respond(call, GS_STATUS_UNIMPLEMENTED,
                 "more than one request message on a unary-request method");
    break;
  default:
    call_respond(call, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    break;
  }
  call_release_request(call);
  return 0;
}

void gs_call_on_request_end(gs_call *call) {
  const ProtobufCMessageDescriptor *desc;
  char msg[200];

  if (call->finished || call->method == NULL || call->handler_active) {
    return;
  }
  if (gs_frame_decoder_partial(&call->decoder)) {
    call_respond(call, GS_STATUS_INTERNAL,
                 "request ended inside a message: truncated message");
    return;
  }
  if (call->messages_in == 0) {
    call_respond(call, GS_STATUS_INTERNAL, "request has no message");
    return;
  }
  desc = call->method->input;
  if (gs_pb_check_strings(desc, call->message, call->message_len, msg,
                          sizeof(msg)) != 0) {
    call_release_request(call);
    call_respond(call, GS_STATUS_INVALID_ARGUMENT, msg);
    return;
  }
  call->request = protobuf_c_message_unpack(desc, &call->arena_allocator,
                                            call->message_len, call->message);
  call_release_request(call);
  if (call->request == NULL) {
    snprintf(msg, sizeof(msg), "request message is not a valid %.120s",
             desc->name);
    call_respond(call, GS_STATUS_INVALID_ARGUMENT, msg);
    return;
  }
  call->handler_active = true;
  call->method->handler(call, call->request, call->service->data);
}

/* ---- end of life --------------------------------------------------------- */

static void call_unlink(gs_call *call) {
  gs_conn *conn = call->conn;

  if (conn == NULL) {
    return;
  }
  if (call->prev != NULL) {
    call->prev->next = call->next;
  } else {
    conn->calls = call->next;
  }
  if (call->next != NULL) {
    call->next->prev = call->prev;
  }
  call->prev = NULL;
  call->next = NULL;
  call->conn = NULL;
  if (conn->calls == NULL) {
    gs_conn_calls_changed(conn);
  }
}

void gs_call_on_stream_close(gs_call *call, uint32_t error_code) {
  char why[80];

  /* The request's bytes leave the connection's count before it unlinks. */
  call_release_request(call);
  call_unlink(call);
  if (!call->finished) {
    call->finished = true;
    call->status = GS_STATUS_CANCELLED;
    if (error_code == GS_CALL_CONN_CLOSED) {
      snprintf(why, sizeof(why), "connection closed");
    } else {
      snprintf(why, sizeof(why), "stream reset: %s",
               nghttp2_http2_strerror(error_code));
    }
    call->status_message = strdup(why);
    call_log_result(call);
  }
  call_stop_timer(call);
  /* The cancel hook may finish the call; the transport's hold keeps it
   * alive until the hook has returned. */
  call_cancel(call);
  call->transport_open = false;
  call_maybe_free(call);
}

void gs_call_detach(gs_call *call) {
  gs_call_on_stream_close(call, GS_CALL_CONN_CLOSED);
}

void gs_call_abort(gs_call *call, gs_status code, const char *message) {
  call_respond(call, code, message);
  call_cancel(call);
}

static void call_maybe_free(gs_call *call) {
  if (call->transport_open || call->handler_active || call->timer_open) {
    return;
  }
  while (call->out_head != NULL) {
    gs_out_chunk *next = call->out_head->next;

    free(call->out_head);
    call->out_head = next;
  }
  if (call->request != NULL) {
    protobuf_c_message_free_unpacked(call->request, &call->arena_allocator);
  }
  call_release_request(call);
  call->server->stats.calls_open--;
  free(call->status_message);
  free(call->path);
  free(call);
}

/* ---- the handler's side -------------------------------------------------- */

/* Appends one framed message of `size` bytes, written by `fill`. */
static int call_queue(gs_call *call, size_t size,
                      void (*fill)(uint8_t *out, const void *src),
                      const void *src) {
  gs_out_chunk *chunk;

  if (call->cancelled || call->finished || !call->transport_open) {
    return GS_ECANCELED;
  }
  if (call->method->kind == GS_METHOD_UNARY && call->messages_out > 0) {
    return GS_EINVAL;
  }
  if (size > call->server->opts.max_message_bytes) {
    return GS_ERANGE;
  }
  chunk = malloc(sizeof(*chunk) + GS_FRAME_HEADER_LEN + size);
  if (chunk == NULL) {
    return GS_ENOMEM;
  }
  chunk->next = NULL;
  chunk->off = 0;
  chunk->len = GS_FRAME_HEADER_LEN + size;
  gs_frame_encode_header(chunk->data, false, (uint32_t)size);
  fill(chunk->data + GS_FRAME_HEADER_LEN, src);
  if (call->out_tail != NULL) {
    call->out_tail->next = chunk;
  } else {
    call->out_head = chunk;
  }
  call->out_tail = chunk;
  call->out_bytes += chunk->len;
  call->messages_out++;
  if (!call->response_started) {
    if (call_start_response(call) != 0) {
      return GS_ENOMEM;
    }
  } else if (call->deferred) {
    call->deferred = false;
    nghttp2_session_resume_data(call->conn->session, call->stream_id);
  }
  call_mark_dirty(call);
  return call->out_bytes > GS_CALL_OUTPUT_HIGH ? 1 : 0;
}

static void call_fill_message(uint8_t *out, const void *src) {
  protobuf_c_message_pack(src, out);
}

typedef struct {
  const uint8_t *data;
  size_t len;
} call_bytes;

static void call_fill_bytes(uint8_t *out, const void *src) {
  const call_bytes *b = src;

  if (b->len > 0) {
    memcpy(out, b->data, b->len);
  }
}

int gs_call_send(gs_call *call, const ProtobufCMessage *msg) {
  return call_queue(call, protobuf_c_message_get_packed_size(msg),
                    call_fill_message, msg);
}

int gs_call_send_packed(gs_call *call, const uint8_t *data, size_t len) {
  call_bytes b = {data, len};

  return call_queue(call, len, call_fill_bytes, &b);
}

void gs_call_finish(gs_call *call, gs_status code, const char *message) {
  if (!call->handler_active) {
    GS_ERROR(call->id, "finish -> called twice; ignored");
    return;
  }
  if (code == GS_STATUS_OK && call->method->kind == GS_METHOD_UNARY &&
      call->messages_out == 0 && !call->cancelled) {
    code = GS_STATUS_INTERNAL;
    message = "handler produced no response message";
  }
  call->handler_active = false;
  if (!call->cancelled) {
    call_respond(call, code, message);
  }
  call_stop_timer(call);
  call_maybe_free(call);
}

void gs_call_finishf(gs_call *call, gs_status code, const char *fmt, ...) {
  char msg[CALL_STATUS_MESSAGE_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  gs_call_finish(call, code, msg);
}

void gs_call_reply(gs_call *call, const ProtobufCMessage *msg) {
  int rv = gs_call_send(call, msg);

  if (rv == GS_ERANGE) {
    gs_call_finishf(call, GS_STATUS_RESOURCE_EXHAUSTED,
                    "response message of %zu bytes exceeds the limit of %zu "
                    "bytes",
                    protobuf_c_message_get_packed_size(msg),
                    call->server->opts.max_message_bytes);
    return;
  }
  if (rv < 0 && rv != GS_ECANCELED) {
    gs_call_finish(call, GS_STATUS_INTERNAL, gs_strerror(rv));
    return;
  }
  gs_call_finish(call, GS_STATUS_OK, NULL);
}

void gs_call_on_cancel(gs_call *call, void (*cb)(gs_call *call, void *data),
                       void *data) {
  call->cancel_cb = cb;
  call->cancel_data = data;
}

void gs_call_on_writable(gs_call *call, void (*cb)(gs_call *call, void *data),
                         void *data) {
  call->writable_cb = cb;
  call->writable_data = data;
}

bool gs_call_cancelled(const gs_call *call) {
  return call->cancelled;
}

const char *gs_call_id(const gs_call *call) {
  return call->id;
}

uint64_t gs_call_remaining_ms(const gs_call *call) {
  uint64_t elapsed;

  if (!call->has_deadline) {
    return UINT64_MAX;
  }
  elapsed = (uv_hrtime() - call->started_ns) / 1000000;
  return elapsed >= call->timeout_ms ? 0 : call->timeout_ms - elapsed;
}

uv_loop_t *gs_call_loop(const gs_call *call) {
  return call->server->loop;
}
