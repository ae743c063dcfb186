/* Container image references, parsed by the grammar registries use. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gitspace/error.h"
#include "gitspace/image_ref.h"

#define IMAGE_DEFAULT_DOMAIN "docker.io"
#define IMAGE_LEGACY_DOMAIN "index.docker.io"
#define IMAGE_OFFICIAL_PREFIX "library/"
#define IMAGE_DOCKER_API_HOST "registry-1.docker.io"
#define IMAGE_ENCODED_MIN 32

/* A run of bytes inside the caller's input; never terminated. */
typedef struct {
  const char *p;
  size_t n;
} image_span;

/* A reference cut at its separators, before any component is checked. */
typedef struct {
  image_span name;
  image_span tag;
  image_span digest;
  bool has_tag;
  bool has_digest;
} image_parts;

static int image_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int image_fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;

  if (err != NULL && errlen > 0) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return GS_EINVAL;
}

/* How much of an input to quote in a message: enough to recognise it (a
 * whole sha256 digest), so the reason after it survives a small buffer. */
#define IMAGE_SHOW_MAX 80

static int image_show(size_t n) {
  return n > IMAGE_SHOW_MAX ? IMAGE_SHOW_MAX : (int)n;
}

static const char *image_more(size_t n) {
  return n > IMAGE_SHOW_MAX ? "..." : "";
}

/* The arguments for one "%.*s%s" in a message. */
#define IMAGE_QUOTE(n, p) image_show(n), (p), image_more(n)

/* Character classes by hand: <ctype.h> follows the locale and is undefined
 * for negative chars. */
static bool image_is_digit(char c) {
  return c >= '0' && c <= '9';
}

static bool image_is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

static bool image_is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

static bool image_is_lower_alnum(char c) {
  return image_is_lower(c) || image_is_digit(c);
}

static bool image_is_alnum(char c) {
  return image_is_lower_alnum(c) || image_is_upper(c);
}

static bool image_is_word(char c) {
  return image_is_alnum(c) || c == '_';
}

static bool image_is_hex(char c) {
  return image_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool image_is_lower_hex(char c) {
  return image_is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool image_span_is(image_span s, const char *lit) {
  return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static bool image_span_has(image_span s, char c) {
  return s.n > 0 && memchr(s.p, c, s.n) != NULL;
}

/* Every byte must be printable ASCII other than space; naming the first
 * bad one tells the user what to remove. */
static int image_check_bytes(const char *s, size_t len, char *err,
                             size_t errlen) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];

    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      return image_fail(
          err, errlen, "reference has whitespace (0x%02x) at offset %zu", c, i);
    }
    if (c < 0x20 || c == 0x7f) {
      return image_fail(err, errlen,
                        "reference has control character 0x%02x at offset %zu",
                        c, i);
    }
    if (c > 0x7f) {
      return image_fail(err, errlen,
                        "reference has non-ASCII byte 0x%02x at offset %zu", c,
                        i);
    }
  }
  return 0;
}

/* Cuts name[:tag][@digest]. The digest starts at the first '@'; the tag
 * starts at the first ':' after the name's last '/', so the ':' of a
 * registry port is never taken for a tag. */
static int image_split(const char *s, size_t len, image_parts *parts, char *err,
                       size_t errlen) {
  const char *at = memchr(s, '@', len);
  size_t rest = len;
  size_t start = 0;
  const char *colon = NULL;

  memset(parts, 0, sizeof(*parts));
  if (at != NULL) {
    rest = (size_t)(at - s);
    parts->has_digest = true;
    parts->digest.p = at + 1;
    parts->digest.n = len - rest - 1;
  }
  for (size_t i = rest; i > 0; i--) {
    if (s[i - 1] == '/') {
      start = i;
      break;
    }
  }
  colon = memchr(s + start, ':', rest - start);
  if (colon != NULL) {
    parts->has_tag = true;
    parts->tag.p = colon + 1;
    parts->tag.n = rest - (size_t)(colon - s) - 1;
    rest = (size_t)(colon - s);
  }
  parts->name.p = s;
  parts->name.n = rest;
  if (rest == 0) {
    return image_fail(err, errlen, "reference has no repository name");
  }
  return 0;
}

