/* Parsing of the grpc-timeout header (gRPC over HTTP/2, "Timeout"). */
#include "gitspace/error.h"
#include "timeout.h"

int gs_grpc_timeout_parse(const char *s, size_t len, uint64_t *out_ms) {
  uint64_t value = 0;
  uint64_t ns_per_unit;

  if (len < 2 || len > 9) {
    return GS_EINVAL;
  }
  for (size_t i = 0; i + 1 < len; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return GS_EINVAL;
    }
    value = value * 10 + (uint64_t)(s[i] - '0');
  }
  switch (s[len - 1]) {
  case 'H':
    *out_ms = value * 3600 * 1000;
    return 0;
  case 'M':
    *out_ms = value * 60 * 1000;
    return 0;
  case 'S':
    *out_ms = value * 1000;
    return 0;
  case 'm':
    *out_ms = value;
    return 0;
  case 'u':
    ns_per_unit = 1000;
    break;
  case 'n':
    ns_per_unit = 1;
    break;
  default:
    return GS_EINVAL;
  }
  *out_ms = (value * ns_per_unit + 999999) / 1000000;
  return 0;
}
