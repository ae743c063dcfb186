/* The Orchestrator service: one handler per call of the contract. */
#include <stdlib.h>

#include "gitspace/error.h"
#include "gitspace/orchestrator/v1/orchestrator.pb-c.h"
#include "orchestrator_int.h"

/* Calls whose behaviour has not been built yet say so plainly. */
static void orchestrator_not_yet(gs_call *call, const char *method) {
  gs_call_finishf(call, GS_STATUS_UNIMPLEMENTED,
                  "gitspace.orchestrator.v1.Orchestrator/%s is not "
                  "implemented yet in gitspace-orchestratord %s",
                  method, GS_VERSION);
}

static void orchestrator_build_steps(gs_call *call, const ProtobufCMessage *req,
                                     void *data) {
  (void)req;
  (void)data;
  orchestrator_not_yet(call, "BuildSteps");
}

static void orchestrator_create_deployment(gs_call *call,
                                           const ProtobufCMessage *req,
                                           void *data) {
  (void)req;
  (void)data;
  orchestrator_not_yet(call, "CreateDeployment");
}

static void orchestrator_wait_ready(gs_call *call, const ProtobufCMessage *req,
                                    void *data) {
  (void)req;
  (void)data;
  orchestrator_not_yet(call, "WaitReady");
}

static void orchestrator_stop(gs_call *call, const ProtobufCMessage *req,
                              void *data) {
  (void)req;
  (void)data;
  orchestrator_not_yet(call, "StopGitspace");
}

static void orchestrator_delete(gs_call *call, const ProtobufCMessage *req,
                                void *data) {
  (void)req;
  (void)data;
  orchestrator_not_yet(call, "DeleteGitspace");
}

static const gs_method orchestrator_methods[] = {
    {"ResolveImage", GS_METHOD_UNARY,
     &gitspace__orchestrator__v1__resolve_image_request__descriptor,
     gs_orch_resolve_image},
    {"BuildSteps", GS_METHOD_UNARY,
     &gitspace__orchestrator__v1__build_steps_request__descriptor,
     orchestrator_build_steps},
    {"CreateDeployment", GS_METHOD_UNARY,
     &gitspace__orchestrator__v1__create_deployment_request__descriptor,
     orchestrator_create_deployment},
    {"WaitReady", GS_METHOD_SERVER_STREAMING,
     &gitspace__orchestrator__v1__wait_ready_request__descriptor,
     orchestrator_wait_ready},
    {"StopGitspace", GS_METHOD_UNARY,
     &gitspace__orchestrator__v1__stop_gitspace_request__descriptor,
     orchestrator_stop},
    {"DeleteGitspace", GS_METHOD_UNARY,
     &gitspace__orchestrator__v1__delete_gitspace_request__descriptor,
     orchestrator_delete},
};

int gs_orchestrator_new(const gs_config *cfg, gs_registry *registry,
                        gs_orchestrator **out, char *err, size_t errlen) {
  gs_orchestrator *o = calloc(1, sizeof(*o));
  int rv;

  if (o == NULL) {
    return GS_ENOMEM;
  }
  rv = gs_catalog_build(cfg, &o->catalog, err, errlen);
  if (rv != 0) {
    free(o);
    return rv;
  }
  o->cfg = cfg;
  o->registry = registry;
  o->service.name = "gitspace.orchestrator.v1.Orchestrator";
  o->service.methods = orchestrator_methods;
  o->service.n_methods =
      sizeof(orchestrator_methods) / sizeof(*orchestrator_methods);
  o->service.call_log_level = GS_LOG_INFO;
  o->service.data = o;
  *out = o;
  return 0;
}

const gs_service *gs_orchestrator_service(gs_orchestrator *orch) {
  return &orch->service;
}

void gs_orchestrator_free(gs_orchestrator *orch) {
  if (orch == NULL) {
    return;
  }
  gs_resolve_cache_free(&orch->answers);
  gs_catalog_free(&orch->catalog);
  free(orch);
}
