/* WWW-Authenticate parsing: schemes, auth-params, quoted strings. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "challenge.h"
#include "gitspace/error.h"

typedef struct {
  const unsigned char *s;
  size_t len;
  size_t pos;
} chal_lexer;

static bool chal_is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool chal_is_token68(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return c != '\0' && strchr("-._~+/", c) != NULL;
}

static bool chal_at_end(const chal_lexer *l) {
  return l->pos >= l->len;
}

static unsigned char chal_peek(const chal_lexer *l) {
  return chal_at_end(l) ? '\0' : l->s[l->pos];
}

static void chal_skip_ows(chal_lexer *l) {
  while (!chal_at_end(l) && (l->s[l->pos] == ' ' || l->s[l->pos] == '\t')) {
    l->pos++;
  }
}

/* Length of the token starting at `pos`, without consuming it. */
static size_t chal_token_len(const chal_lexer *l, size_t pos) {
  size_t n = 0;

  while (pos + n < l->len && chal_is_tchar(l->s[pos + n])) {
    n++;
  }
  return n;
}

/* True when a token at `pos` is followed by BWS "=" and the start of a
 * value: an auth-param rather than a new scheme or a token68. */
static bool chal_param_ahead(const chal_lexer *l, size_t pos) {
  size_t n = chal_token_len(l, pos);
  size_t p = pos + n;

  if (n == 0) {
    return false;
  }
  while (p < l->len && (l->s[p] == ' ' || l->s[p] == '\t')) {
    p++;
  }
  if (p >= l->len || l->s[p] != '=') {
    return false;
  }
  p++;
  while (p < l->len && (l->s[p] == ' ' || l->s[p] == '\t')) {
    p++;
  }
  return p < l->len && (l->s[p] == '"' || chal_is_tchar(l->s[p]));
}

/* Appends `c` to `out` (`cap` bytes with the terminator) at *n; `out` may
 * be NULL for a value nobody keeps. */
static int chal_put(char *out, size_t cap, size_t *n, unsigned char c) {
  if (out == NULL) {
    return 0;
  }
  if (*n + 1 >= cap) {
    return GS_EINVAL;
  }
  out[(*n)++] = (char)c;
  out[*n] = '\0';
  return 0;
}

