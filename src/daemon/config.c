/* The daemon config: schema table, values, defaults, copies and printing. */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "gitspace/config.h"
#include "gitspace/error.h"
#include "config_int.h"

#define CFG_KIB 1024ull
#define CFG_MIB (1024ull * CFG_KIB)
#define CFG_GIB (1024ull * CFG_MIB)
#define CFG_SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define CFG_SECOND 1000ull
#define CFG_MINUTE (60 * CFG_SECOND)
#define CFG_HOUR (60 * CFG_MINUTE)

/* The offset of `field`, which must have the C type `ctype`: a schema row
 * whose type does not match the struct does not compile. (A type name
 * cannot be parenthesised in a _Generic association.) */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define CFG_FIELD(field, ctype)                                                \
  _Generic(((gs_config *)0)->field, ctype : offsetof(gs_config, field))
/* NOLINTEND(bugprone-macro-parentheses) */

#define CFG_ROW(sec, name, kind, field, ctype)                                 \
  .section = (sec), .key = (name), .type = (kind),                             \
  .offset = CFG_FIELD(field, ctype)

const gs_config_key gs_config_schema[] = {
    {CFG_ROW("socket", "path", GS_CFG_STRING, socket.path, char *), .min = 1,
     .max = CFG_SUN_PATH_MAX, .def_str = GS_DEFAULT_SOCKET_PATH},
    {CFG_ROW("socket", "mode", GS_CFG_MODE, socket.mode, unsigned), .min = 0,
     .max = 0777, .def = 0660},
    {CFG_ROW("socket", "group", GS_CFG_STRING, socket.group, char *), .min = 1,
     .max = 255, .flags = GS_CFG_NULLABLE},
    /* gRPC's length prefix holds up to 4 GiB; 1 GiB is already absurd. */
    {CFG_ROW("limits", "max_message_bytes", GS_CFG_SIZE,
             limits.max_message_bytes, size_t),
     .min = CFG_KIB, .max = CFG_GIB, .def = 4 * CFG_MIB},
    {CFG_ROW("limits", "max_connections", GS_CFG_UINT, limits.max_connections,
             unsigned),
     .min = 1, .max = 65535, .def = 1024},
    {CFG_ROW("limits", "max_concurrent_streams", GS_CFG_UINT,
             limits.max_concurrent_streams, unsigned),
     .min = 1, .max = 65535, .def = 256},
    {CFG_ROW("limits", "max_header_list_bytes", GS_CFG_SIZE,
             limits.max_header_list_bytes, size_t),
     .min = CFG_KIB, .max = CFG_MIB, .def = 16 * CFG_KIB},
    {CFG_ROW("limits", "max_pending_bytes_per_connection", GS_CFG_SIZE,
             limits.max_pending_bytes_per_connection, size_t),
     .min = CFG_KIB, .max = 64 * CFG_GIB, .def = 16 * CFG_MIB},
    {CFG_ROW("limits", "max_pending_bytes", GS_CFG_SIZE,
             limits.max_pending_bytes, size_t),
     .min = CFG_KIB, .max = 64 * CFG_GIB, .def = 256 * CFG_MIB},
    {CFG_ROW("limits", "handshake_timeout_ms", GS_CFG_MS,
             limits.handshake_timeout_ms, unsigned),
     .min = 100, .max = 3600000, .def = 10000},
    /* Off by default: grpcio does not read an idle channel, so it learns of
     * the close only when its next call fails (see KNOWN-ISSUES.md). */
    {CFG_ROW("limits", "idle_timeout_ms", GS_CFG_MS, limits.idle_timeout_ms,
             unsigned),
     .min = 0, .max = 86400000, .def = 0},
    {CFG_ROW("limits", "drain_timeout_ms", GS_CFG_MS, limits.drain_timeout_ms,
             unsigned),
     .min = 0, .max = 3600000, .def = 10000},
    {CFG_ROW("log", "level", GS_CFG_LOG_LEVEL, log.level, gs_log_level),
     .min = GS_LOG_DEBUG, .max = GS_LOG_OFF, .def = GS_LOG_INFO},
    {CFG_ROW("log", "format", GS_CFG_LOG_FORMAT, log.format, gs_log_format),
     .min = GS_LOG_TEXT, .max = GS_LOG_JSON, .def = GS_LOG_TEXT},
    {CFG_ROW("prebuilt_images", "enabled", GS_CFG_BOOL, prebuilt.enabled, bool),
     .max = 1, .def = 1},
    {CFG_ROW("prebuilt_images", "registry", GS_CFG_STRING, prebuilt.registry,
             char *),
     .min = 1, .max = 255, .def_str = GS_DEFAULT_REGISTRY},
    {CFG_ROW("prebuilt_images", "base_image", GS_CFG_STRING,
             prebuilt.base_image, char *),
     .min = 1, .max = 1024, .def_str = GS_DEFAULT_BASE_IMAGE},
    {CFG_ROW("prebuilt_images", "verify", GS_CFG_BOOL, prebuilt.verify, bool),
     .max = 1, .def = 1},
    {CFG_ROW("prebuilt_images", "extra_repositories", GS_CFG_STRING_LIST,
             prebuilt.extra_repositories, gs_config_strings),
     .min = 1, .max = 255},
    {CFG_ROW("prebuilt_images", "fallback_on_indefinite", GS_CFG_BOOL,
             prebuilt.fallback_on_indefinite, bool),
     .max = 1, .def = 0},
    {CFG_ROW("prebuilt_images", "catalog", GS_CFG_IDE_MAP, prebuilt.catalog,
             char **),
     .min = 1, .max = 1024},
    {CFG_ROW("registry", "timeout_ms", GS_CFG_MS, registry.timeout_ms,
             unsigned),
     .min = 100, .max = 120 * CFG_SECOND, .def = 5 * CFG_SECOND},
    {CFG_ROW("registry", "auth_file", GS_CFG_STRING, registry.auth_file,
             char *),
     .min = 1, .max = PATH_MAX - 1, .flags = GS_CFG_NULLABLE},
    {CFG_ROW("registry", "ca_file", GS_CFG_STRING, registry.ca_file, char *),
     .min = 1, .max = PATH_MAX - 1, .flags = GS_CFG_NULLABLE},
    {CFG_ROW("registry", "insecure_hosts", GS_CFG_STRING_LIST,
             registry.insecure_hosts, gs_config_strings),
     .min = 1, .max = 255},
    {CFG_ROW("registry", "cache_ttl_ms", GS_CFG_MS, registry.cache_ttl_ms,
             unsigned),
     .min = 0, .max = 24 * CFG_HOUR, .def = 10 * CFG_MINUTE},
    {CFG_ROW("registry", "negative_cache_ttl_ms", GS_CFG_MS,
             registry.negative_cache_ttl_ms, unsigned),
     .min = 0, .max = CFG_HOUR, .def = 30 * CFG_SECOND},
};

