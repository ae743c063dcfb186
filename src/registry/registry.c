/* The registry client: options, the answer cache, lookups shared by
 * concurrent checks, and delivery of answers on the next loop turn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitspace/error.h"
#include "gitspace/log.h"
#include "outcome.h"
#include "registry_int.h"

#define REGISTRY_DEFAULT_TIMEOUT_MS 30000
#define REGISTRY_ANSWERS_MAX 4096
#define REGISTRY_TOKENS_MAX 256

/* ---- waiter lists -------------------------------------------------------- */

static void waiter_append(gs_waiter_list *l, gs_registry_waiter *w) {
  w->list = l;
  w->next = NULL;
  w->prev = l->tail;
  if (l->tail != NULL) {
    l->tail->next = w;
  } else {
    l->head = w;
  }
  l->tail = w;
}

static void waiter_unlink(gs_registry_waiter *w) {
  gs_waiter_list *l = w->list;

  if (w->prev != NULL) {
    w->prev->next = w->next;
  } else {
    l->head = w->next;
  }
  if (w->next != NULL) {
    w->next->prev = w->prev;
  } else {
    l->tail = w->prev;
  }
  w->list = NULL;
  w->prev = NULL;
  w->next = NULL;
}

/* Takes the first waiter off `l`, or returns NULL. */
static gs_registry_waiter *waiter_pop(gs_waiter_list *l) {
  gs_registry_waiter *w = l->head;

  if (w == NULL) {
    return NULL;
  }
  l->head = w->next;
  if (l->head != NULL) {
    l->head->prev = NULL;
  } else {
    l->tail = NULL;
  }
  w->list = NULL;
  w->next = NULL;
  return w;
}

static void waiter_free_all(gs_waiter_list *l) {
  gs_registry_waiter *w;

  while ((w = waiter_pop(l)) != NULL) {
    free(w);
  }
}

/* ---- delivery ------------------------------------------------------------ */

static void registry_destroy(gs_registry *reg);

static void registry_timer_closed(uv_handle_t *h) {
  free(h);
}

/* Runs the callbacks of every answer that was pending when the turn began;
 * answers added meanwhile wait for the next turn. */
static void registry_on_timer(uv_timer_t *timer) {
  gs_registry *reg = timer->data;

  gs_registry_waiter *w;

  while ((w = waiter_pop(&reg->pending)) != NULL) {
    waiter_append(&reg->batch, w);
  }
  reg->delivering = true;
  while (!reg->freed && (w = waiter_pop(&reg->batch)) != NULL) {
    w->cb(&w->result, w->data);
    free(w);
  }
  reg->delivering = false;
  if (reg->freed) {
    registry_destroy(reg);
  }
}

static void registry_kick(gs_registry *reg) {
  if (reg->pending.head != NULL && !uv_is_active((uv_handle_t *)reg->timer)) {
    uv_timer_start(reg->timer, registry_on_timer, 0, 0);
  }
}

static void registry_log(const gs_manifest_result *res, const char *key,
                         const char *how) {
  if (res->outcome == GS_MANIFEST_FOUND) {
    GS_INFO("-", "registry.check %s -> FOUND %s (%s)", key, res->digest, how);
  } else {
    GS_INFO("-", "registry.check %s -> %s (%s): %s", key,
            gs_manifest_outcome_name(res->outcome), how, res->detail);
  }
}

void gs_registry_finish(gs_lookup *lk, const gs_manifest_result *res) {
  gs_registry *reg = lk->reg;
  uint64_t now = uv_now(reg->loop);
  uint64_t ttl = res->outcome == GS_MANIFEST_FOUND ? reg->positive_ttl_ms
                                                   : reg->negative_ttl_ms;
  gs_manifest_result answer = *res;
  gs_registry_waiter *w;
  char how[64];

  if (lk->prev != NULL) {
    lk->prev->next = lk->next;
  } else {
    reg->lookups = lk->next;
  }
  if (lk->next != NULL) {
    lk->next->prev = lk->prev;
  }
  answer.from_cache = false;
  answer.expires_ms = 0;
  if (gs_outcome_is_definite(res->outcome) && ttl > 0) {
    answer.expires_ms = now + ttl;
    if (gs_ttl_cache_put(reg->answers, lk->key, &answer, sizeof(answer), now,
                         answer.expires_ms) != 0) {
      answer.expires_ms = 0;
    }
  }
  snprintf(how, sizeof(how), "%u request%s, %llu ms", lk->requests,
           lk->requests == 1 ? "" : "s",
           (unsigned long long)(now - lk->started));
  registry_log(res, lk->key, how);
  while ((w = waiter_pop(&lk->waiters)) != NULL) {
    w->result = answer;
    waiter_append(&reg->pending, w);
  }
  gs_lookup_free(lk);
  registry_kick(reg);
}

