/* One manifest lookup: HEAD the manifest; on 401 fetch a bearer token or
 * retry with Basic credentials; GET the manifest when no digest header
 * came; after a 404 ask for the tags to tell a missing tag from a missing
 * repository. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "challenge.h"
#include "digest.h"
#include "gitspace/error.h"
#include "gitspace/log.h"
#include "outcome.h"
#include "registry_int.h"
#include "token.h"

#define LOOKUP_ACCEPT                                                          \
  "Accept: application/vnd.oci.image.index.v1+json, "                          \
  "application/vnd.docker.distribution.manifest.list.v2+json, "                \
  "application/vnd.oci.image.manifest.v1+json, "                               \
  "application/vnd.docker.distribution.manifest.v2+json"
/* 4 MiB: the largest manifest registries are asked to accept. */
#define LOOKUP_MANIFEST_MAX ((size_t)4 << 20)
#define LOOKUP_TOKEN_BODY_MAX ((size_t)256 << 10)
#define LOOKUP_URL_MAX 4096
#define LOOKUP_CHALLENGES 4
#define LOOKUP_FORM_MAX (GS_TOKEN_MAX * 3 + 2048)
#define LOOKUP_TOKEN_KEY_MAX (GS_IMAGE_NAME_MAX * 2 + 64)

/* What one request of the lookup asks for. */
typedef struct {
  gs_lookup_step step;
  const char *method;
  const char *url;
  const char *const *headers;
  const char *body;
  size_t body_len;
  size_t max_body;
  gs_http_data_fn on_data;
} lookup_request;

static void lookup_on_done(gs_http_request *req, const gs_http_response *resp,
                           void *data);

static void lookup_finish(gs_lookup *lk, gs_manifest_result *res) {
  if (res->http_status == 0) {
    res->http_status = lk->last_status;
  }
  gs_registry_finish(lk, res);
}

static bool lookup_host_is_insecure(const gs_registry *reg, const char *host) {
  for (size_t i = 0; reg->insecure_hosts != NULL && reg->insecure_hosts[i];
       i++) {
    if (strcasecmp(reg->insecure_hosts[i], host) == 0) {
      return true;
    }
  }
  return false;
}

static bool lookup_is_insecure(const gs_lookup *lk) {
  return lookup_host_is_insecure(lk->reg, lk->ref.domain) ||
         lookup_host_is_insecure(lk->reg, lk->host);
}

static void lookup_wipe_free(char *s) {
  if (s != NULL) {
    explicit_bzero(s, strlen(s));
    free(s);
  }
}

/* Replaces the lookup's authorization line; `line` is handed over. */
static void lookup_set_authorization(gs_lookup *lk, char *line) {
  lookup_wipe_free(lk->authorization);
  lk->authorization = line;
}

static char *lookup_bearer(const char *token) {
  size_t n = strlen("Authorization: Bearer ") + strlen(token) + 1;
  char *line = malloc(n);

  if (line != NULL) {
    snprintf(line, n, "Authorization: Bearer %s", token);
  }
  return line;
}

/* Returns a new "Authorization: Basic ..." line, or NULL. */
static char *lookup_basic(const gs_credential *cred) {
  size_t plain_len = strlen(cred->username) + strlen(cred->password) + 1;
  size_t n = GS_BASE64_ENCODED_SIZE(plain_len) + 32;
  char *plain = malloc(plain_len + 1);
  char *line = malloc(n);

  if (plain != NULL && line != NULL) {
    int prefix = snprintf(line, n, "Authorization: Basic ");

    snprintf(plain, plain_len + 1, "%s:%s", cred->username, cred->password);
    gs_base64_encode(plain, plain_len, line + prefix, n - (size_t)prefix);
  } else {
    free(line);
    line = NULL;
  }
  if (plain != NULL) {
    explicit_bzero(plain, plain_len + 1);
    free(plain);
  }
  return line;
}

static void lookup_token_key(const gs_lookup *lk, char *out, size_t outlen) {
  snprintf(out, outlen, "%s %s", lk->host, lk->scope);
}