static bool chal_is_qdtext(unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
         (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

static int chal_quoted(chal_lexer *l, char *out, size_t cap) {
  size_t n = 0;

  l->pos++; /* the opening quote */
  while (!chal_at_end(l)) {
    unsigned char c = l->s[l->pos++];

    if (c == '"') {
      return 0;
    }
    if (c == '\\') {
      if (chal_at_end(l)) {
        return GS_EINVAL;
      }
      c = l->s[l->pos++];
      if (c != '\t' && (c < 0x20 || c == 0x7f)) {
        return GS_EINVAL;
      }
    } else if (!chal_is_qdtext(c)) {
      return GS_EINVAL;
    }
    if (chal_put(out, cap, &n, c) != 0) {
      return GS_EINVAL;
    }
  }
  return GS_EINVAL; /* no closing quote */
}

static int chal_value(chal_lexer *l, char *out, size_t cap) {
  size_t n;

  if (out != NULL) {
    out[0] = '\0';
  }
  if (chal_peek(l) == '"') {
    return chal_quoted(l, out, cap);
  }
  n = chal_token_len(l, l->pos);
  if (n == 0) {
    return GS_EINVAL;
  }
  if (out != NULL) {
    if (n >= cap) {
      return GS_EINVAL;
    }
    memcpy(out, l->s + l->pos, n);
    out[n] = '\0';
  }
  l->pos += n;
  return 0;
}

static bool chal_name_is(const chal_lexer *l, size_t pos, size_t n,
                         const char *name) {
  return strlen(name) == n &&
         strncasecmp((const char *)l->s + pos, name, n) == 0;
}

/* Parses one auth-param at `pos` (chal_param_ahead said it is one). */
static int chal_param(chal_lexer *l, gs_auth_challenge *c) {
  size_t start = l->pos;
  size_t n = chal_token_len(l, start);
  char *field = NULL;
  size_t cap = GS_CHALLENGE_PARAM_MAX + 1;

  if (chal_name_is(l, start, n, "realm")) {
    field = c->realm;
    cap = sizeof(c->realm);
  } else if (chal_name_is(l, start, n, "service")) {
    field = c->service;
  } else if (chal_name_is(l, start, n, "scope")) {
    field = c->scope;
  } else if (chal_name_is(l, start, n, "error")) {
    field = c->error;
  }
  l->pos += n;
  chal_skip_ows(l);
  l->pos++; /* "=" */
  chal_skip_ows(l);
  return chal_value(l, field, cap);
}

/* Skips a token68 ("Basic dXNlcjpw=="): it must end the challenge. */
static int chal_token68(chal_lexer *l) {
  size_t start = l->pos;

  while (!chal_at_end(l) && chal_is_token68(l->s[l->pos])) {
    l->pos++;
  }
  if (l->pos == start) {
    return GS_EINVAL;
  }
  while (chal_peek(l) == '=') {
    l->pos++;
  }
  chal_skip_ows(l);
  return chal_at_end(l) || chal_peek(l) == ',' ? 0 : GS_EINVAL;
}

/* After a comma: skips empty list elements. True when what follows is a
 * parameter of the current challenge, false at the end or a new scheme. */
static bool chal_next_is_param(chal_lexer *l) {
  while (!chal_at_end(l) &&
         (l->s[l->pos] == ',' || l->s[l->pos] == ' ' || l->s[l->pos] == '\t')) {
    l->pos++;
  }
  return !chal_at_end(l) && chal_param_ahead(l, l->pos);
}

/* Parses what follows a scheme: nothing, a token68, or auth-params. Stops
 * at the end or before the next challenge's scheme. */
static int chal_params(chal_lexer *l, gs_auth_challenge *c) {
  size_t after_scheme = l->pos;

  chal_skip_ows(l);
  if (chal_at_end(l)) {
    return 0;
  }
  if (chal_peek(l) != ',') {
    if (l->pos == after_scheme) {
      return GS_EINVAL; /* "Bearer\"x\"": no space after the scheme */
    }
    if (!chal_param_ahead(l, l->pos)) {
      return chal_token68(l);
    }
  } else if (!chal_next_is_param(l)) {
    return 0;
  }
  for (;;) {
    int rv = chal_param(l, c);

    if (rv != 0) {
      return rv;
    }
    chal_skip_ows(l);
    if (chal_at_end(l)) {
      return 0;
    }
    if (chal_peek(l) != ',') {
      return GS_EINVAL; /* junk after a value */
    }
    if (!chal_next_is_param(l)) {
      return chal_at_end(l) || chal_token_len(l, l->pos) > 0 ? 0 : GS_EINVAL;
    }
  }
}

static gs_auth_scheme chal_scheme(const chal_lexer *l, size_t pos, size_t n) {
  if (chal_name_is(l, pos, n, "bearer")) {
    return GS_AUTH_BEARER;
  }
  if (chal_name_is(l, pos, n, "basic")) {
    return GS_AUTH_BASIC;
  }
  return GS_AUTH_OTHER;
}

int gs_challenge_parse(const char *s, size_t len, gs_auth_challenge *out,
                       size_t max) {
  chal_lexer l = {(const unsigned char *)s, len, 0};
  gs_auth_challenge scratch;
  size_t count = 0;

  if (s == NULL || len == 0 || len > GS_CHALLENGE_INPUT_MAX) {
    return GS_EINVAL;
  }
  for (;;) {
    gs_auth_challenge *c = count < max ? &out[count] : &scratch;
    size_t n;
    int rv;

    while (!chal_at_end(&l) && (chal_peek(&l) == ',' || chal_peek(&l) == ' ' ||
                                chal_peek(&l) == '\t')) {
      l.pos++;
    }
    if (chal_at_end(&l)) {
      break;
    }
    n = chal_token_len(&l, l.pos);
    if (n == 0) {
      return GS_EINVAL;
    }
    memset(c, 0, sizeof(*c));
    c->scheme = chal_scheme(&l, l.pos, n);
    l.pos += n;
    rv = chal_params(&l, c);
    if (rv != 0) {
      return rv;
    }
    if (count < max) {
      count++;
    }
  }
  return count > 0 ? (int)count : GS_EINVAL;
}

const gs_auth_challenge *gs_challenge_find(const gs_auth_challenge *c, size_t n,
                                           gs_auth_scheme scheme) {
  for (size_t i = 0; i < n; i++) {
    if (c[i].scheme == scheme) {
      return &c[i];
    }
  }
  return NULL;
}