/* ---- checks -------------------------------------------------------------- */

static gs_lookup *registry_find_lookup(gs_registry *reg, const char *key) {
  for (gs_lookup *lk = reg->lookups; lk != NULL; lk = lk->next) {
    if (strcmp(lk->key, key) == 0) {
      return lk;
    }
  }
  return NULL;
}

static int registry_start_lookup(gs_registry *reg, const gs_image_ref *ref,
                                 const char *key, gs_registry_waiter *w) {
  gs_manifest_result res;
  gs_lookup *lk = NULL;
  int rv = gs_lookup_new(reg, ref, key, &lk);

  if (rv != 0) {
    return rv;
  }
  lk->next = reg->lookups;
  if (reg->lookups != NULL) {
    reg->lookups->prev = lk;
  }
  reg->lookups = lk;
  reg->stats.lookups++;
  waiter_append(&lk->waiters, w);
  memset(&res, 0, sizeof(res));
  if (gs_lookup_start(lk, &res) != 0) {
    gs_registry_finish(lk, &res); /* delivered on the next turn */
  }
  return 0;
}

int gs_registry_check(gs_registry *reg, const gs_image_ref *ref,
                      gs_registry_cb cb, void *data, gs_registry_waiter **out) {
  gs_image_ref norm = *ref;
  char key[GS_REGISTRY_REF_MAX + 1];
  const gs_manifest_result *cached;
  gs_registry_waiter *w;
  gs_lookup *lk;

  if (reg->freed) {
    return GS_ECANCELED;
  }
  if (norm.tag[0] == '\0' && norm.digest[0] == '\0' &&
      gs_image_ref_with_tag(ref, "latest", &norm, NULL, 0) != 0) {
    return GS_EINVAL;
  }
  gs_image_ref_format(&norm, key, sizeof(key));
  w = calloc(1, sizeof(*w));
  if (w == NULL) {
    return GS_ENOMEM;
  }
  w->reg = reg;
  w->cb = cb;
  w->data = data;
  cached = gs_ttl_cache_get(reg->answers, key, uv_now(reg->loop), NULL);
  lk = registry_find_lookup(reg, key);
  if (cached != NULL) {
    w->result = *cached;
    w->result.from_cache = true;
    reg->stats.cache_hits++;
    waiter_append(&reg->pending, w);
    registry_kick(reg);
    GS_DEBUG("-", "registry.check %s -> %s %s (cache)", key,
             gs_manifest_outcome_name(cached->outcome), cached->digest);
  } else if (lk != NULL) {
    reg->stats.coalesced++;
    waiter_append(&lk->waiters, w);
  } else {
    int rv = registry_start_lookup(reg, &norm, key, w);

    if (rv != 0) {
      free(w);
      return rv;
    }
  }
  if (out != NULL) {
    *out = w;
  }
  return 0;
}

void gs_registry_cancel(gs_registry_waiter *waiter) {
  if (waiter == NULL || waiter->list == NULL) {
    return; /* its callback is running */
  }
  waiter_unlink(waiter);
  free(waiter);
}

void gs_registry_get_stats(const gs_registry *reg, gs_registry_stats *out) {
  *out = reg->stats;
}

void gs_registry_flush_cache(gs_registry *reg) {
  gs_ttl_cache_clear(reg->answers);
  gs_ttl_cache_clear(reg->tokens);
  reg->generation++;
}

uint64_t gs_registry_generation(const gs_registry *reg) {
  return reg->generation;
}

/* ---- life cycle ---------------------------------------------------------- */

static void registry_free_strings(gs_registry *reg) {
  free(reg->auth_file);
  free(reg->ca_file);
  for (size_t i = 0; reg->insecure_hosts != NULL && reg->insecure_hosts[i];
       i++) {
    free(reg->insecure_hosts[i]);
  }
  free(reg->insecure_hosts);
}

