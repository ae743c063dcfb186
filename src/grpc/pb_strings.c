/* Refusing request strings that are not UTF-8, or that hold a NUL byte. */
#include <stdio.h>
#include <string.h>

#include "gitspace/error.h"
#include "pb_strings.h"

#define STRINGS_MAX_DEPTH 16

int gs_utf8_valid(const uint8_t *s, size_t len) {
  size_t i = 0;

  while (i < len) {
    uint8_t c = s[i];
    uint8_t lo = 0x80;
    uint8_t hi = 0xbf;
    size_t n;

    if (c == 0) {
      return 0;
    }
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
      hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      lo = c == 0xf0 ? 0x90 : 0x80;
      hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing past U+10FFFF */
    } else {
      return 0;
    }
    if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi) {
      return 0;
    }
    for (size_t k = 2; k <= n; k++) {
      if ((s[i + k] & 0xc0) != 0x80) {
        return 0;
      }
    }
    i += n + 1;
  }
  return 1;
}

/* Reads a varint at *pos; returns 0 when the input ends inside it. */
static int strings_varint(const uint8_t *buf, size_t len, size_t *pos,
                          uint64_t *out) {
  uint64_t v = 0;

  for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
    uint8_t b = buf[(*pos)++];

    v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return 1;
    }
  }
  return 0;
}

static int strings_walk(const ProtobufCMessageDescriptor *desc,
                        const uint8_t *buf, size_t len, const char *prefix,
                        int depth, char *err, size_t errlen) {
  size_t pos = 0;

  while (pos < len) {
    const ProtobufCFieldDescriptor *f;
    uint64_t tag;
    uint64_t n;
    char name[256];

    if (!strings_varint(buf, len, &pos, &tag)) {
      return 0;
    }
    switch (tag & 7) {
    case 0:
      if (!strings_varint(buf, len, &pos, &n)) {
        return 0;
      }
      continue;
    case 1:
      pos += 8;
      continue;
    case 5:
      pos += 4;
      continue;
    case 2:
      break;
    default:
      return 0; /* groups and bad wire types: the decoder refuses them */
    }
    if (!strings_varint(buf, len, &pos, &n) || n > len - pos) {
      return 0;
    }
    f = protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3));
    if (f != NULL) {
      snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
               f->name);
      if (f->type == PROTOBUF_C_TYPE_STRING &&
          !gs_utf8_valid(buf + pos, (size_t)n)) {
        snprintf(err, errlen, "field %s: %s", name,
                 memchr(buf + pos, 0, (size_t)n) != NULL
                     ? "contains a NUL byte"
                     : "is not valid UTF-8");
        return GS_EINVAL;
      }
      if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < STRINGS_MAX_DEPTH &&
          strings_walk(f->descriptor, buf + pos, (size_t)n, name, depth + 1,
                       err, errlen) != 0) {
        return GS_EINVAL;
      }
    }
    pos += (size_t)n;
  }
  return 0;
}

int gs_pb_check_strings(const ProtobufCMessageDescriptor *desc,
                        const uint8_t *buf, size_t len, char *err,
                        size_t errlen) {
  return strings_walk(desc, buf, len, "", 0, err, errlen);
}
