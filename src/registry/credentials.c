/* Docker config.json reader: the "auths" map, secrets wiped on free. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base64.h"
#include "credentials.h"
#include "gitspace/error.h"
#include "gitspace/log.h"

struct gs_credentials {
  gs_credential *entries;
  size_t count;
};

static void cred_msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cred_msg(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;

  if (err == NULL || errlen == 0) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static void cred_wipe_free(const char *s) {
  if (s != NULL) {
    explicit_bzero((char *)s, strlen(s));
    free((char *)s);
  }
}

static void cred_entry_clear(gs_credential *e) {
  free((char *)e->host);
  cred_wipe_free(e->username);
  cred_wipe_free(e->password);
  cred_wipe_free(e->identity_token);
  memset(e, 0, sizeof(*e));
}

void gs_credentials_free(gs_credentials *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < c->count; i++) {
    cred_entry_clear(&c->entries[i]);
  }
  free(c->entries);
  free(c);
}

/* ---- host keys ----------------------------------------------------------- */

static bool cred_is_docker_hub(const char *host) {
  return strcmp(host, "docker.io") == 0 ||
         strcmp(host, "index.docker.io") == 0 ||
         strcmp(host, "registry-1.docker.io") == 0 ||
         strcmp(host, "registry.hub.docker.com") == 0;
}

int gs_credentials_host_key(const char *key, char *out, size_t outlen) {
  const char *p = key;
  size_t n = 0;

  if (outlen == 0) {
    return GS_EINVAL;
  }
  out[0] = '\0';
  if (strncasecmp(p, "https://", 8) == 0) {
    p += 8;
  } else if (strncasecmp(p, "http://", 7) == 0) {
    p += 7;
  }
  while (p[n] != '\0' && p[n] != '/') {
    if (n + 1 >= outlen) {
      out[0] = '\0';
      return GS_EINVAL;
    }
    out[n] = (char)tolower((unsigned char)p[n]);
    n++;
  }
  out[n] = '\0';
  if (n == 0) {
    return GS_EINVAL;
  }
  if (cred_is_docker_hub(out)) {
    snprintf(out, outlen, "%s", "docker.io");
  }
  return 0;
}

const gs_credential *gs_credentials_find(const gs_credentials *c,
                                         const char *host) {
  char key[GS_CREDENTIALS_HOST_MAX + 1];

  if (c == NULL || host == NULL ||
      gs_credentials_host_key(host, key, sizeof(key)) != 0) {
    return NULL;
  }
  for (size_t i = 0; i < c->count; i++) {
    if (strcmp(c->entries[i].host, key) == 0) {
      return &c->entries[i];
    }
  }
  return NULL;
}

size_t gs_credentials_count(const gs_credentials *c) {
  return c != NULL ? c->count : 0;
}

/* ---- reading the file ---------------------------------------------------- */