static int image_check_port(image_span domain, image_span port, char *err,
                            size_t errlen) {
  if (port.n == 0) {
    return image_fail(err, errlen, "invalid domain \"%.*s%s\": port is empty",
                      IMAGE_QUOTE(domain.n, domain.p));
  }
  for (size_t i = 0; i < port.n; i++) {
    if (!image_is_digit(port.p[i])) {
      return image_fail(err, errlen,
                        "invalid domain \"%.*s%s\": port \"%.*s%s\" is not a "
                        "number",
                        IMAGE_QUOTE(domain.n, domain.p),
                        IMAGE_QUOTE(port.n, port.p));
    }
  }
  return 0;
}

/* "[hex:hex...]": the brackets of an IPv6 literal, as URLs write it. */
static int image_check_ipv6(image_span domain, size_t close, char *err,
                            size_t errlen) {
  if (close < 2) {
    return image_fail(err, errlen,
                      "invalid domain \"%.*s%s\": empty IPv6 address",
                      IMAGE_QUOTE(domain.n, domain.p));
  }
  for (size_t i = 1; i < close; i++) {
    if (!image_is_hex(domain.p[i]) && domain.p[i] != ':') {
      return image_fail(err, errlen,
                        "invalid domain \"%.*s%s\": an IPv6 address holds only "
                        "hex digits and ':'",
                        IMAGE_QUOTE(domain.n, domain.p));
    }
  }
  return 0;
}

/* One label of a host name: letters and digits, '-' only inside. */
static int image_check_label(image_span domain, image_span label, char *err,
                             size_t errlen) {
  if (label.n == 0) {
    return image_fail(err, errlen, "invalid domain \"%.*s%s\": empty component",
                      IMAGE_QUOTE(domain.n, domain.p));
  }
  for (size_t i = 0; i < label.n; i++) {
    char c = label.p[i];
    bool edge = i == 0 || i == label.n - 1;

    if (!image_is_alnum(c) && (edge || c != '-')) {
      return image_fail(
          err, errlen,
          "invalid domain \"%.*s%s\": component \"%.*s%s\" must be "
          "letters and digits, with '-' only inside",
          IMAGE_QUOTE(domain.n, domain.p), IMAGE_QUOTE(label.n, label.p));
    }
  }
  return 0;
}

static int image_check_host(image_span domain, size_t host_len, char *err,
                            size_t errlen) {
  size_t start = 0;
  int rc = 0;

  for (size_t i = 0; i <= host_len && rc == 0; i++) {
    if (i == host_len || domain.p[i] == '.') {
      image_span label = {domain.p + start, i - start};

      rc = image_check_label(domain, label, err, errlen);
      start = i + 1;
    }
  }
  return rc;
}

/* host[:port] where host is dotted labels or a bracketed IPv6 address. */
static int image_check_domain(image_span domain, char *err, size_t errlen) {
  const char *end = NULL;
  size_t host_len = domain.n;
  int rc = 0;

  if (domain.p[0] == '[') {
    end = memchr(domain.p, ']', domain.n);
    if (end == NULL) {
      return image_fail(err, errlen,
                        "invalid domain \"%.*s%s\": '[' without ']'",
                        IMAGE_QUOTE(domain.n, domain.p));
    }
    host_len = (size_t)(end - domain.p) + 1;
    rc = image_check_ipv6(domain, host_len - 1, err, errlen);
    if (rc == 0 && host_len < domain.n && domain.p[host_len] != ':') {
      rc = image_fail(err, errlen,
                      "invalid domain \"%.*s%s\": only a port may follow ']'",
                      IMAGE_QUOTE(domain.n, domain.p));
    }
  } else {
    end = memchr(domain.p, ':', domain.n);
    if (end != NULL) {
      host_len = (size_t)(end - domain.p);
    }
    rc = image_check_host(domain, host_len, err, errlen);
  }
  if (rc == 0 && host_len < domain.n) {
    image_span port = {domain.p + host_len + 1, domain.n - host_len - 1};

    rc = image_check_port(domain, port, err, errlen);
  }
  return rc;
}

