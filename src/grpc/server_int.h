/* Internal state shared by the server, its connections and its calls. */
#ifndef GS_GRPC_SERVER_INT_H
#define GS_GRPC_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>
#include <uv.h>

#include "frame.h"
#include "gitspace/grpc.h"

#define GS_MAX_SERVICES 16
/* Bytes of HTTP/2 output gathered per connection before the socket must
 * drain; also the point where reading stops. */
#define GS_CONN_OUTPUT_HIGH ((size_t)256 * 1024)
/* Response bytes queued per call before gs_call_send reports 1. */
#define GS_CALL_OUTPUT_HIGH ((size_t)256 * 1024)
#define GS_STREAM_WINDOW (1 << 20)
#define GS_CONN_WINDOW (16 << 20)
#define GS_CONN_LINGER_MS 2000
#define GS_CALL_ARENA 512

typedef struct gs_conn gs_conn;

typedef struct gs_out_chunk {
  struct gs_out_chunk *next;
  size_t len;
  size_t off;
  uint8_t data[];
} gs_out_chunk;

struct gs_server {
  uv_loop_t *loop;
  gs_server_options opts;
  char *socket_path;
  char *socket_group;
  uv_pipe_t listener;
  bool listening;
  uv_prepare_t flusher;
  uv_timer_t drain_timer;
  int drain_stage;
  bool closing_handles;
  unsigned handles_open;
  const gs_service *services[GS_MAX_SERVICES];
  size_t n_services;
  gs_conn *conns;
  uint64_t next_conn_id;
  bool draining;
  void (*done)(void *data);
  void *done_data;
  nghttp2_session_callbacks *callbacks;
  nghttp2_option *h2_options;
  gs_server_stats stats;
  size_t pending_bytes; /* of unfinished request messages, all calls */
  bool have_socket_id;
  uint64_t socket_dev; /* the socket file we created, to remove only it */
  uint64_t socket_ino;
  uint8_t read_buf[64 * 1024];
};

struct gs_conn {
  gs_server *server;
  gs_conn *prev;
  gs_conn *next;
  uv_pipe_t pipe;
  nghttp2_session *session;
  char id[24];
  gs_call *calls;
  /* Output: `out` gathers frames while `wbuf` is being written. */
  uint8_t *out;
  size_t out_len;
  size_t out_cap;
  uint8_t *wbuf;
  size_t wbuf_cap;
  uv_write_t wreq;
  bool writing;
  bool dirty;
  bool read_paused;
  bool in_recv;
  bool in_send;
  bool closing;
  bool close_when_flushed;
  bool goaway_sent;
  /* After the last frame: our side shut down, waiting for the peer's EOF so
   * that it reads everything before it sees the connection end. */
  bool lingering;
  bool handshake_done; /* the client's SETTINGS arrived */
  uv_shutdown_t shutdown_req;
  /* One timer, by state: handshake, then idle (no call open), then
   * linger. */
  uv_timer_t timer;
  int handles_open;
  size_t pending_bytes; /* of unfinished request messages */
};

struct gs_call {
  gs_conn *conn;
  gs_server *server;
  gs_call *prev;
  gs_call *next;
  int32_t stream_id;
  char id[40];
  char *path;
  const gs_service *service;
  const gs_method *method;
  /* Request. */
  gs_frame_decoder decoder;
  uint8_t *message;
  size_t message_len;
  unsigned messages_in;
  size_t header_bytes;
  bool headers_too_big;
  size_t pending; /* request bytes held, counted in conn and server */
  bool is_post;
  bool content_type_ok;
  bool content_type_seen;
  bool bad_timeout;
  bool bad_encoding;
  char encoding[32];
  uint64_t timeout_ms;
  bool has_deadline;
  uint64_t started_ns;
  ProtobufCMessage *request;
  /* Response. */
  gs_out_chunk *out_head;
  gs_out_chunk *out_tail;
  size_t out_bytes;
  unsigned messages_out;
  bool response_started;
  bool deferred;
  bool finished;
  bool trailers_sent;
  gs_status status;
  char *status_message;
  /* Lifetime: freed once all three are false. */
  bool transport_open;
  bool handler_active;
  bool timer_open;
  uv_timer_t timer;
  bool cancelled;
  bool notify_writable;
  void (*cancel_cb)(gs_call *call, void *data);
  void *cancel_data;
  void (*writable_cb)(gs_call *call, void *data);
  void *writable_data;
  /* The decoded request lives here when it fits: no malloc per field.
   * Last, so that gs_call_new zeroes everything before it. */
  ProtobufCAllocator arena_allocator;
  size_t arena_used;
  _Alignas(max_align_t) uint8_t arena[GS_CALL_ARENA];
};

/* server.c */
const gs_method *gs_server_find_method(const gs_server *server,
                                       const char *path,
                                       const gs_service **svc_out);
void gs_server_conn_closed(gs_server *server, gs_conn *conn);
void gs_server_mark_dirty(gs_server *server, gs_conn *conn);

/* conn.c */
int gs_conn_new(gs_server *server, gs_conn **out);
int gs_conn_start(gs_conn *conn);
void gs_conn_flush(gs_conn *conn);
void gs_conn_close(gs_conn *conn);
void gs_conn_goaway(gs_conn *conn);
/* The first call opened, or the last one closed: idle timer bookkeeping. */
void gs_conn_calls_changed(gs_conn *conn);
int gs_conn_setup_callbacks(nghttp2_session_callbacks *cbs);

/* call.c */
#define GS_CALL_CONN_CLOSED                                                    \
  UINT32_MAX /* "error" of a stream whose connection went */
gs_call *gs_call_new(gs_conn *conn, int32_t stream_id);
int gs_call_on_header(gs_call *call, const uint8_t *name, size_t namelen,
                      const uint8_t *value, size_t valuelen);
void gs_call_on_headers_done(gs_call *call, bool end_stream);
int gs_call_on_data(gs_call *call, const uint8_t *data, size_t len);
void gs_call_on_request_end(gs_call *call);
void gs_call_on_stream_close(gs_call *call, uint32_t error_code);
void gs_call_detach(gs_call *call);
void gs_call_abort(gs_call *call, gs_status code, const char *message);
void gs_call_run_writable(gs_call *call);
ssize_t gs_call_read_data(gs_call *call, uint8_t *buf, size_t length,
                          uint32_t *data_flags);

#endif
