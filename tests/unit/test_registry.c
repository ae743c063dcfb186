/* Unit tests: the registry client (src/registry/registry.c, lookup.c)
 * against a fake OCI registry and token service served on the same loop.
 * Each test ends by checking that the loop closes with nothing left open. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitspace/error.h"
#include "gitspace/http.h"
#include "gitspace/log.h"
#include "gitspace/registry.h"

#define MANIFEST                                                               \
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+"   \
  "json\",\"manifests\":[]}"
#define MANIFEST_DIGEST                                                        \
  "sha256:dff9de10919148711140d349bf03f1a99eb06f94b03e51715ccebfa7cdc518e2"
#define HEADER_DIGEST                                                          \
  "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define INDEX_TYPE "application/vnd.oci.image.index.v1+json"
#define TOKEN "tok-3f9a8b"
#define PASSWORD "pa55:word"
#define BASIC_GOOD "Basic YWxpY2U6cGE1NTp3b3Jk" /* alice:pa55:word */
#define REFRESH "refresh-77c1"
#define MAX_CALLS 128
#define MAX_SEEN 64

typedef enum { AUTH_NONE = 0, AUTH_BEARER, AUTH_BASIC } auth_mode;

/* What the fake registry saw of one request. */
typedef struct {
  char method[8];
  char path[512];
  char authorization[256];
  char accept[512];
  char body[512];
} seen_request;

typedef struct {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_timer_t watchdog;
  uv_timer_t pause;
  int port;
  char host[32]; /* "127.0.0.1:<port>" */
  gs_http *http;
  gs_registry *reg;
  char dir[64];
  char auth_file[128];
  /* The fake registry's behaviour. */
  auth_mode auth;
  bool omit_digest;
  bool deny_missing_repo; /* 401 instead of 404, as Docker Hub does */
  bool never_answer;
  int manifest_status; /* answer every manifest request with this */
  char token[32];      /* the one bearer token it issues and accepts */
  /* What it saw. */
  seen_request seen[MAX_SEEN];
  int nseen;
  /* Answers the client gave. */
  gs_manifest_result results[MAX_CALLS];
  int calls;
  bool free_in_callback;
  int closed_calls;
  uint64_t deadline;
} fixture;

typedef struct {
  uv_tcp_t tcp;
  uv_write_t wreq;
  char in[8192];
  size_t in_len;
  char out[4096];
  fixture *f;
} peer;

/* ---- the fake registry --------------------------------------------------- */

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

/* Copies the value of header `name` of the raw request into `out`. */
static void request_header(const char *req, const char *name, char *out,
                           size_t outlen) {
  const char *line = strstr(req, "\r\n");
  size_t nlen = strlen(name);

  out[0] = '\0';
  while (line != NULL && strncmp(line, "\r\n\r\n", 4) != 0) {
    line += 2;
    if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
      const char *v = line + nlen + 1;
      const char *end = strstr(v, "\r\n");

      while (*v == ' ') {
        v++;
      }
      snprintf(out, outlen, "%.*s", (int)(end - v), v);
      return;
    }
    line = strstr(line, "\r\n");
  }
}

static void respond(peer *p, const char *status, const char *headers,
                    const char *body, bool head) {
  snprintf(p->out, sizeof(p->out),
           "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n"
           "%s",
           status, headers, strlen(body), head ? "" : body);
}

static void respond_challenge(peer *p, const char *path, bool head) {
  char hdr[512];
  const char *repo = path + 4; /* after "/v2/" */
  const char *end = strstr(repo, "/manifests/");
  int len;

  if (end == NULL) {
    end = strstr(repo, "/tags/");
  }
  len = (int)(end - repo);
  if (p->f->auth == AUTH_BASIC) {
    snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Basic realm=\"fake\"\r\n");
  } else {
    snprintf(hdr, sizeof(hdr),
             "WWW-Authenticate: Bearer realm=\"http://%s/token\","
             "service=\"fake-registry\",scope=\"repository:%.*s:pull\"\r\n",
             p->f->host, len, repo);
  }
  respond(p, "401 Unauthorized", hdr,
          "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}", head);
}

static bool request_authorized(const fixture *f, const seen_request *s) {
  if (f->auth == AUTH_BEARER) {
    return strncmp(s->authorization, "Bearer ", 7) == 0 &&
           strcmp(s->authorization + 7, f->token) == 0;
  }
  if (f->auth == AUTH_BASIC) {
    return strcmp(s->authorization, BASIC_GOOD) == 0;
  }
  return true;
}