/* Lowercase letters and digits joined by '.', '_', '__' or a run of '-'. */
static int image_check_component(image_span c, char *err, size_t errlen) {
  size_t sep = 0; /* length of the separator run ending at i */

  for (size_t i = 0; i < c.n; i++) {
    if (image_is_upper(c.p[i])) {
      return image_fail(err, errlen,
                        "path component \"%.*s%s\" has uppercase letters",
                        IMAGE_QUOTE(c.n, c.p));
    }
  }
  for (size_t i = 0; i < c.n; i++) {
    char ch = c.p[i];

    if (image_is_lower_alnum(ch)) {
      sep = 0;
      continue;
    }
    if (ch != '.' && ch != '_' && ch != '-') {
      return image_fail(err, errlen,
                        "path component \"%.*s%s\" has invalid character '%c'",
                        IMAGE_QUOTE(c.n, c.p), ch);
    }
    if (i == 0) {
      return image_fail(err, errlen,
                        "path component \"%.*s%s\" starts with a separator",
                        IMAGE_QUOTE(c.n, c.p));
    }
    sep++;
    if (sep > 1 && !(ch == '-' && c.p[i - 1] == '-') &&
        !(sep == 2 && ch == '_' && c.p[i - 1] == '_')) {
      return image_fail(err, errlen,
                        "path component \"%.*s%s\" has invalid separator "
                        "\"%.*s%s\" (use '.', '_', '__' or '-'s)",
                        IMAGE_QUOTE(c.n, c.p),
                        IMAGE_QUOTE(sep, c.p + i + 1 - sep));
    }
  }
  if (sep > 0) {
    return image_fail(err, errlen,
                      "path component \"%.*s%s\" ends with a separator",
                      IMAGE_QUOTE(c.n, c.p));
  }
  return 0;
}

static int image_check_path(image_span path, char *err, size_t errlen) {
  size_t start = 0;
  int rc = 0;

  for (size_t i = 0; i <= path.n && rc == 0; i++) {
    if (i == path.n || path.p[i] == '/') {
      image_span c = {path.p + start, i - start};

      if (c.n == 0) {
        return image_fail(err, errlen, "path \"%.*s%s\" has an empty component",
                          IMAGE_QUOTE(path.n, path.p));
      }
      rc = image_check_component(c, err, errlen);
      start = i + 1;
    }
  }
  return rc;
}

static void image_copy(char *dst, const char *prefix, image_span s) {
  size_t plen = strlen(prefix);

  memcpy(dst, prefix, plen);
  memcpy(dst + plen, s.p, s.n);
  dst[plen + s.n] = '\0';
}

/* [domain '/'] path, normalised into ref->domain and ref->path. */
static int image_parse_name(image_span name, gs_image_ref *ref, char *err,
                            size_t errlen) {
  const char *slash = memchr(name.p, '/', name.n);
  image_span domain = {IMAGE_DEFAULT_DOMAIN, strlen(IMAGE_DEFAULT_DOMAIN)};
  image_span path = name;
  const char *prefix = "";
  int rc = 0;

  if (slash != NULL) {
    image_span first = {name.p, (size_t)(slash - name.p)};

    if (image_span_has(first, '.') || image_span_has(first, ':') ||
        image_span_is(first, "localhost")) {
      rc = image_check_domain(first, err, errlen);
      domain = first;
      path.p = slash + 1;
      path.n = name.n - first.n - 1;
    }
  }
  if (rc == 0) {
    rc = image_check_path(path, err, errlen);
  }
  if (rc != 0) {
    return rc;
  }

  if (image_span_is(domain, IMAGE_LEGACY_DOMAIN)) {
    domain.p = IMAGE_DEFAULT_DOMAIN;
    domain.n = strlen(IMAGE_DEFAULT_DOMAIN);
  }
  if (image_span_is(domain, IMAGE_DEFAULT_DOMAIN) &&
      memchr(path.p, '/', path.n) == NULL) {
    prefix = IMAGE_OFFICIAL_PREFIX;
  }
  /* The limit applies to the normalised name, the one sent to the
   * registry; it also bounds both copies below. */
  if (domain.n + 1 + strlen(prefix) + path.n > GS_IMAGE_NAME_MAX) {
    return image_fail(err, errlen, "name longer than %d characters",
                      GS_IMAGE_NAME_MAX);
  }
  image_copy(ref->domain, "", domain);
  image_copy(ref->path, prefix, path);
  return 0;
}

static int image_check_tag(image_span tag, char *err, size_t errlen) {
  if (tag.n == 0) {
    return image_fail(err, errlen, "invalid tag \"\": tag is empty");
  }
  if (tag.n > GS_IMAGE_TAG_MAX) {
    return image_fail(err, errlen,
                      "invalid tag \"%.*s%s\": longer than %d characters",
                      IMAGE_QUOTE(tag.n, tag.p), GS_IMAGE_TAG_MAX);
  }
  if (!image_is_word(tag.p[0])) {
    return image_fail(err, errlen,
                      "invalid tag \"%.*s%s\": must start with a letter, digit "
                      "or '_'",
                      IMAGE_QUOTE(tag.n, tag.p));
  }
  for (size_t i = 1; i < tag.n; i++) {
    char c = tag.p[i];

    if (!image_is_word(c) && c != '.' && c != '-') {
      return image_fail(err, errlen,
                        "invalid tag \"%.*s%s\": character '%c' is not a "
                        "letter, digit, '_', '.' or '-'",
                        IMAGE_QUOTE(tag.n, tag.p), c);
    }
  }
  return 0;
}

