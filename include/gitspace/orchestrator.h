/* The gitspace.orchestrator.v1.Orchestrator service. */
#ifndef GITSPACE_ORCHESTRATOR_H
#define GITSPACE_ORCHESTRATOR_H

#include "gitspace/config.h"
#include "gitspace/grpc.h"
#include "gitspace/registry.h"

typedef struct gs_orchestrator gs_orchestrator;

/* Creates the service. `cfg` and `registry` (may be NULL: no verification)
 * are borrowed and must outlive the service. Returns 0, GS_ENOMEM, or
 * GS_EINVAL when the config's images do not parse, with a message naming
 * the key in `err` (`errlen` bytes, terminated). *out is freed by
 * gs_orchestrator_free. */
int gs_orchestrator_new(const gs_config *cfg, gs_registry *registry,
                        gs_orchestrator **out, char *err, size_t errlen);

/* The service to register; owned by `orch`. */
const gs_service *gs_orchestrator_service(gs_orchestrator *orch);

void gs_orchestrator_free(gs_orchestrator *orch);

#endif