/* Sends one request; on failure writes the answer into `res`. */
static int lookup_send(gs_lookup *lk, const lookup_request *r,
                       gs_manifest_result *res) {
  gs_registry *reg = lk->reg;
  uint64_t now = uv_now(reg->loop);
  gs_http_options o;
  int rv;

  if (now >= lk->deadline) {
    gs_outcome_timed_out(res, lk->key, lk->host, reg->timeout_ms);
    return GS_ETIMEDOUT;
  }
  memset(&o, 0, sizeof(o));
  o.method = r->method;
  o.url = r->url;
  o.headers = r->headers;
  o.body = r->body;
  o.body_len = r->body_len;
  o.timeout_ms = lk->deadline - now;
  o.max_body = r->max_body;
  o.on_data = r->on_data;
  o.ca_file = reg->ca_file;
  o.follow_redirects = true;
  rv = gs_http_start(reg->http, &o, lookup_on_done, lk, &lk->req);
  if (rv != 0) {
    char why[128];

    snprintf(why, sizeof(why), "the request could not be started (%s)",
             gs_strerror(rv));
    gs_outcome_broken(res, lk->key, lk->host, why);
    return rv;
  }
  lk->step = r->step;
  lk->requests++;
  reg->stats.http_requests++;
  GS_DEBUG("-", "registry.request %s %s (%s)", r->method, r->url, lk->key);
  return 0;
}

/* HEADs or GETs the manifest with the authorization the lookup has. */
static int lookup_manifest(gs_lookup *lk, bool get, gs_manifest_result *res) {
  char url[LOOKUP_URL_MAX];
  const char *headers[3] = {LOOKUP_ACCEPT, lk->authorization, NULL};
  lookup_request r = {.step = get ? GS_LOOKUP_GET : GS_LOOKUP_HEAD,
                      .method = get ? "GET" : "HEAD",
                      .url = url,
                      .headers = headers,
                      .max_body = LOOKUP_MANIFEST_MAX};

  snprintf(url, sizeof(url), "%s/manifests/%s", lk->base, lk->reference);
  return lookup_send(lk, &r, res);
}

static int lookup_discard(gs_http_request *req, const char *chunk, size_t len,
                          void *data) {
  (void)req;
  (void)chunk;
  (void)len;
  (void)data;
  return 0;
}

/* The tags list exists exactly when the repository does. */
static int lookup_tags(gs_lookup *lk, gs_manifest_result *res) {
  char url[LOOKUP_URL_MAX];
  const char *headers[2] = {lk->authorization, NULL};
  lookup_request r = {.step = GS_LOOKUP_TAGS,
                      .method = "GET",
                      .url = url,
                      .headers = headers,
                      .on_data = lookup_discard};

  snprintf(url, sizeof(url), "%s/tags/list?n=1", lk->base);
  return lookup_send(lk, &r, res);
}

/* ---- refusals ------------------------------------------------------------ */

static void lookup_refused(gs_lookup *lk, gs_manifest_result *res) {
  const gs_credential *cred =
      gs_credentials_find(lk->reg->creds, lk->ref.domain);
  gs_refusal why = GS_REFUSED_ANONYMOUS;

  if (lk->basic_tried) {
    why = GS_REFUSED_CREDENTIALS;
  } else if (lk->credentials_used) {
    why = GS_REFUSED_WITH_CREDENTIALS;
  } else if (cred != NULL) {
    why = GS_REFUSED_UNUSABLE;
  }
  gs_outcome_unauthorized(res, lk->key, lk->host, lk->reg->auth_file, why);
}

/* ---- the token request --------------------------------------------------- */

/* Credentials go to a token service over https only, unless the registry
 * itself is a plain-HTTP one the operator listed. */
static bool lookup_may_send_credentials(const gs_lookup *lk,
                                        const char *realm) {
  return strncasecmp(realm, "https://", 8) == 0 || lookup_is_insecure(lk);
}

static int lookup_token_basic(gs_lookup *lk, const char *url,
                              const gs_credential *cred,
                              gs_manifest_result *res) {
  char *line = lookup_basic(cred);
  const char *headers[2] = {line, NULL};
  lookup_request r = {.step = GS_LOOKUP_TOKEN,
                      .method = "GET",
                      .url = url,
                      .headers = headers,
                      .max_body = LOOKUP_TOKEN_BODY_MAX};
  int rv;

  if (line == NULL) {
    gs_outcome_broken(res, lk->key, lk->host, "out of memory");
    return GS_ENOMEM;
  }
  lk->credentials_used = true;
  rv = lookup_send(lk, &r, res);
  lookup_wipe_free(line);
  return rv;
}

