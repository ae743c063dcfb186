/* Unit tests for src/daemon/config.c: defaults, YAML, environment, print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitspace/config.h"
#include "gitspace/error.h"
#include "config_schema.h"

#define ERR_LEN 1024
#define REF_WITH_DIGEST                                                        \
  "ghcr.io/x/y@sha256:"                                                        \
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MAX_VARS 6

/* Prints `cfg` into a new string; the caller frees it. */
static char *print_to_string(const gs_config *cfg, const gs_config_key *schema,
                             size_t n) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);

  assert_non_null(out);
  gs_config_print_schema(cfg, schema, n, out);
  assert_int_equal(fclose(out), 0);
  return text;
}

static char *print_config(const gs_config *cfg) {
  return print_to_string(cfg, gs_config_schema, gs_config_schema_len);
}

/* The value printed for a dotted key ("limits.max_connections",
 * "prebuilt_images.catalog.goland"), copied into `buf`. */
static const char *printed(const gs_config *cfg, const char *dotted, char *buf,
                           size_t len) {
  char *text = print_config(cfg);
  char *names[3] = {"", "", ""};
  char *save = NULL;
  const char *found = NULL;

  for (char *line = strtok_r(text, "\n", &save); line != NULL && !found;
       line = strtok_r(NULL, "\n", &save)) {
    size_t level = strspn(line, " ") / 2;
    char *colon = strchr(line, ':');
    char path[256] = "";

    if (line[0] == '#' || colon == NULL || level > 2) {
      continue;
    }
    *colon = '\0';
    names[level] = line + 2 * level;
    for (size_t i = 0; i <= level; i++) {
      snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s",
               i > 0 ? "." : "", names[i]);
    }
    if (strcmp(path, dotted) == 0) {
      snprintf(buf, len, "%s", colon[1] == ' ' ? colon + 2 : colon + 1);
      found = buf;
    }
  }
  free(text);
  assert_non_null(found);
  return found;
}

static void assert_printed(const gs_config *cfg, const char *dotted,
                           const char *want) {
  char buf[1024];

  print_message("%s == %s\n", dotted, want);
  assert_string_equal(printed(cfg, dotted, buf, sizeof(buf)), want);
}

static int load(gs_config *cfg, const char *yaml, char *err) {
  assert_int_equal(gs_config_init(cfg), 0);
  return gs_config_load_string(cfg, "config.yaml", yaml, strlen(yaml), err,
                               ERR_LEN);
}

static void test_gs_config_init_defaults(void **state) {
  gs_config cfg;

  (void)state;
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_string_equal(cfg.socket.path, GS_DEFAULT_SOCKET_PATH);
  assert_int_equal(cfg.socket.mode, 0660);
  assert_null(cfg.socket.group);
  assert_int_equal(cfg.limits.max_message_bytes, 4 * 1024 * 1024);
  assert_int_equal(cfg.limits.max_connections, 1024);
  assert_int_equal(cfg.limits.max_concurrent_streams, 256);
  assert_int_equal(cfg.limits.max_header_list_bytes, 16 * 1024);
  assert_int_equal(cfg.limits.max_pending_bytes_per_connection,
                   16 * 1024 * 1024);
  assert_int_equal(cfg.limits.max_pending_bytes, 256 * 1024 * 1024);
  assert_int_equal(cfg.limits.handshake_timeout_ms, 10000);
  assert_int_equal(cfg.limits.idle_timeout_ms, 0);
  assert_int_equal(cfg.limits.drain_timeout_ms, 10000);
  assert_int_equal(cfg.log.level, GS_LOG_INFO);
  assert_int_equal(cfg.log.format, GS_LOG_TEXT);
  assert_true(cfg.prebuilt.enabled);
  assert_string_equal(cfg.prebuilt.registry, GS_DEFAULT_REGISTRY);
  assert_string_equal(cfg.prebuilt.base_image, GS_DEFAULT_BASE_IMAGE);
  assert_true(cfg.prebuilt.verify);
  assert_null(cfg.prebuilt.extra_repositories.items);
  assert_int_equal(cfg.prebuilt.extra_repositories.n, 0);
  assert_false(cfg.prebuilt.fallback_on_indefinite);
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    assert_string_equal(cfg.prebuilt.catalog[i],
                        gs_ide_get((gs_ide)i)->default_tag);
  }
  assert_int_equal(cfg.registry.timeout_ms, 5000);
  assert_null(cfg.registry.auth_file);
  assert_null(cfg.registry.ca_file);
  assert_null(cfg.registry.insecure_hosts.items);
  assert_int_equal(cfg.registry.insecure_hosts.n, 0);
  assert_int_equal(cfg.registry.cache_ttl_ms, 600000);
  assert_int_equal(cfg.registry.negative_cache_ttl_ms, 30000);
  gs_config_free(&cfg);
  gs_config_free(&cfg); /* freeing twice is harmless */
}

typedef struct {
  const char *yaml;
  const char *key;
  const char *want; /* as printed */
} good_case;

static const good_case good_cases[] = {
    {"socket:\n  path: /tmp/gs.sock\n", "socket.path", "\"/tmp/gs.sock\""},
    {"socket:\n  mode: \"0600\"\n", "socket.mode", "\"0600\""},
    {"socket:\n  mode: 0640\n", "socket.mode", "\"0640\""},
    {"socket:\n  mode: 750\n", "socket.mode", "\"0750\""},
    {"socket:\n  mode: 0o700\n", "socket.mode", "\"0700\""},
    {"socket:\n  mode: 0\n", "socket.mode", "\"0000\""},
    {"socket:\n  group: docker\n", "socket.group", "\"docker\""},
    {"socket:\n  group: 1000\n", "socket.group", "\"1000\""},
    {"socket:\n  group: ~\n", "socket.group", "null"},
    {"socket:\n  group:\n", "socket.group", "null"},
    {"socket:\n  group: \"null\"\n", "socket.group", "\"null\""},
    {"limits:\n  max_message_bytes: 8388608\n", "limits.max_message_bytes",
     "8388608"},
    {"limits:\n  max_message_bytes: 4MiB\n", "limits.max_message_bytes",
     "4194304"},
    {"limits:\n  max_message_bytes: 64 KiB\n", "limits.max_message_bytes",
     "65536"},
    {"limits:\n  max_message_bytes: 1GiB\n", "limits.max_message_bytes",
     "1073741824"},
    {"limits:\n  max_message_bytes: \"1024\"\n", "limits.max_message_bytes",
     "1024"},
    {"limits:\n  max_connections: 1\n", "limits.max_connections", "1"},
    {"limits:\n  max_connections: 65535\n", "limits.max_connections", "65535"},
    {"limits:\n  max_concurrent_streams: 100\n",
     "limits.max_concurrent_streams", "100"},
    {"limits:\n  max_header_list_bytes: 64KiB\n",
     "limits.max_header_list_bytes", "65536"},
    {"limits:\n  max_pending_bytes_per_connection: 2MiB\n",
     "limits.max_pending_bytes_per_connection", "2097152"},
    {"limits:\n  max_pending_bytes: 1GiB\n", "limits.max_pending_bytes",
     "1073741824"},
    {"limits:\n  handshake_timeout_ms: 2s\n", "limits.handshake_timeout_ms",
     "2000"},
    {"limits:\n  idle_timeout_ms: 300s\n", "limits.idle_timeout_ms", "300000"},
    {"limits:\n  drain_timeout_ms: 2500\n", "limits.drain_timeout_ms", "2500"},
    {"limits:\n  drain_timeout_ms: 250ms\n", "limits.drain_timeout_ms", "250"},
    {"limits:\n  drain_timeout_ms: 10s\n", "limits.drain_timeout_ms", "10000"},
    {"limits:\n  drain_timeout_ms: 0\n", "limits.drain_timeout_ms", "0"},
    {"log:\n  level: debug\n", "log.level", "debug"},
    {"log:\n  level: off\n", "log.level", "off"},
    {"log:\n  format: json\n", "log.format", "json"},
    {"log: {level: warn, format: json}\n", "log.level", "warn"},
    {"prebuilt_images:\n  enabled: false\n", "prebuilt_images.enabled",
     "false"},
    {"prebuilt_images:\n  enabled: no\n", "prebuilt_images.enabled", "false"},
    {"prebuilt_images:\n  enabled: Off\n", "prebuilt_images.enabled", "false"},
    {"prebuilt_images:\n  enabled: 0\n", "prebuilt_images.enabled", "false"},
    {"prebuilt_images:\n  verify: yes\n", "prebuilt_images.verify", "true"},
    {"prebuilt_images:\n  verify: ON\n", "prebuilt_images.verify", "true"},
    {"prebuilt_images:\n  verify: 1\n", "prebuilt_images.verify", "true"},
    {"prebuilt_images:\n  verify: True\n", "prebuilt_images.verify", "true"},
    {"prebuilt_images:\n  verify: no\n", "prebuilt_images.verify", "false"},
    {"prebuilt_images:\n  fallback_on_indefinite: yes\n",
     "prebuilt_images.fallback_on_indefinite", "true"},
    {"prebuilt_images:\n  fallback_on_indefinite: false\n",
     "prebuilt_images.fallback_on_indefinite", "false"},
    /* String lists: flow or block, empty, null; scalars are text. */
    {"prebuilt_images:\n  extra_repositories: [ghcr.io/a/rt, r.local:5000/b]\n",
     "prebuilt_images.extra_repositories",
     "[\"ghcr.io/a/rt\", \"r.local:5000/b\"]"},
    {"prebuilt_images:\n  extra_repositories:\n    - a.io/b\n    - c.io/d\n",
     "prebuilt_images.extra_repositories", "[\"a.io/b\", \"c.io/d\"]"},
    {"prebuilt_images:\n  extra_repositories:\n  - a.io/b\n  verify: no\n",
     "prebuilt_images.extra_repositories", "[\"a.io/b\"]"},
    {"prebuilt_images:\n  extra_repositories: []\n",
     "prebuilt_images.extra_repositories", "[]"},
    {"prebuilt_images:\n  extra_repositories: ~\n",
     "prebuilt_images.extra_repositories", "[]"},
    {"prebuilt_images:\n  extra_repositories:\n",
     "prebuilt_images.extra_repositories", "[]"},
    {"prebuilt_images:\n  extra_repositories: [a.io/b, ]\n",
     "prebuilt_images.extra_repositories", "[\"a.io/b\"]"},
    {"prebuilt_images:\n  extra_repositories: !!seq [\"x, y\", 'z]']\n",
     "prebuilt_images.extra_repositories", "[\"x, y\", \"z]\"]"},
    {"registry:\n  insecure_hosts: [localhost:5000, 10.0.0.1, 1, true, ~x]\n",
     "registry.insecure_hosts",
     "[\"localhost:5000\", \"10.0.0.1\", \"1\", \"true\", \"~x\"]"},
    {"registry:\n  insecure_hosts: [\"null\"]\n", "registry.insecure_hosts",
     "[\"null\"]"},
    {"registry:\n  insecure_hosts: []\n", "registry.insecure_hosts", "[]"},
    {"registry:\n  timeout_ms: 100ms\n", "registry.timeout_ms", "100"},
    {"registry:\n  timeout_ms: 120s\n", "registry.timeout_ms", "120000"},
    {"registry:\n  timeout_ms: 2500\n", "registry.timeout_ms", "2500"},
    {"registry:\n  auth_file: /etc/gso/auth.json\n", "registry.auth_file",
     "\"/etc/gso/auth.json\""},
    {"registry:\n  auth_file: ~\n", "registry.auth_file", "null"},
    {"registry:\n  auth_file: \"\"\n", "registry.auth_file", "null"},
    {"registry:\n  ca_file: /etc/ssl/certs/ca.pem\n", "registry.ca_file",
     "\"/etc/ssl/certs/ca.pem\""},
    {"registry:\n  ca_file:\n", "registry.ca_file", "null"},
    {"registry:\n  cache_ttl_ms: 0\n", "registry.cache_ttl_ms", "0"},
    {"registry:\n  cache_ttl_ms: 86400s\n", "registry.cache_ttl_ms",
     "86400000"},
    {"registry:\n  negative_cache_ttl_ms: 3600s\n",
     "registry.negative_cache_ttl_ms", "3600000"},
    {"registry:\n  negative_cache_ttl_ms: 0\n",
     "registry.negative_cache_ttl_ms", "0"},
    {"registry: {}\n", "registry.timeout_ms", "5000"},
    {"registry:\n", "registry.cache_ttl_ms", "600000"},
    {"prebuilt_images:\n  registry: registry.local:5000/ide\n",
     "prebuilt_images.registry", "\"registry.local:5000/ide\""},
    {"prebuilt_images:\n  base_image: ubuntu:24.04\n",
     "prebuilt_images.base_image", "\"ubuntu:24.04\""},
    {"prebuilt_images:\n  catalog:\n    vs_code_web: vscode-web-20240101\n",
     "prebuilt_images.catalog.vs_code_web", "\"vscode-web-20240101\""},
    {"prebuilt_images:\n  catalog:\n    rider: 2024.1\n",
     "prebuilt_images.catalog.rider", "\"2024.1\""},
    {"prebuilt_images:\n  catalog: {}\n", "prebuilt_images.catalog.rider",
     "\"rider-latest\""},
    {"prebuilt_images:\n  catalog:\n", "prebuilt_images.catalog.cursor",
     "\"cursor-latest\""},
    {"log:\n", "log.level", "info"},
    {"%YAML 1.1\n---\nlog: {level: error}\n...\n", "log.level", "error"},
    {"--- !!map\nlog: !!map\n  level: !!str warn\n", "log.level", "warn"},
    {"socket:\n  path: &p /run/x.sock\n", "socket.path", "\"/run/x.sock\""},
    {"socket:\n  path: \"/run/\\u00e9t\\u00e9.sock\"\n", "socket.path",
     "\"/run/\xc3\xa9t\xc3\xa9.sock\""},
    {"\xef\xbb\xbfsocket: {path: /bom}\n", "socket.path", "\"/bom\""},
    {"# a comment\nlimits: # another\n  max_connections: 7 # and one\n",
     "limits.max_connections", "7"},
};