/* [a-z0-9]+ joined by single '+', '.', '_' or '-'. */
static bool image_algorithm_ok(image_span alg) {
  bool after_sep = true;

  for (size_t i = 0; i < alg.n; i++) {
    char c = alg.p[i];

    if (image_is_lower_alnum(c)) {
      after_sep = false;
    } else if ((c == '+' || c == '.' || c == '_' || c == '-') && !after_sep) {
      after_sep = true;
    } else {
      return false;
    }
  }
  return !after_sep;
}

/* Known algorithms have a fixed length of lowercase hex. */
static int image_check_encoded(image_span digest, image_span alg,
                               image_span enc, char *err, size_t errlen) {
  size_t want = 0;

  if (image_span_is(alg, "sha256")) {
    want = 64;
  } else if (image_span_is(alg, "sha512")) {
    want = 128;
  }
  for (size_t i = 0; i < enc.n; i++) {
    char c = enc.p[i];

    if (want > 0 && !image_is_lower_hex(c)) {
      return image_fail(
          err, errlen,
          "invalid digest \"%.*s%s\": %.*s%s needs lowercase hex, "
          "not '%c'",
          IMAGE_QUOTE(digest.n, digest.p), IMAGE_QUOTE(alg.n, alg.p), c);
    }
    if (!image_is_alnum(c) && c != '=' && c != '_' && c != '-') {
      return image_fail(err, errlen,
                        "invalid digest \"%.*s%s\": character '%c' in the "
                        "encoded value",
                        IMAGE_QUOTE(digest.n, digest.p), c);
    }
  }
  if (want > 0 && enc.n != want) {
    return image_fail(err, errlen,
                      "invalid digest \"%.*s%s\": %.*s%s needs %zu hex digits, "
                      "not %zu",
                      IMAGE_QUOTE(digest.n, digest.p),
                      IMAGE_QUOTE(alg.n, alg.p), want, enc.n);
  }
  if (enc.n < IMAGE_ENCODED_MIN) {
    return image_fail(err, errlen,
                      "invalid digest \"%.*s%s\": encoded value shorter than "
                      "%d characters",
                      IMAGE_QUOTE(digest.n, digest.p), IMAGE_ENCODED_MIN);
  }
  return 0;
}

static int image_check_digest(image_span digest, char *err, size_t errlen) {
  const char *colon = memchr(digest.p, ':', digest.n);
  image_span alg = {digest.p, 0};
  image_span enc = {NULL, 0};
  int rc = 0;

  if (digest.n == 0) {
    return image_fail(err, errlen, "invalid digest \"\": digest is empty");
  }
  if (colon == NULL) {
    return image_fail(err, errlen,
                      "invalid digest \"%.*s%s\": no ':' between algorithm "
                      "and encoded value",
                      IMAGE_QUOTE(digest.n, digest.p));
  }
  alg.n = (size_t)(colon - digest.p);
  enc.p = colon + 1;
  enc.n = digest.n - alg.n - 1;
  if (!image_algorithm_ok(alg)) {
    return image_fail(err, errlen,
                      "invalid digest \"%.*s%s\": algorithm \"%.*s%s\" must be "
                      "lowercase letters and digits joined by '+', '.', '_' "
                      "or '-'",
                      IMAGE_QUOTE(digest.n, digest.p),
                      IMAGE_QUOTE(alg.n, alg.p));
  }
  rc = image_check_encoded(digest, alg, enc, err, errlen);
  if (rc == 0 && digest.n > GS_IMAGE_DIGEST_MAX) {
    rc = image_fail(err, errlen, "digest longer than %d characters",
                    GS_IMAGE_DIGEST_MAX);
  }
  return rc;
}

