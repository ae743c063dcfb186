/* A gRPC server on a Unix domain socket, driven by a libuv loop. */
#ifndef GITSPACE_GRPC_H
#define GITSPACE_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <uv.h>

#include "gitspace/log.h"
#include "gitspace/status.h"

typedef struct gs_server gs_server;
typedef struct gs_call gs_call;

typedef enum { GS_METHOD_UNARY = 0, GS_METHOD_SERVER_STREAMING } gs_method_kind;

/* Called once the whole request message has arrived. `request` is owned by
 * the call and valid until gs_call_finish. The handler must call
 * gs_call_finish exactly once, now or later from the loop. */
typedef void (*gs_handler_fn)(gs_call *call, const ProtobufCMessage *request,
                              void *service_data);

typedef struct {
  const char *name; /* "Check" */
  gs_method_kind kind;
  const ProtobufCMessageDescriptor *input;
  gs_handler_fn handler;
} gs_method;

typedef struct {
  const char *name; /* "grpc.health.v1.Health" */
  const gs_method *methods;
  size_t n_methods;
  /* Level of the per-call "method -> status" line (health probes: debug). */
  gs_log_level call_log_level;
  void *data; /* passed to handlers and hooks */
  /* Called when the server starts draining; may finish calls. Optional. */
  void (*on_drain)(void *data);
} gs_service;

typedef struct {
  const char *socket_path;
  unsigned socket_mode;
  const char *socket_group; /* NULL: leave the group alone */
  size_t max_message_bytes;
  unsigned max_connections;
  unsigned max_concurrent_streams;
  size_t max_header_list_bytes;
  size_t max_pending_bytes_per_connection; /* 0: no limit */
  size_t max_pending_bytes;                /* 0: no limit */
  unsigned handshake_timeout_ms;           /* 0: none */
  unsigned idle_timeout_ms;                /* 0: none */
  unsigned drain_timeout_ms;
} gs_server_options;

/* Creates a server on `loop`. Options are copied. Returns 0 or a GS_E* code;
 * on success *out is owned by the caller and freed by gs_server_free after
 * the loop has finished. */
int gs_server_new(uv_loop_t *loop, const gs_server_options *opts,
                  gs_server **out);

/* Checks a socket path: 1 to 107 bytes, no control characters. Returns 0
 * or GS_EINVAL. */
int gs_server_check_socket_path(const char *path);

/* Checks that a group name or number exists. Returns 0 or GS_ENOENT. */
int gs_server_check_group(const char *group);

/* Registers a service. `svc` is borrowed and must outlive the server. */
int gs_server_add_service(gs_server *server, const gs_service *svc);

/* Binds and listens on the socket path (see gs_socket_bind). Returns 0 or a
 * GS_E* code with a message in `err`. */
int gs_server_listen(gs_server *server, char *err, size_t errlen);

/* Starts a graceful shutdown: services' on_drain hooks run, connections get
 * GOAWAY, the socket file is removed, calls in flight may finish until the
 * drain timeout; then remaining calls are cancelled and every handle is
 * closed so that uv_run returns. `done` runs once everything has closed. */
void gs_server_shutdown(gs_server *server, void (*done)(void *data),
                        void *data);

/* Ends a shutdown at once, as if the drain timeout had passed: calls are
 * cancelled with UNAVAILABLE and connections closed. Starts the shutdown
 * first when none is under way (then without a `done` hook). */
void gs_server_stop_now(gs_server *server);

bool gs_server_draining(const gs_server *server);

/* Frees the server. Call only after `done` of gs_server_shutdown ran or when
 * gs_server_listen was never called. */
void gs_server_free(gs_server *server);

/* Counters, for logs and tests. */
typedef struct {
  uint64_t connections_accepted;
  uint64_t calls_started;
  unsigned connections_open;
  unsigned calls_open;
} gs_server_stats;

void gs_server_get_stats(const gs_server *server, gs_server_stats *out);

/* ---- calls --------------------------------------------------------------- */

/* Queues one response message. Returns 0 when queued and the call's output
 * is below its high-water mark, 1 when queued but above it (a streaming
 * handler should wait for the writable hook before sending more),
 * GS_ECANCELED when the call has ended (the message is dropped), GS_ERANGE
 * when the encoded message exceeds the size limit, GS_EINVAL for a second
 * message on a unary call. `msg` is borrowed. */
int gs_call_send(gs_call *call, const ProtobufCMessage *msg);

/* Queues one response message already encoded as protobuf (`len` bytes at
 * `data`, borrowed; the gRPC prefix is added here). Same returns as
 * gs_call_send. For handlers that answer from a cache of encoded replies. */
int gs_call_send_packed(gs_call *call, const uint8_t *data, size_t len);

/* Ends the call with `code` and `message` (borrowed; may be NULL; never put a
 * secret in it). Releases the handler's hold on the call: `call` must not be
 * used afterwards. On a cancelled call the status is not sent. */
void gs_call_finish(gs_call *call, gs_status code, const char *message);

/* gs_call_send then gs_call_finish(OK). */
void gs_call_reply(gs_call *call, const ProtobufCMessage *msg);

/* gs_call_finish with a printf-formatted message. */
void gs_call_finishf(gs_call *call, gs_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets a hook run once if the call ends before the handler finished it: the
 * client cancelled or disconnected, the deadline passed, or the server's
 * drain timed out. The hook must stop the handler's work and call
 * gs_call_finish (now or later). */
void gs_call_on_cancel(gs_call *call, void (*cb)(gs_call *call, void *data),
                       void *data);

/* Sets a hook run when output drops below the high-water mark. */
void gs_call_on_writable(gs_call *call, void (*cb)(gs_call *call, void *data),
                         void *data);

bool gs_call_cancelled(const gs_call *call);

/* "c3/s5": connection and stream number, for log lines. Owned by the call. */
const char *gs_call_id(const gs_call *call);

/* Milliseconds left before the deadline; UINT64_MAX when there is none. */
uint64_t gs_call_remaining_ms(const gs_call *call);

uv_loop_t *gs_call_loop(const gs_call *call);

#endif
