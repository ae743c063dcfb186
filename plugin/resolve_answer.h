/* The ResolveImage answer message, built from a finished resolution. */
#ifndef GS_PLUGIN_RESOLVE_ANSWER_H
#define GS_PLUGIN_RESOLVE_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "gitspace/orchestrator/v1/orchestrator.pb-c.h"
#include "resolve.h"

/* "domain/path:tag@digest", terminated. */
#define GS_RESOLVE_IMAGE_MAX                                                   \
  (GS_IMAGE_NAME_MAX + GS_IMAGE_TAG_MAX + GS_IMAGE_DIGEST_MAX + 4)

/* A summary: the source, the image, the digest and " (cached)". */
#define GS_RESOLVE_SUMMARY_MAX (GS_RESOLVE_IMAGE_MAX + GS_IMAGE_DIGEST_MAX + 32)

typedef struct {
  Gitspace__Orchestrator__V1__ResolveImageResponse resp;
  Gitspace__Orchestrator__V1__ImageReference ref; /* resp.reference */
  char image[GS_RESOLVE_IMAGE_MAX];               /* resp.image */
} gs_resolve_answer;

/* Fills *out with the answer to `r`; `asked` says whether the registry was
 * asked (if not, the verification is SKIPPED). out->resp points into `r`
 * (borrowed: keep it until the answer is encoded) and into *out itself, so
 * *out must not be copied. */
void gs_resolve_answer_build(const gs_resolution *r, bool asked,
                             gs_resolve_answer *out);

/* Writes what the "resolve -> ..." log line says of `a`: the source, the
 * image, the digest when verified, " (cached)" when from the cache.
 * Returns `out`. */
const char *gs_resolve_answer_summary(const gs_resolve_answer *a, char *out,
                                      size_t outlen);

#endif
