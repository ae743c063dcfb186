/* The listener: accepts connections, finds methods, drains on shutdown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitspace/error.h"
#include "gitspace/log.h"
#include "server_int.h"
#include "socket.h"

int gs_server_new(uv_loop_t *loop, const gs_server_options *opts,
                  gs_server **out) {
  gs_server *s;
  int rv = GS_ENOMEM;

  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    return GS_ENOMEM;
  }
  s->loop = loop;
  s->opts = *opts;
  s->next_conn_id = 1;
  s->socket_path = strdup(opts->socket_path);
  if (s->socket_path == NULL) {
    goto fail;
  }
  s->opts.socket_path = s->socket_path;
  if (opts->socket_group != NULL) {
    s->socket_group = strdup(opts->socket_group);
    if (s->socket_group == NULL) {
      goto fail;
    }
    s->opts.socket_group = s->socket_group;
  }
  if (nghttp2_session_callbacks_new(&s->callbacks) != 0) {
    goto fail;
  }
  gs_conn_setup_callbacks(s->callbacks);
  if (nghttp2_option_new(&s->h2_options) != 0) {
    goto fail;
  }
  /* Our own SETTINGS go first; the client's preface is checked. */
  nghttp2_option_set_no_recv_client_magic(s->h2_options, 0);
  nghttp2_option_set_max_send_header_block_length(s->h2_options,
                                                  (size_t)64 * 1024);
  *out = s;
  return 0;

fail:
  gs_server_free(s);
  return rv;
}

int gs_server_check_socket_path(const char *path) {
  size_t len = strlen(path);

  if (len == 0 || len > 107) {
    return GS_EINVAL;
  }
  for (size_t i = 0; i < len; i++) {
    if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f) {
      return GS_EINVAL;
    }
  }
  return 0;
}

int gs_server_check_group(const char *group) {
  unsigned gid;

  return gs_socket_group_id(group, &gid);
}

int gs_server_add_service(gs_server *server, const gs_service *svc) {
  if (server->n_services == GS_MAX_SERVICES) {
    return GS_ERANGE;
  }
  server->services[server->n_services++] = svc;
  return 0;
}

const gs_method *gs_server_find_method(const gs_server *server,
                                       const char *path,
                                       const gs_service **svc_out) {
  const char *slash;
  size_t svc_len;

  if (path[0] != '/') {
    return NULL;
  }
  path++;
  slash = strchr(path, '/');
  if (slash == NULL) {
    return NULL;
  }
  svc_len = (size_t)(slash - path);
  for (size_t i = 0; i < server->n_services; i++) {
    const gs_service *svc = server->services[i];

    if (strlen(svc->name) != svc_len || memcmp(svc->name, path, svc_len) != 0) {
      continue;
    }
    for (size_t m = 0; m < svc->n_methods; m++) {
      if (strcmp(svc->methods[m].name, slash + 1) == 0) {
        *svc_out = svc;
        return &svc->methods[m];
      }
    }
    return NULL;
  }
  return NULL;
}

static void server_maybe_finish(gs_server *server);

static void server_handle_closed(uv_handle_t *handle) {
  gs_server *server = handle->data;

  server->handles_open--;
  server_maybe_finish(server);
}

static void server_on_connection(uv_stream_t *listener, int status) {
  gs_server *server = listener->data;
  gs_conn *conn;
  int rv;

  if (status < 0) {
    GS_WARN("-", "accept -> %s", uv_strerror(status));
    return;
  }
  rv = gs_conn_new(server, &conn);
  if (rv != 0) {
    GS_ERROR("-", "accept -> %s", gs_strerror(rv));
    return;
  }
  if (uv_accept(listener, (uv_stream_t *)&conn->pipe) != 0) {
    gs_conn_close(conn);
    return;
  }
  server->stats.connections_accepted++;
  if (server->stats.connections_open > server->opts.max_connections) {
    GS_WARN(conn->id, "accept -> refused: %u connections is the limit",
            server->opts.max_connections);
    gs_conn_close(conn);
    return;
  }
  if (gs_conn_start(conn) != 0) {
    gs_conn_close(conn);
  }
}

static void server_flush_dirty(uv_prepare_t *prepare) {
  gs_server *server = prepare->data;

  for (gs_conn *c = server->conns; c != NULL;) {
    gs_conn *next = c->next;

    if (c->dirty) {
      gs_conn_flush(c);
    }
    c = next;
  }
  uv_prepare_stop(prepare);
}

void gs_server_mark_dirty(gs_server *server, gs_conn *conn) {
  conn->dirty = true;
  if (!uv_is_active((uv_handle_t *)&server->flusher)) {
    uv_prepare_start(&server->flusher, server_flush_dirty);
  }
}

/* Notes which file is ours, so that shutdown removes only that one and
 * not a socket another daemon has since created at the same path. */
static void server_remember_socket(gs_server *server, int fd) {
  struct stat st;

  (void)fd;
  if (stat(server->socket_path, &st) == 0) {
    server->have_socket_id = true;
    server->socket_dev = (uint64_t)st.st_dev;
    server->socket_ino = (uint64_t)st.st_ino;
  }
}

static void server_unlink_socket(gs_server *server) {
  struct stat st;

  if (lstat(server->socket_path, &st) != 0) {
    return;
  }
  if (server->have_socket_id && ((uint64_t)st.st_dev != server->socket_dev ||
                                 (uint64_t)st.st_ino != server->socket_ino)) {
    GS_WARN("-", "shutdown -> %s is no longer our socket; left in place",
            server->socket_path);
    return;
  }
  unlink(server->socket_path);
}

