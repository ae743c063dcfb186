/* Checks a request's string fields on the wire, before decoding. */
#ifndef GS_GRPC_PB_STRINGS_H
#define GS_GRPC_PB_STRINGS_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* True when `s` (`len` bytes) is valid UTF-8 without a NUL byte. */
int gs_utf8_valid(const uint8_t *s, size_t len);

/* Walks the encoded message `buf` (`len` bytes) of type `desc` and checks
 * that every string field, nested messages included, is valid UTF-8 with no
 * NUL byte (proto3 requires UTF-8; a NUL would cut the C string short).
 * Returns 0, or GS_EINVAL with "field <dotted name>: <problem>" in `err`.
 * Malformed encodings are left for the decoder to refuse. */
int gs_pb_check_strings(const ProtobufCMessageDescriptor *desc,
                        const uint8_t *buf, size_t len, char *err,
                        size_t errlen);

#endif
