/* gitspace-orchestratord: options, config, services, signals, the loop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitspace/config.h"
#include "gitspace/daemon.h"
#include "gitspace/error.h"
#include "gitspace/health.h"
#include "gitspace/http.h"
#include "gitspace/log.h"
#include "gitspace/orchestrator.h"

#define DAEMON_DEFAULT_CONFIG "/etc/gitspace-orchestrator/config.yaml"

extern char **environ;

typedef struct {
  const char *config_path;
  const char *socket_path;
  const char *log_format;
  const char *log_level;
  int check_config;
  int version;
  int help;
} daemon_options;

typedef struct {
  uv_loop_t loop;
  uv_signal_t sigterm;
  uv_signal_t sigint;
  uv_signal_t sighup;
  gs_server *server;
  gs_health *health;
  gs_orchestrator *orch;
  gs_http *http;
  gs_registry *registry;
} daemon_state;

static void daemon_usage(FILE *out) {
  fputs("Usage: gitspace-orchestratord [OPTION]...\n"
        "Serve the gitspace Orchestrator over gRPC on a Unix socket.\n"
        "\n"
        "  -c, --config FILE      read FILE (default, when it exists:\n"
        "                         " DAEMON_DEFAULT_CONFIG ")\n"
        "  -s, --socket PATH      listen on PATH (overrides the config)\n"
        "      --log-format FMT   text or json (overrides the config)\n"
        "      --log-level LEVEL  debug, info, warn, error or off\n"
        "      --check-config     validate the config, print the effective\n"
        "                         values (secrets masked) and exit\n"
        "  -V, --version          print the version and exit\n"
        "  -h, --help             print this help and exit\n"
        "\n"
        "Environment variables override the file; see the README.\n"
        "Exit status: 0 after a clean shutdown, 1 on a runtime error,\n"
        "2 on a usage or configuration error.\n",
        out);
}

static int daemon_parse_args(int argc, char **argv, daemon_options *o) {
  enum { OPT_LOG_FORMAT = 256, OPT_LOG_LEVEL, OPT_CHECK };
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'c'},
      {"socket", required_argument, NULL, 's'},
      {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
      {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
      {"check-config", no_argument, NULL, OPT_CHECK},
      {"version", no_argument, NULL, 'V'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;

  optind = 1;
  while ((c = getopt_long(argc, argv, "c:s:Vh", longopts, NULL)) != -1) {
    switch (c) {
    case 'c':
      o->config_path = optarg;
      break;
    case 's':
      o->socket_path = optarg;
      break;
    case OPT_LOG_FORMAT:
      o->log_format = optarg;
      break;
    case OPT_LOG_LEVEL:
      o->log_level = optarg;
      break;
    case OPT_CHECK:
      o->check_config = 1;
      break;
    case 'V':
      o->version = 1;
      break;
    case 'h':
      o->help = 1;
      break;
    default:
      return GS_EINVAL;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "gitspace-orchestratord: unexpected argument '%s'\n",
            argv[optind]);
    return GS_EINVAL;
  }
  return 0;
}

/* Applies the command line over the file and the environment. */
static int daemon_apply_args(gs_config *cfg, const daemon_options *o) {
  if (o->socket_path != NULL) {
    char *p;

    if (gs_server_check_socket_path(o->socket_path) != 0) {
      fprintf(stderr,
              "gitspace-orchestratord: --socket: expected a path of 1 to "
              "107 bytes without control characters\n");
      return GS_EINVAL;
    }
    p = strdup(o->socket_path);
    if (p == NULL) {
      return GS_ENOMEM;
    }
    free(cfg->socket.path);
    cfg->socket.path = p;
  }
  if (o->log_format != NULL &&
      gs_log_format_parse(o->log_format, &cfg->log.format) != 0) {
    fprintf(stderr,
            "gitspace-orchestratord: --log-format: expected text or "
            "json, got \"%s\"\n",
            o->log_format);
    return GS_EINVAL;
  }
  if (o->log_level != NULL &&
      gs_log_level_parse(o->log_level, &cfg->log.level) != 0) {
    fprintf(stderr,
            "gitspace-orchestratord: --log-level: expected debug, "
            "info, warn, error or off, got \"%s\"\n",
            o->log_level);
    return GS_EINVAL;
  }
  return 0;
}

static int daemon_load_config(gs_config *cfg, const daemon_options *o) {
  const char *path = o->config_path;
  char err[512];
  int rv;

  rv = gs_config_init(cfg);
  if (rv != 0) {
    return rv;
  }
  if (path == NULL && access(DAEMON_DEFAULT_CONFIG, F_OK) == 0) {
    path = DAEMON_DEFAULT_CONFIG;
  }
  if (path != NULL) {
    rv = gs_config_load_file(cfg, path, err, sizeof(err));
    if (rv != 0) {
      fprintf(stderr, "gitspace-orchestratord: %s\n", err);
      return rv;
    }
  }
  rv = gs_config_apply_env(cfg, environ, err, sizeof(err));
  if (rv != 0) {
    fprintf(stderr, "gitspace-orchestratord: %s\n", err);
    return rv;
  }
  return daemon_apply_args(cfg, o);
}