const size_t gs_config_schema_len =
    sizeof(gs_config_schema) / sizeof(gs_config_schema[0]);

_Static_assert(sizeof(gs_config_schema) / sizeof(gs_config_schema[0]) <=
                   GS_CFG_MAX_ROWS,
               "raise GS_CFG_MAX_ROWS");

typedef struct {
  const char *suffix;
  unsigned long long scale;
} cfg_unit;

static const cfg_unit cfg_units_none[] = {{"", 1}, {NULL, 0}};
static const cfg_unit cfg_units_size[] = {
    {"", 1}, {"KiB", CFG_KIB}, {"MiB", CFG_MIB}, {"GiB", CFG_GIB}, {NULL, 0}};
static const cfg_unit cfg_units_ms[] = {
    {"", 1}, {"ms", 1}, {"s", 1000}, {NULL, 0}};

typedef struct {
  const char *word;
  bool value;
} cfg_bool_word;

static const cfg_bool_word cfg_bool_words[] = {
    {"true", true}, {"false", false}, {"yes", true}, {"no", false},
    {"on", true},   {"off", false},   {"1", true},   {"0", false},
};

void gs_config_msg(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;

  if (buf != NULL && len > 0) {
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
  }
}

void gs_config_list_add(char *buf, size_t len, const char *word) {
  size_t used = strlen(buf);

  if (used < len) {
    snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "", word);
  }
}

static char *cfg_strndup(const char *s, size_t len) {
  char *copy = malloc(len + 1);

  if (copy != NULL) {
    memcpy(copy, s, len);
    copy[len] = '\0';
  }
  return copy;
}