static void test_gs_config_load_string_good_files(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
    const good_case *c = &good_cases[i];
    gs_config cfg;
    char err[ERR_LEN];

    print_message("case %zu: %s", i, c->yaml);
    assert_int_equal(load(&cfg, c->yaml, err), 0);
    assert_string_equal(err, "");
    assert_printed(&cfg, c->key, c->want);
    gs_config_free(&cfg);
  }
}

/* Everything of a file at once, checked against the struct itself. */
static void test_gs_config_load_string_full_file(void **state) {
  static const char yaml[] =
      "# gitspace-orchestratord\n"
      "socket:\n"
      "  path: /run/gso/gso.sock\n"
      "  mode: \"0600\"\n"
      "  group: gitness\n"
      "limits:\n"
      "  max_message_bytes: 8MiB\n"
      "  max_connections: 64\n"
      "  max_concurrent_streams: 32\n"
      "  max_header_list_bytes: 32KiB\n"
      "  drain_timeout_ms: 3s\n"
      "log:\n"
      "  level: warn\n"
      "  format: json\n"
      "prebuilt_images:\n"
      "  enabled: off\n"
      "  registry: registry.example.com:5000/team/runtime\n"
      "  base_image: mcr.microsoft.com/devcontainers/base:ubuntu\n"
      "  verify: off\n"
      "  extra_repositories:\n"
      "    - ghcr.io/acme/runtime\n"
      "    - registry.local:5000/ide\n"
      "  fallback_on_indefinite: true\n"
      "  catalog:\n"
      "    vs_code: vscode-v4.23.1\n"
      "    goland: ghcr.io/acme/goland@sha256:"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
      "registry:\n"
      "  timeout_ms: 2s\n"
      "  auth_file: /etc/gso/docker-config.json\n"
      "  ca_file: /etc/gso/ca.pem\n"
      "  insecure_hosts: [localhost:5000]\n"
      "  cache_ttl_ms: 60s\n"
      "  negative_cache_ttl_ms: 5s\n";
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  assert_int_equal(load(&cfg, yaml, err), 0);
  assert_string_equal(cfg.socket.path, "/run/gso/gso.sock");
  assert_int_equal(cfg.socket.mode, 0600);
  assert_string_equal(cfg.socket.group, "gitness");
  assert_int_equal(cfg.limits.max_message_bytes, 8 * 1024 * 1024);
  assert_int_equal(cfg.limits.max_connections, 64);
  assert_int_equal(cfg.limits.max_concurrent_streams, 32);
  assert_int_equal(cfg.limits.max_header_list_bytes, 32 * 1024);
  assert_int_equal(cfg.limits.drain_timeout_ms, 3000);
  assert_int_equal(cfg.log.level, GS_LOG_WARN);
  assert_int_equal(cfg.log.format, GS_LOG_JSON);
  assert_false(cfg.prebuilt.enabled);
  assert_string_equal(cfg.prebuilt.registry,
                      "registry.example.com:5000/team/runtime");
  assert_string_equal(cfg.prebuilt.base_image,
                      "mcr.microsoft.com/devcontainers/base:ubuntu");
  assert_false(cfg.prebuilt.verify);
  assert_int_equal(cfg.prebuilt.extra_repositories.n, 2);
  assert_string_equal(cfg.prebuilt.extra_repositories.items[0],
                      "ghcr.io/acme/runtime");
  assert_string_equal(cfg.prebuilt.extra_repositories.items[1],
                      "registry.local:5000/ide");
  assert_null(cfg.prebuilt.extra_repositories.items[2]);
  assert_true(cfg.prebuilt.fallback_on_indefinite);
  assert_string_equal(cfg.prebuilt.catalog[GS_IDE_VS_CODE], "vscode-v4.23.1");
  assert_string_equal(cfg.prebuilt.catalog[GS_IDE_VS_CODE_WEB],
                      "vscode-web-latest");
  assert_string_equal(
      cfg.prebuilt.catalog[GS_IDE_GOLAND],
      "ghcr.io/acme/goland@sha256:"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  assert_int_equal(cfg.registry.timeout_ms, 2000);
  assert_string_equal(cfg.registry.auth_file, "/etc/gso/docker-config.json");
  assert_string_equal(cfg.registry.ca_file, "/etc/gso/ca.pem");
  assert_int_equal(cfg.registry.insecure_hosts.n, 1);
  assert_string_equal(cfg.registry.insecure_hosts.items[0], "localhost:5000");
  assert_null(cfg.registry.insecure_hosts.items[1]);
  assert_int_equal(cfg.registry.cache_ttl_ms, 60000);
  assert_int_equal(cfg.registry.negative_cache_ttl_ms, 5000);
  gs_config_free(&cfg);
}

/* A bare tag and a full reference are both kept exactly as written; joining
 * a tag to the registry is the resolver's job. */
static void test_gs_config_load_string_catalog_kept_as_given(void **state) {
  static const char *const values[] = {
      "vscode-latest",
      "vscode-v4.23.1",
      "ghcr.io/ysicing/gitspace-runtime:cursor-latest",
      "registry.local:5000/a/b/c:tag",
      "docker.io/library/ubuntu",
      /* NOLINTNEXTLINE(bugprone-suspicious-missing-comma) */
      REF_WITH_DIGEST,
  };

  (void)state;
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    char yaml[512];
    gs_config cfg;
    char err[ERR_LEN];

    snprintf(yaml, sizeof(yaml),
             "prebuilt_images:\n  catalog:\n    windsurf: \"%s\"\n", values[i]);
    assert_int_equal(load(&cfg, yaml, err), 0);
    assert_string_equal(cfg.prebuilt.catalog[GS_IDE_WINDSURF], values[i]);
    gs_config_free(&cfg);
  }
}

static void test_gs_config_load_string_empty_inputs(void **state) {
  static const char *const empty[] = {"",
                                      "\n\n",
                                      "# only a comment\n",
                                      "# one\n# two\n   \n",
                                      "---\n",
                                      "--- # a document with nothing\n...\n",
                                      "~\n",
                                      "null\n"};
  gs_config cfg;
  gs_config defaults;
  char err[ERR_LEN];

  (void)state;
  assert_int_equal(gs_config_init(&defaults), 0);
  char *want = print_config(&defaults);
  for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
    print_message("case %zu\n", i);
    assert_int_equal(load(&cfg, empty[i], err), 0);
    char *got = print_config(&cfg);
    assert_string_equal(got, want);
    free(got);
    gs_config_free(&cfg);
  }
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_int_equal(gs_config_load_string(&cfg, NULL, NULL, 0, err, ERR_LEN), 0);
  gs_config_free(&cfg);
  free(want);
  gs_config_free(&defaults);
}

typedef struct {
  const char *yaml;
  const char *want; /* the start of the message; often all of it */
} bad_case;

