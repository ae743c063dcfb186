/* The standard grpc.health.v1.Health service. */
#ifndef GITSPACE_HEALTH_H
#define GITSPACE_HEALTH_H

#include "gitspace/grpc.h"

typedef struct gs_health gs_health;

/* Creates the health service of `server` (borrowed; must outlive it). It
 * answers SERVING for "" and for every service registered on the server,
 * NOT_SERVING once the server drains, NOT_FOUND for other names. Returns 0 or
 * GS_ENOMEM; *out is freed by gs_health_free after the loop has finished. */
int gs_health_new(gs_server *server, gs_health **out);

/* The service to pass to gs_server_add_service; owned by `health`. */
const gs_service *gs_health_service(gs_health *health);

void gs_health_free(gs_health *health);

#endif
