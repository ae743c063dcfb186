/* Token endpoint helpers: URL and form encoding, answer parsing. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gitspace/error.h"
#include "token.h"

static bool token_is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int gs_token_escape(const char *s, char *out, size_t outlen) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;

  if (outlen == 0) {
    return GS_ERANGE;
  }
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    size_t need = token_is_unreserved(*p) ? 1 : 3;

    if (o + need >= outlen) {
      out[0] = '\0';
      return GS_ERANGE;
    }
    if (need == 1) {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
  return 0;
}

/* Appends "&name=escaped(value)" (no "&" when first) at *o. */
static int token_append(char *out, size_t outlen, size_t *o, bool first,
                        const char *name, const char *value) {
  int n = snprintf(out + *o, outlen - *o, "%s%s=", first ? "" : "&", name);

  if (n < 0 || (size_t)n >= outlen - *o) {
    return GS_ERANGE;
  }
  *o += (size_t)n;
  if (gs_token_escape(value, out + *o, outlen - *o) != 0) {
    return GS_ERANGE;
  }
  *o += strlen(out + *o);
  return 0;
}

int gs_token_url(const char *realm, const char *service, const char *scope,
                 char *out, size_t outlen) {
  size_t o;
  bool has_query = strchr(realm, '?') != NULL;
  char last;
  int rv;

  if (outlen == 0) {
    return GS_ERANGE;
  }
  out[0] = '\0';
  if ((strncasecmp(realm, "https://", 8) != 0 &&
       strncasecmp(realm, "http://", 7) != 0) ||
      strchr(realm, '#') != NULL || strpbrk(realm, " \t\r\n") != NULL) {
    return GS_EINVAL;
  }
  o = strlen(realm);
  if (o + 2 >= outlen) {
    return GS_ERANGE;
  }
  memcpy(out, realm, o);
  last = out[o - 1]; /* o > 0: the realm starts with a scheme */
  if (!has_query) {
    out[o++] = '?';
  } else if (last != '?' && last != '&') {
    out[o++] = '&';
  }
  out[o] = '\0';
  rv = service[0] != '\0'
           ? token_append(out, outlen, &o, true, "service", service)
           : 0;
  if (rv == 0) {
    rv = token_append(out, outlen, &o, service[0] == '\0', "scope", scope);
  }
  if (rv != 0) {
    out[0] = '\0';
  }
  return rv;
}

int gs_token_form(const char *service, const char *scope,
                  const char *refresh_token, char *out, size_t outlen) {
  size_t o = 0;
  int rv;

  if (outlen == 0) {
    return GS_ERANGE;
  }
  rv = token_append(out, outlen, &o, true, "grant_type", "refresh_token");
  rv = rv != 0 ? rv : token_append(out, outlen, &o, false, "service", service);
  rv = rv != 0 ? rv : token_append(out, outlen, &o, false, "scope", scope);
  rv = rv != 0 ? rv
               : token_append(out, outlen, &o, false, "client_id",
                              GS_TOKEN_CLIENT_ID);
  rv = rv != 0 ? rv
               : token_append(out, outlen, &o, false, "refresh_token",
                              refresh_token);
  if (rv != 0) {
    explicit_bzero(out, outlen);
  }
  return rv;
}

/* A token goes into a header line: printable ASCII, no spaces. */
static bool token_is_sane(const char *t, size_t len) {
  if (len == 0 || len > GS_TOKEN_MAX) {
    return false;
  }
  for (size_t i = 0; i < len; i++) {
    if (t[i] <= 0x20 || t[i] >= 0x7f) {
      return false;
    }
  }
  return true;
}

static void token_wipe_string(json_t *v) {
  if (json_is_string(v)) {
    explicit_bzero((char *)json_string_value(v), json_string_length(v));
  }
}

int gs_token_parse(const char *body, size_t len, char **token,
                   uint64_t *expires_in) {
  json_t *root = json_loadb(body, len, 0, NULL);
  json_t *t;
  json_t *exp;
  int rv = 0;

  *token = NULL;
  *expires_in = GS_TOKEN_DEFAULT_EXPIRES;
  if (!json_is_object(root)) {
    json_decref(root);
    return GS_EINVAL;
  }
  t = json_object_get(root, "token");
  if (!json_is_string(t) || json_string_length(t) == 0) {
    t = json_object_get(root, "access_token");
  }
  if (!json_is_string(t) ||
      !token_is_sane(json_string_value(t), json_string_length(t))) {
    rv = GS_EINVAL;
  } else if ((*token = strdup(json_string_value(t))) == NULL) {
    rv = GS_ENOMEM;
  }
  exp = json_object_get(root, "expires_in");
  if (json_is_integer(exp) &&
      json_integer_value(exp) > GS_TOKEN_DEFAULT_EXPIRES) {
    *expires_in = (uint64_t)json_integer_value(exp);
  }
  if (*expires_in > GS_TOKEN_MAX_EXPIRES) {
    *expires_in = GS_TOKEN_MAX_EXPIRES;
  }
  token_wipe_string(json_object_get(root, "token"));
  token_wipe_string(json_object_get(root, "access_token"));
  token_wipe_string(json_object_get(root, "refresh_token"));
  json_decref(root);
  return rv;
}
