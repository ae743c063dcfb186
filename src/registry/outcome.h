/* The answers of a manifest check, each with a sentence a person can act
 * on. `image` is the normalised reference, `host` the registry. */
#ifndef GS_REGISTRY_OUTCOME_H
#define GS_REGISTRY_OUTCOME_H

#include <stdint.h>

#include "gitspace/registry.h"

/* What a 404 turned out to mean. */
typedef enum {
  GS_MISSING_MANIFEST = 0, /* the repository exists; the tag/digest not */
  GS_MISSING_REPOSITORY,
  GS_MISSING_UNKNOWN /* could not tell which */
} gs_missing;

/* Why access was refused. */
typedef enum {
  GS_REFUSED_ANONYMOUS = 0,    /* no credentials for the host */
  GS_REFUSED_CREDENTIALS,      /* the credentials were refused */
  GS_REFUSED_WITH_CREDENTIALS, /* accepted, but no pull access to this one */
  GS_REFUSED_UNUSABLE /* credentials exist but this flow can't use them */
} gs_refusal;

/* Each fills *res (outcome, detail; digest and media type when found) and
 * leaves http_status and from_cache alone. */
void gs_outcome_found(gs_manifest_result *res, const char *image,
                      const char *digest, const char *content_type);
void gs_outcome_not_found(gs_manifest_result *res, const char *image,
                          const char *repository, const char *reference,
                          gs_missing what);
void gs_outcome_unauthorized(gs_manifest_result *res, const char *image,
                             const char *host, const char *auth_file,
                             gs_refusal why);
void gs_outcome_rate_limited(gs_manifest_result *res, const char *image,
                             const char *host, const char *retry_after);
/* An HTTP status that is no answer (5xx, or one we do not expect). */
void gs_outcome_bad_status(gs_manifest_result *res, const char *image,
                           const char *host, const char *what, long status);
/* A transport failure: `error` is the gs_http error, `text` its words. */
void gs_outcome_transport(gs_manifest_result *res, const char *image,
                          const char *host, int error, const char *text,
                          uint64_t timeout_ms);
/* The lookup ran out of time before it could send its next request. */
void gs_outcome_timed_out(gs_manifest_result *res, const char *image,
                          const char *host, uint64_t timeout_ms);
/* A token service answer we cannot use, or a request we could not send. */
void gs_outcome_broken(gs_manifest_result *res, const char *image,
                       const char *host, const char *why);

/* True for the outcomes that say something about the image (FOUND,
 * NOT_FOUND, UNAUTHORIZED) rather than about the way to it. */
bool gs_outcome_is_definite(gs_manifest_outcome outcome);

#endif
