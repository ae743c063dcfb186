/* Digest checks and sha256 through OpenSSL's EVP interface. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "curl_api.h"

#include "digest.h"
#include "gitspace/error.h"
#include "gitspace/image_ref.h"

static bool digest_alg_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool digest_is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

bool gs_digest_is_valid(const char *s) {
  const char *colon = strchr(s, ':');
  size_t hex = 0;

  if (colon == NULL || colon == s || strlen(s) > GS_IMAGE_DIGEST_MAX) {
    return false;
  }
  for (const char *p = s; p < colon; p++) {
    bool sep = *p == '+' || *p == '.' || *p == '_' || *p == '-';

    if (!digest_alg_char(*p) &&
        (!sep || p == s || p + 1 == colon || !digest_alg_char(p[1]))) {
      return false;
    }
  }
  for (const char *p = colon + 1; *p != '\0'; p++, hex++) {
    if (!digest_is_hex(*p)) {
      return false;
    }
  }
  return hex >= 32;
}

int gs_digest_sha256(const void *data, size_t len, char *out, size_t outlen) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  size_t o;

  if (outlen < sizeof("sha256:") + 64) {
    return GS_ERANGE;
  }
  if (gs_curl_api_load(NULL, 0) != 0) {
    return GS_ENOENT;
  }
  if (gs_curl.evp_digest(data, len, md, &mdlen, gs_curl.evp_sha256(), NULL) !=
          1 ||
      mdlen != 32) {
    return GS_ENOMEM;
  }
  o = (size_t)snprintf(out, outlen, "sha256:");
  for (unsigned int i = 0; i < mdlen; i++) {
    o += (size_t)snprintf(out + o, outlen - o, "%02x", md[i]);
  }
  return 0;
}