/* Reads the whole file into a terminated buffer; the caller wipes it. */
static int cred_read_file(const char *path, char **out, size_t *outlen,
                          char *err, size_t errlen) {
  /* O_NONBLOCK: opening a FIFO must not hang the start; it is refused. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  char *buf = NULL;
  size_t len = 0;
  int rv = 0;

  if (fd < 0) {
    int e = errno;

    cred_msg(err, errlen, "auth file %s: cannot open: %s", path, strerror(e));
    return e == ENOENT ? GS_ENOENT : GS_EINVAL;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    cred_msg(err, errlen, "auth file %s: not a regular file", path);
    rv = GS_EINVAL;
  } else if ((size_t)st.st_size > GS_CREDENTIALS_FILE_MAX) {
    cred_msg(err, errlen, "auth file %s: larger than %zu bytes", path,
             GS_CREDENTIALS_FILE_MAX);
    rv = GS_EINVAL;
  } else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
    rv = GS_ENOMEM;
    cred_msg(err, errlen, "auth file %s: out of memory", path);
  }
  while (rv == 0 && len < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      cred_msg(err, errlen, "auth file %s: cannot read: %s", path,
               n < 0 ? strerror(errno) : "file shrank while reading");
      rv = GS_EINVAL;
      break;
    }
    len += (size_t)n;
  }
  close(fd);
  if (rv != 0) {
    if (buf != NULL) {
      explicit_bzero(buf, len);
      free(buf);
    }
    return rv;
  }
  buf[len] = '\0';
  *out = buf;
  *outlen = len;
  return 0;
}

/* jansson's messages end with " near '<text>'", and that text may be part
 * of a secret: keep only what comes before. */
static void cred_json_reason(const json_error_t *jerr, char *out,
                             size_t outlen) {
  const char *near = strstr(jerr->text, " near ");
  size_t n = near != NULL ? (size_t)(near - jerr->text) : strlen(jerr->text);

  snprintf(out, outlen, "%.*s", (int)n, jerr->text);
}

/* Overwrites a string value inside the parsed document before it is freed:
 * jansson's own memory would otherwise keep the secret. */
static void cred_json_wipe(json_t *v) {
  if (json_is_string(v)) {
    explicit_bzero((char *)json_string_value(v), json_string_length(v));
  }
}

static void cred_json_wipe_auths(json_t *auths) {
  const char *key;
  json_t *entry;

  json_object_foreach(auths, key, entry) {
    cred_json_wipe(json_object_get(entry, "auth"));
    cred_json_wipe(json_object_get(entry, "password"));
    cred_json_wipe(json_object_get(entry, "identitytoken"));
  }
}

/* ---- one entry ----------------------------------------------------------- */

typedef struct {
  const char *path;
  const char *key;
  char *err;
  size_t errlen;
} cred_ctx;

/* Copies an optional string field; "" counts as absent. */
static int cred_field(const cred_ctx *x, json_t *entry, const char *name,
                      char **out) {
  json_t *v = json_object_get(entry, name);

  *out = NULL;
  if (v == NULL || json_is_null(v)) {
    return 0;
  }
  if (!json_is_string(v)) {
    cred_msg(x->err, x->errlen,
             "auth file %s: auths \"%s\": \"%s\" is not a "
             "string",
             x->path, x->key, name);
    return GS_EINVAL;
  }
  if (json_string_length(v) == 0) {
    return 0;
  }
  if (strlen(json_string_value(v)) != json_string_length(v)) {
    cred_msg(x->err, x->errlen,
             "auth file %s: auths \"%s\": \"%s\" holds a "
             "NUL byte",
             x->path, x->key, name);
    return GS_EINVAL;
  }
  *out = strdup(json_string_value(v));
  if (*out == NULL) {
    cred_msg(x->err, x->errlen, "auth file %s: out of memory", x->path);
    return GS_ENOMEM;
  }
  return 0;
}

/* Splits base64("user:password") into the entry. */
static int cred_decode_auth(const cred_ctx *x, const char *auth,
                            gs_credential *e) {
  size_t cap = strlen(auth) / 4 * 3 + 4;
  char *plain = malloc(cap);
  size_t n = 0;
  char *colon;
  int rv;

  if (plain == NULL) {
    cred_msg(x->err, x->errlen, "auth file %s: out of memory", x->path);
    return GS_ENOMEM;
  }
  rv = gs_base64_decode(auth, strlen(auth), plain, cap, &n);
  colon = rv == 0 ? memchr(plain, ':', n) : NULL;
  if (rv != 0 || memchr(plain, '\0', n) != NULL) {
    cred_msg(x->err, x->errlen,
             "auth file %s: auths \"%s\": \"auth\" is not "
             "valid base64",
             x->path, x->key);
    rv = GS_EINVAL;
  } else if (colon == NULL || colon == plain) {
    cred_msg(x->err, x->errlen,
             "auth file %s: auths \"%s\": \"auth\" does "
             "not decode to user:password",
             x->path, x->key);
    rv = GS_EINVAL;
  } else {
    *colon = '\0';
    e->username = strdup(plain);
    e->password = strdup(colon + 1);
    if (e->username == NULL || e->password == NULL) {
      cred_msg(x->err, x->errlen, "auth file %s: out of memory", x->path);
      rv = GS_ENOMEM;
    }
  }
  explicit_bzero(plain, cap);
  free(plain);
  return rv;
}

/* Fills `e` from one auths entry; e->host stays NULL when it holds no
 * credentials (a credsStore placeholder). */
static int cred_entry(const cred_ctx *x, json_t *v, gs_credential *e) {
  char host[GS_CREDENTIALS_HOST_MAX + 1];
  char *auth = NULL;
  char *user = NULL;
  char *pass = NULL;
  char *token = NULL;
  int rv;

  if (!json_is_object(v)) {
    cred_msg(x->err, x->errlen, "auth file %s: auths \"%s\" is not an object",
             x->path, x->key);
    return GS_EINVAL;
  }
  if (gs_credentials_host_key(x->key, host, sizeof(host)) != 0) {
    cred_msg(x->err, x->errlen,
             "auth file %s: auths key \"%.100s\" is not "
             "a registry host",
             x->path, x->key);
    return GS_EINVAL;
  }
  rv = cred_field(x, v, "auth", &auth);
  rv = rv != 0 ? rv : cred_field(x, v, "username", &user);
  rv = rv != 0 ? rv : cred_field(x, v, "password", &pass);
  rv = rv != 0 ? rv : cred_field(x, v, "identitytoken", &token);
  if (rv == 0 && auth != NULL) {
    rv = cred_decode_auth(x, auth, e);
  } else if (rv == 0 && user != NULL) {
    e->username = user;
    e->password = pass != NULL ? pass : strdup("");
    user = NULL;
    pass = NULL;
    rv = e->password == NULL ? GS_ENOMEM : 0;
  }
  e->identity_token = token;
  token = NULL;
  if (rv == 0 && (e->username != NULL || e->identity_token != NULL)) {
    e->host = strdup(host);
    rv = e->host == NULL ? GS_ENOMEM : 0;
  }
  cred_wipe_free(auth);
  cred_wipe_free(user);
  cred_wipe_free(pass);
  cred_wipe_free(token);
  if (rv != 0 || e->host == NULL) {
    cred_entry_clear(e);
  }
  return rv;
}

static int cred_auths(const char *path, json_t *auths, gs_credentials *c,
                      char *err, size_t errlen) {
  const char *key;
  json_t *v;

  c->entries = calloc(json_object_size(auths) + 1, sizeof(*c->entries));
  if (c->entries == NULL) {
    cred_msg(err, errlen, "auth file %s: out of memory", path);
    return GS_ENOMEM;
  }
  json_object_foreach(auths, key, v) {
    cred_ctx x = {path, key, err, errlen};
    int rv = cred_entry(&x, v, &c->entries[c->count]);

    if (rv != 0) {
      return rv;
    }
    if (c->entries[c->count].host != NULL) {
      c->count++;
    }
  }
  return 0;
}

static int cred_document(const char *path, json_t *root, gs_credentials *c,
                         char *err, size_t errlen) {
  json_t *auths;

  if (!json_is_object(root)) {
    cred_msg(err, errlen, "auth file %s: the top level is not an object", path);
    return GS_EINVAL;
  }
  if (json_object_get(root, "credsStore") != NULL ||
      json_object_get(root, "credHelpers") != NULL) {
    GS_WARN("-",
            "auth file %s names a credsStore or credHelpers, which are not "
            "supported: only credentials written in \"auths\" are used",
            path);
  }
  auths = json_object_get(root, "auths");
  if (auths == NULL || json_is_null(auths)) {
    return 0;
  }
  if (!json_is_object(auths)) {
    cred_msg(err, errlen, "auth file %s: \"auths\" is not an object", path);
    return GS_EINVAL;
  }
  return cred_auths(path, auths, c, err, errlen);
}

int gs_credentials_load(const char *path, gs_credentials **out, char *err,
                        size_t errlen) {
  gs_credentials *c;
  json_error_t jerr;
  json_t *root;
  char *buf = NULL;
  size_t len = 0;
  int rv;

  cred_msg(err, errlen, "%s", "");
  rv = cred_read_file(path, &buf, &len, err, errlen);
  if (rv != 0) {
    return rv;
  }
  root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  explicit_bzero(buf, len);
  free(buf);
  if (root == NULL) {
    char reason[sizeof(jerr.text)];

    cred_json_reason(&jerr, reason, sizeof(reason));
    cred_msg(err, errlen, "auth file %s: line %d: invalid JSON: %s", path,
             jerr.line, reason);
    return GS_EINVAL;
  }
  c = calloc(1, sizeof(*c));
  rv = c == NULL ? GS_ENOMEM : cred_document(path, root, c, err, errlen);
  if (c == NULL) {
    cred_msg(err, errlen, "auth file %s: out of memory", path);
  }
  if (json_is_object(json_object_get(root, "auths"))) {
    cred_json_wipe_auths(json_object_get(root, "auths"));
  }
  json_decref(root);
  if (rv != 0) {
    gs_credentials_free(c);
    return rv;
  }
  *out = c;
  return 0;
}
