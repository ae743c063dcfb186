/* Encoded ResolveImage answers, by IDE and verify decision. */
#include <stdlib.h>
#include <string.h>

#include "gitspace/error.h"
#include "resolve_answer.h"
#include "resolve_cache.h"

const gs_resolve_cached *gs_resolve_cache_get(const gs_resolve_cache *c,
                                              gs_ide ide, bool asked,
                                              uint64_t now,
                                              uint64_t generation) {
  const gs_resolve_cached *e;

  if ((unsigned)ide >= GS_IDE_COUNT) {
    return NULL;
  }
  e = &c->slots[ide][asked ? 1 : 0];
  if (e->packed == NULL || now >= e->expires_ms ||
      e->generation != generation) {
    return NULL;
  }
  return e;
}

static void cache_slot_clear(gs_resolve_cached *e) {
  free(e->packed);
  memset(e, 0, sizeof(*e));
}

int gs_resolve_cache_put(gs_resolve_cache *c, const gs_resolution *r,
                         bool asked, uint64_t expires_ms, uint64_t generation) {
  gs_resolve_cached *e;
  gs_resolve_answer a;
  char summary[GS_RESOLVE_SUMMARY_MAX];
  size_t len;
  size_t slen;

  if (!r->ide_known || (unsigned)r->ide >= GS_IDE_COUNT ||
      r->source == GS_SOURCE_DEVCONTAINER) {
    return 0;
  }
  e = &c->slots[r->ide][asked ? 1 : 0];
  cache_slot_clear(e);
  if (expires_ms == 0 || r->warning[0] != '\0') {
    return 0;
  }
  gs_resolve_answer_build(r, asked, &a);
  if (asked) {
    a.resp.from_cache = true;
  }
  gs_resolve_answer_summary(&a, summary, sizeof(summary));
  len = protobuf_c_message_get_packed_size(&a.resp.base);
  slen = strlen(summary);
  e->packed = malloc(len + slen + 1);
  if (e->packed == NULL) {
    return GS_ENOMEM;
  }
  protobuf_c_message_pack(&a.resp.base, e->packed);
  memcpy(e->packed + len, summary, slen + 1);
  e->len = len;
  e->summary = (const char *)e->packed + len;
  e->expires_ms = expires_ms;
  e->generation = generation;
  return 0;
}

void gs_resolve_cache_free(gs_resolve_cache *c) {
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    cache_slot_clear(&c->slots[i][0]);
    cache_slot_clear(&c->slots[i][1]);
  }
}
