/* Registry credentials from Docker's config.json ("auths"). */
#ifndef GS_REGISTRY_CREDENTIALS_H
#define GS_REGISTRY_CREDENTIALS_H

#include <stddef.h>

#define GS_CREDENTIALS_FILE_MAX ((size_t)1 << 20) /* bytes of config.json */
#define GS_CREDENTIALS_HOST_MAX 255

typedef struct gs_credentials gs_credentials;

/* One registry's credentials. Strings are owned by the gs_credentials that
 * returned them and wiped when it is freed. */
typedef struct {
  const char *host;           /* normalised: "docker.io", "ghcr.io:443" */
  const char *username;       /* NULL when only an identity token is set */
  const char *password;       /* NULL with username */
  const char *identity_token; /* OAuth2 refresh token, or NULL */
} gs_credential;

/* Reads `path`: {"auths": {"<key>": {"auth": base64("user:password")} or
 * {"username": ..., "password": ...} and/or {"identitytoken": ...}}}.
 * A key is a host ("ghcr.io", "localhost:5000") or a URL
 * ("https://ghcr.io", "https://index.docker.io/v1/"); entries with none of
 * these fields (left by a credsStore) are skipped; credsStore and
 * credHelpers are not supported and only logged. Returns 0, GS_ENOENT when
 * the file does not exist, GS_EINVAL when it cannot be read or is
 * malformed, or GS_ENOMEM; the message in `err` (`errlen` bytes,
 * terminated) names the file and what is wrong, never a secret. *out is
 * freed by gs_credentials_free. */
int gs_credentials_load(const char *path, gs_credentials **out, char *err,
                        size_t errlen);

/* Returns the credentials for a registry `host` (a domain, an API host or
 * an auths key; docker.io, index.docker.io and registry-1.docker.io are one
 * registry), or NULL. `c` may be NULL. The result is owned by `c`. */
const gs_credential *gs_credentials_find(const gs_credentials *c,
                                         const char *host);

/* Number of registries with credentials. */
size_t gs_credentials_count(const gs_credentials *c);

/* Writes the normalised registry host of a host or auths key into `out`
 * (`outlen` bytes): no scheme, no path, lowercase, Docker Hub's names as
 * "docker.io". Returns 0, or GS_EINVAL when nothing is left or it does
 * not fit. */
int gs_credentials_host_key(const char *key, char *out, size_t outlen);

/* Wipes every secret and frees `c` (may be NULL). */
void gs_credentials_free(gs_credentials *c);

#endif
