/* gRPC status codes and the grpc-message encoding. */
#ifndef GITSPACE_STATUS_H
#define GITSPACE_STATUS_H

#include <stddef.h>

typedef enum {
  GS_STATUS_OK = 0,
  GS_STATUS_CANCELLED = 1,
  GS_STATUS_UNKNOWN = 2,
  GS_STATUS_INVALID_ARGUMENT = 3,
  GS_STATUS_DEADLINE_EXCEEDED = 4,
  GS_STATUS_NOT_FOUND = 5,
  GS_STATUS_ALREADY_EXISTS = 6,
  GS_STATUS_PERMISSION_DENIED = 7,
  GS_STATUS_RESOURCE_EXHAUSTED = 8,
  GS_STATUS_FAILED_PRECONDITION = 9,
  GS_STATUS_ABORTED = 10,
  GS_STATUS_OUT_OF_RANGE = 11,
  GS_STATUS_UNIMPLEMENTED = 12,
  GS_STATUS_INTERNAL = 13,
  GS_STATUS_UNAVAILABLE = 14,
  GS_STATUS_DATA_LOSS = 15,
  GS_STATUS_UNAUTHENTICATED = 16
} gs_status;

/* "OK", "INVALID_ARGUMENT", ...; "UNKNOWN" for out-of-range codes. */
const char *gs_status_name(gs_status code);

/* Percent-encodes `in` (`len` bytes) for a grpc-message header into `out`
 * (`outlen` bytes, always terminated): bytes outside 0x20-0x7e and '%' become
 * %XX. Input that does not fit is cut at a character boundary. Returns the
 * length written. */
size_t gs_status_encode_message(const char *in, size_t len, char *out,
                                size_t outlen);

/* Decodes a percent-encoded grpc-message in place semantics: writes to `out`
 * (`outlen` bytes, terminated). Malformed escapes are kept as they are.
 * Returns the length written. */
size_t gs_status_decode_message(const char *in, size_t len, char *out,
                                size_t outlen);

#endif
