/* Building the prebuilt-image catalog from the config's strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "gitspace/error.h"

/* A catalog value is a bare tag unless it names a repository. */
static int catalog_entry(const gs_catalog *c, const char *value,
                         const char *ide, gs_image_ref *out, char *err,
                         size_t errlen) {
  char why[256];
  int rv;

  if (gs_image_ref_is_tag(value)) {
    rv = gs_image_ref_with_tag(&c->registry, value, out, why, sizeof(why));
  } else {
    rv = gs_image_ref_parse(value, strlen(value), out, why, sizeof(why));
  }
  if (rv != 0) {
    snprintf(err, errlen, "prebuilt_images.catalog.%s: %s", ide, why);
  }
  return rv;
}

static int catalog_extra(gs_catalog *c, const gs_config *cfg, char *err,
                         size_t errlen) {
  const gs_config_strings *list = &cfg->prebuilt.extra_repositories;
  char why[256];

  if (list->n == 0) {
    return 0;
  }
  c->extra = calloc(list->n, sizeof(*c->extra));
  if (c->extra == NULL) {
    return GS_ENOMEM;
  }
  for (size_t i = 0; i < list->n; i++) {
    const char *s = list->items[i];

    if (gs_image_ref_parse_repository(s, strlen(s), &c->extra[i], why,
                                      sizeof(why)) != 0) {
      snprintf(err, errlen, "prebuilt_images.extra_repositories[%zu]: %s", i,
               why);
      return GS_EINVAL;
    }
    c->n_extra++;
  }
  return 0;
}

/* An insecure host must be what a reference's domain can be: host[:port]. */
static int catalog_check_hosts(const gs_config *cfg, char *err, size_t errlen) {
  const gs_config_strings *hosts = &cfg->registry.insecure_hosts;

  for (size_t i = 0; i < hosts->n; i++) {
    char name[300];
    gs_image_ref ref;
    int n = snprintf(name, sizeof(name), "%s/x", hosts->items[i]);

    if (n < 0 || (size_t)n >= sizeof(name) ||
        gs_image_ref_parse_repository(name, (size_t)n, &ref, NULL, 0) != 0 ||
        strcmp(ref.domain, hosts->items[i]) != 0) {
      snprintf(err, errlen,
               "registry.insecure_hosts[%zu]: \"%.64s\" is not a registry "
               "host (host or host:port, no scheme)",
               i, hosts->items[i]);
      return GS_EINVAL;
    }
  }
  return 0;
}

int gs_catalog_build(const gs_config *cfg, gs_catalog *out, char *err,
                     size_t errlen) {
  const char *reg = cfg->prebuilt.registry;
  const char *base = cfg->prebuilt.base_image;
  char why[256];
  int rv;

  memset(out, 0, sizeof(*out));
  out->enabled = cfg->prebuilt.enabled;
  out->verify = cfg->prebuilt.verify;
  out->fallback_on_indefinite = cfg->prebuilt.fallback_on_indefinite;
  if (gs_image_ref_parse_repository(reg, strlen(reg), &out->registry, why,
                                    sizeof(why)) != 0) {
    snprintf(err, errlen, "prebuilt_images.registry: %s", why);
    return GS_EINVAL;
  }
  if (gs_image_ref_parse(base, strlen(base), &out->base, why, sizeof(why)) !=
      0) {
    snprintf(err, errlen, "prebuilt_images.base_image: %s", why);
    return GS_EINVAL;
  }
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    rv = catalog_entry(out, cfg->prebuilt.catalog[i],
                       gs_ide_get((gs_ide)i)->name, &out->images[i], err,
                       errlen);
    if (rv != 0) {
      return rv;
    }
  }
  rv = catalog_check_hosts(cfg, err, errlen);
  if (rv != 0) {
    return rv;
  }
  rv = catalog_extra(out, cfg, err, errlen);
  if (rv != 0) {
    gs_catalog_free(out);
  }
  return rv;
}

bool gs_catalog_is_prebuilt(const gs_catalog *c, const gs_image_ref *ref) {
  if (gs_image_ref_same_repository(&c->registry, ref)) {
    return true;
  }
  for (size_t i = 0; i < c->n_extra; i++) {
    if (gs_image_ref_same_repository(&c->extra[i], ref)) {
      return true;
    }
  }
  return false;
}

void gs_catalog_free(gs_catalog *c) {
  free(c->extra);
  c->extra = NULL;
  c->n_extra = 0;
}
