/* The prebuilt-image catalog, parsed once from the config. */
#ifndef GS_PLUGIN_CATALOG_H
#define GS_PLUGIN_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "gitspace/config.h"
#include "gitspace/ide.h"
#include "gitspace/image_ref.h"

typedef struct {
  bool enabled;
  bool verify;
  bool fallback_on_indefinite;
  gs_image_ref registry; /* the prebuilt repository (no tag) */
  gs_image_ref base;     /* the base image */
  gs_image_ref images[GS_IDE_COUNT];
  gs_image_ref *extra; /* more prebuilt repositories; owned */
  size_t n_extra;
} gs_catalog;

/* Parses every image of `cfg` into *out. A bare catalog tag is joined to the
 * registry; a full reference is used as it is. Returns 0, or GS_EINVAL with
 * a message naming the config key in `err`, or GS_ENOMEM. On error *out
 * needs no freeing. */
int gs_catalog_build(const gs_config *cfg, gs_catalog *out, char *err,
                     size_t errlen);

/* True when `ref`'s repository is the prebuilt repository or one of the
 * extra ones: an exact comparison of parsed repositories. */
bool gs_catalog_is_prebuilt(const gs_catalog *c, const gs_image_ref *ref);

void gs_catalog_free(gs_catalog *c);

#endif
