/* gRPC status code names and grpc-message percent-encoding. */
#include <stdbool.h>

#include "gitspace/status.h"

static const char *const status_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *gs_status_name(gs_status code) {
  if ((unsigned)code >= sizeof(status_names) / sizeof(*status_names)) {
    return "UNKNOWN";
  }
  return status_names[code];
}

static bool status_is_plain(unsigned char c) {
  return c >= 0x20 && c <= 0x7e && c != '%';
}

/* Length of the UTF-8 sequence that starts with `c`; 1 for stray bytes. */
static size_t status_utf8_len(unsigned char c) {
  if (c >= 0xf0 && c <= 0xf7) {
    return 4;
  }
  if (c >= 0xe0) {
    return c <= 0xef ? 3 : 1;
  }
  if (c >= 0xc0) {
    return 2;
  }
  return 1;
}

size_t gs_status_encode_message(const char *in, size_t len, char *out,
                                size_t outlen) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  size_t i = 0;

  if (outlen == 0) {
    return 0;
  }
  while (i < len) {
    unsigned char c = (unsigned char)in[i];
    size_t n = status_is_plain(c) ? 1 : status_utf8_len(c);
    size_t need = status_is_plain(c) ? 1 : 3 * n;

    if (i + n > len) {
      n = len - i;
      need = 3 * n;
    }
    if (o + need >= outlen) {
      break;
    }
    for (size_t k = 0; k < n; k++) {
      c = (unsigned char)in[i + k];
      if (status_is_plain(c)) {
        out[o++] = (char)c;
      } else {
        out[o++] = '%';
        out[o++] = hex[c >> 4];
        out[o++] = hex[c & 0xf];
      }
    }
    i += n;
  }
  out[o] = '\0';
  return o;
}

static int status_hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

size_t gs_status_decode_message(const char *in, size_t len, char *out,
                                size_t outlen) {
  size_t o = 0;

  if (outlen == 0) {
    return 0;
  }
  for (size_t i = 0; i < len && o + 1 < outlen; i++) {
    int hi;
    int lo;

    if (in[i] == '%' && i + 2 < len) {
      hi = status_hex_value(in[i + 1]);
      lo = status_hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[o++] = (char)(hi << 4 | lo);
        i += 2;
        continue;
      }
    }
    out[o++] = in[i];
  }
  out[o] = '\0';
  return o;
}
