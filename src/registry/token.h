/* The token endpoint of the registry Bearer flow: request and answer. */
#ifndef GS_REGISTRY_TOKEN_H
#define GS_REGISTRY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define GS_TOKEN_MAX 16384          /* bytes of a bearer token */
#define GS_TOKEN_DEFAULT_EXPIRES 60 /* seconds, when the answer says none */
#define GS_TOKEN_MAX_EXPIRES 86400  /* seconds a token is trusted, at most */
#define GS_TOKEN_CLIENT_ID "gitspace-orchestratord"

/* Percent-encodes `s` (everything but RFC 3986 unreserved characters)
 * into `out` (`outlen` bytes, terminated). Returns 0 or GS_ERANGE. */
int gs_token_escape(const char *s, char *out, size_t outlen);

/* Writes the GET URL of a token request: `realm` plus "service=...&scope=..."
 * (service left out when ""), after "?" or "&" as the realm needs. Returns
 * 0, GS_EINVAL when `realm` is not an http or https URL or has a fragment,
 * or GS_ERANGE when `out` (`outlen` bytes) is too small. */
int gs_token_url(const char *realm, const char *service, const char *scope,
                 char *out, size_t outlen);

/* Writes the OAuth2 form body that trades a refresh token (an identity
 * token) for an access token. It holds the secret: wipe `out` after use.
 * Returns 0 or GS_ERANGE. */
int gs_token_form(const char *service, const char *scope,
                  const char *refresh_token, char *out, size_t outlen);

/* Reads a token answer: {"token": ...} or {"access_token": ...}, with
 * "expires_in" seconds (GS_TOKEN_DEFAULT_EXPIRES when absent or smaller,
 * GS_TOKEN_MAX_EXPIRES at most).
 * On success *token is a new string the caller wipes and frees. Returns
 * 0, GS_EINVAL when the body is not such an object or the token is empty,
 * too long or not printable, or GS_ENOMEM. */
int gs_token_parse(const char *body, size_t len, char **token,
                   uint64_t *expires_in);

#endif
