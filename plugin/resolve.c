/* The ResolveImage decision, free of I/O so that every branch is testable. */
#include <stdio.h>
#include <string.h>

#include "gitspace/error.h"
#include "resolve.h"

static void resolve_use_base(const gs_catalog *c, gs_resolution *r,
                             gs_image_source source) {
  r->source = source;
  r->image = c->base;
  r->prebuilt = gs_catalog_is_prebuilt(c, &c->base);
  r->verify = false;
}

static bool resolve_should_verify(const gs_catalog *c, gs_verify_mode mode) {
  switch (mode) {
  case GS_VERIFY_ALWAYS:
    return true;
  case GS_VERIFY_NEVER:
    return false;
  default:
    return c->verify;
  }
}

bool gs_resolve_catalog_verifies(const gs_catalog *c, gs_verify_mode mode) {
  return c->enabled && resolve_should_verify(c, mode);
}

int gs_resolve_begin(const gs_catalog *c, const char *ide_type,
                     const char *devcontainer_image, gs_verify_mode mode,
                     gs_resolution *out, char *err, size_t errlen) {
  char why[256];

  memset(out, 0, sizeof(*out));
  if (ide_type == NULL || ide_type[0] == '\0') {
    snprintf(err, errlen,
             "ide_type: required, one of the Gitness IDE types "
             "(vs_code_web, vs_code, cursor, ...)");
    return GS_EINVAL;
  }
  out->ide_known = gs_ide_parse(ide_type, strlen(ide_type), &out->ide) == 0;
  if (devcontainer_image != NULL && devcontainer_image[0] != '\0') {
    if (gs_image_ref_parse(devcontainer_image, strlen(devcontainer_image),
                           &out->image, why, sizeof(why)) != 0) {
      snprintf(err, errlen, "devcontainer_image: %s", why);
      return GS_EINVAL;
    }
    out->source = GS_SOURCE_DEVCONTAINER;
    out->prebuilt = gs_catalog_is_prebuilt(c, &out->image);
    if (!out->ide_known) {
      snprintf(out->warning, sizeof(out->warning),
               "IDE type \"%.64s\" is not one Gitness knows: no IDE port "
               "or family can be given",
               ide_type);
    }
    return 0;
  }
  if (!out->ide_known) {
    resolve_use_base(c, out, GS_SOURCE_FALLBACK);
    snprintf(out->reason, sizeof(out->reason),
             "IDE type \"%.64s\" is not one Gitness knows; using the base "
             "image",
             ide_type);
    return 0;
  }
  if (!c->enabled) {
    resolve_use_base(c, out, GS_SOURCE_BASE);
    return 0;
  }
  out->source = GS_SOURCE_PREBUILT;
  out->image = c->images[out->ide];
  out->prebuilt = gs_catalog_is_prebuilt(c, &out->image);
  out->verify = gs_resolve_catalog_verifies(c, mode);
  return 0;
}

static bool resolve_definite(gs_manifest_outcome o) {
  return o == GS_MANIFEST_NOT_FOUND || o == GS_MANIFEST_UNAUTHORIZED;
}

void gs_resolve_finish(const gs_catalog *c, const gs_manifest_result *res,
                       gs_resolution *r) {
  r->outcome = res->outcome;
  r->from_cache = res->from_cache;
  if (res->outcome == GS_MANIFEST_FOUND) {
    r->verified = true;
    snprintf(r->digest, sizeof(r->digest), "%s", res->digest);
    return;
  }
  if (resolve_definite(res->outcome) || c->fallback_on_indefinite) {
    resolve_use_base(c, r, GS_SOURCE_FALLBACK);
    snprintf(r->reason, sizeof(r->reason), "%.440s; using the base image",
             res->detail);
    return;
  }
  snprintf(r->warning, sizeof(r->warning),
           "%.420s; keeping the prebuilt image, the pull itself will tell",
           res->detail);
}