/* The OAuth2 way: POST the identity token as a refresh token. */
static int lookup_token_oauth(gs_lookup *lk, const gs_auth_challenge *c,
                              const gs_credential *cred,
                              gs_manifest_result *res) {
  char *form = malloc(LOOKUP_FORM_MAX);
  const char *headers[2] = {"Content-Type: application/x-www-form-urlencoded",
                            NULL};
  lookup_request r = {.step = GS_LOOKUP_TOKEN,
                      .method = "POST",
                      .url = c->realm,
                      .headers = headers,
                      .body = form,
                      .max_body = LOOKUP_TOKEN_BODY_MAX};
  int rv;

  if (form == NULL) {
    gs_outcome_broken(res, lk->key, lk->host, "out of memory");
    return GS_ENOMEM;
  }
  rv = gs_token_form(c->service, lk->scope, cred->identity_token, form,
                     LOOKUP_FORM_MAX);
  if (rv != 0) {
    gs_outcome_broken(res, lk->key, lk->host,
                      "the identity token is too long to send");
  } else {
    r.body_len = strlen(form);
    lk->credentials_used = true;
    rv = lookup_send(lk, &r, res);
  }
  explicit_bzero(form, LOOKUP_FORM_MAX);
  free(form);
  return rv;
}

static int lookup_token(gs_lookup *lk, const gs_auth_challenge *c,
                        gs_manifest_result *res) {
  const gs_credential *cred =
      gs_credentials_find(lk->reg->creds, lk->ref.domain);
  char url[LOOKUP_URL_MAX];
  lookup_request r = {.step = GS_LOOKUP_TOKEN,
                      .method = "GET",
                      .url = url,
                      .max_body = LOOKUP_TOKEN_BODY_MAX};

  if (gs_token_url(c->realm, c->service, lk->scope, url, sizeof(url)) != 0) {
    gs_outcome_broken(res, lk->key, lk->host,
                      "its token service address (realm) is not an http or "
                      "https URL");
    return GS_EINVAL;
  }
  if (cred != NULL && !lookup_may_send_credentials(lk, c->realm)) {
    GS_WARN("-",
            "registry.check %s: not sending the credentials for %s to a "
            "token service without https; asking anonymously",
            lk->key, lk->host);
    cred = NULL;
  }
  if (cred != NULL && cred->identity_token != NULL) {
    return lookup_token_oauth(lk, c, cred, res);
  }
  if (cred != NULL && cred->username != NULL) {
    return lookup_token_basic(lk, url, cred, res);
  }
  return lookup_send(lk, &r, res);
}

/* ---- answers ------------------------------------------------------------- */

static void lookup_on_unauthorized(gs_lookup *lk, gs_http_request *req,
                                   gs_manifest_result *res) {
  gs_registry *reg = lk->reg;
  const char *hdr = gs_http_header(req, "WWW-Authenticate");
  gs_auth_challenge *chal = calloc(LOOKUP_CHALLENGES, sizeof(*chal));
  const gs_credential *cred = gs_credentials_find(reg->creds, lk->ref.domain);
  const gs_auth_challenge *bearer = NULL;
  const gs_auth_challenge *basic = NULL;
  int n = GS_EINVAL;
  int rv = -1;

  if (chal != NULL && hdr != NULL) {
    n = gs_challenge_parse(hdr, strlen(hdr), chal, LOOKUP_CHALLENGES);
  }
  if (n > 0) {
    bearer = gs_challenge_find(chal, (size_t)n, GS_AUTH_BEARER);
    basic = gs_challenge_find(chal, (size_t)n, GS_AUTH_BASIC);
  }
  if (bearer != NULL && bearer->realm[0] != '\0' && !lk->token_fetched) {
    if (lk->token_from_cache) {
      char key[LOOKUP_TOKEN_KEY_MAX];

      lookup_token_key(lk, key, sizeof(key));
      gs_ttl_cache_remove(reg->tokens, key);
      lk->token_from_cache = false;
    }
    rv = lookup_token(lk, bearer, res);
  } else if (basic != NULL && !lk->basic_tried && cred != NULL &&
             cred->username != NULL) {
    lookup_set_authorization(lk, lookup_basic(cred));
    lk->basic_tried = true;
    lk->credentials_used = true;
    rv = lookup_manifest(lk, false, res);
  } else {
    lookup_refused(lk, res);
  }
  free(chal);
  if (rv != 0) {
    lookup_finish(lk, res);
  }
}