int gs_server_listen(gs_server *server, char *err, size_t errlen) {
  int fd = -1;
  int rv;

  rv = gs_socket_bind(server->socket_path, server->opts.socket_mode,
                      server->socket_group, &fd, err, errlen);
  if (rv != 0) {
    return rv;
  }
  server_remember_socket(server, fd);
  uv_pipe_init(server->loop, &server->listener, 0);
  server->listener.data = server;
  server->handles_open++;
  rv = uv_pipe_open(&server->listener, fd);
  if (rv == 0) {
    rv = uv_listen((uv_stream_t *)&server->listener, 511, server_on_connection);
  }
  if (rv != 0) {
    snprintf(err, errlen, "socket %s: %s", server->socket_path,
             uv_strerror(rv));
    unlink(server->socket_path);
    uv_close((uv_handle_t *)&server->listener, server_handle_closed);
    return GS_EIO;
  }
  uv_prepare_init(server->loop, &server->flusher);
  server->flusher.data = server;
  uv_unref((uv_handle_t *)&server->flusher);
  server->handles_open++;
  uv_timer_init(server->loop, &server->drain_timer);
  server->drain_timer.data = server;
  server->handles_open++;
  server->listening = true;
  return 0;
}

bool gs_server_draining(const gs_server *server) {
  return server->draining;
}

void gs_server_get_stats(const gs_server *server, gs_server_stats *out) {
  *out = server->stats;
}

/* Ends whatever is still running once the drain timeout has passed. */
static void server_drain_expired(uv_timer_t *timer) {
  gs_server *server = timer->data;

  server->drain_stage++;
  if (server->drain_stage == 1) {
    GS_WARN("-", "drain -> timed out with %u calls open; cancelling them",
            server->stats.calls_open);
    for (gs_conn *c = server->conns; c != NULL; c = c->next) {
      for (gs_call *call = c->calls; call != NULL;) {
        gs_call *next = call->next;

        gs_call_abort(call, GS_STATUS_UNAVAILABLE, "server shutting down");
        call = next;
      }
      c->close_when_flushed = true;
      gs_server_mark_dirty(server, c);
    }
    /* Give the last frames a moment to leave, then close regardless. */
    uv_timer_start(timer, server_drain_expired, 1000, 0);
    return;
  }
  for (gs_conn *c = server->conns; c != NULL;) {
    gs_conn *next = c->next;

    gs_conn_close(c);
    c = next;
  }
}

/* Runs `done` once every connection and handle has closed. */
static void server_maybe_finish(gs_server *server) {
  if (!server->draining || server->conns != NULL) {
    return;
  }
  if (!server->closing_handles) {
    server->closing_handles = true;
    uv_timer_stop(&server->drain_timer);
    uv_close((uv_handle_t *)&server->drain_timer, server_handle_closed);
    uv_close((uv_handle_t *)&server->flusher, server_handle_closed);
  }
  if (server->handles_open == 0 && server->done != NULL) {
    void (*done)(void *) = server->done;

    server->done = NULL;
    GS_INFO("-", "shutdown -> complete");
    done(server->done_data);
  }
}

void gs_server_conn_closed(gs_server *server, gs_conn *conn) {
  if (conn != NULL) {
    if (conn->prev != NULL) {
      conn->prev->next = conn->next;
    } else {
      server->conns = conn->next;
    }
    if (conn->next != NULL) {
      conn->next->prev = conn->prev;
    }
    server->stats.connections_open--;
  }
  server_maybe_finish(server);
}

void gs_server_shutdown(gs_server *server, void (*done)(void *data),
                        void *data) {
  if (server->draining) {
    return;
  }
  server->draining = true;
  server->done = done;
  server->done_data = data;
  GS_INFO("-", "shutdown -> draining %u connections, %u calls (up to %u ms)",
          server->stats.connections_open, server->stats.calls_open,
          server->opts.drain_timeout_ms);
  if (!server->listening) {
    if (done != NULL) {
      server->done = NULL;
      done(data);
    }
    return;
  }
  /* Unlink before closing, so no client connects to a dying socket. */
  server_unlink_socket(server);
  uv_close((uv_handle_t *)&server->listener, server_handle_closed);
  for (size_t i = 0; i < server->n_services; i++) {
    if (server->services[i]->on_drain != NULL) {
      server->services[i]->on_drain(server->services[i]->data);
    }
  }
  for (gs_conn *c = server->conns; c != NULL; c = c->next) {
    gs_conn_goaway(c);
  }
  uv_timer_start(&server->drain_timer, server_drain_expired,
                 server->opts.drain_timeout_ms, 0);
  server_maybe_finish(server);
}

void gs_server_stop_now(gs_server *server) {
  if (!server->draining) {
    gs_server_shutdown(server, server->done, server->done_data);
  }
  if (!server->listening || server->closing_handles) {
    return;
  }
  GS_WARN("-", "shutdown -> closing every connection now, %u calls open",
          server->stats.calls_open);
  uv_timer_stop(&server->drain_timer);
  server->drain_stage = 1;
  server_drain_expired(&server->drain_timer);
}

void gs_server_free(gs_server *server) {
  if (server == NULL) {
    return;
  }
  if (server->callbacks != NULL) {
    nghttp2_session_callbacks_del(server->callbacks);
  }
  if (server->h2_options != NULL) {
    nghttp2_option_del(server->h2_options);
  }
  free(server->socket_path);
  free(server->socket_group);
  free(server);
}