static const bad_case bad_cases[] = {
    /* The example of the brief, on line 7. */
    {"# gitspace\nsocket:\n  path: /run/x.sock\n\nlimits:\n"
     "  max_message_bytes: 4MiB\n  max_connections: lots\n",
     "config.yaml:7: limits.max_connections: expected a whole number from 1 "
     "to 65535, got \"lots\""},
    /* Unknown keys. */
    {"sockets:\n  path: /x\n",
     "config.yaml:1: sockets: unknown section; expected one of socket, "
     "limits, log, prebuilt_images, registry"},
    {"socket:\n  path: /x\n  perms: 0600\n",
     "config.yaml:3: socket.perms: unknown key; expected one of path, mode, "
     "group"},
    {"limits:\n  max_conections: 5\n",
     "config.yaml:2: limits.max_conections: unknown key"},
    {"limits:\n  handshake_timeout_ms: 50\n",
     "config.yaml:2: limits.handshake_timeout_ms: expected"},
    {"limits:\n  max_pending_bytes: 10\n",
     "config.yaml:2: limits.max_pending_bytes: expected"},
    {"prebuilt_images:\n  catalog:\n    vscode: vscode-latest\n",
     "config.yaml:3: prebuilt_images.catalog.vscode: unknown IDE type; "
     "expected one of vs_code_web, vs_code, cursor, windsurf, intellij,"},
    {"prebuilt_images:\n  catalog:\n    VS_CODE: x\n",
     "config.yaml:3: prebuilt_images.catalog.VS_CODE: unknown IDE type"},
    {"\"log\\x01\": {}\n", "config.yaml:1: log\\x01: unknown section"},
    /* Wrong shapes. */
    {"socket: /run/x.sock\n",
     "config.yaml:1: socket: expected a mapping of settings, got "
     "\"/run/x.sock\""},
    {"log: [debug]\n",
     "config.yaml:1: log: expected a mapping of settings, got a sequence"},
    {"socket:\n  path:\n    nested: 1\n",
     "config.yaml:3: socket.path: expected a string of 1 to 107 bytes without "
     "control characters, got a mapping"},
    {"limits:\n  max_connections: [1, 2]\n",
     "config.yaml:2: limits.max_connections: expected a whole number from 1 "
     "to 65535, got a sequence"},
    {"prebuilt_images:\n  catalog: vscode-latest\n",
     "config.yaml:2: prebuilt_images.catalog: expected a mapping from IDE "
     "type to image tag or reference, got \"vscode-latest\""},
    {"registry: [a]\n",
     "config.yaml:1: registry: expected a mapping of settings, got a "
     "sequence"},
    {"registry:\n  auth_file: [a]\n",
     "config.yaml:2: registry.auth_file: expected a string of up to 4095 "
     "bytes without control characters, or null, got a sequence"},
    /* String lists: the value must be a sequence of scalars. */
    {"registry:\n  insecure_hosts: localhost:5000\n",
     "config.yaml:2: registry.insecure_hosts: expected a list of strings (up "
     "to 64, each of 1 to 255 bytes without control characters), got "
     "\"localhost:5000\""},
    {"registry:\n  insecure_hosts: \"\"\n",
     "config.yaml:2: registry.insecure_hosts: expected a list of strings (up "
     "to 64, each of 1 to 255 bytes without control characters), got \"\""},
    {"registry:\n  insecure_hosts: {a: b}\n",
     "config.yaml:2: registry.insecure_hosts: expected a list of strings (up "
     "to 64, each of 1 to 255 bytes without control characters), got a "
     "mapping"},
    {"prebuilt_images:\n  extra_repositories:\n    - a.io/b\n    - host: x\n",
     "config.yaml:4: prebuilt_images.extra_repositories: item 2: expected a "
     "string of 1 to 255 bytes without control characters, got a mapping"},
    {"prebuilt_images:\n  extra_repositories: [a, {b: c}]\n",
     "config.yaml:2: prebuilt_images.extra_repositories: item 2: expected a "
     "string of 1 to 255 bytes without control characters, got a mapping"},
    {"prebuilt_images:\n  extra_repositories:\n    - [a, b]\n",
     "config.yaml:3: prebuilt_images.extra_repositories: item 1: expected a "
     "string of 1 to 255 bytes without control characters, got a sequence"},
    {"prebuilt_images:\n  extra_repositories:\n    - a\n    -\n",
     "config.yaml:4: prebuilt_images.extra_repositories: item 2: expected a "
     "string of 1 to 255 bytes without control characters, got null"},
    {"registry:\n  insecure_hosts: [a, ~]\n",
     "config.yaml:2: registry.insecure_hosts: item 2: expected a string of 1 "
     "to 255 bytes without control characters, got null"},
    {"registry:\n  insecure_hosts: [a, \"\"]\n",
     "config.yaml:2: registry.insecure_hosts: item 2: expected a string of 1 "
     "to 255 bytes without control characters, got \"\""},
    {"registry:\n  insecure_hosts: [\"a\\tb\"]\n",
     "config.yaml:2: registry.insecure_hosts: item 1: expected a string of 1 "
     "to 255 bytes without control characters, got \"a\\x09b\""},
    {"registry:\n  insecure_hosts: [\"a\\0b\"]\n",
     "config.yaml:2: registry.insecure_hosts: item 1: expected a string"},
    {"registry:\n  insecure_hosts: [a, *x]\n",
     "config.yaml:2: registry.insecure_hosts: YAML aliases (*x) are not "
     "supported"},
    {"registry:\n  insecure_hosts: [!host a]\n",
     "config.yaml:2: registry.insecure_hosts: unsupported YAML tag "
     "\"!host\""},
    {"registry:\n  insecure_hosts: [a]\n  insecure_hosts: [b]\n",
     "config.yaml:3: registry.insecure_hosts: duplicate key (first on line "
     "2)"},
    {"registry:\n  insecure_hosts: [a\n", "config.yaml:3: YAML syntax error:"},
    {"prebuilt_images:\n  catalog:\n    cursor: [a]\n",
     "config.yaml:3: prebuilt_images.catalog.cursor: expected an image tag or "
     "reference of 1 to 1024 bytes without control characters, got a "
     "sequence"},
    {"- socket\n", "config.yaml:1: expected a mapping of sections at the top "
                   "level, got a sequence"},
    {"just a string\n", "config.yaml:1: expected a mapping of sections at "
                        "the top level, got a scalar"},
    {"? [a, b]\n: c\n", "config.yaml:1: expected a plain key, got a sequence"},
    {"log:\n  ? {a: 1}\n  : b\n",
     "config.yaml:2: log: expected a plain key, got a mapping"},
    /* Bad numbers, sizes, durations, modes, booleans, enums, strings. */
    {"limits:\n  max_connections: 0\n",
     "config.yaml:2: limits.max_connections: expected a whole number from 1 "
     "to 65535, got \"0\""},
    {"limits:\n  max_connections: 65536\n",
     "config.yaml:2: limits.max_connections: expected a whole number from 1 "
     "to 65535, got \"65536\""},
    {"limits:\n  max_connections: -1\n",
     "config.yaml:2: limits.max_connections: expected a whole number"},
    {"limits:\n  max_connections: 1.5\n",
     "config.yaml:2: limits.max_connections: expected a whole number"},
    {"limits:\n  max_connections: 0x10\n",
     "config.yaml:2: limits.max_connections: expected a whole number"},
    {"limits:\n  max_connections: 10KiB\n",
     "config.yaml:2: limits.max_connections: expected a whole number"},
    {"limits:\n  max_connections: 184467440737095516160\n",
     "config.yaml:2: limits.max_connections: expected a whole number"},
    {"limits:\n  max_connections:\n",
     "config.yaml:2: limits.max_connections: expected a whole number from 1 "
     "to 65535, got null"},
    {"limits:\n  max_message_bytes: 4MB\n",
     "config.yaml:2: limits.max_message_bytes: expected a size from 1 KiB to "
     "1 GiB (bytes, or a number with KiB, MiB or GiB), got \"4MB\""},
    {"limits:\n  max_message_bytes: 2GiB\n",
     "config.yaml:2: limits.max_message_bytes: expected a size from 1 KiB to "
     "1 GiB"},
    {"limits:\n  max_message_bytes: 100\n",
     "config.yaml:2: limits.max_message_bytes: expected a size"},
    {"limits:\n  max_message_bytes: 99999999999999999GiB\n",
     "config.yaml:2: limits.max_message_bytes: expected a size"},
    {"limits:\n  max_header_list_bytes: MiB\n",
     "config.yaml:2: limits.max_header_list_bytes: expected a size"},
    {"limits:\n  drain_timeout_ms: 10m\n",
     "config.yaml:2: limits.drain_timeout_ms: expected a duration from 0 to "
     "3600000 ms (milliseconds, or a number with ms or s), got \"10m\""},
    {"limits:\n  drain_timeout_ms: 2h\n",
     "config.yaml:2: limits.drain_timeout_ms: expected a duration"},
    {"limits:\n  drain_timeout_ms: 3601s\n",
     "config.yaml:2: limits.drain_timeout_ms: expected a duration"},
    {"socket:\n  mode: 0999\n",
     "config.yaml:2: socket.mode: expected an octal mode from 0000 to 0777, "
     "such as \"0660\", got \"0999\""},
    {"socket:\n  mode: 01000\n", "config.yaml:2: socket.mode: expected an "
                                 "octal mode"},
    {"socket:\n  mode: rw-rw----\n", "config.yaml:2: socket.mode: expected an "
                                     "octal mode"},
    {"socket:\n  mode: \"\"\n", "config.yaml:2: socket.mode: expected an "
                                "octal mode"},
    {"prebuilt_images:\n  enabled: maybe\n",
     "config.yaml:2: prebuilt_images.enabled: expected true or false (or "
     "yes/no, on/off, 1/0), got \"maybe\""},
    {"prebuilt_images:\n  verify: 2\n",
     "config.yaml:2: prebuilt_images.verify: expected true or false"},
    {"prebuilt_images:\n  fallback_on_indefinite: sometimes\n",
     "config.yaml:2: prebuilt_images.fallback_on_indefinite: expected true or "
     "false (or yes/no, on/off, 1/0), got \"sometimes\""},
    {"registry:\n  timeout_ms: 99\n",
     "config.yaml:2: registry.timeout_ms: expected a duration from 100 to "
     "120000 ms (milliseconds, or a number with ms or s), got \"99\""},
    {"registry:\n  timeout_ms: 121s\n",
     "config.yaml:2: registry.timeout_ms: expected a duration from 100 to "
     "120000 ms"},
    {"registry:\n  timeout_ms:\n",
     "config.yaml:2: registry.timeout_ms: expected a duration from 100 to "
     "120000 ms (milliseconds, or a number with ms or s), got null"},
    {"registry:\n  cache_ttl_ms: 86401s\n",
     "config.yaml:2: registry.cache_ttl_ms: expected a duration from 0 to "
     "86400000 ms"},
    {"registry:\n  negative_cache_ttl_ms: 3601s\n",
     "config.yaml:2: registry.negative_cache_ttl_ms: expected a duration from "
     "0 to 3600000 ms"},
    {"registry:\n  negative_cache_ttl_ms: -1\n",
     "config.yaml:2: registry.negative_cache_ttl_ms: expected a duration"},
    {"log:\n  level: verbose\n",
     "config.yaml:2: log.level: expected one of debug, info, warn, error, off, "
     "got \"verbose\""},
    {"log:\n  format: xml\n",
     "config.yaml:2: log.format: expected one of text, json, got \"xml\""},
    {"socket:\n  path: \"\"\n",
     "config.yaml:2: socket.path: expected a string of 1 to 107 bytes"},
    {"socket:\n  path: ~\n",
     "config.yaml:2: socket.path: expected a string of 1 to 107 bytes without "
     "control characters, got null"},
    {"socket:\n  path: /run/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
     "config.yaml:2: socket.path: expected a string of 1 to 107 bytes without "
     "control characters, got "
     "\"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "...\""},
    {"socket:\n  path: \"/run/a\\nb\"\n",
     "config.yaml:2: socket.path: expected a string of 1 to 107 bytes without "
     "control characters, got \"/run/a\\x0ab\""},
    {"socket:\n  path: \"/run/a\\0b\"\n",
     "config.yaml:2: socket.path: expected a string"},
    {"socket:\n  path: \"/run/\\u2028\"\n",
     "config.yaml:2: socket.path: expected a string"},
    {"prebuilt_images:\n  registry: \"\"\n",
     "config.yaml:2: prebuilt_images.registry: expected a string of 1 to 255 "
     "bytes"},
    {"prebuilt_images:\n  catalog:\n    clion: \"\"\n",
     "config.yaml:3: prebuilt_images.catalog.clion: expected an image tag or "
     "reference of 1 to 1024 bytes"},
    {"prebuilt_images:\n  catalog:\n    clion: null\n",
     "config.yaml:3: prebuilt_images.catalog.clion: expected an image tag or "
     "reference of 1 to 1024 bytes without control characters, got null"},
    /* Duplicates. */
    {"log:\n  level: info\n  level: debug\n",
     "config.yaml:3: log.level: duplicate key (first on line 2)"},
    {"log:\n  level: info\nsocket: {}\nlog:\n  format: json\n",
     "config.yaml:4: log: duplicate key (first on line 1)"},
    {"prebuilt_images:\n  catalog:\n    goland: a\n    pycharm: b\n"
     "    goland: c\n",
     "config.yaml:5: prebuilt_images.catalog.goland: duplicate key (first on "
     "line 3)"},
    {"prebuilt_images:\n  catalog: {cursor: a}\n  catalog: {cursor: b}\n",
     "config.yaml:3: prebuilt_images.catalog: duplicate key (first on line "
     "2)"},
    /* Aliases, tags, documents. */
    {"socket:\n  path: &p /run/a.sock\nprebuilt_images:\n  registry: *p\n",
     "config.yaml:4: prebuilt_images.registry: YAML aliases (*p) are not "
     "supported; write the value out"},
    {"base: &b {level: info}\nlog: *b\n",
     "config.yaml:1: base: unknown section"},
    {"log: &b {level: info}\nsocket: *b\n",
     "config.yaml:2: socket: YAML aliases (*b) are not supported"},
    {"log:\n  <<: *x\n", "config.yaml:2: log.<<: unknown key"},
    {"log:\n  level: !debug info\n",
     "config.yaml:2: log.level: unsupported YAML tag \"!debug\""},
    {"%TAG !e! tag:example.com,2000:\n---\nlog: !e!cfg {}\n",
     "config.yaml:3: log: unsupported YAML tag \"tag:example.com,2000:cfg\""},
    {"log: {}\n---\nlog: {}\n",
     "config.yaml:2: only one YAML document is allowed in a config file"},
    {"---\n---\n",
     "config.yaml:2: only one YAML document is allowed in a config file"},
    /* Syntax errors name the line too. */
    {"log:\n  level: info\n  format: json: x\n",
     "config.yaml:3: YAML syntax error: mapping values are not allowed in "
     "this context"},
    {"log:\n  level: info\n format: json\n",
     "config.yaml:3: YAML syntax error: did not find expected key (while "
     "parsing a block mapping)"},
    {"log:\n\tlevel: info\n", "config.yaml:2: YAML syntax error: found "
                              "character that cannot start any token"},
    {"socket:\n  path: \"/run/x\n", "config.yaml:3: YAML syntax error: found "
                                    "unexpected end of stream"},
    {"log: {level: info\n", "config.yaml:2: YAML syntax error:"},
    {"socket:\n  path: /ok\nlog:\n  level: \"\xc3\x28\"\n",
     "config.yaml:4: cannot read YAML: invalid trailing UTF-8 octet"},
    {"socket:\n  path: x\n  group: &\n", "config.yaml:3: YAML syntax error:"},
};