static void respond_token(peer *p, const seen_request *s) {
  bool post = strcmp(s->method, "POST") == 0;
  bool ok = post ? strstr(s->body, "refresh_token=" REFRESH) != NULL
                 : s->authorization[0] == '\0' ||
                       strcmp(s->authorization, BASIC_GOOD) == 0;
  char body[128];

  if (ok) {
    snprintf(body, sizeof(body), "{\"%s\":\"%s\",\"expires_in\":300}",
             post ? "access_token" : "token", p->f->token);
    respond(p, "200 OK", "Content-Type: application/json\r\n", body, false);
  } else {
    respond(p, "401 Unauthorized", "", "{\"details\":\"bad credentials\"}",
            false);
  }
}

/* One repository, "team/ide", with one tag, "v1". */
static void respond_registry(peer *p, const seen_request *s) {
  fixture *f = p->f;
  bool head = strcmp(s->method, "HEAD") == 0;
  bool repo = strncmp(s->path, "/v2/team/ide/", 13) == 0;
  char hdr[512];

  if (f->manifest_status == 429) {
    respond(p, "429 Too Many Requests", "Retry-After: 7\r\n", "", head);
  } else if (f->manifest_status != 0) {
    snprintf(hdr, sizeof(hdr), "%d Status", f->manifest_status);
    respond(p, hdr, "", "", head);
  } else if (!request_authorized(f, s) || (!repo && f->deny_missing_repo)) {
    respond_challenge(p, s->path, head);
  } else if (!repo) {
    respond(p, "404 Not Found", "Content-Type: application/json\r\n",
            "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}", head);
  } else if (strcmp(s->path, "/v2/team/ide/tags/list?n=1") == 0) {
    respond(p, "200 OK", "Content-Type: application/json\r\n",
            "{\"name\":\"team/ide\",\"tags\":[\"v1\"]}", head);
  } else if (strcmp(s->path, "/v2/team/ide/manifests/v1") == 0 ||
             strcmp(s->path, "/v2/team/ide/manifests/" MANIFEST_DIGEST) == 0) {
    snprintf(hdr, sizeof(hdr), "Content-Type: %s\r\n%s", INDEX_TYPE,
             f->omit_digest ? ""
                            : "Docker-Content-Digest: " HEADER_DIGEST "\r\n");
    respond(p, "200 OK", hdr, MANIFEST, head);
  } else {
    respond(p, "404 Not Found", "Content-Type: application/json\r\n",
            "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}", head);
  }
}

/* Returns false while the request is incomplete. */
static bool peer_parse(peer *p, seen_request *s) {
  const char *end = strstr(p->in, "\r\n\r\n");
  char len[32];
  const char *sp;

  if (end == NULL) {
    return false;
  }
  request_header(p->in, "Content-Length", len, sizeof(len));
  if (p->in_len < (size_t)(end + 4 - p->in) + (size_t)atoi(len)) {
    return false;
  }
  memset(s, 0, sizeof(*s));
  sp = strchr(p->in, ' ');
  snprintf(s->method, sizeof(s->method), "%.*s", (int)(sp - p->in), p->in);
  snprintf(s->path, sizeof(s->path), "%.*s",
           (int)(strchr(sp + 1, ' ') - sp - 1), sp + 1);
  request_header(p->in, "Authorization", s->authorization,
                 sizeof(s->authorization));
  request_header(p->in, "Accept", s->accept, sizeof(s->accept));
  snprintf(s->body, sizeof(s->body), "%s", end + 4);
  return true;
}

