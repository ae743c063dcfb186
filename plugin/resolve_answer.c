/* Turning a resolution into the ResolveImageResponse message. */
#include <stdio.h>

#include "gitspace/ide.h"
#include "resolve_answer.h"

static const char *const answer_source_names[] = {
    "UNSPECIFIED", "DEVCONTAINER", "PREBUILT", "BASE", "FALLBACK"};

static Gitspace__Orchestrator__V1__Verification
answer_verification(const gs_resolution *r, bool asked) {
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

void gs_resolve_answer_build(const gs_resolution *r, bool asked,
                             gs_resolve_answer *out) {
  Gitspace__Orchestrator__V1__ResolveImageResponse *resp = &out->resp;
  const gs_ide_info *ide = r->ide_known ? gs_ide_get(r->ide) : NULL;

  gitspace__orchestrator__v1__resolve_image_response__init(resp);
  gitspace__orchestrator__v1__image_reference__init(&out->ref);
  gs_image_ref_format(&r->image, out->image, sizeof(out->image));
  out->ref.domain = (char *)r->image.domain;
  out->ref.path = (char *)r->image.path;
  out->ref.tag = (char *)r->image.tag;
  out->ref.digest = (char *)r->image.digest;
  out->ref.normalized = out->image;
  resp->image = out->image;
  resp->prebuilt = r->prebuilt;
  resp->source = (Gitspace__Orchestrator__V1__ImageSource)r->source;
  resp->fallback_reason = (char *)r->reason;
  resp->digest = (char *)r->digest;
  resp->verified = r->verified;
  resp->reference = &out->ref;
  resp->ide_family = ide != NULL ? (char *)gs_ide_family_name(ide->family) : "";
  resp->ide_port = ide != NULL ? ide->port : 0;
  resp->from_cache = r->from_cache;
  resp->verification = answer_verification(r, asked);
  resp->warning = (char *)r->warning;
}

const char *gs_resolve_answer_summary(const gs_resolve_answer *a, char *out,
                                      size_t outlen) {
  const Gitspace__Orchestrator__V1__ResolveImageResponse *resp = &a->resp;

  snprintf(out, outlen, "%s %s%s%s%s", answer_source_names[resp->source],
           resp->image, resp->verified ? " " : "", resp->digest,
           resp->from_cache ? " (cached)" : "");
  return out;
}
