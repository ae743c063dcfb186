/* Daemon configuration: defaults, a YAML file, environment overrides. */
#ifndef GITSPACE_CONFIG_H
#define GITSPACE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gitspace/ide.h"
#include "gitspace/log.h"

#define GS_DEFAULT_SOCKET_PATH "/run/gitspace-orchestrator/orchestrator.sock"
#define GS_DEFAULT_REGISTRY "ghcr.io/ysicing/gitspace-runtime"
#define GS_DEFAULT_BASE_IMAGE                                                  \
  "mcr.microsoft.com/devcontainers/base:dev-ubuntu-24.04"

#define GS_CONFIG_LIST_MAX 64 /* items of a gs_config_strings, at most */

/* A list of strings, owned by the config like every other string. When
 * n > 0, items[0] .. items[n - 1] are set and items[n] is NULL, so `items`
 * can be passed where a NULL-terminated array is wanted; an empty list has
 * items == NULL and n == 0. */
typedef struct gs_config_strings {
  char **items;
  size_t n;
} gs_config_strings;

/* Every string is owned by the config and freed by gs_config_free. */
typedef struct gs_config {
  struct {
    char *path;    /* socket file */
    unsigned mode; /* permission bits, default 0660 */
    char *group;   /* group name or numeric gid; NULL: unchanged */
  } socket;
  struct {
    size_t max_message_bytes;        /* default 4 MiB, both directions */
    unsigned max_connections;        /* default 1024 */
    unsigned max_concurrent_streams; /* per connection, default 256 */
    size_t max_header_list_bytes;    /* default 16 KiB */
    /* Bytes of unfinished request messages held per connection and in
     * all; a message that would pass either is refused (default 16 MiB,
     * 256 MiB). */
    size_t max_pending_bytes_per_connection;
    size_t max_pending_bytes;
    unsigned handshake_timeout_ms; /* preface and SETTINGS; default 10 s */
    unsigned idle_timeout_ms;      /* no call open; 0 (default): never */
    unsigned drain_timeout_ms;     /* default 10000 */
  } limits;
  struct {
    gs_log_level level;   /* default info */
    gs_log_format format; /* default text */
  } log;
  struct {
    bool enabled;     /* default true */
    char *registry;   /* default GS_DEFAULT_REGISTRY */
    char *base_image; /* default GS_DEFAULT_BASE_IMAGE */
    bool verify;      /* ask the registry; default true */
    /* Repositories ("ghcr.io/acme/runtime") whose images also count as
     * prebuilt, besides `registry`; default empty. */
    gs_config_strings extra_repositories;
    /* When the registry's answer is indefinite (unreachable, timed out,
     * rate-limited): true falls back to `base_image`, false keeps the
     * prebuilt image; default false. */
    bool fallback_on_indefinite;
    /* Per IDE: a bare tag joined to `registry`, or a full reference. */
    char *catalog[GS_IDE_COUNT];
  } prebuilt;
  struct {
    unsigned timeout_ms; /* one lookup, tokens included; default 5000 */
    /* Docker config.json with credentials; the file holds secrets, its
     * path does not. NULL (default): anonymous only. */
    char *auth_file;
    char *ca_file; /* PEM bundle; NULL (default): the system's */
    /* Hosts ("host" or "host:port") reached over plain HTTP; default
     * empty. */
    gs_config_strings insecure_hosts;
    unsigned cache_ttl_ms;          /* found answers; default 600000 */
    unsigned negative_cache_ttl_ms; /* definite "no" answers; default 30000 */
  } registry;
} gs_config;

/* Fills `cfg` with the defaults. Returns 0 or GS_ENOMEM; on error `cfg` is
 * left freeable. */
int gs_config_init(gs_config *cfg);

/* Reads the YAML file at `path` over the values in `cfg`. On error returns
 * GS_EINVAL (or GS_ENOENT, GS_EPERM, GS_EIO, GS_ENOMEM), leaves `cfg` as it
 * was, and writes a message naming the file, line and key into `err`
 * (`errlen` bytes, always terminated; `err` may be NULL). */
int gs_config_load_file(gs_config *cfg, const char *path, char *err,
                        size_t errlen);

/* Same, from a buffer; `name` is used in messages. Buffers are borrowed. */
int gs_config_load_string(gs_config *cfg, const char *name, const char *yaml,
                          size_t len, char *err, size_t errlen);

/* Applies environment overrides from `envp` (NULL-terminated "K=V" array,
 * borrowed; pass `environ` in the daemon). The plan's variables
 * (GITSPACE_PREBUILT_IMAGES_ENABLED, _REGISTRY, GITSPACE_PREBUILT_IMAGE_VSCODE,
 * _CURSOR, _WINDSURF, _JETBRAINS) apply first, then
 * GITSPACE_ORCHESTRATOR_<SECTION>_<KEY> variables, which win; an unknown
 * GITSPACE_ORCHESTRATOR_* variable is an error. A list is written as
 * comma-separated items, each trimmed of spaces; an empty value is the
 * empty list, and replaces the file's list. Returns 0, GS_EINVAL or
 * GS_ENOMEM; on error `cfg` is unchanged and `err` names the variable. */
int gs_config_apply_env(gs_config *cfg, char *const *envp, char *err,
                        size_t errlen);

/* Writes the effective config as YAML to `out`, secrets masked. */
void gs_config_print(const gs_config *cfg, FILE *out);

/* Frees every string of `cfg`; `cfg` itself belongs to the caller. */
void gs_config_free(gs_config *cfg);

#endif