static void test_gs_config_load_string_bad_files(void **state) {
  gs_config defaults;

  (void)state;
  assert_int_equal(gs_config_init(&defaults), 0);
  char *want_print = print_config(&defaults);
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    const bad_case *c = &bad_cases[i];
    gs_config cfg;
    char err[ERR_LEN];

    print_message("case %zu: %s", i, c->yaml);
    assert_int_equal(load(&cfg, c->yaml, err), GS_EINVAL);
    print_message("  -> %s\n", err);
    if (strncmp(err, c->want, strlen(c->want)) != 0) {
      fail_msg("message\n  %s\ndoes not start with\n  %s", err, c->want);
    }
    /* A failed load leaves the config as it was. */
    char *got_print = print_config(&cfg);
    assert_string_equal(got_print, want_print);
    free(got_print);
    gs_config_free(&cfg);
  }
  free(want_print);
  gs_config_free(&defaults);
}

/* A failed load keeps earlier values, not defaults. */
static void test_gs_config_load_string_keeps_config_on_error(void **state) {
  static const char good[] = "log: {level: debug}\nsocket: {group: wheel}\n"
                             "registry: {insecure_hosts: [a, b]}\n";
  static const char bad[] = "log: {level: error}\n"
                            "registry: {insecure_hosts: [c]}\n"
                            "socket: {group: []}\n";
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  assert_int_equal(load(&cfg, good, err), 0);
  assert_int_equal(gs_config_load_string(&cfg, "second.yaml", bad, strlen(bad),
                                         err, ERR_LEN),
                   GS_EINVAL);
  assert_string_equal(err, "second.yaml:3: socket.group: expected a string "
                           "of up to 255 bytes without control characters, "
                           "or null, got a sequence");
  assert_int_equal(cfg.log.level, GS_LOG_DEBUG);
  assert_string_equal(cfg.socket.group, "wheel");
  assert_int_equal(cfg.registry.insecure_hosts.n, 2);
  assert_string_equal(cfg.registry.insecure_hosts.items[0], "a");
  assert_string_equal(cfg.registry.insecure_hosts.items[1], "b");
  assert_null(cfg.registry.insecure_hosts.items[2]);
  gs_config_free(&cfg);
}

/* The message is cut to the buffer and always terminated. */
static void test_gs_config_load_string_small_error_buffer(void **state) {
  static const char bad[] = "limits:\n  max_connections: lots\n";
  gs_config cfg;
  char err[16];

  (void)state;
  assert_int_equal(gs_config_init(&cfg), 0);
  memset(err, 'x', sizeof(err));
  assert_int_equal(gs_config_load_string(&cfg, "config.yaml", bad, strlen(bad),
                                         err, sizeof(err)),
                   GS_EINVAL);
  assert_string_equal(err, "config.yaml:2: ");
  assert_int_equal(
      gs_config_load_string(&cfg, "config.yaml", bad, strlen(bad), NULL, 0),
      GS_EINVAL);
  gs_config_free(&cfg);
}

/* Inputs a fuzzer would find: none may crash, leak or hang. */
static void test_gs_config_load_string_hostile_inputs(void **state) {
  static const struct {
    const char *text;
    size_t len;
  } seeds[] = {
#define SEED(s) {s, sizeof(s) - 1}
      SEED("a: &a [*a, *a]\n"),
      SEED("&a a: *a\n"),
      SEED("? &k log\n: {level: info}\n"),
      SEED("log: !!binary aGVsbG8=\n"),
      SEED("log: {level: !!int 3}\n"),
      SEED("!!str log: {}\n"),
      SEED("log: {level: \"\\xff\"}\n"),
      SEED("socket: {path: \"\\U0010ffff\"}\n"),
      SEED("\x00\x01\x02"),
      SEED("log: {}\x00socket: {}"),
      SEED("\xff\xfe\x00\x00"),
      SEED("\xfe\xff\x00l\x00o\x00g\x00:"),
      SEED("%YAML 9.9\n---\n{}\n"),
      SEED("%FOO bar\n--- {}\n"),
      SEED("... \n"),
      SEED("'\n"),
      SEED("log: |\n  literal\n"),
      SEED("log: >-\n  folded\n"),
#undef SEED
  };
  static const char *const openers[] = {"[", "{", "- ", "a:\n  ", "["};

  (void)state;
  for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    gs_config cfg;
    char err[ERR_LEN];

    assert_int_equal(gs_config_init(&cfg), 0);
    gs_config_load_string(&cfg, "f", seeds[i].text, seeds[i].len, err, ERR_LEN);
    assert_true(strlen(err) < ERR_LEN);
    print_message("seed %zu -> %s\n", i, err);
    gs_config_free(&cfg);
  }
  /* Deep nesting, at the top and under a known key. */
  for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++) {
    size_t depth = 20000;
    size_t step = strlen(openers[i]);
    char *yaml = malloc(depth * step + 32);
    gs_config cfg;
    char err[ERR_LEN];
    size_t at = 0;

    assert_non_null(yaml);
    at += (size_t)sprintf(yaml, "%s",
                          i == 4       ? "registry:\n  insecure_hosts: ["
                          : i % 2 == 0 ? "socket:\n  path: "
                                       : "");
    for (size_t d = 0; d < depth; d++) {
      memcpy(yaml + at, openers[i], step);
      at += step;
    }
    assert_int_equal(gs_config_init(&cfg), 0);
    assert_int_equal(
        gs_config_load_string(&cfg, "deep", yaml, at, err, ERR_LEN), GS_EINVAL);
    print_message("depth opener %zu -> %s\n", i, err);
    gs_config_free(&cfg);
    free(yaml);
  }
}