static void peer_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf) {
  peer *p = stream->data;
  fixture *f = p->f;
  seen_request s;
  uv_buf_t out;

  (void)buf;
  if (n < 0) {
    uv_close((uv_handle_t *)&p->tcp, peer_closed);
    return;
  }
  p->in_len += (size_t)n;
  p->in[p->in_len] = '\0';
  if (!peer_parse(p, &s)) {
    return;
  }
  uv_read_stop(stream);
  if (f->nseen < MAX_SEEN) {
    f->seen[f->nseen++] = s;
  }
  if (f->never_answer) {
    return; /* closed when the client gives up, or at teardown */
  }
  if (strncmp(s.path, "/token", 6) == 0) {
    respond_token(p, &s);
  } else {
    respond_registry(p, &s);
  }
  out = uv_buf_init(p->out, (unsigned)strlen(p->out));
  p->wreq.data = p;
  uv_write(&p->wreq, stream, &out, 1, peer_written);
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

/* ---- fixture ------------------------------------------------------------- */

static void on_watchdog(uv_timer_t *t) {
  (void)t; /* only wakes the loop up so run_until can check the time */
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
  uv_listen((uv_stream_t *)&f->listener, 128, server_on_conn);
  uv_tcp_getsockname(&f->listener, (struct sockaddr *)&name, &len);
  f->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
  snprintf(f->host, sizeof(f->host), "127.0.0.1:%d", f->port);
  uv_timer_init(&f->loop, &f->watchdog);
  uv_timer_start(&f->watchdog, on_watchdog, 50, 50);
  uv_timer_init(&f->loop, &f->pause);
  assert_int_equal(gs_http_new(&f->loop, &f->http), 0);
  snprintf(f->dir, sizeof(f->dir), "/tmp/gs-registry-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->auth_file, sizeof(f->auth_file), "%s/config.json", f->dir);
  gs_log_setup(GS_LOG_WARN, GS_LOG_TEXT); /* one test reads the debug lines */
  snprintf(f->token, sizeof(f->token), "%s", TOKEN);
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

  gs_registry_free(f->reg);
  gs_http_close(f->http, on_http_closed, f);
  uv_close((uv_handle_t *)&f->listener, NULL);
  f->listener.data = NULL;
  uv_close((uv_handle_t *)&f->watchdog, NULL);
  uv_close((uv_handle_t *)&f->pause, NULL);
  uv_walk(&f->loop, close_any, f);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(f->closed_calls, 1);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  unlink(f->auth_file);
  rmdir(f->dir);
  gs_log_set_fd(2);
  gs_log_setup(GS_LOG_INFO, GS_LOG_TEXT);
  free(f);
  return 0;
}

static void write_auth_file(fixture *f, const char *entry) {
  FILE *fp = fopen(f->auth_file, "w");

  assert_non_null(fp);
  fprintf(fp, "{\"auths\": {\"%s\": %s}}", f->host, entry);
  fclose(fp);
}

/* A client for the fake registry (plain HTTP) with these settings. */
static void make_client(fixture *f, bool with_auth_file, uint64_t timeout_ms) {
  const char *insecure[] = {f->host, "127.0.0.1:1", NULL};
  gs_registry_options o;
  char err[256];

  memset(&o, 0, sizeof(o));
  o.auth_file = with_auth_file ? f->auth_file : NULL;
  o.insecure_hosts = insecure;
  o.timeout_ms = timeout_ms;
  o.positive_ttl_ms = 60000;
  o.negative_ttl_ms = 60000;
  assert_int_equal(
      gs_registry_new(&f->loop, f->http, &o, &f->reg, err, sizeof(err)), 0);
}

static void on_result(const gs_manifest_result *res, void *data) {
  fixture *f = data;

  assert_true(f->calls < MAX_CALLS);
  f->results[f->calls++] = *res;
  if (f->free_in_callback) {
    gs_registry_free(f->reg);
    f->reg = NULL;
  }
}

/* Turns the loop until `calls` answers came; fails after 10 s. */
static void run_until(fixture *f, int calls) {
  uv_update_time(&f->loop);
  f->deadline = uv_now(&f->loop) + 10000;
  while (f->calls < calls) {
    uv_run(&f->loop, UV_RUN_ONCE);
    assert_true(uv_now(&f->loop) < f->deadline);
  }
}

static void on_pause(uv_timer_t *t) {
  (void)t;
}

/* Lets the loop turn for `ms` milliseconds. */
static void run_for(fixture *f, uint64_t ms) {
  uv_timer_start(&f->pause, on_pause, ms, 0);
  while (uv_is_active((uv_handle_t *)&f->pause)) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
}

static gs_image_ref make_ref(const fixture *f, const char *rest) {
  gs_image_ref ref;
  char s[256];

  snprintf(s, sizeof(s), "%s/%s", f->host, rest);
  assert_int_equal(gs_image_ref_parse(s, strlen(s), &ref, NULL, 0), 0);
  return ref;
}

/* Checks `rest` (after the host) and waits for the answer. */
static const gs_manifest_result *check(fixture *f, const char *rest) {
  gs_image_ref ref = make_ref(f, rest);
  int before = f->calls;

  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, NULL), 0);
  assert_int_equal(f->calls, before); /* never from within the call */
  run_until(f, before + 1);
  return &f->results[before];
}

