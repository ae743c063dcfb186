/* State shared by the Orchestrator's call handlers. */
#ifndef GS_PLUGIN_ORCHESTRATOR_INT_H
#define GS_PLUGIN_ORCHESTRATOR_INT_H

#include "catalog.h"
#include "gitspace/grpc.h"
#include "gitspace/orchestrator.h"
#include "gitspace/registry.h"
#include "resolve_cache.h"

struct gs_orchestrator {
  const gs_config *cfg;
  gs_catalog catalog;
  gs_registry *registry;    /* borrowed */
  gs_resolve_cache answers; /* ResolveImage's warm path */
  gs_service service;
};

/* One handler per call, each in its own module. */
void gs_orch_resolve_image(gs_call *call, const ProtobufCMessage *req,
                           void *data);

#endif