/* The answers every manifest request shares: refusals, 404, 429, others. */
static void lookup_on_status(gs_lookup *lk, gs_http_request *req, long status,
                             gs_manifest_result *res) {
  int rv = -1;

  if (status == 401) {
    lookup_on_unauthorized(lk, req, res);
    return;
  }
  if (status == 403) {
    lookup_refused(lk, res);
  } else if (status == 404) {
    rv = lookup_tags(lk, res);
  } else if (status == 429) {
    gs_outcome_rate_limited(res, lk->key, lk->host,
                            gs_http_header(req, "Retry-After"));
  } else {
    gs_outcome_bad_status(res, lk->key, lk->host, "registry", status);
  }
  if (rv != 0) {
    lookup_finish(lk, res);
  }
}

static void lookup_on_head(gs_lookup *lk, gs_http_request *req,
                           const gs_http_response *resp,
                           gs_manifest_result *res) {
  const char *digest = gs_http_header(req, "Docker-Content-Digest");
  const char *type = gs_http_header(req, "Content-Type");

  if (resp->status != 200) {
    lookup_on_status(lk, req, resp->status, res);
    return;
  }
  if (lk->ref.digest[0] != '\0') {
    gs_outcome_found(res, lk->key, lk->ref.digest, type);
  } else if (digest != NULL && gs_digest_is_valid(digest)) {
    gs_outcome_found(res, lk->key, digest, type);
  } else if (lookup_manifest(lk, true, res) == 0) {
    return;
  }
  lookup_finish(lk, res);
}

static void lookup_on_get(gs_lookup *lk, gs_http_request *req,
                          const gs_http_response *resp,
                          gs_manifest_result *res) {
  const char *digest = gs_http_header(req, "Docker-Content-Digest");
  const char *type = gs_http_header(req, "Content-Type");
  char computed[GS_IMAGE_DIGEST_MAX + 1];

  if (resp->status != 200) {
    lookup_on_status(lk, req, resp->status, res);
    return;
  }
  if (digest != NULL && gs_digest_is_valid(digest)) {
    gs_outcome_found(res, lk->key, digest, type);
  } else if (gs_digest_sha256(resp->body, resp->body_len, computed,
                              sizeof(computed)) == 0) {
    gs_outcome_found(res, lk->key, computed, type);
  } else {
    gs_outcome_broken(res, lk->key, lk->host,
                      "the manifest digest could not be computed");
  }
  lookup_finish(lk, res);
}

/* Keeps the token for its host and scope, a little less long than the
 * token service said, and retries the manifest with it. */
static void lookup_on_token_ok(gs_lookup *lk, const gs_http_response *resp,
                               gs_manifest_result *res) {
  gs_registry *reg = lk->reg;
  char key[LOOKUP_TOKEN_KEY_MAX];
  char *token = NULL;
  uint64_t expires_in = 0;
  uint64_t ttl;
  uint64_t now = uv_now(reg->loop);

  if (gs_token_parse(resp->body, resp->body_len, &token, &expires_in) != 0) {
    gs_outcome_broken(res, lk->key, lk->host,
                      "its token service answered without a usable token");
    lookup_finish(lk, res);
    return;
  }
  ttl = expires_in * 1000;
  ttl -= ttl / 10 < 30000 ? ttl / 10 : 30000;
  lookup_token_key(lk, key, sizeof(key));
  gs_ttl_cache_put(reg->tokens, key, token, strlen(token) + 1, now, now + ttl);
  lookup_set_authorization(lk, lookup_bearer(token));
  lookup_wipe_free(token);
  lk->token_fetched = true;
  if (lookup_manifest(lk, false, res) != 0) {
    lookup_finish(lk, res);
  }
}