static gs_registry_stats stats(const fixture *f) {
  gs_registry_stats s;

  gs_registry_get_stats(f->reg, &s);
  return s;
}

/* ---- plain answers ------------------------------------------------------- */

static void test_gs_registry_check_anonymous_found(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  make_client(f, false, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_string_equal(r->digest, HEADER_DIGEST);
  assert_string_equal(r->media_type, INDEX_TYPE);
  assert_int_equal(r->http_status, 200);
  assert_false(r->from_cache);
  assert_non_null(strstr(r->detail, "team/ide:v1"));
  assert_int_equal(f->nseen, 1);
  assert_string_equal(f->seen[0].method, "HEAD");
  assert_string_equal(f->seen[0].path, "/v2/team/ide/manifests/v1");
  assert_non_null(strstr(f->seen[0].accept, INDEX_TYPE));
  assert_non_null(strstr(f->seen[0].accept,
                         "application/vnd.docker.distribution.manifest.list."
                         "v2+json"));
  assert_non_null(
      strstr(f->seen[0].accept, "application/vnd.oci.image.manifest.v1+json"));
  assert_non_null(strstr(f->seen[0].accept,
                         "application/vnd.docker.distribution.manifest.v2+"
                         "json"));
  assert_string_equal(f->seen[0].authorization, "");
  assert_int_equal(stats(f).lookups, 1);
  assert_int_equal(stats(f).http_requests, 1);
}

static void test_gs_registry_check_default_tag_is_latest(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  make_client(f, false, 5000);
  r = check(f, "team/ide");
  assert_int_equal(r->outcome, GS_MANIFEST_NOT_FOUND);
  assert_string_equal(f->seen[0].path, "/v2/team/ide/manifests/latest");
  assert_non_null(strstr(r->detail, "tag latest not found"));
}

static void
test_gs_registry_check_digest_computed_without_header(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->omit_digest = true;
  make_client(f, false, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_string_equal(r->digest, MANIFEST_DIGEST);
  assert_string_equal(r->media_type, INDEX_TYPE);
  assert_int_equal(f->nseen, 2);
  assert_string_equal(f->seen[1].method, "GET");
  assert_int_equal(stats(f).http_requests, 2);
}

static void test_gs_registry_check_by_digest(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->omit_digest = true;
  make_client(f, false, 5000);
  r = check(f, "team/ide@" MANIFEST_DIGEST);
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_string_equal(r->digest, MANIFEST_DIGEST);
  assert_int_equal(f->nseen, 1); /* the digest is known: no GET */
}

static void test_gs_registry_check_tag_not_found(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;
  char want[128];

  make_client(f, false, 5000);
  r = check(f, "team/ide:v9");
  assert_int_equal(r->outcome, GS_MANIFEST_NOT_FOUND);
  assert_int_equal(r->http_status, 404);
  snprintf(want, sizeof(want), "tag v9 not found in %s/team/ide", f->host);
  assert_non_null(strstr(r->detail, want));
  assert_int_equal(f->nseen, 2);
  assert_string_equal(f->seen[1].path, "/v2/team/ide/tags/list?n=1");
}

static void test_gs_registry_check_repository_not_found(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;
  char want[128];

  make_client(f, false, 5000);
  r = check(f, "team/other:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_NOT_FOUND);
  assert_int_equal(r->http_status, 404);
  snprintf(want, sizeof(want), "repository %s/team/other not found", f->host);
  assert_non_null(strstr(r->detail, want));
}

/* ---- authentication ------------------------------------------------------ */

static void test_gs_registry_check_bearer_anonymous(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BEARER;
  make_client(f, false, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_int_equal(f->nseen, 3);
  assert_string_equal(f->seen[1].method, "GET");
  assert_string_equal(f->seen[1].path,
                      "/token?service=fake-registry&scope=repository%3Ateam%"
                      "2Fide%3Apull");
  assert_string_equal(f->seen[1].authorization, "");
  assert_string_equal(f->seen[2].authorization, "Bearer " TOKEN);
  assert_int_equal(stats(f).http_requests, 3);
}

static void test_gs_registry_check_bearer_with_credentials(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BEARER;
  write_auth_file(f, "{\"auth\": \"YWxpY2U6cGE1NTp3b3Jk\"}");
  make_client(f, true, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_int_equal(f->nseen, 3);
  assert_non_null(strstr(f->seen[1].path, "service=fake-registry"));
  assert_non_null(strstr(f->seen[1].path, "scope=repository%3Ateam%2Fide"));
  assert_string_equal(f->seen[1].authorization, BASIC_GOOD);
  assert_string_equal(f->seen[2].authorization, "Bearer " TOKEN);
}

static void test_gs_registry_check_bearer_wrong_credentials(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;
  char want[256];

  f->auth = AUTH_BEARER;
  write_auth_file(f, "{\"username\": \"alice\", \"password\": \"wrong\"}");
  make_client(f, true, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_UNAUTHORIZED);
  snprintf(want, sizeof(want), "check the credentials for %s in %s", f->host,
           f->auth_file);
  assert_non_null(strstr(r->detail, want));
  assert_null(strstr(r->detail, "wrong"));
  assert_int_equal(f->nseen, 2);
}

static void test_gs_registry_check_bearer_token_reused(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BEARER;
  make_client(f, false, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_int_equal(f->nseen, 3);
  r = check(f, "team/ide:v2"); /* same repository: same token */
  assert_int_equal(r->outcome, GS_MANIFEST_NOT_FOUND);
  assert_string_equal(f->seen[3].authorization, "Bearer " TOKEN);
  assert_string_equal(f->seen[4].path, "/v2/team/ide/tags/list?n=1");
  assert_int_equal(f->nseen, 5);
}

/* A cached token the registry no longer takes is dropped and renewed. */
static void test_gs_registry_check_bearer_token_renewed(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BEARER;
  make_client(f, false, 5000);
  assert_int_equal(check(f, "team/ide:v1")->outcome, GS_MANIFEST_FOUND);
  snprintf(f->token, sizeof(f->token), "tok-second");
  r = check(f, "team/ide@" MANIFEST_DIGEST);
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_int_equal(f->nseen, 6);
  assert_string_equal(f->seen[3].authorization, "Bearer " TOKEN);
  assert_string_equal(f->seen[5].authorization, "Bearer tok-second");
  check(f, "team/ide:v9"); /* the renewed token is the cached one now */
  assert_string_equal(f->seen[6].authorization, "Bearer tok-second");
}

static void test_gs_registry_check_identity_token(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BEARER;
  write_auth_file(f, "{\"identitytoken\": \"" REFRESH "\"}");
  make_client(f, true, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_string_equal(f->seen[1].method, "POST");
  assert_string_equal(f->seen[1].path, "/token");
  assert_non_null(strstr(f->seen[1].body, "grant_type=refresh_token"));
  assert_non_null(strstr(f->seen[1].body, "service=fake-registry"));
  assert_non_null(strstr(f->seen[1].body, "scope=repository%3Ateam%2Fide"));
}

static void test_gs_registry_check_basic(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BASIC;
  write_auth_file(f, "{\"auth\": \"YWxpY2U6cGE1NTp3b3Jk\"}");
  make_client(f, true, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_int_equal(f->nseen, 2);
  assert_string_equal(f->seen[1].authorization, BASIC_GOOD);
}

static void test_gs_registry_check_basic_wrong_credentials(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BASIC;
  write_auth_file(f, "{\"username\": \"alice\", \"password\": \"wrong\"}");
  make_client(f, true, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_UNAUTHORIZED);
  assert_int_equal(r->http_status, 401);
  assert_non_null(strstr(r->detail, "check the credentials"));
  assert_int_equal(f->nseen, 2);
}

static void test_gs_registry_check_basic_without_credentials(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BASIC;
  make_client(f, false, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_UNAUTHORIZED);
  assert_non_null(strstr(r->detail, "no credentials for"));
  assert_int_equal(f->nseen, 1);
}

/* Docker Hub answers 401 for a repository that does not exist. */
static void test_gs_registry_check_not_found_or_not_authorized(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->auth = AUTH_BEARER;
  f->deny_missing_repo = true;
  make_client(f, false, 5000);
  r = check(f, "team/private:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_UNAUTHORIZED);
  assert_non_null(strstr(r->detail, "not found or not authorized"));
  assert_non_null(strstr(r->detail, "team/private:v1"));
  assert_int_equal(f->nseen, 3); /* HEAD, token, HEAD */
}

static void test_gs_registry_check_forbidden(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->manifest_status = 403;
  make_client(f, false, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_UNAUTHORIZED);
  assert_int_equal(r->http_status, 403);
}

/* Nothing the client logs or answers holds a password or a token. */
static void test_gs_registry_check_no_secret_in_logs(void **state) {
  fixture *f = *state;
  char path[160];
  char buf[16384];
  FILE *fp;
  size_t n;
  int fd;

  snprintf(path, sizeof(path), "%s/log", f->dir);
  fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
  assert_true(fd >= 0);
  gs_log_set_fd(fd);
  gs_log_setup(GS_LOG_DEBUG, GS_LOG_TEXT);
  f->auth = AUTH_BEARER;
  write_auth_file(f,
                  "{\"username\": \"alice\", \"password\": \"" PASSWORD "\"}");
  make_client(f, true, 5000);
  assert_int_equal(check(f, "team/ide:v1")->outcome, GS_MANIFEST_FOUND);
  assert_int_equal(check(f, "team/ide:v1")->outcome, GS_MANIFEST_FOUND);
  gs_log_set_fd(2);
  gs_log_setup(GS_LOG_INFO, GS_LOG_TEXT);
  close(fd);
  fp = fopen(path, "r");
  n = fread(buf, 1, sizeof(buf) - 1, fp);
  buf[n] = '\0';
  fclose(fp);
  unlink(path);
  assert_non_null(strstr(buf, "registry.check"));
  assert_non_null(strstr(buf, "(cache)"));
  assert_null(strstr(buf, PASSWORD));
  assert_null(strstr(buf, "YWxpY2U6"));
  assert_null(strstr(buf, TOKEN));
  assert_null(strstr(buf, "Authorization"));
  for (int i = 0; i < f->calls; i++) {
    assert_null(strstr(f->results[i].detail, TOKEN));
    assert_null(strstr(f->results[i].detail, PASSWORD));
  }
}

/* ---- indefinite answers -------------------------------------------------- */

static void test_gs_registry_check_rate_limited(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->manifest_status = 429;
  make_client(f, false, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_RATE_LIMITED);
  assert_int_equal(r->http_status, 429);
  assert_non_null(strstr(r->detail, "Retry-After: 7"));
}

static void test_gs_registry_check_server_error_not_cached(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;

  f->manifest_status = 500;
  make_client(f, false, 5000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_UNREACHABLE);
  assert_int_equal(r->http_status, 500);
  assert_non_null(strstr(r->detail, "HTTP 500"));
  assert_int_equal(r->expires_ms, 0); /* indefinite: not cached */
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_UNREACHABLE);
  assert_false(r->from_cache);
  assert_int_equal(r->expires_ms, 0);
  assert_int_equal(stats(f).lookups, 2);
  assert_int_equal(stats(f).cache_hits, 0);
  assert_int_equal(f->nseen, 2);
}

static void test_gs_registry_check_timeout(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;
  uint64_t start;

  f->never_answer = true;
  make_client(f, false, 300);
  uv_update_time(&f->loop);
  start = uv_now(&f->loop);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_TIMED_OUT);
  assert_true(uv_now(&f->loop) - start >= 250);
  assert_true(uv_now(&f->loop) - start < 2000);
  assert_non_null(strstr(r->detail, "300 ms"));
  r = check(f, "team/ide:v1");
  assert_false(r->from_cache);
}

static void test_gs_registry_check_connection_refused(void **state) {
  fixture *f = *state;
  gs_image_ref ref;
  const char *s = "127.0.0.1:1/team/ide:v1";

  make_client(f, false, 5000);
  assert_int_equal(gs_image_ref_parse(s, strlen(s), &ref, NULL, 0), 0);
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, NULL), 0);
  run_until(f, 1);
  assert_int_equal(f->results[0].outcome, GS_MANIFEST_UNREACHABLE);
  assert_int_equal(f->results[0].http_status, 0);
  assert_non_null(strstr(f->results[0].detail, "127.0.0.1:1"));
}

/* ---- cache, coalescing, cancel, free ------------------------------------- */

static void test_gs_registry_check_cache_hit(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;
  uint64_t generation;
  uint64_t expires;
  uint64_t before;

  make_client(f, false, 5000);
  uv_update_time(&f->loop);
  before = uv_now(&f->loop);
  generation = gs_registry_generation(f->reg);
  expires = check(f, "team/ide:v1")->expires_ms;
  /* The positive TTL of make_client, from when the answer came. */
  assert_true(expires >= before + 60000);
  assert_true(expires <= uv_now(&f->loop) + 60000);
  r = check(f, "team/ide:v1");
  assert_int_equal(r->outcome, GS_MANIFEST_FOUND);
  assert_true(r->from_cache);
  assert_int_equal(r->expires_ms, expires); /* the cached entry's expiry */
  assert_string_equal(r->digest, HEADER_DIGEST);
  assert_int_equal(f->nseen, 1);
  assert_int_equal(stats(f).http_requests, 1);
  assert_int_equal(stats(f).cache_hits, 1);
  assert_int_equal(stats(f).lookups, 1);
  assert_int_equal(gs_registry_generation(f->reg), generation);
  gs_registry_flush_cache(f->reg);
  assert_int_not_equal(gs_registry_generation(f->reg), generation);
  r = check(f, "team/ide:v1");
  assert_false(r->from_cache);
  assert_int_equal(f->nseen, 2);
}

static void test_gs_registry_check_negative_cache(void **state) {
  fixture *f = *state;
  const gs_manifest_result *r;
  char detail[512];

  make_client(f, false, 5000);
  snprintf(detail, sizeof(detail), "%s", check(f, "team/ide:v9")->detail);
  assert_int_not_equal(f->results[0].expires_ms, 0);
  r = check(f, "team/ide:v9");
  assert_int_equal(r->outcome, GS_MANIFEST_NOT_FOUND);
  assert_true(r->from_cache);
  assert_int_equal(r->expires_ms, f->results[0].expires_ms);
  assert_string_equal(r->detail, detail);
  assert_int_equal(f->nseen, 2);
}

static void test_gs_registry_check_cache_expires(void **state) {
  fixture *f = *state;
  const char *insecure[] = {f->host, NULL};
  gs_registry_options o;
  gs_manifest_result r;

  memset(&o, 0, sizeof(o));
  o.insecure_hosts = insecure;
  o.positive_ttl_ms = 100;
  o.negative_ttl_ms = 0;
  assert_int_equal(gs_registry_new(&f->loop, f->http, &o, &f->reg, NULL, 0), 0);
  check(f, "team/ide:v1");
  assert_true(check(f, "team/ide:v1")->from_cache);
  run_for(f, 150);
  r = *check(f, "team/ide:v1");
  assert_false(r.from_cache);
  r = *check(f, "team/ide:v9");
  assert_int_equal(r.expires_ms, 0); /* a negative TTL of 0 keeps nothing */
  r = *check(f, "team/ide:v9");
  assert_false(r.from_cache);
  assert_int_equal(stats(f).lookups, 4);
}

static void test_gs_registry_check_coalesces_concurrent(void **state) {
  fixture *f = *state;
  gs_image_ref ref;

  f->auth = AUTH_BEARER;
  make_client(f, false, 5000);
  ref = make_ref(f, "team/ide:v1");
  for (int i = 0; i < 100; i++) {
    assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, NULL), 0);
  }
  run_until(f, 100);
  for (int i = 0; i < 100; i++) {
    assert_int_equal(f->results[i].outcome, GS_MANIFEST_FOUND);
    assert_false(f->results[i].from_cache);
  }
  assert_int_equal(stats(f).lookups, 1);
  assert_int_equal(stats(f).coalesced, 99);
  assert_int_equal(stats(f).http_requests, 3);
  assert_int_equal(f->nseen, 3);
}

static void test_gs_registry_cancel(void **state) {
  fixture *f = *state;
  gs_registry_waiter *a = NULL;
  gs_registry_waiter *b = NULL;
  gs_image_ref ref;

  make_client(f, false, 5000);
  ref = make_ref(f, "team/ide:v1");
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, &a), 0);
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, &b), 0);
  gs_registry_cancel(a);
  run_until(f, 1);
  run_for(f, 20);
  assert_int_equal(f->calls, 1);
  /* Cancelling every waiter still lets the lookup fill the cache. */
  gs_registry_flush_cache(f->reg);
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, &a), 0);
  gs_registry_cancel(a);
  while (stats(f).http_requests < 2 || f->nseen < 2) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  run_for(f, 50);
  assert_int_equal(f->calls, 1);
  assert_true(check(f, "team/ide:v1")->from_cache);
}