/* Every prefix of a full file: truncation anywhere is handled. */
static void test_gs_config_load_string_every_prefix(void **state) {
  static const char yaml[] =
      "socket:\n  path: \"/run/a b.sock\"\n  mode: 0600\n  group: ~\n"
      "limits: {max_message_bytes: 4MiB, drain_timeout_ms: 5s}\n"
      "log:\n  level: debug\n"
      "prebuilt_images:\n  catalog:\n    vs_code: 'x:y'\n    rider: z\n"
      "  extra_repositories:\n    - a.io/b\n    - \"c d\"\n"
      "registry: {insecure_hosts: [h1, 'h2:5000'], timeout_ms: 1s}\n";

  (void)state;
  for (size_t len = 0; len <= sizeof(yaml) - 1; len++) {
    gs_config cfg;
    char err[ERR_LEN];
    int rc = 0;

    assert_int_equal(gs_config_init(&cfg), 0);
    rc = gs_config_load_string(&cfg, "p", yaml, len, err, ERR_LEN);
    assert_true(rc == 0 || rc == GS_EINVAL);
    assert_true(rc != 0 || err[0] == '\0');
    gs_config_free(&cfg);
  }
}

static void test_gs_config_load_file_good(void **state) {
  char path[] = "/tmp/test_config_XXXXXX";
  int fd = mkstemp(path);
  static const char yaml[] = "log:\n  level: warn\n";
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  assert_true(fd >= 0);
  assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), sizeof(yaml) - 1);
  close(fd);
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_int_equal(gs_config_load_file(&cfg, path, err, ERR_LEN), 0);
  assert_int_equal(cfg.log.level, GS_LOG_WARN);
  gs_config_free(&cfg);
  unlink(path);
}

static void test_gs_config_load_file_bad_line_names_path(void **state) {
  char path[] = "/tmp/test_config_XXXXXX";
  int fd = mkstemp(path);
  static const char yaml[] = "log:\n  level: warn\n  colour: red\n";
  gs_config cfg;
  char err[ERR_LEN];
  char want[ERR_LEN];

  (void)state;
  assert_true(fd >= 0);
  assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), sizeof(yaml) - 1);
  close(fd);
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_int_equal(gs_config_load_file(&cfg, path, err, ERR_LEN), GS_EINVAL);
  snprintf(want, sizeof(want),
           "%s:3: log.colour: unknown key; expected one of level, format",
           path);
  assert_string_equal(err, want);
  gs_config_free(&cfg);
  unlink(path);
}

static void test_gs_config_load_file_missing(void **state) {
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_int_equal(
      gs_config_load_file(&cfg, "/nonexistent/gso.yaml", err, ERR_LEN),
      GS_ENOENT);
  assert_string_equal(err, "/nonexistent/gso.yaml: cannot open: No such file "
                           "or directory");
  assert_int_not_equal(gs_config_load_file(&cfg, "/", err, ERR_LEN), 0);
  assert_string_equal(cfg.socket.path, GS_DEFAULT_SOCKET_PATH);
  gs_config_free(&cfg);
}

/* A FIFO, a directory: refused at once, naming the file. The alarm ends
 * the program should the open or the read of the FIFO ever block again. */
static void test_gs_config_load_file_not_regular(void **state) {
  char dir[] = "/tmp/test_config_XXXXXX";
  char fifo[sizeof(dir) + 16];
  char want[ERR_LEN];
  char err[ERR_LEN];
  gs_config cfg;

  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_int_equal(gs_config_init(&cfg), 0);

  alarm(10);
  assert_int_equal(gs_config_load_file(&cfg, fifo, err, ERR_LEN), GS_EINVAL);
  alarm(0);
  snprintf(want, sizeof(want), "%s: not a regular file (a FIFO)", fifo);
  assert_string_equal(err, want);

  assert_int_equal(gs_config_load_file(&cfg, dir, err, ERR_LEN), GS_EINVAL);
  snprintf(want, sizeof(want), "%s: not a regular file (a directory)", dir);
  assert_string_equal(err, want);
  assert_string_equal(cfg.socket.path, GS_DEFAULT_SOCKET_PATH);

  gs_config_free(&cfg);
  assert_int_equal(unlink(fifo), 0);
  assert_int_equal(rmdir(dir), 0);
}

/* /dev/null is an empty config: the defaults stay. */
static void test_gs_config_load_file_dev_null(void **state) {
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  assert_int_equal(gs_config_init(&cfg), 0);
  cfg.log.level = GS_LOG_WARN;
  assert_int_equal(gs_config_load_file(&cfg, "/dev/null", err, ERR_LEN), 0);
  assert_int_equal(cfg.log.level, GS_LOG_WARN);
  gs_config_free(&cfg);
}

typedef struct {
  const char *env[MAX_VARS];
  const char *key;
  const char *want; /* as printed */
} env_case;

static const env_case env_cases[] = {
    {{"GITSPACE_ORCHESTRATOR_SOCKET_PATH=/tmp/e.sock"},
     "socket.path",
     "\"/tmp/e.sock\""},
    {{"GITSPACE_ORCHESTRATOR_SOCKET_MODE=0600"}, "socket.mode", "\"0600\""},
    {{"GITSPACE_ORCHESTRATOR_SOCKET_GROUP=gitness"},
     "socket.group",
     "\"gitness\""},
    {{"GITSPACE_ORCHESTRATOR_SOCKET_GROUP="}, "socket.group", "null"},
    {{"GITSPACE_ORCHESTRATOR_LIMITS_MAX_MESSAGE_BYTES=16MiB"},
     "limits.max_message_bytes",
     "16777216"},
    {{"GITSPACE_ORCHESTRATOR_LIMITS_MAX_CONNECTIONS=10"},
     "limits.max_connections",
     "10"},
    {{"GITSPACE_ORCHESTRATOR_LIMITS_MAX_CONCURRENT_STREAMS=8"},
     "limits.max_concurrent_streams",
     "8"},
    {{"GITSPACE_ORCHESTRATOR_LIMITS_MAX_HEADER_LIST_BYTES=8192"},
     "limits.max_header_list_bytes",
     "8192"},
    {{"GITSPACE_ORCHESTRATOR_LIMITS_DRAIN_TIMEOUT_MS=1s"},
     "limits.drain_timeout_ms",
     "1000"},
    {{"GITSPACE_ORCHESTRATOR_LOG_LEVEL=debug"}, "log.level", "debug"},
    {{"GITSPACE_ORCHESTRATOR_LOG_FORMAT=json"}, "log.format", "json"},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_ENABLED=no"},
     "prebuilt_images.enabled",
     "false"},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_REGISTRY=r.io/x"},
     "prebuilt_images.registry",
     "\"r.io/x\""},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_BASE_IMAGE=debian:12"},
     "prebuilt_images.base_image",
     "\"debian:12\""},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_VERIFY=on"},
     "prebuilt_images.verify",
     "true"},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_VS_CODE_WEB=web-1"},
     "prebuilt_images.catalog.vs_code_web",
     "\"web-1\""},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_VS_CODE_WEB=web-1"},
     "prebuilt_images.catalog.vs_code",
     "\"vscode-latest\""},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_RUBYMINE=r.io/rm:2"},
     "prebuilt_images.catalog.rubymine",
     "\"r.io/rm:2\""},
    {{"GITSPACE_ORCHESTRATOR_SOCKET_PATH=/a=b"}, "socket.path", "\"/a=b\""},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_FALLBACK_ON_INDEFINITE=true"},
     "prebuilt_images.fallback_on_indefinite",
     "true"},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_VERIFY=off"},
     "prebuilt_images.verify",
     "false"},
    /* Lists: comma-separated, items trimmed of spaces. */
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES=a.io/x,b.io/y"},
     "prebuilt_images.extra_repositories",
     "[\"a.io/x\", \"b.io/y\"]"},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES= a.io/x , "
      "b.io/y "},
     "prebuilt_images.extra_repositories",
     "[\"a.io/x\", \"b.io/y\"]"},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES=a.io/x"},
     "prebuilt_images.extra_repositories",
     "[\"a.io/x\"]"},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES="},
     "prebuilt_images.extra_repositories",
     "[]"},
    {{"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES=   "},
     "prebuilt_images.extra_repositories",
     "[]"},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS=localhost:5000, "
      "10.0.0.1:80,a b"},
     "registry.insecure_hosts",
     "[\"localhost:5000\", \"10.0.0.1:80\", \"a b\"]"},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS=[a, b]"},
     "registry.insecure_hosts",
     "[\"[a\", \"b]\"]"},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_TIMEOUT_MS=2s"},
     "registry.timeout_ms",
     "2000"},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_AUTH_FILE=/etc/gso/auth.json"},
     "registry.auth_file",
     "\"/etc/gso/auth.json\""},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_AUTH_FILE="},
     "registry.auth_file",
     "null"},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_CA_FILE=/etc/gso/ca.pem"},
     "registry.ca_file",
     "\"/etc/gso/ca.pem\""},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_CACHE_TTL_MS=0"},
     "registry.cache_ttl_ms",
     "0"},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_CACHE_TTL_MS=86400s"},
     "registry.cache_ttl_ms",
     "86400000"},
    {{"GITSPACE_ORCHESTRATOR_REGISTRY_NEGATIVE_CACHE_TTL_MS=1s"},
     "registry.negative_cache_ttl_ms",
     "1000"},
    /* The plan's variables. */
    {{"GITSPACE_PREBUILT_IMAGES_ENABLED=false"},
     "prebuilt_images.enabled",
     "false"},
    {{"GITSPACE_PREBUILT_IMAGES_REGISTRY=ghcr.io/acme/rt"},
     "prebuilt_images.registry",
     "\"ghcr.io/acme/rt\""},
    {{"GITSPACE_PREBUILT_IMAGE_VSCODE=vscode-v4.23.1"},
     "prebuilt_images.catalog.vs_code",
     "\"vscode-v4.23.1\""},
    {{"GITSPACE_PREBUILT_IMAGE_VSCODE=vscode-v4.23.1"},
     "prebuilt_images.catalog.vs_code_web",
     "\"vscode-v4.23.1\""},
    {{"GITSPACE_PREBUILT_IMAGE_VSCODE=vscode-v4.23.1"},
     "prebuilt_images.catalog.cursor",
     "\"cursor-latest\""},
    {{"GITSPACE_PREBUILT_IMAGE_CURSOR=cursor-0.4"},
     "prebuilt_images.catalog.cursor",
     "\"cursor-0.4\""},
    {{"GITSPACE_PREBUILT_IMAGE_WINDSURF=my.reg/ws:1"},
     "prebuilt_images.catalog.windsurf",
     "\"my.reg/ws:1\""},
    {{"GITSPACE_PREBUILT_IMAGE_CURSOR=cursor-0.4"},
     "prebuilt_images.catalog.windsurf",
     "\"windsurf-latest\""},
    /* Other variables are not ours. */
    {{"PATH=/usr/bin", "GITSPACE_OTHER=1", "GITSPACE_PREBUILT_IMAGE_FOO=x",
      "gitspace_orchestrator_log_level=debug", "NOEQUALS"},
     "log.level",
     "info"},
};

