/* Base64 encoding and strict decoding. */
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "gitspace/error.h"

/* The 64 digits, then the padding character at index 64. */
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

int gs_base64_encode(const void *in, size_t len, char *out, size_t outlen) {
  const unsigned char *p = in;
  size_t o = 0;

  if (outlen == 0) {
    return GS_ERANGE;
  }
  if (len > (SIZE_MAX - 3) / 4 * 3 - 3 ||
      GS_BASE64_ENCODED_SIZE(len) > outlen) {
    out[0] = '\0';
    return GS_ERANGE;
  }
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    size_t left = len - i;

    v |= left > 1 ? (uint32_t)p[i + 1] << 8 : 0;
    v |= left > 2 ? (uint32_t)p[i + 2] : 0;
    out[o++] = b64_alphabet[(v >> 18) & 63];
    out[o++] = b64_alphabet[(v >> 12) & 63];
    out[o++] = b64_alphabet[left > 1 ? (v >> 6) & 63 : 64];
    out[o++] = b64_alphabet[left > 2 ? v & 63 : 64];
  }
  out[o] = '\0';
  return (int)o;
}

static int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  return c == '/' ? 63 : -1;
}

/* Wipes what was decoded so far: it may be part of a secret. */
static int b64_fail(char *out, size_t outlen, int rv) {
  explicit_bzero(out, outlen);
  return rv;
}

int gs_base64_decode(const char *in, size_t len, char *out, size_t outlen,
                     size_t *outn) {
  uint32_t acc = 0;
  size_t bits = 0;
  size_t o = 0;
  size_t pad = 0;

  while (pad < 2 && len > 0 && in[len - 1] == '=') {
    len--;
    pad++;
  }
  if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0)) {
    return b64_fail(out, outlen, GS_EINVAL);
  }
  for (size_t i = 0; i < len; i++) {
    int v = b64_value(in[i]);

    if (v < 0) {
      return b64_fail(out, outlen, GS_EINVAL);
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o + 1 >= outlen) {
        return b64_fail(out, outlen, GS_ERANGE);
      }
      out[o++] = (char)((acc >> bits) & 0xff);
    }
  }
  if (outlen == 0) {
    return GS_ERANGE;
  }
  out[o] = '\0';
  *outn = o;
  return 0;
}
