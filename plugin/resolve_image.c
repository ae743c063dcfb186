/* The ResolveImage call: decide, verify with the registry, answer. A warm
 * catalog-path call is answered from the encoded-answer cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitspace/error.h"
#include "gitspace/log.h"
#include "gitspace/orchestrator/v1/orchestrator.pb-c.h"
#include "orchestrator_int.h"
#include "resolve.h"
#include "resolve_answer.h"
#include "resolve_cache.h"

typedef Gitspace__Orchestrator__V1__ResolveImageRequest resolve_request;

typedef struct {
  gs_call *call;
  gs_orchestrator *orch;
  gs_registry_waiter *waiter;
  uint64_t generation; /* the registry's when the check was made */
  gs_resolution r;
  char id[80];
} resolve_job;

/* The registry's generation; 0 when there is no registry. */
static uint64_t resolve_generation(const gs_orchestrator *orch) {
  return orch->registry != NULL ? gs_registry_generation(orch->registry) : 0;
}

/* Answers the call from a finished resolution. */
static void resolve_reply(gs_call *call, const char *id, const gs_resolution *r,
                          bool asked) {
  gs_resolve_answer a;
  char summary[GS_RESOLVE_SUMMARY_MAX];

  gs_resolve_answer_build(r, asked, &a);
  GS_INFO(id, "resolve -> %s",
          gs_resolve_answer_summary(&a, summary, sizeof(summary)));
  if (r->warning[0] != '\0') {
    GS_WARN(id, "resolve -> %s", r->warning);
  }
  gs_call_reply(call, &a.resp.base);
}

static void resolve_job_done(const gs_manifest_result *res, void *data) {
  resolve_job *job = data;

  gs_resolve_finish(&job->orch->catalog, res, &job->r);
  gs_resolve_cache_put(&job->orch->answers, &job->r, true, res->expires_ms,
                       job->generation);
  resolve_reply(job->call, job->id, &job->r, true);
  free(job);
}

static void resolve_job_cancelled(gs_call *call, void *data) {
  resolve_job *job = data;

  gs_registry_cancel(job->waiter);
  free(job);
  gs_call_finish(call, GS_STATUS_CANCELLED, NULL);
}

/* Writes the id of the call's log lines into `out`; returns `out`. */
static const char *resolve_log_id(const resolve_request *req, gs_call *call,
                                  char *out, size_t outlen) {
  if (req->gitspace_id[0] != '\0') {
    snprintf(out, outlen, "%.48s", req->gitspace_id);
  } else {
    snprintf(out, outlen, "%s", gs_call_id(call));
  }
  return out;
}

/* The cached answer to `req`, or NULL: the request must be on the catalog
 * path (a known IDE, no devcontainer image) with a valid verify mode. */
static const gs_resolve_cached *resolve_cached(gs_orchestrator *orch,
                                               gs_call *call,
                                               const resolve_request *req) {
  bool asked;
  gs_ide ide;

  if ((req->devcontainer_image != NULL && req->devcontainer_image[0] != '\0') ||
      (unsigned)req->verify > GS_VERIFY_NEVER || req->ide_type == NULL ||
      gs_ide_parse(req->ide_type, strlen(req->ide_type), &ide) != 0) {
    return NULL;
  }
  asked =
      orch->registry != NULL &&
      gs_resolve_catalog_verifies(&orch->catalog, (gs_verify_mode)req->verify);
  return gs_resolve_cache_get(&orch->answers, ide, asked,
                              uv_now(gs_call_loop(call)),
                              resolve_generation(orch));
}

/* Answers from the cache. Returns false, having sent nothing, when the
 * cached bytes cannot be sent (over the size limit, out of memory): the
 * full path then answers, or reports the error as it would. */
static bool resolve_from_cache(gs_call *call, const resolve_request *req,
                               const gs_resolve_cached *hit) {
  char id[80];
  int rv = gs_call_send_packed(call, hit->packed, hit->len);

  if (rv < 0 && rv != GS_ECANCELED) {
    return false;
  }
  GS_INFO(resolve_log_id(req, call, id, sizeof(id)), "resolve -> %s",
          hit->summary);
  gs_call_finish(call, GS_STATUS_OK, NULL);
  return true;
}

void gs_orch_resolve_image(gs_call *call, const ProtobufCMessage *msg,
                           void *data) {
  const resolve_request *req = (const resolve_request *)msg;
  gs_orchestrator *orch = data;
  const gs_resolve_cached *hit = resolve_cached(orch, call, req);
  resolve_job *job;
  char err[512];

  if (hit != NULL && resolve_from_cache(call, req, hit)) {
    return;
  }
  if ((unsigned)req->verify > GS_VERIFY_NEVER) {
    gs_call_finishf(call, GS_STATUS_INVALID_ARGUMENT,
                    "verify: unknown value %d", (int)req->verify);
    return;
  }
  job = calloc(1, sizeof(*job));
  if (job == NULL) {
    gs_call_finish(call, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  job->call = call;
  job->orch = orch;
  resolve_log_id(req, call, job->id, sizeof(job->id));
  if (gs_resolve_begin(&orch->catalog, req->ide_type, req->devcontainer_image,
                       (gs_verify_mode)req->verify, &job->r, err,
                       sizeof(err)) != 0) {
    free(job);
    gs_call_finish(call, GS_STATUS_INVALID_ARGUMENT, err);
    return;
  }
  if (!job->r.verify || orch->registry == NULL) {
    /* Unverified: the answer depends on the config alone. */
    gs_resolve_cache_put(&orch->answers, &job->r, false, UINT64_MAX,
                         resolve_generation(orch));
    resolve_reply(call, job->id, &job->r, false);
    free(job);
    return;
  }
  job->generation = resolve_generation(orch);
  if (gs_registry_check(orch->registry, &job->r.image, resolve_job_done, job,
                        &job->waiter) != 0) {
    free(job);
    gs_call_finish(call, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  gs_call_on_cancel(call, resolve_job_cancelled, job);
}
