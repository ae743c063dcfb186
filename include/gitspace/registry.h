/* OCI distribution client: does this manifest exist, and what digest? */
#ifndef GITSPACE_REGISTRY_H
#define GITSPACE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "gitspace/http.h"
#include "gitspace/image_ref.h"

typedef struct gs_registry gs_registry;
typedef struct gs_registry_waiter gs_registry_waiter;

typedef enum {
  GS_MANIFEST_FOUND = 0,
  GS_MANIFEST_NOT_FOUND,    /* definite: the tag or the repository is missing */
  GS_MANIFEST_UNAUTHORIZED, /* definite: no, wrong or insufficient creds */
  GS_MANIFEST_RATE_LIMITED, /* indefinite: HTTP 429 */
  GS_MANIFEST_UNREACHABLE,  /* indefinite: connection, TLS, 5xx, bad reply */
  GS_MANIFEST_TIMED_OUT     /* indefinite */
} gs_manifest_outcome;

typedef struct {
  gs_manifest_outcome outcome;
  char digest[GS_IMAGE_DIGEST_MAX + 1]; /* "sha256:..." when found */
  char media_type[128];                 /* manifest media type when found */
  long http_status;                     /* last status seen; 0 if none */
  /* One sentence a person can act on, naming the image; never a secret. */
  char detail[512];
  bool from_cache;
  /* uv_now() value when this answer leaves the cache; 0: not cached (an
   * indefinite outcome, a TTL of 0). Holds only while
   * gs_registry_generation is what it was when the check was made. */
  uint64_t expires_ms;
} gs_manifest_result;

typedef struct {
  /* Credentials in Docker's config.json format ("auths": {host: {"auth":
   * base64(user:password)} or username/password, identitytoken});
   * NULL: anonymous only. A user and password go to the token service as
   * Basic auth (or to a registry that asks for Basic); an identity token is
   * traded for a token with an OAuth2 refresh-token POST. Credentials are
   * sent only over https, or to hosts listed in insecure_hosts.
   * credsStore and credHelpers are not supported. */
  const char *auth_file;
  const char *ca_file;               /* PEM bundle; NULL: the system's */
  const char *const *insecure_hosts; /* plain HTTP; NULL-terminated or NULL */
  uint64_t timeout_ms;               /* one lookup, tokens included; 0: 30 s */
  uint64_t positive_ttl_ms;          /* FOUND answers; 0: not cached */
  uint64_t negative_ttl_ms;          /* NOT_FOUND, UNAUTHORIZED; 0: none */
  /* Other outcomes (RATE_LIMITED, UNREACHABLE, TIMED_OUT) are never
   * cached. */
} gs_registry_options;

/* Creates a client that sends its requests through `http` (borrowed; must
 * outlive it) on `loop`. Strings in `opts` are copied; the auth file is read
 * now. Returns 0, or GS_EINVAL/GS_ENOENT/GS_ENOMEM with a message naming the
 * file in `err` (`errlen` bytes, terminated; never a secret). *out is freed
 * by gs_registry_free. */
int gs_registry_new(uv_loop_t *loop, gs_http *http,
                    const gs_registry_options *opts, gs_registry **out,
                    char *err, size_t errlen);

/* Called once with the answer, unless the waiter was cancelled. `res` is
 * valid only during the call. */
typedef void (*gs_registry_cb)(const gs_manifest_result *res, void *data);

/* Asks whether the manifest of `ref` (borrowed; its tag or digest; "latest"
 * when neither; the digest when both) exists. A cached answer still within
 * its TTL is delivered from the loop (never from within this call) with
 * from_cache set; concurrent checks of the same reference share one
 * lookup. Every answer, cached or not, arrives from the loop on a later
 * turn. On success stores a handle in *out (may be NULL), valid until `cb`
 * runs or gs_registry_cancel. Returns 0 or GS_ENOMEM (GS_ECANCELED when
 * called from a callback after gs_registry_free). */
int gs_registry_check(gs_registry *reg, const gs_image_ref *ref,
                      gs_registry_cb cb, void *data, gs_registry_waiter **out);

/* Drops a waiter: its callback will not run. The lookup goes on for the
 * others and for the cache. Does nothing when called from the waiter's own
 * callback. */
void gs_registry_cancel(gs_registry_waiter *waiter);

/* Counters, for logs and tests. */
typedef struct {
  uint64_t lookups;       /* manifest lookups started */
  uint64_t http_requests; /* requests sent, tokens included */
  uint64_t cache_hits;
  uint64_t coalesced; /* checks that joined a lookup in flight */
} gs_registry_stats;

void gs_registry_get_stats(const gs_registry *reg, gs_registry_stats *out);

/* Forgets every cached answer, and the cached bearer tokens. */
void gs_registry_flush_cache(gs_registry *reg);

/* A number that changes each time gs_registry_flush_cache runs, for callers
 * that keep what they derived from answers until their expires_ms: what
 * they kept under another generation is stale. */
uint64_t gs_registry_generation(const gs_registry *reg);

/* Stops every lookup (no callbacks run) and frees the client; may be
 * called from a callback. The client's one timer handle finishes closing
 * on the next turn of the loop (as gs_http_close's handles do), so run the
 * loop once more before uv_loop_close. Free the client before closing its
 * gs_http. */
void gs_registry_free(gs_registry *reg);

const char *gs_manifest_outcome_name(gs_manifest_outcome outcome);

#endif