static bool cfg_ieq(const char *word, const char *s, size_t len) {
  bool eq = strlen(word) == len;

  for (size_t i = 0; eq && i < len; i++) {
    unsigned char c = (unsigned char)s[i];

    if (c >= 'A' && c <= 'Z') {
      c = (unsigned char)(c - 'A' + 'a');
    }
    eq = c == (unsigned char)word[i];
  }
  return eq;
}

/* Writes `text` for a message: printable ASCII as it is, every other byte as
 * \xNN, quotes and backslashes escaped; beyond `max` bytes it is cut with
 * "...". */
void gs_config_excerpt(const char *text, size_t len, size_t max, char *out,
                       size_t outlen) {
  size_t used = 0;
  size_t n = len < max ? len : max;

  out[0] = '\0';
  for (size_t i = 0; i < n && used + 5 < outlen; i++) {
    unsigned char c = (unsigned char)text[i];

    if (c == '"' || c == '\\') {
      used += (size_t)snprintf(out + used, outlen - used, "\\%c", c);
    } else if (c >= 0x20 && c < 0x7f) {
      out[used++] = (char)c;
      out[used] = '\0';
    } else {
      used += (size_t)snprintf(out + used, outlen - used, "\\x%02x", c);
    }
  }
  if (n < len && used + 4 <= outlen) {
    memcpy(out + used, "...", 4);
  }
}

/* Decodes one UTF-8 sequence at `s`; returns its length, or 0 when it is
 * not the shortest encoding of a Unicode scalar value. */
static size_t cfg_utf8_next(const unsigned char *s, size_t len,
                            unsigned long *cp) {
  size_t n = 0;
  unsigned long min = 0;

  if (s[0] < 0x80) {
    n = 1;
    *cp = s[0];
  } else if ((s[0] & 0xe0) == 0xc0) {
    n = 2;
    min = 0x80;
    *cp = s[0] & 0x1fu;
  } else if ((s[0] & 0xf0) == 0xe0) {
    n = 3;
    min = 0x800;
    *cp = s[0] & 0x0fu;
  } else if ((s[0] & 0xf8) == 0xf0) {
    n = 4;
    min = 0x10000;
    *cp = s[0] & 0x07u;
  }
  for (size_t i = 1; i < n; i++) {
    if (i >= len || (s[i] & 0xc0) != 0x80) {
      n = 0;
    } else {
      *cp = (*cp << 6) | (s[i] & 0x3fu);
    }
  }
  if (n > 1 &&
      (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))) {
    n = 0;
  }
  return n;
}

/* Whether the YAML printer may write `cp` as it is inside double quotes and
 * libyaml reads it back unchanged: no controls, no line separators, no
 * byte-order mark, no non-characters. */