int gs_image_ref_parse(const char *s, size_t len, gs_image_ref *out, char *err,
                       size_t errlen) {
  image_parts parts;
  gs_image_ref ref;
  int rc = 0;

  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (s == NULL || out == NULL) {
    return image_fail(err, errlen, "no reference or no place to parse it to");
  }
  if (len == 0) {
    return image_fail(err, errlen, "reference is empty");
  }

  memset(&ref, 0, sizeof(ref));
  rc = image_check_bytes(s, len, err, errlen);
  if (rc == 0) {
    rc = image_split(s, len, &parts, err, errlen);
  }
  if (rc == 0) {
    rc = image_parse_name(parts.name, &ref, err, errlen);
  }
  if (rc == 0 && parts.has_tag) {
    rc = image_check_tag(parts.tag, err, errlen);
    if (rc == 0) {
      image_copy(ref.tag, "", parts.tag);
    }
  }
  if (rc == 0 && parts.has_digest) {
    rc = image_check_digest(parts.digest, err, errlen);
    if (rc == 0) {
      image_copy(ref.digest, "", parts.digest);
    }
  }

  if (rc == 0) {
    *out = ref;
  }
  return rc;
}

int gs_image_ref_parse_repository(const char *s, size_t len, gs_image_ref *out,
                                  char *err, size_t errlen) {
  gs_image_ref ref;
  int rc = 0;

  memset(&ref, 0, sizeof(ref));
  rc = gs_image_ref_parse(s, len, &ref, err, errlen);
  if (rc == 0 && ref.tag[0] != '\0') {
    rc = image_fail(err, errlen,
                    "repository \"%.*s%s\" must not have a tag (\":%s\")",
                    IMAGE_QUOTE(len, s), ref.tag);
  } else if (rc == 0 && ref.digest[0] != '\0') {
    rc = image_fail(err, errlen,
                    "repository \"%.*s%s\" must not have a digest (\"@%s\")",
                    IMAGE_QUOTE(len, s), ref.digest);
  }

  if (rc == 0) {
    *out = ref;
  }
  return rc;
}

int gs_image_ref_with_tag(const gs_image_ref *repo, const char *tag,
                          gs_image_ref *out, char *err, size_t errlen) {
  gs_image_ref ref;
  image_span t = {tag, 0};
  int rc = 0;

  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (repo == NULL || tag == NULL || out == NULL) {
    return image_fail(err, errlen, "no repository, tag or place to put them");
  }

  /* One more than the limit is enough to say "too long". */
  t.n = strnlen(tag, GS_IMAGE_TAG_MAX + 1);
  rc = image_check_tag(t, err, errlen);
  if (rc == 0) {
    ref = *repo;
    image_copy(ref.tag, "", t);
    ref.digest[0] = '\0';
    *out = ref;
  }
  return rc;
}

/* Bounded by the array, so an unterminated field is never overrun. */
static int image_field_len(const char *field, size_t size) {
  return (int)strnlen(field, size);
}

size_t gs_image_ref_format(const gs_image_ref *ref, char *out, size_t outlen) {
  int dn = image_field_len(ref->domain, sizeof(ref->domain));
  int pn = image_field_len(ref->path, sizeof(ref->path));
  int tn = image_field_len(ref->tag, sizeof(ref->tag));
  int gn = image_field_len(ref->digest, sizeof(ref->digest));
  int n = snprintf(out, outlen, "%.*s/%.*s%s%.*s%s%.*s", dn, ref->domain, pn,
                   ref->path, tn > 0 ? ":" : "", tn, ref->tag,
                   gn > 0 ? "@" : "", gn, ref->digest);

  return n < 0 ? 0 : (size_t)n;
}

size_t gs_image_ref_repository(const gs_image_ref *ref, char *out,
                               size_t outlen) {
  int dn = image_field_len(ref->domain, sizeof(ref->domain));
  int pn = image_field_len(ref->path, sizeof(ref->path));
  int n = snprintf(out, outlen, "%.*s/%.*s", dn, ref->domain, pn, ref->path);

  return n < 0 ? 0 : (size_t)n;
}

bool gs_image_ref_same_repository(const gs_image_ref *a,
                                  const gs_image_ref *b) {
  return strncmp(a->domain, b->domain, sizeof(a->domain)) == 0 &&
         strncmp(a->path, b->path, sizeof(a->path)) == 0;
}

const char *gs_image_ref_api_host(const gs_image_ref *ref) {
  if (strncmp(ref->domain, IMAGE_DEFAULT_DOMAIN, sizeof(ref->domain)) == 0) {
    return IMAGE_DOCKER_API_HOST;
  }
  return ref->domain;
}

bool gs_image_ref_is_tag(const char *s) {
  image_span t = {s, 0};

  if (s == NULL) {
    return false;
  }
  t.n = strnlen(s, GS_IMAGE_TAG_MAX + 1);
  return image_check_tag(t, NULL, 0) == 0;
}