static void apply_env_case(const env_case *c, gs_config *cfg) {
  char *envp[MAX_VARS + 1] = {NULL};
  char err[ERR_LEN];

  for (size_t j = 0; j < MAX_VARS && c->env[j] != NULL; j++) {
    envp[j] = (char *)c->env[j];
  }
  assert_int_equal(gs_config_apply_env(cfg, envp, err, ERR_LEN), 0);
  assert_string_equal(err, "");
}

static void test_gs_config_apply_env_each_variable(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
    gs_config cfg;

    print_message("case %zu: %s\n", i, env_cases[i].env[0]);
    assert_int_equal(gs_config_init(&cfg), 0);
    apply_env_case(&env_cases[i], &cfg);
    assert_printed(&cfg, env_cases[i].key, env_cases[i].want);
    gs_config_free(&cfg);
  }
}

static void test_gs_config_apply_env_jetbrains_sets_family(void **state) {
  char *envp[] = {"GITSPACE_PREBUILT_IMAGE_JETBRAINS=jetbrains-2024.1", NULL};
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_int_equal(gs_config_apply_env(&cfg, envp, err, ERR_LEN), 0);
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    const gs_ide_info *info = gs_ide_get((gs_ide)i);
    bool jb = info->family == GS_IDE_FAMILY_JETBRAINS;

    assert_string_equal(cfg.prebuilt.catalog[i],
                        jb ? "jetbrains-2024.1" : info->default_tag);
  }
  gs_config_free(&cfg);
}

typedef struct {
  const char *yaml;
  const char *env[MAX_VARS];
  const char *key;
  const char *want;
} precedence_case;

/* defaults < file < plan variables < GITSPACE_ORCHESTRATOR_* variables;
 * a per-IDE generic variable beats the plan's group variable. The order of
 * variables in the environment does not matter. */
static const precedence_case precedence_cases[] = {
    {"log: {level: warn}\n", {NULL}, "log.level", "warn"},
    {"log: {level: warn}\n",
     {"GITSPACE_ORCHESTRATOR_LOG_LEVEL=error"},
     "log.level",
     "error"},
    {"prebuilt_images: {enabled: false}\n",
     {"GITSPACE_PREBUILT_IMAGES_ENABLED=true"},
     "prebuilt_images.enabled",
     "true"},
    {"prebuilt_images: {enabled: false}\n",
     {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_ENABLED=false",
      "GITSPACE_PREBUILT_IMAGES_ENABLED=true"},
     "prebuilt_images.enabled",
     "false"},
    {"prebuilt_images: {registry: file.io/r}\n",
     {"GITSPACE_PREBUILT_IMAGES_REGISTRY=plan.io/r",
      "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_REGISTRY=generic.io/r"},
     "prebuilt_images.registry",
     "\"generic.io/r\""},
    {"prebuilt_images: {registry: file.io/r}\n",
     {"GITSPACE_PREBUILT_IMAGES_REGISTRY=plan.io/r"},
     "prebuilt_images.registry",
     "\"plan.io/r\""},
    {"prebuilt_images:\n  catalog: {vs_code: file-tag}\n",
     {"GITSPACE_PREBUILT_IMAGE_VSCODE=plan-tag"},
     "prebuilt_images.catalog.vs_code",
     "\"plan-tag\""},
    {"prebuilt_images:\n  catalog: {vs_code: file-tag}\n",
     {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_VS_CODE=generic-tag",
      "GITSPACE_PREBUILT_IMAGE_VSCODE=plan-tag"},
     "prebuilt_images.catalog.vs_code",
     "\"generic-tag\""},
    {"prebuilt_images:\n  catalog: {vs_code: file-tag}\n",
     {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_VS_CODE=generic-tag",
      "GITSPACE_PREBUILT_IMAGE_VSCODE=plan-tag"},
     "prebuilt_images.catalog.vs_code_web",
     "\"plan-tag\""},
    {"prebuilt_images:\n  catalog: {goland: file-goland}\n",
     {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_GOLAND=generic-goland",
      "GITSPACE_PREBUILT_IMAGE_JETBRAINS=plan-jb"},
     "prebuilt_images.catalog.goland",
     "\"generic-goland\""},
    {"prebuilt_images:\n  catalog: {goland: file-goland}\n",
     {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_GOLAND=generic-goland",
      "GITSPACE_PREBUILT_IMAGE_JETBRAINS=plan-jb"},
     "prebuilt_images.catalog.clion",
     "\"plan-jb\""},
    {"prebuilt_images:\n  catalog: {goland: file-goland}\n",
     {NULL},
     "prebuilt_images.catalog.goland",
     "\"file-goland\""},
    /* A list variable replaces the file's list; it does not add to it. */
    {"registry: {insecure_hosts: [a, b]}\n",
     {"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS=c"},
     "registry.insecure_hosts",
     "[\"c\"]"},
    {"registry: {insecure_hosts: [a, b]}\n",
     {"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS="},
     "registry.insecure_hosts",
     "[]"},
    {"registry: {insecure_hosts: [a, b]}\n",
     {NULL},
     "registry.insecure_hosts",
     "[\"a\", \"b\"]"},
};

static void test_gs_config_apply_env_precedence(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(precedence_cases) / sizeof(precedence_cases[0]);
       i++) {
    const precedence_case *c = &precedence_cases[i];
    env_case e = {{NULL}, NULL, NULL};
    gs_config cfg;
    char err[ERR_LEN];

    print_message("case %zu: %s", i, c->yaml);
    memcpy(e.env, c->env, sizeof(e.env));
    assert_int_equal(load(&cfg, c->yaml, err), 0);
    apply_env_case(&e, &cfg);
    assert_printed(&cfg, c->key, c->want);
    gs_config_free(&cfg);
  }
}

typedef struct {
  const char *var;
  const char *want; /* the whole message */
} bad_env_case;

static const bad_env_case bad_env_cases[] = {
    {"GITSPACE_ORCHESTRATOR_LIMITS_MAX_CONNECTIONS=lots",
     "GITSPACE_ORCHESTRATOR_LIMITS_MAX_CONNECTIONS: expected a whole number "
     "from 1 to 65535, got \"lots\""},
    {"GITSPACE_ORCHESTRATOR_LIMITS_MAX_MESSAGE_BYTES=",
     "GITSPACE_ORCHESTRATOR_LIMITS_MAX_MESSAGE_BYTES: expected a size from 1 "
     "KiB to 1 GiB (bytes, or a number with KiB, MiB or GiB), got \"\""},
    {"GITSPACE_ORCHESTRATOR_LIMITS_DRAIN_TIMEOUT_MS=soon",
     "GITSPACE_ORCHESTRATOR_LIMITS_DRAIN_TIMEOUT_MS: expected a duration from "
     "0 to 3600000 ms (milliseconds, or a number with ms or s), got "
     "\"soon\""},
    {"GITSPACE_ORCHESTRATOR_SOCKET_MODE=0778",
     "GITSPACE_ORCHESTRATOR_SOCKET_MODE: expected an octal mode from 0000 to "
     "0777, such as \"0660\", got \"0778\""},
    {"GITSPACE_ORCHESTRATOR_SOCKET_PATH=",
     "GITSPACE_ORCHESTRATOR_SOCKET_PATH: expected a string of 1 to 107 bytes "
     "without control characters, got \"\""},
    {"GITSPACE_ORCHESTRATOR_SOCKET_PATH=/run/a\tb",
     "GITSPACE_ORCHESTRATOR_SOCKET_PATH: expected a string of 1 to 107 bytes "
     "without control characters, got \"/run/a\\x09b\""},
    {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_REGISTRY=bad\xff",
     "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_REGISTRY: expected a string of 1 "
     "to 255 bytes without control characters, got \"bad\\xff\""},
    {"GITSPACE_ORCHESTRATOR_LOG_LEVEL=loud",
     "GITSPACE_ORCHESTRATOR_LOG_LEVEL: expected one of debug, info, warn, "
     "error, off, got \"loud\""},
    {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_CURSOR=",
     "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_CURSOR: expected an image "
     "tag or reference of 1 to 1024 bytes without control characters, got "
     "\"\""},
    {"GITSPACE_ORCHESTRATOR_REGISTRY_TIMEOUT_MS=50",
     "GITSPACE_ORCHESTRATOR_REGISTRY_TIMEOUT_MS: expected a duration from 100 "
     "to 120000 ms (milliseconds, or a number with ms or s), got \"50\""},
    {"GITSPACE_ORCHESTRATOR_REGISTRY_NEGATIVE_CACHE_TTL_MS=2h",
     "GITSPACE_ORCHESTRATOR_REGISTRY_NEGATIVE_CACHE_TTL_MS: expected a "
     "duration from 0 to 3600000 ms"},
    {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_FALLBACK_ON_INDEFINITE=maybe",
     "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_FALLBACK_ON_INDEFINITE: expected "
     "true or false"},
    {"GITSPACE_ORCHESTRATOR_REGISTRY_CA_FILE=/a\tb",
     "GITSPACE_ORCHESTRATOR_REGISTRY_CA_FILE: expected a string of up to 4095 "
     "bytes without control characters, or null, got \"/a\\x09b\""},
    /* List items: none may be empty or hold a control character. */
    {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES=a,,b",
     "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES: item 2: "
     "expected a string of 1 to 255 bytes without control characters, got "
     "\"\""},
    {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES=a, b,",
     "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES: item 3: "
     "expected a string of 1 to 255 bytes without control characters, got "
     "\"\""},
    {"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS=,a",
     "GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS: item 1: expected a "
     "string of 1 to 255 bytes without control characters, got \"\""},
    {"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS= , ",
     "GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS: item 1: expected a "
     "string"},
    {"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS=a,\tb",
     "GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS: item 2: expected a "
     "string of 1 to 255 bytes without control characters, got \"\\x09b\""},
    {"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS=ok,bad\xff",
     "GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS: item 2: expected a "
     "string of 1 to 255 bytes without control characters, got "
     "\"bad\\xff\""},
    {"GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE=a",
     "GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE: unknown variable"},
    {"GITSPACE_PREBUILT_IMAGES_ENABLED=sometimes",
     "GITSPACE_PREBUILT_IMAGES_ENABLED: expected true or false (or yes/no, "
     "on/off, 1/0), got \"sometimes\""},
    {"GITSPACE_PREBUILT_IMAGES_REGISTRY=",
     "GITSPACE_PREBUILT_IMAGES_REGISTRY: expected a string of 1 to 255 bytes "
     "without control characters, got \"\""},
    {"GITSPACE_PREBUILT_IMAGE_VSCODE=",
     "GITSPACE_PREBUILT_IMAGE_VSCODE: expected an image tag or reference of 1 "
     "to 1024 bytes without control characters, got \"\""},
    {"GITSPACE_PREBUILT_IMAGE_JETBRAINS=a\nb",
     "GITSPACE_PREBUILT_IMAGE_JETBRAINS: expected an image tag or reference "
     "of 1 to 1024 bytes without control characters, got \"a\\x0ab\""},
    /* Typos in our own prefix are refused. */
    {"GITSPACE_ORCHESTRATOR_LOG_LEVL=debug",
     "GITSPACE_ORCHESTRATOR_LOG_LEVL: unknown variable; the names are "
     "GITSPACE_ORCHESTRATOR_<SECTION>_<KEY> for the keys of the config file, "
     "such as GITSPACE_ORCHESTRATOR_LOG_LEVEL"},
    {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_VSCODE=x",
     "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG_VSCODE: unknown "
     "variable"},
    {"GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG=x",
     "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_CATALOG: unknown variable"},
    {"GITSPACE_ORCHESTRATOR_SOCKET=x",
     "GITSPACE_ORCHESTRATOR_SOCKET: unknown variable"},
    {"GITSPACE_ORCHESTRATOR_=x", "GITSPACE_ORCHESTRATOR_: unknown variable"},
    {"GITSPACE_ORCHESTRATOR_log_level=debug",
     "GITSPACE_ORCHESTRATOR_log_level: unknown variable"},
};