static void daemon_handle_closed(uv_handle_t *handle) {
  (void)handle;
}

static void daemon_release_clients(daemon_state *st);

static void daemon_shutdown_done(void *data) {
  daemon_state *st = data;

  daemon_release_clients(st);
  uv_close((uv_handle_t *)&st->sigterm, daemon_handle_closed);
  uv_close((uv_handle_t *)&st->sigint, daemon_handle_closed);
  uv_close((uv_handle_t *)&st->sighup, daemon_handle_closed);
}

static void daemon_on_signal(uv_signal_t *sig, int signum) {
  daemon_state *st = sig->data;

  if (signum == SIGHUP) {
    GS_WARN("-",
            "signal %s -> ignored: the config is read at start only; "
            "restart the daemon to apply changes",
            strsignal(signum));
    return;
  }
  if (gs_server_draining(st->server)) {
    GS_WARN("-", "signal %s -> second signal, stopping now", strsignal(signum));
    gs_server_stop_now(st->server);
    return;
  }
  GS_INFO("-", "signal %s -> shutting down", strsignal(signum));
  gs_server_shutdown(st->server, daemon_shutdown_done, st);
}

static int daemon_add_services(gs_server *server, gs_health *health,
                               gs_orchestrator *orch,
                               const gs_service *const *extra, size_t n_extra) {
  int rv = gs_server_add_service(server, gs_health_service(health));

  if (rv == 0) {
    rv = gs_server_add_service(server, gs_orchestrator_service(orch));
  }
  for (size_t i = 0; rv == 0 && i < n_extra; i++) {
    rv = gs_server_add_service(server, extra[i]);
  }
  return rv;
}

static void daemon_server_options(const gs_config *cfg, gs_server_options *o) {
  memset(o, 0, sizeof(*o));
  o->socket_path = cfg->socket.path;
  o->socket_mode = cfg->socket.mode;
  o->socket_group = cfg->socket.group;
  o->max_message_bytes = cfg->limits.max_message_bytes;
  o->max_connections = cfg->limits.max_connections;
  o->max_concurrent_streams = cfg->limits.max_concurrent_streams;
  o->max_header_list_bytes = cfg->limits.max_header_list_bytes;
  o->max_pending_bytes_per_connection =
      cfg->limits.max_pending_bytes_per_connection;
  o->max_pending_bytes = cfg->limits.max_pending_bytes;
  o->handshake_timeout_ms = cfg->limits.handshake_timeout_ms;
  o->idle_timeout_ms = cfg->limits.idle_timeout_ms;
  o->drain_timeout_ms = cfg->limits.drain_timeout_ms;
}

/* Builds the registry client from the config's registry section. */
static int daemon_registry_new(daemon_state *st, const gs_config *cfg,
                               char *err, size_t errlen) {
  const gs_config_strings *hosts = &cfg->registry.insecure_hosts;
  const char *list[GS_CONFIG_LIST_MAX + 1];
  gs_registry_options ro;
  int rv;

  memset(&ro, 0, sizeof(ro));
  for (size_t i = 0; i < hosts->n && i < GS_CONFIG_LIST_MAX; i++) {
    list[i] = hosts->items[i];
    list[i + 1] = NULL;
  }
  ro.insecure_hosts = hosts->n > 0 ? list : NULL;
  ro.auth_file = cfg->registry.auth_file;
  ro.ca_file = cfg->registry.ca_file;
  ro.timeout_ms = cfg->registry.timeout_ms;
  ro.positive_ttl_ms = cfg->registry.cache_ttl_ms;
  ro.negative_ttl_ms = cfg->registry.negative_cache_ttl_ms;
  rv = gs_http_new(&st->loop, &st->http);
  if (rv != 0) {
    snprintf(err, errlen, "http client: %s", gs_strerror(rv));
    return rv;
  }
  return gs_registry_new(&st->loop, st->http, &ro, &st->registry, err, errlen);
}

