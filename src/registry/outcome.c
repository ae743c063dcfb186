/* Outcome sentences: what the registry said and what to do about it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gitspace/error.h"
#include "outcome.h"

static void outcome_set(gs_manifest_result *res, gs_manifest_outcome outcome,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void outcome_set(gs_manifest_result *res, gs_manifest_outcome outcome,
                        const char *fmt, ...) {
  va_list ap;

  res->outcome = outcome;
  va_start(ap, fmt);
  vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
  va_end(ap);
}

/* Keeps the media type of a Content-Type, without parameters, when it is
 * plain printable text. */
static void outcome_media_type(char *out, size_t outlen, const char *ct) {
  size_t n = 0;

  out[0] = '\0';
  if (ct == NULL) {
    return;
  }
  while (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t') {
    if (ct[n] < 0x21 || ct[n] > 0x7e || n + 1 >= outlen) {
      return;
    }
    n++;
  }
  memcpy(out, ct, n);
  out[n] = '\0';
}

void gs_outcome_found(gs_manifest_result *res, const char *image,
                      const char *digest, const char *content_type) {
  snprintf(res->digest, sizeof(res->digest), "%s", digest);
  outcome_media_type(res->media_type, sizeof(res->media_type), content_type);
  outcome_set(res, GS_MANIFEST_FOUND, "image %s exists with digest %s", image,
              digest);
}

void gs_outcome_not_found(gs_manifest_result *res, const char *image,
                          const char *repository, const char *reference,
                          gs_missing what) {
  switch (what) {
  case GS_MISSING_MANIFEST:
    outcome_set(res, GS_MANIFEST_NOT_FOUND,
                "%s %s not found in %s: push the image or fix the reference "
                "%s",
                strchr(reference, ':') != NULL ? "manifest" : "tag", reference,
                repository, image);
    break;
  case GS_MISSING_REPOSITORY:
    outcome_set(res, GS_MANIFEST_NOT_FOUND,
                "repository %s not found: push the image or fix the "
                "reference %s",
                repository, image);
    break;
  default:
    outcome_set(res, GS_MANIFEST_NOT_FOUND,
                "image %s not found (the tag or the repository is missing): "
                "push the image or fix the reference",
                image);
    break;
  }
}

void gs_outcome_unauthorized(gs_manifest_result *res, const char *image,
                             const char *host, const char *auth_file,
                             gs_refusal why) {
  const char *file = auth_file != NULL ? auth_file : "the auth file";

  switch (why) {
  case GS_REFUSED_ANONYMOUS:
    outcome_set(res, GS_MANIFEST_UNAUTHORIZED,
                "image %s not found or not authorized: registry %s refused "
                "anonymous access and there are no credentials for %s%s%s",
                image, host, host, auth_file != NULL ? " in " : "",
                auth_file != NULL ? auth_file : " (no auth file is set)");
    break;
  case GS_REFUSED_CREDENTIALS:
    outcome_set(res, GS_MANIFEST_UNAUTHORIZED,
                "registry %s refused access to %s: check the credentials for "
                "%s in %s",
                host, image, host, file);
    break;
  case GS_REFUSED_WITH_CREDENTIALS:
    outcome_set(res, GS_MANIFEST_UNAUTHORIZED,
                "image %s not found or not authorized: registry %s accepted "
                "the credentials for %s in %s but refused access to it",
                image, host, host, file);
    break;
  default:
    outcome_set(res, GS_MANIFEST_UNAUTHORIZED,
                "registry %s refused access to %s: the credentials for %s in "
                "%s cannot be used with its sign-in method (an identity "
                "token needs a token service; a password needs https)",
                host, image, host, file);
    break;
  }
}

void gs_outcome_rate_limited(gs_manifest_result *res, const char *image,
                             const char *host, const char *retry_after) {
  char after[48] = "";
  size_t n = 0;

  /* The header is the registry's text: keep it short and printable. */
  while (retry_after != NULL && retry_after[n] != '\0' &&
         n + 1 < sizeof(after) && retry_after[n] >= 0x20 &&
         retry_after[n] < 0x7f) {
    after[n] = retry_after[n];
    n++;
  }
  after[n] = '\0';
  if (n > 0) {
    outcome_set(res, GS_MANIFEST_RATE_LIMITED,
                "registry %s is rate limiting requests for %s (Retry-After: "
                "%s): try again later or add credentials for %s",
                host, image, after, host);
  } else {
    outcome_set(res, GS_MANIFEST_RATE_LIMITED,
                "registry %s is rate limiting requests for %s: try again "
                "later or add credentials for %s",
                host, image, host);
  }
}

void gs_outcome_bad_status(gs_manifest_result *res, const char *image,
                           const char *host, const char *what, long status) {
  if (status >= 500) {
    outcome_set(res, GS_MANIFEST_UNREACHABLE,
                "%s %s failed with HTTP %ld while checking %s: try again "
                "later",
                what, host, status, image);
  } else {
    outcome_set(res, GS_MANIFEST_UNREACHABLE,
                "%s %s gave an unexpected HTTP %ld while checking %s: check "
                "the registry address",
                what, host, status, image);
  }
}

void gs_outcome_transport(gs_manifest_result *res, const char *image,
                          const char *host, int error, const char *text,
                          uint64_t timeout_ms) {
  if (error == GS_ETIMEDOUT) {
    gs_outcome_timed_out(res, image, host, timeout_ms);
    return;
  }
  outcome_set(res, GS_MANIFEST_UNREACHABLE,
              "cannot reach registry %s to check %s (%.200s): check the "
              "network, the registry address and its TLS certificate",
              host, image,
              text != NULL && text[0] != '\0' ? text : gs_strerror(error));
}

void gs_outcome_timed_out(gs_manifest_result *res, const char *image,
                          const char *host, uint64_t timeout_ms) {
  outcome_set(res, GS_MANIFEST_TIMED_OUT,
              "registry %s did not answer within %llu ms while checking %s: "
              "check the network or raise the timeout",
              host, (unsigned long long)timeout_ms, image);
}

void gs_outcome_broken(gs_manifest_result *res, const char *image,
                       const char *host, const char *why) {
  outcome_set(res, GS_MANIFEST_UNREACHABLE,
              "cannot check %s on registry %s: %s", image, host, why);
}

bool gs_outcome_is_definite(gs_manifest_outcome outcome) {
  return outcome == GS_MANIFEST_FOUND || outcome == GS_MANIFEST_NOT_FOUND ||
         outcome == GS_MANIFEST_UNAUTHORIZED;
}

const char *gs_manifest_outcome_name(gs_manifest_outcome outcome) {
  switch (outcome) {
  case GS_MANIFEST_FOUND:
    return "FOUND";
  case GS_MANIFEST_NOT_FOUND:
    return "NOT_FOUND";
  case GS_MANIFEST_UNAUTHORIZED:
    return "UNAUTHORIZED";
  case GS_MANIFEST_RATE_LIMITED:
    return "RATE_LIMITED";
  case GS_MANIFEST_UNREACHABLE:
    return "UNREACHABLE";
  case GS_MANIFEST_TIMED_OUT:
    return "TIMED_OUT";
  }
  return "UNKNOWN";
}
