/* Registry client internals shared by the client (registry.c) and the
 * per-reference lookup state machine (lookup.c). */
#ifndef GS_REGISTRY_INT_H
#define GS_REGISTRY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "credentials.h"
#include "gitspace/registry.h"

/* "domain/path:tag@digest", terminated. */
#define GS_REGISTRY_REF_MAX                                                    \
  (GS_IMAGE_NAME_MAX + GS_IMAGE_TAG_MAX + GS_IMAGE_DIGEST_MAX + 3)

typedef struct {
  gs_registry_waiter *head;
  gs_registry_waiter *tail;
} gs_waiter_list;

struct gs_registry_waiter {
  gs_registry *reg;
  gs_waiter_list *list; /* the list it is on; NULL while its cb runs */
  gs_registry_waiter *prev;
  gs_registry_waiter *next;
  gs_registry_cb cb;
  void *data;
  gs_manifest_result result; /* the answer, once there is one */
};

typedef enum {
  GS_LOOKUP_HEAD = 0, /* HEAD the manifest */
  GS_LOOKUP_TOKEN,    /* fetch a bearer token */
  GS_LOOKUP_GET,      /* GET the manifest: no digest header came */
  GS_LOOKUP_TAGS      /* after a 404: does the repository exist? */
} gs_lookup_step;

/* One manifest lookup in flight, shared by every check of its reference. */
typedef struct gs_lookup {
  gs_registry *reg;
  struct gs_lookup *prev;
  struct gs_lookup *next;
  gs_image_ref ref;                  /* with "latest" when it had no tag */
  char key[GS_REGISTRY_REF_MAX + 1]; /* gs_image_ref_format of ref */
  char repository[GS_IMAGE_NAME_MAX + 1];
  char reference[GS_IMAGE_DIGEST_MAX + 1]; /* the digest, else the tag */
  char base[GS_IMAGE_NAME_MAX + 32];       /* "https://host/v2/path" */
  char scope[GS_IMAGE_NAME_MAX + 32];      /* "repository:path:pull" */
  const char *host;                        /* API host, owned by ref */
  gs_waiter_list waiters;
  gs_http_request *req; /* the request in flight, or NULL */
  gs_lookup_step step;
  uint64_t started;
  uint64_t deadline;
  unsigned requests;
  long last_status;
  char *authorization; /* "Authorization: ..." line, or NULL; wiped */
  bool token_from_cache;
  bool token_fetched;
  bool basic_tried;
  bool credentials_used;
} gs_lookup;

struct gs_registry {
  uv_loop_t *loop;
  gs_http *http;
  char *auth_file;
  char *ca_file;
  char **insecure_hosts; /* NULL-terminated, or NULL */
  uint64_t timeout_ms;
  uint64_t positive_ttl_ms;
  uint64_t negative_ttl_ms;
  gs_credentials *creds;
  gs_ttl_cache *answers; /* key -> gs_manifest_result */
  gs_ttl_cache *tokens;  /* "host scope" -> token */
  gs_lookup *lookups;
  gs_waiter_list pending; /* answers to deliver on the next loop turn */
  gs_waiter_list batch;   /* answers being delivered now */
  uv_timer_t *timer;      /* delivers `pending`; closes on its own */
  bool delivering;
  bool freed; /* gs_registry_free ran inside a callback */
  gs_registry_stats stats;
  uint64_t generation; /* gs_registry_flush_cache calls */
};

/* Creates the lookup of `ref` (normalised: a tag or a digest) under `key`.
 * Returns 0 or GS_ENOMEM; *out is freed by gs_lookup_free. */
int gs_lookup_new(gs_registry *reg, const gs_image_ref *ref, const char *key,
                  gs_lookup **out);

/* Starts the first request of `lk`, which is already on reg->lookups.
 * Returns 0, or an error after which the caller finishes the lookup with
 * what gs_lookup_start wrote into `res`. */
int gs_lookup_start(gs_lookup *lk, gs_manifest_result *res);

/* Cancels the request in flight, wipes and frees `lk` (already unlinked,
 * with no waiters left). */
void gs_lookup_free(gs_lookup *lk);

/* Called by the lookup when it has its answer: caches it, logs it, hands it
 * to every waiter on the next loop turn and frees `lk`. */
void gs_registry_finish(gs_lookup *lk, const gs_manifest_result *res);

#endif
