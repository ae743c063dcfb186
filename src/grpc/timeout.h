/* The grpc-timeout header. */
#ifndef GS_GRPC_TIMEOUT_H
#define GS_GRPC_TIMEOUT_H

#include <stddef.h>
#include <stdint.h>

/* Parses a grpc-timeout value of `len` bytes: 1 to 8 ASCII digits and a
 * unit, H M S m u n. Stores the timeout in milliseconds, rounded up, in
 * *out_ms. Returns 0 or GS_EINVAL. */
int gs_grpc_timeout_parse(const char *s, size_t len, uint64_t *out_ms);

#endif
