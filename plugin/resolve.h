/* The ResolveImage decision: which image, from where, and why. */
#ifndef GS_PLUGIN_RESOLVE_H
#define GS_PLUGIN_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "gitspace/registry.h"

typedef enum {
  GS_SOURCE_DEVCONTAINER = 1,
  GS_SOURCE_PREBUILT = 2,
  GS_SOURCE_BASE = 3,
  GS_SOURCE_FALLBACK = 4
} gs_image_source;

typedef enum {
  GS_VERIFY_DEFAULT = 0,
  GS_VERIFY_ALWAYS = 1,
  GS_VERIFY_NEVER = 2
} gs_verify_mode;

typedef struct {
  gs_image_source source;
  gs_image_ref image;
  bool prebuilt;
  bool verify; /* ask the registry before answering */
  bool ide_known;
  gs_ide ide;
  char reason[512];  /* why the base image was chosen */
  char warning[512]; /* kept despite an indefinite registry answer */
  bool verified;
  bool from_cache;
  gs_manifest_outcome outcome; /* meaningful when `verify` */
  char digest[GS_IMAGE_DIGEST_MAX + 1];
} gs_resolution;

/* Makes the first half of the decision, before any registry answer.
 * `ide_type` and `devcontainer_image` are borrowed. Returns 0, or GS_EINVAL
 * with a message naming the request field in `err`. */
int gs_resolve_begin(const gs_catalog *c, const char *ide_type,
                     const char *devcontainer_image, gs_verify_mode mode,
                     gs_resolution *out, char *err, size_t errlen);

/* Whether a request for a known IDE with no devcontainer image asks the
 * registry under `mode`: the verify decision gs_resolve_begin makes on the
 * catalog path. */
bool gs_resolve_catalog_verifies(const gs_catalog *c, gs_verify_mode mode);

/* Completes the decision with the registry's answer `res` (borrowed): a
 * definite "no" falls back to the base image; an indefinite one keeps the
 * prebuilt image with a warning unless the catalog says to fall back. */
void gs_resolve_finish(const gs_catalog *c, const gs_manifest_result *res,
                       gs_resolution *r);

#endif
