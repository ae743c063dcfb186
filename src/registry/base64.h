/* Base64 (RFC 4648, standard alphabet) for Basic credentials. */
#ifndef GS_REGISTRY_BASE64_H
#define GS_REGISTRY_BASE64_H

#include <stddef.h>

/* Bytes gs_base64_encode needs for `len` input bytes, terminator included. */
#define GS_BASE64_ENCODED_SIZE(len) ((((len) + 2) / 3) * 4 + 1)

/* Encodes `len` bytes of `in` into `out` (`outlen` bytes), padded and
 * terminated. Returns the encoded length, or GS_ERANGE when `out` is too
 * small (then `out` holds ""). */
int gs_base64_encode(const void *in, size_t len, char *out, size_t outlen);

/* Decodes `len` characters of `in` into `out` (`outlen` bytes) and
 * terminates it (the result may hold NUL bytes; *outn tells its length).
 * Padding is optional; whitespace and any other character are refused.
 * Returns 0, GS_EINVAL for invalid input or GS_ERANGE when `out` is too
 * small. On error `out` holds "". */
int gs_base64_decode(const char *in, size_t len, char *out, size_t outlen,
                     size_t *outn);

#endif