static void test_gs_config_apply_env_bad_values(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(bad_env_cases) / sizeof(bad_env_cases[0]);
       i++) {
    const bad_env_case *c = &bad_env_cases[i];
    char *envp[] = {"GITSPACE_ORCHESTRATOR_LOG_LEVEL=debug", (char *)c->var,
                    NULL};
    gs_config cfg;
    char err[ERR_LEN];

    print_message("case %zu: %s\n", i, c->var);
    assert_int_equal(gs_config_init(&cfg), 0);
    assert_int_equal(gs_config_apply_env(&cfg, envp, err, ERR_LEN), GS_EINVAL);
    if (strncmp(err, c->want, strlen(c->want)) != 0) {
      fail_msg("message\n  %s\ndoes not start with\n  %s", err, c->want);
    }
    /* Nothing of a failed pass sticks, not even the good variable. */
    assert_int_equal(cfg.log.level, GS_LOG_INFO);
    gs_config_free(&cfg);
  }
}

static void test_gs_config_apply_env_null_envp(void **state) {
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_int_equal(gs_config_apply_env(&cfg, NULL, err, ERR_LEN), 0);
  assert_string_equal(cfg.socket.path, GS_DEFAULT_SOCKET_PATH);
  gs_config_free(&cfg);
}

/* Values that need quoting in YAML come back unchanged. */
static void test_gs_config_print_round_trip(void **state) {
  static const char *const strings[] = {
      "plain",
      "with space",
      "\"quoted\"",
      "back\\slash",
      "# not a comment",
      "key: value",
      "null",
      "~",
      "true",
      "0660",
      " leading",
      "trailing ",
      "-dash",
      "[flow]",
      "{map}",
      "*alias",
      "&anchor",
      "!tag",
      "%directive",
      "@at",
      "`tick`",
      "'single'",
      "\xc3\xa9t\xc3\xa9",
      "\xe2\x9c\x93",
      "\xf0\x9f\x90\xb3",
      "a,b",
      "? q",
  };

  (void)state;
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
    gs_config cfg;
    gs_config back;
    char err[ERR_LEN];
    char *env_group = NULL;
    char *env_cursor = NULL;

    print_message("case %zu: [%s]\n", i, strings[i]);
    assert_int_equal(gs_config_init(&cfg), 0);
    assert_true(asprintf(&env_group, "GITSPACE_ORCHESTRATOR_SOCKET_GROUP=%s",
                         strings[i]) > 0);
    assert_true(asprintf(&env_cursor, "GITSPACE_PREBUILT_IMAGE_CURSOR=%s",
                         strings[i]) > 0);
    char *envp[] = {env_group,
                    env_cursor,
                    "GITSPACE_ORCHESTRATOR_LIMITS_MAX_MESSAGE_BYTES=3000",
                    "GITSPACE_ORCHESTRATOR_SOCKET_MODE=0",
                    "GITSPACE_ORCHESTRATOR_LOG_FORMAT=json",
                    "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_VERIFY=0",
                    "GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS=h:1, h2",
                    "GITSPACE_ORCHESTRATOR_REGISTRY_CACHE_TTL_MS=0",
                    NULL};
    assert_int_equal(gs_config_apply_env(&cfg, envp, err, ERR_LEN), 0);

    char *first = print_config(&cfg);
    assert_int_equal(gs_config_init(&back), 0);
    assert_int_equal(gs_config_load_string(&back, "printed", first,
                                           strlen(first), err, ERR_LEN),
                     0);
    char *second = print_config(&back);
    assert_string_equal(second, first);
    assert_string_equal(back.socket.group, strings[i]);
    assert_string_equal(back.prebuilt.catalog[GS_IDE_CURSOR], strings[i]);
    assert_int_equal(back.limits.max_message_bytes, 3000);
    assert_int_equal(back.socket.mode, 0);
    assert_false(back.prebuilt.verify);
    assert_int_equal(back.registry.insecure_hosts.n, 2);
    assert_string_equal(back.registry.insecure_hosts.items[1], "h2");
    assert_int_equal(back.registry.cache_ttl_ms, 0);
    free(first);
    free(second);
    free(env_group);
    free(env_cursor);
    gs_config_free(&back);
    gs_config_free(&cfg);
  }
}

/* List items that need quoting in a flow sequence come back unchanged, as
 * do the empty list, a list of one, and every other new key. */
static void test_gs_config_print_round_trip_lists(void **state) {
  static const char *const items[] = {
      "a, b", "[x]", "{y}", "\"q\"", "back\\slash", "# c", "k: v", "null",
      "~",    "",    " s ", "-",     "\xc3\xa9",    "*a",  "&b",   "!t"};
  static const char yaml[] = "prebuilt_images:\n"
                             "  fallback_on_indefinite: true\n"
                             "  extra_repositories: [one.io/r]\n"
                             "registry:\n"
                             "  timeout_ms: 100\n"
                             "  auth_file: \"/etc/a b.json\"\n"
                             "  ca_file: /etc/ca.pem\n"
                             "  cache_ttl_ms: 86400000\n"
                             "  negative_cache_ttl_ms: 0\n"
                             "  insecure_hosts:\n";
  size_t n = sizeof(items) / sizeof(items[0]);
  gs_config cfg;
  gs_config back;
  char err[ERR_LEN];
  char text[4096];
  size_t at = (size_t)snprintf(text, sizeof(text), "%s", yaml);

  (void)state;
  for (size_t i = 0; i < n; i++) {
    /* The empty item is skipped: a list item must not be empty. */
    if (items[i][0] != '\0') {
      at += (size_t)snprintf(text + at, sizeof(text) - at, "    - '%s'\n",
                             items[i]);
    }
  }
  assert_true(at < sizeof(text));
  assert_int_equal(load(&cfg, text, err), 0);
  assert_string_equal(err, "");
  char *first = print_config(&cfg);
  print_message("%s", first);
  assert_int_equal(gs_config_init(&back), 0);
  assert_int_equal(gs_config_load_string(&back, "printed", first, strlen(first),
                                         err, ERR_LEN),
                   0);
  char *second = print_config(&back);
  assert_string_equal(second, first);
  assert_int_equal(back.registry.insecure_hosts.n, n - 1);
  for (size_t i = 0, j = 0; i < n; i++) {
    if (items[i][0] != '\0') {
      assert_string_equal(back.registry.insecure_hosts.items[j++], items[i]);
    }
  }
  assert_int_equal(back.prebuilt.extra_repositories.n, 1);
  assert_string_equal(back.prebuilt.extra_repositories.items[0], "one.io/r");
  assert_true(back.prebuilt.fallback_on_indefinite);
  assert_int_equal(back.registry.timeout_ms, 100);
  assert_string_equal(back.registry.auth_file, "/etc/a b.json");
  assert_string_equal(back.registry.ca_file, "/etc/ca.pem");
  assert_int_equal(back.registry.cache_ttl_ms, 86400000);
  assert_int_equal(back.registry.negative_cache_ttl_ms, 0);
  free(first);
  free(second);
  gs_config_free(&back);
  gs_config_free(&cfg);
}

enum { LIST_BLOCK, LIST_FLOW, LIST_ENV };

/* Writes registry.insecure_hosts with `n` items "h<i>" into `buf`: as a
 * YAML block or flow sequence, or as the variable's "NAME=value". */
static void make_list(size_t n, int form, char *buf, size_t len) {
  size_t at = (size_t)snprintf(
      buf, len, "%s",
      form == LIST_BLOCK  ? "registry:\n  insecure_hosts:\n"
      : form == LIST_FLOW ? "registry:\n  insecure_hosts: ["
                          : "GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS=");

  for (size_t i = 0; i < n && at < len; i++) {
    at += (size_t)snprintf(buf + at, len - at,
                           form == LIST_BLOCK ? "    - h%zu\n"
                           : i + 1 < n        ? "h%zu, "
                                              : "h%zu",
                           i);
  }
  if (form == LIST_FLOW && at < len) {
    snprintf(buf + at, len - at, "]\n");
  }
  assert_true(at < len);
}

