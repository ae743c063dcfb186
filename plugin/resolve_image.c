/* The ResolveImage call: decide, verify with the registry, answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitspace/error.h"
#include "gitspace/log.h"
#include "gitspace/orchestrator/v1/orchestrator.pb-c.h"
#include "orchestrator_int.h"
#include "resolve.h"

typedef Gitspace__Orchestrator__V1__ResolveImageRequest resolve_request;
typedef Gitspace__Orchestrator__V1__ResolveImageResponse resolve_response;

typedef struct {
  gs_call *call;
  gs_orchestrator *orch;
  gs_registry_waiter *waiter;
  gs_resolution r;
  char id[80];
} resolve_job;

static const char *const resolve_source_names[] = {
    "UNSPECIFIED", "DEVCONTAINER", "PREBUILT", "BASE", "FALLBACK"};

static Gitspace__Orchestrator__V1__Verification
resolve_verification(const gs_resolution *r, bool asked) {
  if (!asked) {
    return GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_SKIPPED;
  }
  switch (r->outcome) {
  case GS_MANIFEST_FOUND:
    return GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_FOUND;
  case GS_MANIFEST_NOT_FOUND:
    return GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_NOT_FOUND;
  case GS_MANIFEST_UNAUTHORIZED:
    return GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_UNAUTHORIZED;
  case GS_MANIFEST_RATE_LIMITED:
    return GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_RATE_LIMITED;
  case GS_MANIFEST_UNREACHABLE:
    return GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_UNREACHABLE;
  default:
    return GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_TIMED_OUT;
  }
}

/* Answers the call from a finished resolution. */
static void resolve_reply(gs_call *call, const char *id, const gs_resolution *r,
                          bool asked) {
  resolve_response resp =
      GITSPACE__ORCHESTRATOR__V1__RESOLVE_IMAGE_RESPONSE__INIT;
  Gitspace__Orchestrator__V1__ImageReference ref =
      GITSPACE__ORCHESTRATOR__V1__IMAGE_REFERENCE__INIT;
  char image[GS_IMAGE_NAME_MAX + GS_IMAGE_TAG_MAX + GS_IMAGE_DIGEST_MAX + 4];
  const gs_ide_info *ide = r->ide_known ? gs_ide_get(r->ide) : NULL;

  gs_image_ref_format(&r->image, image, sizeof(image));
  ref.domain = (char *)r->image.domain;
  ref.path = (char *)r->image.path;
  ref.tag = (char *)r->image.tag;
  ref.digest = (char *)r->image.digest;
  ref.normalized = image;
  resp.image = image;
  resp.prebuilt = r->prebuilt;
  resp.source = (Gitspace__Orchestrator__V1__ImageSource)r->source;
  resp.fallback_reason = (char *)r->reason;
  resp.digest = (char *)r->digest;
  resp.verified = r->verified;
  resp.reference = &ref;
  resp.ide_family = ide != NULL ? (char *)gs_ide_family_name(ide->family) : "";
  resp.ide_port = ide != NULL ? ide->port : 0;
  resp.from_cache = r->from_cache;
  resp.verification = resolve_verification(r, asked);
  resp.warning = (char *)r->warning;
  GS_INFO(id, "resolve -> %s %s%s%s%s", resolve_source_names[r->source], image,
          r->verified ? " " : "", r->digest, r->from_cache ? " (cached)" : "");
  if (r->warning[0] != '\0') {
    GS_WARN(id, "resolve -> %s", r->warning);
  }
  gs_call_reply(call, &resp.base);
}

static void resolve_job_done(const gs_manifest_result *res, void *data) {
  resolve_job *job = data;

  gs_resolve_finish(&job->orch->catalog, res, &job->r);
  resolve_reply(job->call, job->id, &job->r, true);
  free(job);
}

static void resolve_job_cancelled(gs_call *call, void *data) {
  resolve_job *job = data;

  gs_registry_cancel(job->waiter);
  free(job);
  gs_call_finish(call, GS_STATUS_CANCELLED, NULL);
}

static void resolve_log_id(const resolve_request *req, gs_call *call, char *out,
                           size_t outlen) {
  if (req->gitspace_id[0] != '\0') {
    snprintf(out, outlen, "%.48s", req->gitspace_id);
  } else {
    snprintf(out, outlen, "%s", gs_call_id(call));
  }
}

void gs_orch_resolve_image(gs_call *call, const ProtobufCMessage *msg,
                           void *data) {
  const resolve_request *req = (const resolve_request *)msg;
  gs_orchestrator *orch = data;
  resolve_job *job;
  char err[512];

  job = calloc(1, sizeof(*job));
  if (job == NULL) {
    gs_call_finish(call, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  job->call = call;
  job->orch = orch;
  resolve_log_id(req, call, job->id, sizeof(job->id));
  if ((unsigned)req->verify > GS_VERIFY_NEVER) {
    free(job);
    gs_call_finishf(call, GS_STATUS_INVALID_ARGUMENT,
                    "verify: unknown value %d", (int)req->verify);
    return;
  }
  if (gs_resolve_begin(&orch->catalog, req->ide_type, req->devcontainer_image,
                       (gs_verify_mode)req->verify, &job->r, err,
                       sizeof(err)) != 0) {
    free(job);
    gs_call_finish(call, GS_STATUS_INVALID_ARGUMENT, err);
    return;
  }
  if (!job->r.verify || orch->registry == NULL) {
    resolve_reply(call, job->id, &job->r, false);
    free(job);
    return;
  }
  if (gs_registry_check(orch->registry, &job->r.image, resolve_job_done, job,
                        &job->waiter) != 0) {
    free(job);
    gs_call_finish(call, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  gs_call_on_cancel(call, resolve_job_cancelled, job);
}