static int daemon_start(daemon_state *st, const gs_config *cfg,
                        const gs_service *const *extra, size_t n_extra,
                        char *err, size_t errlen) {
  gs_server_options so;
  int rv;

  daemon_server_options(cfg, &so);
  rv = daemon_registry_new(st, cfg, err, errlen);
  if (rv == 0) {
    rv = gs_orchestrator_new(cfg, st->registry, &st->orch, err, errlen);
  }
  if (rv != 0) {
    return rv;
  }
  rv = gs_server_new(&st->loop, &so, &st->server);
  if (rv == 0) {
    rv = gs_health_new(st->server, &st->health);
  }
  if (rv == 0) {
    rv = daemon_add_services(st->server, st->health, st->orch, extra, n_extra);
  }
  if (rv != 0) {
    snprintf(err, errlen, "%s", gs_strerror(rv));
  }
  return rv;
}

/* Frees what the loop no longer uses; the loop runs once more after this to
 * let close callbacks finish. */
static void daemon_release_clients(daemon_state *st) {
  if (st->registry != NULL) {
    gs_registry_free(st->registry);
    st->registry = NULL;
  }
  if (st->http != NULL) {
    gs_http_close(st->http, NULL, NULL);
    st->http = NULL;
  }
}

/* Runs the loop until a clean shutdown. Returns the exit code. */
static int daemon_serve(const gs_config *cfg, const gs_service *const *extra,
                        size_t n_extra) {
  daemon_state st;
  char err[512];
  int code = 1;
  int rv;

  memset(&st, 0, sizeof(st));
  uv_loop_init(&st.loop);
  rv = daemon_start(&st, cfg, extra, n_extra, err, sizeof(err));
  if (rv != 0) {
    GS_ERROR("-", "start -> %s", err);
    code = rv == GS_EINVAL ? 2 : 1;
    goto out;
  }
  rv = gs_server_listen(st.server, err, sizeof(err));
  if (rv != 0) {
    GS_ERROR("-", "listen -> %s", err);
    goto out;
  }
  uv_signal_init(&st.loop, &st.sigterm);
  uv_signal_init(&st.loop, &st.sigint);
  st.sigterm.data = &st;
  st.sigint.data = &st;
  uv_signal_start(&st.sigterm, daemon_on_signal, SIGTERM);
  uv_signal_start(&st.sigint, daemon_on_signal, SIGINT);
  uv_signal_init(&st.loop, &st.sighup);
  st.sighup.data = &st;
  uv_signal_start(&st.sighup, daemon_on_signal, SIGHUP);
  GS_INFO("-", "start -> serving on %s (version %s, pid %ld)", cfg->socket.path,
          GS_VERSION, (long)getpid());
  uv_run(&st.loop, UV_RUN_DEFAULT);
  code = 0;

out:
  daemon_release_clients(&st);
  /* Let every close callback run before the loop is torn down. */
  uv_run(&st.loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&st.loop) != 0) {
    GS_ERROR("-", "exit -> event loop still has open handles");
    code = 1;
  }
  gs_orchestrator_free(st.orch);
  gs_health_free(st.health);
  gs_server_free(st.server);
  return code;
}

/* Checks what only the services can check: the socket's group exists and
 * the catalog's images parse. */
static int daemon_check_services(const gs_config *cfg) {
  gs_orchestrator *orch = NULL;
  char err[512];
  int rv;

  if (cfg->socket.group != NULL &&
      gs_server_check_group(cfg->socket.group) != 0) {
    fprintf(stderr,
            "gitspace-orchestratord: socket.group: no group \"%s\" "
            "on this system\n",
            cfg->socket.group);
    return GS_EINVAL;
  }
  rv = gs_orchestrator_new(cfg, NULL, &orch, err, sizeof(err));
  if (rv != 0) {
    fprintf(stderr, "gitspace-orchestratord: %s\n", err);
    return rv;
  }
  gs_orchestrator_free(orch);
  return 0;
}

int gs_daemon_main(int argc, char **argv, const gs_service *const *extra,
                   size_t n_extra) {
  daemon_options opts;
  gs_config cfg;
  int code;

  memset(&opts, 0, sizeof(opts));
  if (daemon_parse_args(argc, argv, &opts) != 0) {
    daemon_usage(stderr);
    return 2;
  }
  if (opts.help) {
    daemon_usage(stdout);
    return 0;
  }
  if (opts.version) {
    printf("gitspace-orchestratord %s\n", GS_VERSION);
    return 0;
  }
  if (daemon_load_config(&cfg, &opts) != 0) {
    gs_config_free(&cfg);
    return 2;
  }
  if (opts.check_config) {
    code = daemon_check_services(&cfg) == 0 ? 0 : 2;
    if (code == 0) {
      gs_config_print(&cfg, stdout);
    }
    gs_config_free(&cfg);
    return code;
  }
  if (daemon_check_services(&cfg) != 0) {
    gs_config_free(&cfg);
    return 2;
  }
  gs_log_setup(cfg.log.level, cfg.log.format);
  signal(SIGPIPE, SIG_IGN);
  code = daemon_serve(&cfg, extra, n_extra);
  gs_config_free(&cfg);
  return code;
}