/* 64 items is the most a list holds, in a file and in a variable. */
static void test_gs_config_strings_add_at_most_64(void **state) {
  char text[2048];
  char *envp[] = {text, NULL};
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  for (int form = LIST_BLOCK; form <= LIST_FLOW; form++) {
    make_list(GS_CONFIG_LIST_MAX, form, text, sizeof(text));
    assert_int_equal(load(&cfg, text, err), 0);
    assert_int_equal(cfg.registry.insecure_hosts.n, GS_CONFIG_LIST_MAX);
    assert_string_equal(cfg.registry.insecure_hosts.items[63], "h63");
    assert_null(cfg.registry.insecure_hosts.items[64]);
    gs_config_free(&cfg);

    make_list(GS_CONFIG_LIST_MAX + 1, form, text, sizeof(text));
    assert_int_equal(load(&cfg, text, err), GS_EINVAL);
    print_message("%s\n", err);
    assert_string_equal(
        err, form == LIST_BLOCK
                 ? "config.yaml:67: registry.insecure_hosts: expected a "
                   "list of strings (up to 64, each of 1 to 255 bytes "
                   "without control characters), got more than 64 "
                   "items"
                 : "config.yaml:2: registry.insecure_hosts: expected a "
                   "list of strings (up to 64, each of 1 to 255 bytes "
                   "without control characters), got more than 64 "
                   "items");
    assert_int_equal(cfg.registry.insecure_hosts.n, 0);
    gs_config_free(&cfg);
  }
  make_list(GS_CONFIG_LIST_MAX, LIST_ENV, text, sizeof(text));
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_int_equal(gs_config_apply_env(&cfg, envp, err, ERR_LEN), 0);
  assert_int_equal(cfg.registry.insecure_hosts.n, GS_CONFIG_LIST_MAX);
  make_list(GS_CONFIG_LIST_MAX + 1, LIST_ENV, text, sizeof(text));
  assert_int_equal(gs_config_apply_env(&cfg, envp, err, ERR_LEN), GS_EINVAL);
  assert_string_equal(
      err, "GITSPACE_ORCHESTRATOR_REGISTRY_INSECURE_HOSTS: expected a list of "
           "strings (up to 64, each of 1 to 255 bytes without control "
           "characters), got more than 64 items");
  /* The failed pass left the 64 items of the first one. */
  assert_int_equal(cfg.registry.insecure_hosts.n, GS_CONFIG_LIST_MAX);
  gs_config_free(&cfg);
}

/* Items are bounded like strings: 255 bytes pass, 256 do not. */
static void test_gs_config_strings_add_item_length(void **state) {
  char item[300];
  char yaml[400];
  gs_config cfg;
  char err[ERR_LEN];

  (void)state;
  memset(item, 'a', sizeof(item));
  snprintf(yaml, sizeof(yaml),
           "prebuilt_images:\n  extra_repositories: [%.*s]\n", 255, item);
  assert_int_equal(load(&cfg, yaml, err), 0);
  assert_int_equal(strlen(cfg.prebuilt.extra_repositories.items[0]), 255);
  gs_config_free(&cfg);
  snprintf(yaml, sizeof(yaml),
           "prebuilt_images:\n  extra_repositories: [b, %.*s]\n", 256, item);
  assert_int_equal(load(&cfg, yaml, err), GS_EINVAL);
  assert_string_equal(
      err, "config.yaml:2: prebuilt_images.extra_repositories: item "
           "2: expected a string of 1 to 255 bytes without control "
           "characters, got "
           "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
  gs_config_free(&cfg);
}

static void test_gs_config_print_defaults_layout(void **state) {
  gs_config cfg;

  (void)state;
  assert_int_equal(gs_config_init(&cfg), 0);
  char *text = print_config(&cfg);
  assert_non_null(strstr(text, "\nsocket:\n  path: \"" GS_DEFAULT_SOCKET_PATH
                               "\"\n  mode: \"0660\"\n  group: null\n"));
  assert_non_null(strstr(text, "\nlimits:\n  max_message_bytes: 4194304\n"));
  assert_non_null(strstr(text, "\nlog:\n  level: info\n  format: text\n"));
  assert_non_null(strstr(text, "\nprebuilt_images:\n  enabled: true\n"));
  assert_non_null(
      strstr(text, "  catalog:\n    vs_code_web: \"vscode-web-latest\"\n"));
  assert_non_null(strstr(text, "  verify: true\n  extra_repositories: []\n"
                               "  fallback_on_indefinite: false\n"));
  assert_non_null(strstr(text, "\nregistry:\n  timeout_ms: 5000\n"
                               "  auth_file: null\n  ca_file: null\n"
                               "  insecure_hosts: []\n"
                               "  cache_ttl_ms: 600000\n"
                               "  negative_cache_ttl_ms: 30000\n"));
  free(text);
  gs_config_free(&cfg);
}

/* No key is secret yet, so the test marks some in a copy of the schema. */
static void test_gs_config_print_masks_secrets(void **state) {
  gs_config_key schema[64];
  gs_config cfg;
  char *envp[] = {
      "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_REGISTRY=s3cr3t.io/x",
      "GITSPACE_PREBUILT_IMAGE_CURSOR=s3cr3t-tag",
      "GITSPACE_ORCHESTRATOR_PREBUILT_IMAGES_EXTRA_REPOSITORIES=s3cr3t.io/y",
      NULL};
  char err[ERR_LEN];
  char buf[256];

  (void)state;
  assert_true(gs_config_schema_len <= 64);
  memcpy(schema, gs_config_schema,
         gs_config_schema_len * sizeof(gs_config_schema[0]));
  for (size_t i = 0; i < gs_config_schema_len; i++) {
    if (strcmp(schema[i].key, "registry") == 0 ||
        strcmp(schema[i].key, "group") == 0 ||
        strcmp(schema[i].key, "catalog") == 0 ||
        strcmp(schema[i].key, "extra_repositories") == 0 ||
        strcmp(schema[i].key, "insecure_hosts") == 0 ||
        strcmp(schema[i].key, "max_connections") == 0) {
      schema[i].flags |= GS_CFG_SECRET;
    }
  }
  assert_int_equal(gs_config_init(&cfg), 0);
  assert_int_equal(gs_config_apply_env(&cfg, envp, err, ERR_LEN), 0);
  char *text = print_to_string(&cfg, schema, gs_config_schema_len);
  print_message("%s", text);
  assert_null(strstr(text, "s3cr3t"));
  assert_null(strstr(text, "1024"));
  assert_non_null(strstr(text, "  registry: \"<redacted>\"\n"));
  assert_non_null(strstr(text, "    cursor: \"<redacted>\"\n"));
  assert_non_null(strstr(text, "  max_connections: \"<redacted>\"\n"));
  assert_non_null(strstr(text, "  extra_repositories: \"<redacted>\"\n"));
  /* An unset secret, or an empty list, has nothing to hide. */
  assert_non_null(strstr(text, "  group: null\n"));
  assert_non_null(strstr(text, "  insecure_hosts: []\n"));
  /* The real schema prints everything. */
  assert_string_equal(
      printed(&cfg, "prebuilt_images.registry", buf, sizeof(buf)),
      "\"s3cr3t.io/x\"");
  free(text);
  gs_config_free(&cfg);
}

/* Each row of the schema is reachable by file and by environment. */
static void test_gs_config_schema_every_row_settable(void **state) {
  (void)state;
  for (size_t i = 0; i < gs_config_schema_len; i++) {
    const gs_config_key *row = &gs_config_schema[i];
    char var[256];
    char *envp[] = {var, NULL};
    gs_config cfg;
    char err[ERR_LEN];
    size_t n = 0;

    n = (size_t)snprintf(var, sizeof(var), "GITSPACE_ORCHESTRATOR_%s_%s%s",
                         row->section, row->key,
                         row->type == GS_CFG_IDE_MAP ? "_RIDER" : "");
    for (size_t j = 0; j < n; j++) {
      var[j] = (char)(var[j] >= 'a' && var[j] <= 'z' ? var[j] - 32 : var[j]);
    }
    snprintf(var + n, sizeof(var) - n, "=%s",
             row->type == GS_CFG_BOOL          ? "false"
             : row->type == GS_CFG_LOG_LEVEL   ? "warn"
             : row->type == GS_CFG_LOG_FORMAT  ? "json"
             : row->type == GS_CFG_MODE        ? "0600"
             : row->type == GS_CFG_STRING_LIST ? "2048, x"
                                               : "2048");
    print_message("%s\n", var);
    assert_int_equal(gs_config_init(&cfg), 0);
    assert_int_equal(gs_config_apply_env(&cfg, envp, err, ERR_LEN), 0);
    gs_config_free(&cfg);
  }
}

/* No two keys share a variable name: "registry" is both a section and a
 * key of prebuilt_images, so the joined names are checked. */
static void test_gs_config_schema_env_names_distinct(void **state) {
  (void)state;
  for (size_t i = 0; i < gs_config_schema_len; i++) {
    for (size_t j = i + 1; j < gs_config_schema_len; j++) {
      char a[256];
      char b[256];

      snprintf(a, sizeof(a), "%s_%s", gs_config_schema[i].section,
               gs_config_schema[i].key);
      snprintf(b, sizeof(b), "%s_%s", gs_config_schema[j].section,
               gs_config_schema[j].key);
      assert_string_not_equal(a, b);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_config_init_defaults),
      cmocka_unit_test(test_gs_config_load_string_good_files),
      cmocka_unit_test(test_gs_config_load_string_full_file),
      cmocka_unit_test(test_gs_config_load_string_catalog_kept_as_given),
      cmocka_unit_test(test_gs_config_load_string_empty_inputs),
      cmocka_unit_test(test_gs_config_load_string_bad_files),
      cmocka_unit_test(test_gs_config_load_string_keeps_config_on_error),
      cmocka_unit_test(test_gs_config_load_string_small_error_buffer),
      cmocka_unit_test(test_gs_config_load_string_hostile_inputs),
      cmocka_unit_test(test_gs_config_load_string_every_prefix),
      cmocka_unit_test(test_gs_config_load_file_good),
      cmocka_unit_test(test_gs_config_load_file_bad_line_names_path),
      cmocka_unit_test(test_gs_config_load_file_missing),
      cmocka_unit_test(test_gs_config_load_file_not_regular),
      cmocka_unit_test(test_gs_config_load_file_dev_null),
      cmocka_unit_test(test_gs_config_apply_env_each_variable),
      cmocka_unit_test(test_gs_config_apply_env_jetbrains_sets_family),
      cmocka_unit_test(test_gs_config_apply_env_precedence),
      cmocka_unit_test(test_gs_config_apply_env_bad_values),
      cmocka_unit_test(test_gs_config_apply_env_null_envp),
      cmocka_unit_test(test_gs_config_print_round_trip),
      cmocka_unit_test(test_gs_config_print_round_trip_lists),
      cmocka_unit_test(test_gs_config_strings_add_at_most_64),
      cmocka_unit_test(test_gs_config_strings_add_item_length),
      cmocka_unit_test(test_gs_config_print_defaults_layout),
      cmocka_unit_test(test_gs_config_print_masks_secrets),
      cmocka_unit_test(test_gs_config_schema_every_row_settable),
      cmocka_unit_test(test_gs_config_schema_env_names_distinct),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
