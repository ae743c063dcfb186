/* Manifest digests: checking the registry's, computing our own. */
#ifndef GS_REGISTRY_DIGEST_H
#define GS_REGISTRY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

/* True when `s` looks like "algorithm:encoded" (lowercase algorithm
 * components, at least 32 hex digits, fits GS_IMAGE_DIGEST_MAX). */
bool gs_digest_is_valid(const char *s);

/* Writes "sha256:<64 hex>" of `len` bytes of `data` into `out` (`outlen`
 * bytes, at least 72). Returns 0, GS_ERANGE or GS_ENOMEM. */
int gs_digest_sha256(const void *data, size_t len, char *out, size_t outlen);

#endif