static void test_gs_registry_cancel_cached_answer(void **state) {
  fixture *f = *state;
  gs_registry_waiter *w = NULL;
  gs_image_ref ref;

  make_client(f, false, 5000);
  check(f, "team/ide:v1");
  ref = make_ref(f, "team/ide:v1");
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, &w), 0);
  gs_registry_cancel(w);
  run_for(f, 20);
  assert_int_equal(f->calls, 1);
  assert_int_equal(stats(f).cache_hits, 1);
}

static void test_gs_registry_free_with_lookups_in_flight(void **state) {
  fixture *f = *state;
  gs_image_ref ref;

  f->never_answer = true;
  make_client(f, false, 5000);
  ref = make_ref(f, "team/ide:v1");
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, NULL), 0);
  ref = make_ref(f, "team/ide:v2");
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, NULL), 0);
  while (f->nseen < 2) {
    uv_run(&f->loop, UV_RUN_ONCE);
  }
  gs_registry_free(f->reg);
  f->reg = NULL;
  run_for(f, 20);
  assert_int_equal(f->calls, 0);
}

static void test_gs_registry_free_from_callback(void **state) {
  fixture *f = *state;
  gs_image_ref ref;

  make_client(f, false, 5000);
  check(f, "team/ide:v1");
  ref = make_ref(f, "team/ide:v1");
  f->free_in_callback = true;
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, NULL), 0);
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, NULL), 0);
  ref = make_ref(f, "team/ide:v2");
  assert_int_equal(gs_registry_check(f->reg, &ref, on_result, f, NULL), 0);
  run_until(f, 2);
  run_for(f, 50);
  assert_int_equal(f->calls, 2); /* the others went with the client */
  assert_null(f->reg);
}

