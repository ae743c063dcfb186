/* WWW-Authenticate challenges (RFC 7235) as registries send them. */
#ifndef GS_REGISTRY_CHALLENGE_H
#define GS_REGISTRY_CHALLENGE_H

#include <stddef.h>

#define GS_CHALLENGE_REALM_MAX 1024
#define GS_CHALLENGE_PARAM_MAX 512
#define GS_CHALLENGE_INPUT_MAX 16384 /* longer header values are refused */

typedef enum {
  GS_AUTH_OTHER = 0, /* a scheme we do not speak (Digest, Negotiate...) */
  GS_AUTH_BASIC,
  GS_AUTH_BEARER
} gs_auth_scheme;

/* One challenge. Parameters that were absent are "". Values are unquoted,
 * with their backslash escapes resolved. */
typedef struct {
  gs_auth_scheme scheme;
  char realm[GS_CHALLENGE_REALM_MAX + 1];
  char service[GS_CHALLENGE_PARAM_MAX + 1];
  char scope[GS_CHALLENGE_PARAM_MAX + 1];
  char error[GS_CHALLENGE_PARAM_MAX + 1];
} gs_auth_challenge;

/* Parses the value of a WWW-Authenticate header, `len` bytes of `s` (need
 * not be terminated; any bytes), into at most `max` challenges in `out`.
 * Scheme and parameter names are case-insensitive; values are tokens or
 * quoted strings; a token68 after a scheme is skipped; challenges past
 * `max` are checked but not stored. Returns the number of challenges
 * stored (at least 1), or GS_EINVAL when the value is malformed, empty,
 * longer than GS_CHALLENGE_INPUT_MAX, or has a realm, service, scope or
 * error longer than its field. */
int gs_challenge_parse(const char *s, size_t len, gs_auth_challenge *out,
                       size_t max);

/* Returns the first of the `n` challenges with `scheme`, or NULL. */
const gs_auth_challenge *gs_challenge_find(const gs_auth_challenge *c, size_t n,
                                           gs_auth_scheme scheme);

#endif
