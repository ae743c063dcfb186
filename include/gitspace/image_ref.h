/* Container image references, parsed by the grammar registries use. */
#ifndef GITSPACE_IMAGE_REF_H
#define GITSPACE_IMAGE_REF_H

#include <stdbool.h>
#include <stddef.h>

#define GS_IMAGE_NAME_MAX 255 /* domain + "/" + path */
#define GS_IMAGE_TAG_MAX 128
#define GS_IMAGE_DIGEST_MAX 200

/* A parsed, normalised reference. Plain value: no pointers, nothing to
 * free; copy it freely. */
typedef struct {
  char domain[GS_IMAGE_NAME_MAX + 1];   /* "docker.io", "localhost:5000" */
  char path[GS_IMAGE_NAME_MAX + 1];     /* "library/ubuntu" */
  char tag[GS_IMAGE_TAG_MAX + 1];       /* "" when absent */
  char digest[GS_IMAGE_DIGEST_MAX + 1]; /* "sha256:<hex>", "" when absent */
} gs_image_ref;

/* Parses `s` (`len` bytes, need not be terminated) into *out: a domain is
 * the first component when it holds '.' or ':' or is "localhost" (default
 * "docker.io", with "library/" implied for a one-component path;
 * "index.docker.io" becomes "docker.io"); path components are lowercase
 * alphanumerics joined by '.', '_', '__' or runs of '-'; a tag is
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; a digest is algorithm:hex with sha256
 * (64 hex) and sha512 (128 hex) lengths checked; domain + path at most 255
 * characters. Returns 0, or GS_EINVAL with a reason in `err` (`errlen`
 * bytes, terminated; may be NULL). */
int gs_image_ref_parse(const char *s, size_t len, gs_image_ref *out, char *err,
                       size_t errlen);

/* Parses a repository with no tag and no digest ("ghcr.io/a/b"). Same
 * returns. */
int gs_image_ref_parse_repository(const char *s, size_t len, gs_image_ref *out,
                                  char *err, size_t errlen);

/* Copies `repo` into *out with `tag` (validated). Returns 0 or GS_EINVAL. */
int gs_image_ref_with_tag(const gs_image_ref *repo, const char *tag,
                          gs_image_ref *out, char *err, size_t errlen);

/* Writes the full normalised reference, "domain/path[:tag][@digest]", into
 * `out` (`outlen` bytes, terminated). Returns the length it needs. */
size_t gs_image_ref_format(const gs_image_ref *ref, char *out, size_t outlen);

/* Writes "domain/path". Returns the length it needs. */
size_t gs_image_ref_repository(const gs_image_ref *ref, char *out,
                               size_t outlen);

/* True when both name the same repository (domain and path), whatever the
 * tag or digest. */
bool gs_image_ref_same_repository(const gs_image_ref *a, const gs_image_ref *b);

/* The host to send registry API requests to: "registry-1.docker.io" for
 * docker.io, the domain itself otherwise. Owned by `ref` or static. */
const char *gs_image_ref_api_host(const gs_image_ref *ref);

/* True when `s` is a valid tag on its own (no repository). */
bool gs_image_ref_is_tag(const char *s);

#endif