static void test_gs_registry_new_errors(void **state) {
  fixture *f = *state;
  gs_registry_options o;
  gs_registry *reg = NULL;
  char err[256];

  memset(&o, 0, sizeof(o));
  o.auth_file = f->auth_file;
  assert_int_equal(
      gs_registry_new(&f->loop, f->http, &o, &reg, err, sizeof(err)),
      GS_ENOENT);
  assert_null(reg);
  assert_non_null(strstr(err, f->auth_file));
  write_auth_file(f, "{\"auth\": \"%%%\"}");
  assert_int_equal(
      gs_registry_new(&f->loop, f->http, &o, &reg, err, sizeof(err)),
      GS_EINVAL);
  assert_non_null(strstr(err, "not valid base64"));
  assert_int_equal(gs_registry_new(NULL, f->http, &o, &reg, err, sizeof(err)),
                   GS_EINVAL);
  assert_string_equal(gs_manifest_outcome_name(GS_MANIFEST_TIMED_OUT),
                      "TIMED_OUT");
  assert_string_equal(gs_manifest_outcome_name(GS_MANIFEST_FOUND), "FOUND");
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(test_gs_registry_check_anonymous_found),
      TEST(test_gs_registry_check_default_tag_is_latest),
      TEST(test_gs_registry_check_digest_computed_without_header),
      TEST(test_gs_registry_check_by_digest),
      TEST(test_gs_registry_check_tag_not_found),
      TEST(test_gs_registry_check_repository_not_found),
      TEST(test_gs_registry_check_bearer_anonymous),
      TEST(test_gs_registry_check_bearer_with_credentials),
      TEST(test_gs_registry_check_bearer_wrong_credentials),
      TEST(test_gs_registry_check_bearer_token_reused),
      TEST(test_gs_registry_check_bearer_token_renewed),
      TEST(test_gs_registry_check_identity_token),
      TEST(test_gs_registry_check_basic),
      TEST(test_gs_registry_check_basic_wrong_credentials),
      TEST(test_gs_registry_check_basic_without_credentials),
      TEST(test_gs_registry_check_not_found_or_not_authorized),
      TEST(test_gs_registry_check_forbidden),
      TEST(test_gs_registry_check_no_secret_in_logs),
      TEST(test_gs_registry_check_rate_limited),
      TEST(test_gs_registry_check_server_error_not_cached),
      TEST(test_gs_registry_check_timeout),
      TEST(test_gs_registry_check_connection_refused),
      TEST(test_gs_registry_check_cache_hit),
      TEST(test_gs_registry_check_negative_cache),
      TEST(test_gs_registry_check_cache_expires),
      TEST(test_gs_registry_check_coalesces_concurrent),
      TEST(test_gs_registry_cancel),
      TEST(test_gs_registry_cancel_cached_answer),
      TEST(test_gs_registry_free_with_lookups_in_flight),
      TEST(test_gs_registry_free_from_callback),
      TEST(test_gs_registry_new_errors),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
