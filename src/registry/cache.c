/* Chained hash table of expiring entries with a size bound. */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "gitspace/error.h"

#define CACHE_BUCKETS 256

typedef struct cache_entry {
  struct cache_entry *next;
  char *key;
  void *value;
  size_t len;
  uint64_t expires;
} cache_entry;

struct gs_ttl_cache {
  cache_entry *buckets[CACHE_BUCKETS];
  size_t count;
  size_t max;
};

static size_t cache_bucket(const char *key) {
  uint32_t h = 2166136261u; /* FNV-1a */

  for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
    h = (h ^ *p) * 16777619u;
  }
  return h % CACHE_BUCKETS;
}

static void cache_entry_free(cache_entry *e) {
  explicit_bzero(e->value, e->len);
  free(e->value);
  free(e->key);
  free(e);
}

/* Unlinks and frees the entry that *link points to. */
static void cache_unlink(gs_ttl_cache *c, cache_entry **link) {
  cache_entry *e = *link;

  *link = e->next;
  cache_entry_free(e);
  c->count--;
}

static cache_entry **cache_find(gs_ttl_cache *c, const char *key) {
  cache_entry **link = &c->buckets[cache_bucket(key)];

  while (*link != NULL && strcmp((*link)->key, key) != 0) {
    link = &(*link)->next;
  }
  return link;
}

int gs_ttl_cache_new(size_t max_entries, gs_ttl_cache **out) {
  gs_ttl_cache *c = calloc(1, sizeof(*c));

  if (c == NULL) {
    return GS_ENOMEM;
  }
  c->max = max_entries > 0 ? max_entries : 1;
  *out = c;
  return 0;
}

static void cache_purge_expired(gs_ttl_cache *c, uint64_t now) {
  for (size_t b = 0; b < CACHE_BUCKETS; b++) {
    cache_entry **link = &c->buckets[b];

    while (*link != NULL) {
      if ((*link)->expires <= now) {
        cache_unlink(c, link);
      } else {
        link = &(*link)->next;
      }
    }
  }
}

static void cache_evict_soonest(gs_ttl_cache *c) {
  cache_entry **victim = NULL;

  for (size_t b = 0; b < CACHE_BUCKETS; b++) {
    for (cache_entry **link = &c->buckets[b]; *link != NULL;
         link = &(*link)->next) {
      if (victim == NULL || (*link)->expires < (*victim)->expires) {
        victim = link;
      }
    }
  }
  if (victim != NULL) {
    cache_unlink(c, victim);
  }
}

int gs_ttl_cache_put(gs_ttl_cache *c, const char *key, const void *value,
                     size_t len, uint64_t now, uint64_t expires) {
  cache_entry **link = cache_find(c, key);
  cache_entry *e;

  if (*link != NULL) {
    cache_unlink(c, link);
  }
  if (c->count >= c->max) {
    cache_purge_expired(c, now);
  }
  if (c->count >= c->max) {
    cache_evict_soonest(c);
  }
  e = calloc(1, sizeof(*e));
  if (e == NULL) {
    return GS_ENOMEM;
  }
  e->key = strdup(key);
  e->value = malloc(len > 0 ? len : 1);
  if (e->key == NULL || e->value == NULL) {
    free(e->key);
    free(e->value);
    free(e);
    return GS_ENOMEM;
  }
  memcpy(e->value, value, len);
  e->len = len;
  e->expires = expires;
  link = &c->buckets[cache_bucket(key)];
  e->next = *link;
  *link = e;
  c->count++;
  return 0;
}

const void *gs_ttl_cache_get(gs_ttl_cache *c, const char *key, uint64_t now,
                             size_t *len) {
  cache_entry **link = cache_find(c, key);

  if (*link == NULL) {
    return NULL;
  }
  if ((*link)->expires <= now) {
    cache_unlink(c, link);
    return NULL;
  }
  if (len != NULL) {
    *len = (*link)->len;
  }
  return (*link)->value;
}

void gs_ttl_cache_remove(gs_ttl_cache *c, const char *key) {
  cache_entry **link = cache_find(c, key);

  if (*link != NULL) {
    cache_unlink(c, link);
  }
}

void gs_ttl_cache_clear(gs_ttl_cache *c) {
  for (size_t b = 0; b < CACHE_BUCKETS; b++) {
    while (c->buckets[b] != NULL) {
      cache_unlink(c, &c->buckets[b]);
    }
  }
}

size_t gs_ttl_cache_size(const gs_ttl_cache *c) {
  return c->count;
}

void gs_ttl_cache_free(gs_ttl_cache *c) {
  if (c != NULL) {
    gs_ttl_cache_clear(c);
    free(c);
  }
}