static void lookup_on_token(gs_lookup *lk, const gs_http_response *resp,
                            gs_manifest_result *res) {
  long status = resp->status;

  if (status == 200) {
    lookup_on_token_ok(lk, resp, res);
    return;
  }
  if (status == 401 || status == 403) {
    gs_outcome_unauthorized(res, lk->key, lk->host, lk->reg->auth_file,
                            lk->credentials_used ? GS_REFUSED_CREDENTIALS
                                                 : GS_REFUSED_ANONYMOUS);
  } else if (status == 429) {
    gs_outcome_rate_limited(res, lk->key, lk->host, NULL);
  } else {
    gs_outcome_bad_status(res, lk->key, lk->host, "the token service of",
                          status);
  }
  lookup_finish(lk, res);
}

static void lookup_on_tags(gs_lookup *lk, const gs_http_response *resp,
                           gs_manifest_result *res) {
  gs_missing what = GS_MISSING_UNKNOWN;

  if (resp->error == 0 && resp->status == 200) {
    what = GS_MISSING_MANIFEST;
  } else if (resp->error == 0 && resp->status == 404) {
    what = GS_MISSING_REPOSITORY;
  }
  gs_outcome_not_found(res, lk->key, lk->repository, lk->reference, what);
  res->http_status = 404; /* the manifest's answer, not the tags' */
  lookup_finish(lk, res);
}

static void lookup_on_done(gs_http_request *req, const gs_http_response *resp,
                           void *data) {
  gs_lookup *lk = data;
  gs_manifest_result res;

  memset(&res, 0, sizeof(res));
  lk->req = NULL;
  GS_DEBUG("-", "registry.request %s -> %ld%s%s (%.0f ms)", lk->key,
           resp->status, resp->error != 0 ? " " : "", resp->error_text,
           resp->total_ms);
  if (lk->step == GS_LOOKUP_TAGS) {
    lookup_on_tags(lk, resp, &res);
    return;
  }
  lk->last_status = resp->status;
  if (resp->error != 0) {
    gs_outcome_transport(&res, lk->key, lk->host, resp->error, resp->error_text,
                         lk->reg->timeout_ms);
    lookup_finish(lk, &res);
    return;
  }
  switch (lk->step) {
  case GS_LOOKUP_TOKEN:
    lookup_on_token(lk, resp, &res);
    break;
  case GS_LOOKUP_GET:
    lookup_on_get(lk, req, resp, &res);
    break;
  default:
    lookup_on_head(lk, req, resp, &res);
    break;
  }
}

/* ---- life cycle ---------------------------------------------------------- */

int gs_lookup_new(gs_registry *reg, const gs_image_ref *ref, const char *key,
                  gs_lookup **out) {
  gs_lookup *lk = calloc(1, sizeof(*lk));

  if (lk == NULL) {
    return GS_ENOMEM;
  }
  lk->reg = reg;
  lk->ref = *ref;
  lk->host = gs_image_ref_api_host(&lk->ref);
  snprintf(lk->key, sizeof(lk->key), "%s", key);
  gs_image_ref_repository(&lk->ref, lk->repository, sizeof(lk->repository));
  snprintf(lk->reference, sizeof(lk->reference), "%s",
           ref->digest[0] != '\0' ? ref->digest : ref->tag);
  snprintf(lk->base, sizeof(lk->base), "%s://%s/v2/%s",
           lookup_is_insecure(lk) ? "http" : "https", lk->host, ref->path);
  snprintf(lk->scope, sizeof(lk->scope), "repository:%s:pull", ref->path);
  lk->started = uv_now(reg->loop);
  lk->deadline = lk->started + reg->timeout_ms;
  *out = lk;
  return 0;
}

int gs_lookup_start(gs_lookup *lk, gs_manifest_result *res) {
  gs_registry *reg = lk->reg;
  char key[LOOKUP_TOKEN_KEY_MAX];
  const char *token;

  lookup_token_key(lk, key, sizeof(key));
  token = gs_ttl_cache_get(reg->tokens, key, uv_now(reg->loop), NULL);
  if (token != NULL) {
    lookup_set_authorization(lk, lookup_bearer(token));
    lk->token_from_cache = true;
  }
  return lookup_manifest(lk, false, res);
}

void gs_lookup_free(gs_lookup *lk) {
  if (lk->req != NULL) {
    gs_http_cancel(lk->req);
  }
  lookup_wipe_free(lk->authorization);
  free(lk);
}
