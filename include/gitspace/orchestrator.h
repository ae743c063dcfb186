/* The gitspace.orchestrator.v1.Orchestrator service. */
#ifndef GITSPACE_ORCHESTRATOR_H
#define GITSPACE_ORCHESTRATOR_H

#include "gitspace/config.h"
#include "gitspace/grpc.h"

typedef struct gs_orchestrator gs_orchestrator;

/* Creates the service. `cfg` is borrowed and must outlive the service.
 * Returns 0 or GS_ENOMEM; *out is freed by gs_orchestrator_free. */
int gs_orchestrator_new(const gs_config *cfg, gs_orchestrator **out);

/* The service to register; owned by `orch`. */
const gs_service *gs_orchestrator_service(gs_orchestrator *orch);

void gs_orchestrator_free(gs_orchestrator *orch);

#endif
