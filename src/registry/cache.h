/* A bounded map from strings to byte values that expire; values are wiped
 * when they leave (tokens live here too). */
#ifndef GS_REGISTRY_CACHE_H
#define GS_REGISTRY_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct gs_ttl_cache gs_ttl_cache;

/* Creates a cache of at most `max_entries` (at least 1). Returns 0 or
 * GS_ENOMEM; *out is freed by gs_ttl_cache_free. */
int gs_ttl_cache_new(size_t max_entries, gs_ttl_cache **out);

/* Stores a copy of `len` bytes of `value` under `key` (copied), replacing
 * what was there, until loop time `expires` (ms). When full, expired
 * entries go first, then the one closest to expiry. Returns 0 or
 * GS_ENOMEM (the old value, if any, is then gone too). */
int gs_ttl_cache_put(gs_ttl_cache *c, const char *key, const void *value,
                     size_t len, uint64_t now, uint64_t expires);

/* Returns the value under `key` while `now` is before its expiry, else
 * NULL (an expired entry is dropped). The value is owned by the cache and
 * valid until the next call that changes it; *len (may be NULL) gets its
 * length. */
const void *gs_ttl_cache_get(gs_ttl_cache *c, const char *key, uint64_t now,
                             size_t *len);

void gs_ttl_cache_remove(gs_ttl_cache *c, const char *key);

/* Drops every entry. */
void gs_ttl_cache_clear(gs_ttl_cache *c);

size_t gs_ttl_cache_size(const gs_ttl_cache *c);

/* Wipes and frees every entry and `c` (may be NULL). */
void gs_ttl_cache_free(gs_ttl_cache *c);

#endif
