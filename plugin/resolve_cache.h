/* The warm path of ResolveImage: the encoded answers of the catalog path (a
 * known IDE, no devcontainer image), one per IDE and verify decision, each
 * kept while the registry answer it was made from stays in the registry's
 * cache. */
#ifndef GS_PLUGIN_RESOLVE_CACHE_H
#define GS_PLUGIN_RESOLVE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitspace/ide.h"
#include "resolve.h"

typedef struct {
  uint8_t *packed; /* the encoded ResolveImageResponse; owned; NULL: empty */
  size_t len;
  const char *summary; /* its gs_resolve_answer_summary; in `packed` */
  uint64_t expires_ms; /* loop time it stops being served; UINT64_MAX: never */
  uint64_t generation; /* gs_registry_generation its answer was made under */
} gs_resolve_cached;

/* Zeroed, it is empty. Freed by gs_resolve_cache_free. */
typedef struct {
  gs_resolve_cached slots[GS_IDE_COUNT][2]; /* [ide][asked the registry] */
} gs_resolve_cache;

/* Returns the answer for a catalog-path request for `ide` whose decision to
 * ask the registry is `asked`, while `now` (loop time, ms) is before its
 * expiry and `generation` is the one it was kept under; else NULL. The
 * answer is owned by the cache, valid until the next put or free. */
const gs_resolve_cached *gs_resolve_cache_get(const gs_resolve_cache *c,
                                              gs_ide ide, bool asked,
                                              uint64_t now,
                                              uint64_t generation);

/* Keeps the answer to `r` (borrowed) as a later request for the same IDE
 * and decision gets it: when `asked`, with from_cache true (the registry
 * then answers from its cache). `expires_ms` is the registry answer's
 * (UINT64_MAX when not `asked`); 0 empties the slot. A resolution off the
 * catalog path (devcontainer image, unknown IDE) is not kept; one with a
 * warning empties its slot. Returns 0, or GS_ENOMEM (the slot is then
 * empty). */
int gs_resolve_cache_put(gs_resolve_cache *c, const gs_resolution *r,
                         bool asked, uint64_t expires_ms, uint64_t generation);

/* Empties every slot. */
void gs_resolve_cache_free(gs_resolve_cache *c);

#endif