static void registry_destroy(gs_registry *reg) {
  if (reg->timer != NULL) {
    uv_timer_stop(reg->timer);
    reg->timer->data = NULL;
    uv_close((uv_handle_t *)reg->timer, registry_timer_closed);
  }
  gs_ttl_cache_free(reg->answers);
  gs_ttl_cache_free(reg->tokens);
  gs_credentials_free(reg->creds);
  registry_free_strings(reg);
  free(reg);
}

static int registry_copy_options(gs_registry *reg,
                                 const gs_registry_options *o) {
  size_t n = 0;

  reg->auth_file = o->auth_file != NULL ? strdup(o->auth_file) : NULL;
  reg->ca_file = o->ca_file != NULL ? strdup(o->ca_file) : NULL;
  if ((o->auth_file != NULL && reg->auth_file == NULL) ||
      (o->ca_file != NULL && reg->ca_file == NULL)) {
    return GS_ENOMEM;
  }
  while (o->insecure_hosts != NULL && o->insecure_hosts[n] != NULL) {
    n++;
  }
  if (n > 0) {
    reg->insecure_hosts = calloc(n + 1, sizeof(char *));
    if (reg->insecure_hosts == NULL) {
      return GS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
      reg->insecure_hosts[i] = strdup(o->insecure_hosts[i]);
      if (reg->insecure_hosts[i] == NULL) {
        return GS_ENOMEM;
      }
    }
  }
  reg->timeout_ms =
      o->timeout_ms > 0 ? o->timeout_ms : REGISTRY_DEFAULT_TIMEOUT_MS;
  reg->positive_ttl_ms = o->positive_ttl_ms;
  reg->negative_ttl_ms = o->negative_ttl_ms;
  return 0;
}

static int registry_init(gs_registry *reg, const gs_registry_options *opts,
                         char *err, size_t errlen) {
  int rv = registry_copy_options(reg, opts);

  if (rv == 0 && reg->auth_file != NULL) {
    rv = gs_credentials_load(reg->auth_file, &reg->creds, err, errlen);
    if (rv == 0) {
      GS_INFO("-", "registry.credentials %s -> %zu registr%s", reg->auth_file,
              gs_credentials_count(reg->creds),
              gs_credentials_count(reg->creds) == 1 ? "y" : "ies");
    }
    return rv;
  }
  if (rv != 0) {
    snprintf(err, errlen, "registry client: out of memory");
  }
  return rv;
}

int gs_registry_new(uv_loop_t *loop, gs_http *http,
                    const gs_registry_options *opts, gs_registry **out,
                    char *err, size_t errlen) {
  gs_registry *reg;
  int rv;

  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (loop == NULL || http == NULL || opts == NULL || out == NULL) {
    snprintf(err, errlen, "registry client: missing loop, http or options");
    return GS_EINVAL;
  }
  reg = calloc(1, sizeof(*reg));
  if (reg == NULL) {
    snprintf(err, errlen, "registry client: out of memory");
    return GS_ENOMEM;
  }
  reg->loop = loop;
  reg->http = http;
  rv = registry_init(reg, opts, err, errlen);
  if (rv == 0 && (gs_ttl_cache_new(REGISTRY_ANSWERS_MAX, &reg->answers) != 0 ||
                  gs_ttl_cache_new(REGISTRY_TOKENS_MAX, &reg->tokens) != 0 ||
                  (reg->timer = malloc(sizeof(*reg->timer))) == NULL)) {
    snprintf(err, errlen, "registry client: out of memory");
    rv = GS_ENOMEM;
  }
  if (rv != 0) {
    registry_destroy(reg);
    return rv;
  }
  uv_timer_init(loop, reg->timer);
  reg->timer->data = reg;
  *out = reg;
  return 0;
}

void gs_registry_free(gs_registry *reg) {
  if (reg == NULL || reg->freed) {
    return;
  }
  while (reg->lookups != NULL) {
    gs_lookup *lk = reg->lookups;

    reg->lookups = lk->next;
    waiter_free_all(&lk->waiters);
    gs_lookup_free(lk);
  }
  waiter_free_all(&reg->pending);
  waiter_free_all(&reg->batch);
  if (reg->delivering) {
    reg->freed = true; /* destroyed when the callback returns */
    return;
  }
  registry_destroy(reg);
}