static bool cfg_char_ok(unsigned long cp) {
  return (cp >= 0x20 && cp < 0x7f) ||
         (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
         (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) ||
         (cp >= 0x10000 && cp <= 0x10ffff);
}

static bool cfg_text_ok(const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0;
  bool ok = true;

  while (ok && i < len) {
    unsigned long cp = 0;
    size_t n = cfg_utf8_next(s + i, len - i, &cp);

    ok = n > 0 && cfg_char_ok(cp);
    i += n;
  }
  return ok;
}

/* Parses decimal digits, optional spaces, then one suffix of `units`. */
static bool cfg_parse_scaled(const char *s, size_t len, const cfg_unit *units,
                             unsigned long long *out) {
  unsigned long long v = 0;
  size_t i = 0;
  bool ok = len > 0 && s[0] >= '0' && s[0] <= '9';
  bool found = false;

  while (ok && i < len && s[i] >= '0' && s[i] <= '9') {
    unsigned d = (unsigned)(s[i] - '0');

    ok = v <= (ULLONG_MAX - d) / 10;
    v = v * 10 + d;
    i++;
  }
  while (i < len && s[i] == ' ') {
    i++;
  }
  for (const cfg_unit *u = units; ok && !found && u->suffix != NULL; u++) {
    found = strlen(u->suffix) == len - i &&
            memcmp(u->suffix, s + i, len - i) == 0 &&
            v <= ULLONG_MAX / u->scale;
    *out = v * (found ? u->scale : 1);
  }
  return ok && found;
}

/* Parses permission bits written in octal: "0660", "660" or "0o660". */
static bool cfg_parse_octal(const char *s, size_t len,
                            unsigned long long *out) {
  size_t i = len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O') ? 2 : 0;
  bool ok = i < len;

  *out = 0;
  for (; ok && i < len; i++) {
    ok = s[i] >= '0' && s[i] <= '7' && *out <= 07777;
    *out = *out * 8 + (unsigned long long)(s[i] - '0');
  }
  return ok;
}

static bool cfg_parse_bool(const char *s, size_t len, unsigned long long *out) {
  size_t n = sizeof(cfg_bool_words) / sizeof(cfg_bool_words[0]);
  bool found = false;

  for (size_t i = 0; i < n && !found; i++) {
    found = cfg_ieq(cfg_bool_words[i].word, s, len);
    *out = cfg_bool_words[i].value;
  }
  return found;
}

/* Parses a log level or format through log.h, so the names live there. */
static bool cfg_parse_log(const gs_config_key *row, const char *s, size_t len,
                          unsigned long long *out) {
  char word[16];
  bool ok = len < sizeof(word);

  if (ok) {
    gs_log_level level = GS_LOG_INFO;
    gs_log_format format = GS_LOG_TEXT;

    memcpy(word, s, len);
    word[len] = '\0';
    if (row->type == GS_CFG_LOG_LEVEL) {
      ok = gs_log_level_parse(word, &level) == 0;
      *out = (unsigned long long)level;
    } else {
      ok = gs_log_format_parse(word, &format) == 0;
      *out = (unsigned long long)format;
    }
  }
  return ok;
}

static bool cfg_parse_number(const gs_config_key *row, const char *s,
                             size_t len, unsigned long long *out) {
  bool ok = false;

  switch (row->type) {
  case GS_CFG_UINT:
    ok = cfg_parse_scaled(s, len, cfg_units_none, out);
    break;
  case GS_CFG_SIZE:
    ok = cfg_parse_scaled(s, len, cfg_units_size, out);
    break;
  case GS_CFG_MS:
    ok = cfg_parse_scaled(s, len, cfg_units_ms, out);
    break;
  case GS_CFG_MODE:
    ok = cfg_parse_octal(s, len, out);
    break;
  case GS_CFG_BOOL:
    ok = cfg_parse_bool(s, len, out);
    break;
  case GS_CFG_LOG_LEVEL:
  case GS_CFG_LOG_FORMAT:
    ok = cfg_parse_log(row, s, len, out);
    break;
  case GS_CFG_STRING:
  case GS_CFG_IDE_MAP:
  case GS_CFG_STRING_LIST:
    break;
  }
  return ok && *out >= row->min && *out <= row->max;
}

static bool cfg_is_text(const gs_config_key *row) {
  return row->type == GS_CFG_STRING || row->type == GS_CFG_IDE_MAP ||
         row->type == GS_CFG_STRING_LIST;
}

/* Whether `in` is valid for `row` (`element`: one entry of an IDE map or
 * one item of a list); numbers are parsed into `*num`. A whole list takes
 * only a null, meaning empty: its items are checked one by one. */
static bool cfg_input_ok(const gs_config_key *row, bool element,
                         const gs_config_input *in, unsigned long long *num) {
  bool scalar =
      in->shape == NULL && !in->null && memchr(in->text, '\0', in->len) == NULL;
  bool unset = in->shape == NULL && (in->null || in->len == 0) &&
               (row->flags & GS_CFG_NULLABLE) != 0;
  bool ok = unset;

  *num = 0;
  if (row->type == GS_CFG_STRING_LIST && !element) {
    ok = in->shape == NULL && in->null;
  } else if (!unset && scalar && cfg_is_text(row)) {
    ok = in->len >= row->min && in->len <= row->max &&
         cfg_text_ok(in->text, in->len);
  } else if (!unset && scalar) {
    ok = cfg_parse_number(row, in->text, in->len, num);
  }
  return ok;
}

static void cfg_size_name(unsigned long long n, char *buf, size_t len) {
  if (n >= CFG_GIB && n % CFG_GIB == 0) {
    snprintf(buf, len, "%llu GiB", n / CFG_GIB);
  } else if (n >= CFG_MIB && n % CFG_MIB == 0) {
    snprintf(buf, len, "%llu MiB", n / CFG_MIB);
  } else if (n >= CFG_KIB && n % CFG_KIB == 0) {
    snprintf(buf, len, "%llu KiB", n / CFG_KIB);
  } else {
    snprintf(buf, len, "%llu bytes", n);
  }
}

static void cfg_expect_size(const gs_config_key *row, char *buf, size_t len) {
  char lo[32];
  char hi[32];

  cfg_size_name(row->min, lo, sizeof(lo));
  cfg_size_name(row->max, hi, sizeof(hi));
  snprintf(buf, len,
           "a size from %s to %s (bytes, or a number with KiB, MiB or GiB)", lo,
           hi);
}

static void cfg_expect_log(const gs_config_key *row, char *buf, size_t len) {
  char names[128] = "";

  for (unsigned long long v = row->min; v <= row->max; v++) {
    gs_config_list_add(names, sizeof(names),
                       row->type == GS_CFG_LOG_LEVEL
                           ? gs_log_level_name((gs_log_level)v)
                           : gs_log_format_name((gs_log_format)v));
  }
  snprintf(buf, len, "one of %s", names);
}

static void cfg_expect_text(const gs_config_key *row, bool element, char *buf,
                            size_t len) {
  const char *what = element ? "an image tag or reference" : "a string";

  if ((row->flags & GS_CFG_NULLABLE) != 0) {
    snprintf(buf, len,
             "%s of up to %llu bytes without control characters, or null", what,
             row->max);
  } else {
    snprintf(buf, len, "%s of %llu to %llu bytes without control characters",
             what, row->min, row->max);
  }
}

void gs_config_expect(const gs_config_key *row, bool element, char *buf,
                      size_t len) {
  switch (row->type) {
  case GS_CFG_STRING:
    cfg_expect_text(row, false, buf, len);
    break;
  case GS_CFG_STRING_LIST:
    if (element) {
      cfg_expect_text(row, false, buf, len);
    } else {
      snprintf(buf, len,
               "a list of strings (up to %d, each of %llu to %llu bytes "
               "without control characters)",
               GS_CONFIG_LIST_MAX, row->min, row->max);
    }
    break;
  case GS_CFG_IDE_MAP:
    if (element) {
      cfg_expect_text(row, true, buf, len);
    } else {
      snprintf(buf, len, "a mapping from IDE type to image tag or reference");
    }
    break;
  case GS_CFG_UINT:
    snprintf(buf, len, "a whole number from %llu to %llu", row->min, row->max);
    break;
  case GS_CFG_SIZE:
    cfg_expect_size(row, buf, len);
    break;
  case GS_CFG_MS:
    snprintf(buf, len,
             "a duration from %llu to %llu ms (milliseconds, or a number "
             "with ms or s)",
             row->min, row->max);
    break;
  case GS_CFG_MODE:
    snprintf(buf, len, "an octal mode from %04llo to %04llo, such as \"0660\"",
             row->min, row->max);
    break;
  case GS_CFG_BOOL:
    snprintf(buf, len, "true or false (or yes/no, on/off, 1/0)");
    break;
  case GS_CFG_LOG_LEVEL:
  case GS_CFG_LOG_FORMAT:
    cfg_expect_log(row, buf, len);
    break;
  }
}

/* Writes "expected <what row accepts>, got <what came>" into `why`. */
static void cfg_why(const gs_config_key *row, bool element,
                    const gs_config_input *in, char *why, size_t whylen) {
  char expect[GS_CFG_TEXT_LEN];
  char got[GS_CFG_TEXT_LEN + 8];

  gs_config_expect(row, element, expect, sizeof(expect));
  if (in->shape != NULL) {
    snprintf(got, sizeof(got), "%s", in->shape);
  } else if (in->null) {
    snprintf(got, sizeof(got), "null");
  } else {
    char text[GS_CFG_TEXT_LEN];

    gs_config_excerpt(in->text, in->len, GS_CFG_VALUE_BYTES, text,
                      sizeof(text));
    snprintf(got, sizeof(got), "\"%s\"", text);
  }
  snprintf(why, whylen, "expected %s, got %s", expect, got);
}

static void *cfg_field(gs_config *cfg, const gs_config_key *row) {
  return (char *)cfg + row->offset;
}

static const void *cfg_field_const(const gs_config *cfg,
                                   const gs_config_key *row) {
  return (const char *)cfg + row->offset;
}

/* How many owned strings `row` holds, and where the i-th one lives. */
static size_t cfg_slot_count(const gs_config_key *row) {
  size_t n = 0;

  if (row->type == GS_CFG_STRING) {
    n = 1;
  } else if (row->type == GS_CFG_IDE_MAP) {
    n = GS_IDE_COUNT;
  }
  return n;
}

static char **cfg_slot(gs_config *cfg, const gs_config_key *row, size_t i) {
  return (char **)cfg_field(cfg, row) + i;
}

static char *const *cfg_slot_const(const gs_config *cfg,
                                   const gs_config_key *row, size_t i) {
  return (char *const *)cfg_field_const(cfg, row) + i;
}

static gs_config_strings *cfg_list(gs_config *cfg, const gs_config_key *row) {
  return cfg_field(cfg, row);
}

static const gs_config_strings *cfg_list_const(const gs_config *cfg,
                                               const gs_config_key *row) {
  return cfg_field_const(cfg, row);
}

static void cfg_list_free(gs_config_strings *list) {
  for (size_t i = 0; i < list->n; i++) {
    free(list->items[i]);
  }
  free(list->items);
  list->items = NULL;
  list->n = 0;
}

/* Appends a copy of `text`, keeping items[n] NULL. */
static int cfg_list_push(gs_config_strings *list, const char *text,
                         size_t len) {
  char *copy = cfg_strndup(text, len);
  char **items = NULL;
  int rc = 0;

  if (copy != NULL) {
    items = realloc(list->items, (list->n + 2) * sizeof(*items));
  }
  if (items == NULL) {
    rc = GS_ENOMEM;
    free(copy);
  } else {
    items[list->n] = copy;
    items[list->n + 1] = NULL;
    list->items = items;
    list->n++;
  }
  return rc;
}

/* Makes `dst` (empty) an independent copy of `src`; on error `dst` is
 * freeable. */
static int cfg_list_copy(gs_config_strings *dst, const gs_config_strings *src) {
  int rc = 0;

  for (size_t i = 0; i < src->n && rc == 0; i++) {
    rc = cfg_list_push(dst, src->items[i], strlen(src->items[i]));
  }
  return rc;
}

/* Replaces the string in `slot` by a copy of `text` (NULL clears it). */
static int cfg_store_text(char **slot, const char *text, size_t len) {
  int rc = 0;
  char *copy = NULL;

  if (text != NULL) {
    copy = cfg_strndup(text, len);
    rc = copy == NULL ? GS_ENOMEM : 0;
  }
  if (rc == 0) {
    free(*slot);
    *slot = copy;
  }
  return rc;
}

/* Stores a valid value into `cfg`: `text` for strings (element `ide` of an
 * IDE map), `num` for everything else. */
static int cfg_store(gs_config *cfg, const gs_config_key *row, size_t ide,
                     const char *text, size_t len, unsigned long long num) {
  int rc = 0;
  void *field = cfg_field(cfg, row);

  switch (row->type) {
  case GS_CFG_STRING:
  case GS_CFG_IDE_MAP:
    rc = cfg_store_text(cfg_slot(cfg, row, ide), text, len);
    break;
  case GS_CFG_STRING_LIST:
    cfg_list_free(field); /* only a null reaches here: an empty list */
    break;
  case GS_CFG_UINT:
  case GS_CFG_MS:
  case GS_CFG_MODE:
    *(unsigned *)field = (unsigned)num;
    break;
  case GS_CFG_SIZE:
    *(size_t *)field = (size_t)num;
    break;
  case GS_CFG_BOOL:
    *(bool *)field = num != 0;
    break;
  case GS_CFG_LOG_LEVEL:
    *(gs_log_level *)field = (gs_log_level)num;
    break;
  case GS_CFG_LOG_FORMAT:
    *(gs_log_format *)field = (gs_log_format)num;
    break;
  }
  return rc;
}

int gs_config_set(gs_config *cfg, const gs_config_key *row, int ide,
                  const gs_config_input *in, char *why, size_t whylen) {
  int rc = 0;
  unsigned long long num = 0;
  bool element = row->type == GS_CFG_IDE_MAP && ide >= 0;

  if ((row->type == GS_CFG_IDE_MAP && !element) ||
      !cfg_input_ok(row, element, in, &num)) {
    rc = GS_EINVAL;
  } else if (in->null || (in->len == 0 && cfg_is_text(row))) {
    rc = cfg_store(cfg, row, element ? (size_t)ide : 0, NULL, 0, 0);
  } else {
    rc = cfg_store(cfg, row, element ? (size_t)ide : 0, in->text, in->len, num);
  }
  if (rc == GS_EINVAL) {
    cfg_why(row, element, in, why, whylen);
  } else if (rc == GS_ENOMEM) {
    snprintf(why, whylen, "out of memory");
  }
  return rc;
}

void gs_config_strings_clear(gs_config *cfg, const gs_config_key *row) {
  cfg_list_free(cfg_list(cfg, row));
}

int gs_config_strings_add(gs_config *cfg, const gs_config_key *row,
                          const gs_config_input *in, char *why, size_t whylen) {
  gs_config_strings *list = cfg_list(cfg, row);
  unsigned long long num = 0;
  int rc = 0;

  if (list->n >= GS_CONFIG_LIST_MAX) {
    char expect[GS_CFG_TEXT_LEN];

    rc = GS_EINVAL;
    gs_config_expect(row, false, expect, sizeof(expect));
    snprintf(why, whylen, "expected %s, got more than %d items", expect,
             GS_CONFIG_LIST_MAX);
  } else if (!cfg_input_ok(row, true, in, &num)) {
    char item[GS_CFG_WHY_LEN];

    rc = GS_EINVAL;
    cfg_why(row, true, in, item, sizeof(item));
    snprintf(why, whylen, "item %zu: %s", list->n + 1, item);
  } else {
    rc = cfg_list_push(list, in->text, in->len);
    if (rc != 0) {
      snprintf(why, whylen, "out of memory");
    }
  }
  return rc;
}

static int cfg_set_default(gs_config *cfg, const gs_config_key *row) {
  int rc = 0;

  if (row->type == GS_CFG_IDE_MAP) {
    for (size_t i = 0; i < GS_IDE_COUNT && rc == 0; i++) {
      const char *tag = gs_ide_get((gs_ide)i)->default_tag;

      rc = cfg_store(cfg, row, i, tag, strlen(tag), 0);
    }
  } else if (row->type == GS_CFG_STRING && row->def_str != NULL) {
    rc = cfg_store(cfg, row, 0, row->def_str, strlen(row->def_str), 0);
  } else {
    rc = cfg_store(cfg, row, 0, NULL, 0, row->def);
  }
  return rc;
}

int gs_config_init(gs_config *cfg) {
  int rc = 0;

  memset(cfg, 0, sizeof(*cfg));
  for (size_t i = 0; i < gs_config_schema_len && rc == 0; i++) {
    rc = cfg_set_default(cfg, &gs_config_schema[i]);
  }
  if (rc != 0) {
    gs_config_free(cfg);
  }
  return rc;
}

void gs_config_free(gs_config *cfg) {
  for (size_t i = 0; cfg != NULL && i < gs_config_schema_len; i++) {
    const gs_config_key *row = &gs_config_schema[i];

    for (size_t j = 0; j < cfg_slot_count(row); j++) {
      char **slot = cfg_slot(cfg, row, j);

      free(*slot);
      *slot = NULL;
    }
    if (row->type == GS_CFG_STRING_LIST) {
      cfg_list_free(cfg_list(cfg, row));
    }
  }
}

/* Makes `dst` an independent copy of `src`; on error `dst` is freeable. */
static int cfg_copy(gs_config *dst, const gs_config *src) {
  int rc = 0;

  *dst = *src;
  for (size_t i = 0; i < gs_config_schema_len; i++) {
    const gs_config_key *row = &gs_config_schema[i];

    for (size_t j = 0; j < cfg_slot_count(row); j++) {
      *cfg_slot(dst, row, j) = NULL;
    }
    if (row->type == GS_CFG_STRING_LIST) {
      *cfg_list(dst, row) = (gs_config_strings){NULL, 0};
    }
  }
  for (size_t i = 0; i < gs_config_schema_len && rc == 0; i++) {
    const gs_config_key *row = &gs_config_schema[i];

    for (size_t j = 0; j < cfg_slot_count(row) && rc == 0; j++) {
      const char *s = *cfg_slot_const(src, row, j);

      rc = cfg_store_text(cfg_slot(dst, row, j), s, s != NULL ? strlen(s) : 0);
    }
    if (rc == 0 && row->type == GS_CFG_STRING_LIST) {
      rc = cfg_list_copy(cfg_list(dst, row), cfg_list_const(src, row));
    }
  }
  return rc;
}

int gs_config_transact(gs_config *cfg, gs_config_apply_fn apply,
                       const void *arg, char *err, size_t errlen) {
  gs_config work;
  int rc = cfg_copy(&work, cfg);

  gs_config_msg(err, errlen, "%s", "");
  if (rc != 0) {
    gs_config_msg(err, errlen, "out of memory");
  } else {
    rc = apply(&work, arg, err, errlen);
  }
  if (rc == 0) {
    gs_config_free(cfg);
    *cfg = work;
  } else {
    gs_config_free(&work);
  }
  return rc;
}

static void cfg_print_quoted(const char *s, FILE *out) {
  fputc('"', out);
  for (; *s != '\0'; s++) {
    if (*s == '"' || *s == '\\') {
      fputc('\\', out);
    }
    fputc(*s, out);
  }
  fputc('"', out);
}

static void cfg_print_text(const gs_config_key *row, const char *s, FILE *out) {
  if (s == NULL) {
    fputs("null", out);
  } else if ((row->flags & GS_CFG_SECRET) != 0) {
    fputs("\"<redacted>\"", out);
  } else {
    cfg_print_quoted(s, out);
  }
}

static void cfg_print_number(const gs_config *cfg, const gs_config_key *row,
                             FILE *out) {
  const void *field = cfg_field_const(cfg, row);

  switch (row->type) {
  case GS_CFG_UINT:
  case GS_CFG_MS:
    fprintf(out, "%u", *(const unsigned *)field);
    break;
  case GS_CFG_MODE:
    fprintf(out, "\"%04o\"", *(const unsigned *)field);
    break;
  case GS_CFG_SIZE:
    fprintf(out, "%zu", *(const size_t *)field);
    break;
  case GS_CFG_BOOL:
    fputs(*(const bool *)field ? "true" : "false", out);
    break;
  case GS_CFG_LOG_LEVEL:
    fputs(gs_log_level_name(*(const gs_log_level *)field), out);
    break;
  case GS_CFG_LOG_FORMAT:
    fputs(gs_log_format_name(*(const gs_log_format *)field), out);
    break;
  case GS_CFG_STRING:
  case GS_CFG_IDE_MAP:
  case GS_CFG_STRING_LIST:
    break;
  }
}

/* A flow sequence, ["a", "b"], or [] when empty; a secret list that is not
 * empty is masked whole. */
static void cfg_print_list(const gs_config *cfg, const gs_config_key *row,
                           FILE *out) {
  const gs_config_strings *list = cfg_list_const(cfg, row);

  if (list->n > 0 && (row->flags & GS_CFG_SECRET) != 0) {
    fputs("\"<redacted>\"", out);
  } else {
    fputc('[', out);
    for (size_t i = 0; i < list->n; i++) {
      fputs(i > 0 ? ", " : "", out);
      cfg_print_quoted(list->items[i], out);
    }
    fputc(']', out);
  }
}

static void cfg_print_row(const gs_config *cfg, const gs_config_key *row,
                          FILE *out) {
  if (row->type == GS_CFG_IDE_MAP) {
    fprintf(out, "  %s:\n", row->key);
    for (int i = 0; i < GS_IDE_COUNT; i++) {
      fprintf(out, "    %s: ", gs_ide_get((gs_ide)i)->name);
      cfg_print_text(row, *cfg_slot_const(cfg, row, (size_t)i), out);
      fputc('\n', out);
    }
  } else {
    fprintf(out, "  %s: ", row->key);
    if (row->type == GS_CFG_STRING) {
      cfg_print_text(row, *cfg_slot_const(cfg, row, 0), out);
    } else if (row->type == GS_CFG_STRING_LIST) {
      cfg_print_list(cfg, row, out);
    } else if ((row->flags & GS_CFG_SECRET) != 0) {
      fputs("\"<redacted>\"", out);
    } else {
      cfg_print_number(cfg, row, out);
    }
    fputc('\n', out);
  }
}

void gs_config_print_schema(const gs_config *cfg, const gs_config_key *schema,
                            size_t n, FILE *out) {
  fputs("# gitspace-orchestratord effective configuration\n", out);
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || strcmp(schema[i].section, schema[i - 1].section) != 0) {
      fprintf(out, "%s:\n", schema[i].section);
    }
    cfg_print_row(cfg, &schema[i], out);
  }
}

void gs_config_print(const gs_config *cfg, FILE *out) {
  gs_config_print_schema(cfg, gs_config_schema, gs_config_schema_len, out);
}
