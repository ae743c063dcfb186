/* grpc.health.v1.Health: Check and Watch, following the server's state. */
#include <stdlib.h>
#include <string.h>

#include "gitspace/error.h"
#include "gitspace/health.h"
#include "grpc/health/v1/health.pb-c.h"
#include "server_int.h"

typedef Grpc__Health__V1__HealthCheckResponse__ServingStatus health_status;

#define HEALTH_SERVING                                                         \
  GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define HEALTH_NOT_SERVING                                                     \
  GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
#define HEALTH_SERVICE_UNKNOWN                                                 \
  GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN

typedef struct health_watch {
  struct health_watch *prev;
  struct health_watch *next;
  gs_call *call;
  gs_health *health;
} health_watch;

struct gs_health {
  gs_server *server;
  gs_service service;
  health_watch *watches;
};

static void health_check(gs_call *call, const ProtobufCMessage *request,
                         void *data);
static void health_watch_start(gs_call *call, const ProtobufCMessage *request,
                               void *data);

static const gs_method health_methods[] = {
    {"Check", GS_METHOD_UNARY,
     &grpc__health__v1__health_check_request__descriptor, health_check},
    {"Watch", GS_METHOD_SERVER_STREAMING,
     &grpc__health__v1__health_check_request__descriptor, health_watch_start},
};

/* Returns the status of `name`, or -1 when no such service is served. */
static int health_status_of(const gs_health *h, const char *name) {
  const gs_server *s = h->server;
  bool known = name[0] == '\0';

  for (size_t i = 0; i < s->n_services && !known; i++) {
    known = strcmp(s->services[i]->name, name) == 0;
  }
  if (!known) {
    return -1;
  }
  return s->draining ? HEALTH_NOT_SERVING : HEALTH_SERVING;
}

static int health_send(gs_call *call, health_status status) {
  Grpc__Health__V1__HealthCheckResponse resp =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

  resp.status = status;
  return gs_call_send(call, &resp.base);
}

static void health_check(gs_call *call, const ProtobufCMessage *request,
                         void *data) {
  const Grpc__Health__V1__HealthCheckRequest *req =
      (const Grpc__Health__V1__HealthCheckRequest *)request;
  Grpc__Health__V1__HealthCheckResponse resp =
      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  int status = health_status_of(data, req->service);

  if (status < 0) {
    gs_call_finishf(call, GS_STATUS_NOT_FOUND, "service \"%.200s\" is unknown",
                    req->service);
    return;
  }
  resp.status = (health_status)status;
  gs_call_reply(call, &resp.base);
}

static void health_watch_unlink(health_watch *w) {
  if (w->prev != NULL) {
    w->prev->next = w->next;
  } else {
    w->health->watches = w->next;
  }
  if (w->next != NULL) {
    w->next->prev = w->prev;
  }
}

static void health_watch_end(health_watch *w, gs_status code) {
  gs_call *call = w->call;

  health_watch_unlink(w);
  free(w);
  gs_call_finish(call, code, NULL);
}

static void health_watch_cancelled(gs_call *call, void *data) {
  (void)call;
  health_watch_end(data, GS_STATUS_CANCELLED);
}

static void health_watch_start(gs_call *call, const ProtobufCMessage *request,
                               void *data) {
  const Grpc__Health__V1__HealthCheckRequest *req =
      (const Grpc__Health__V1__HealthCheckRequest *)request;
  gs_health *h = data;
  int status = health_status_of(h, req->service);
  health_watch *w;

  if (status < 0) {
    status = HEALTH_SERVICE_UNKNOWN;
  }
  if (health_send(call, (health_status)status) < 0) {
    gs_call_finish(call, GS_STATUS_INTERNAL, "cannot send health status");
    return;
  }
  if (h->server->draining) {
    gs_call_finish(call, GS_STATUS_OK, NULL);
    return;
  }
  w = calloc(1, sizeof(*w));
  if (w == NULL) {
    gs_call_finish(call, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  w->call = call;
  w->health = h;
  w->next = h->watches;
  if (h->watches != NULL) {
    h->watches->prev = w;
  }
  h->watches = w;
  gs_call_on_cancel(call, health_watch_cancelled, w);
}

/* Draining: every watcher learns NOT_SERVING, then its stream ends. */
static void health_on_drain(void *data) {
  gs_health *h = data;
  health_watch *w = h->watches;

  h->watches = NULL;
  while (w != NULL) {
    health_watch *next = w->next;
    gs_call *call = w->call;

    free(w);
    health_send(call, HEALTH_NOT_SERVING);
    gs_call_finish(call, GS_STATUS_OK, NULL);
    w = next;
  }
}

int gs_health_new(gs_server *server, gs_health **out) {
  gs_health *h = calloc(1, sizeof(*h));

  if (h == NULL) {
    return GS_ENOMEM;
  }
  h->server = server;
  h->service.name = "grpc.health.v1.Health";
  h->service.methods = health_methods;
  h->service.n_methods = sizeof(health_methods) / sizeof(*health_methods);
  h->service.call_log_level = GS_LOG_DEBUG;
  h->service.data = h;
  h->service.on_drain = health_on_drain;
  *out = h;
  return 0;
}

const gs_service *gs_health_service(gs_health *health) {
  return &health->service;
}

void gs_health_free(gs_health *health) {
  free(health);
}
