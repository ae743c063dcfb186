/* The daemon config: defaults, a YAML file and environment overrides, all
 * driven by one schema table. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <yaml.h>

#include "gitspace/config.h"
#include "gitspace/error.h"
#include "config_schema.h"

#define CFG_ENV_PREFIX "GITSPACE_ORCHESTRATOR_"
#define CFG_MAX_ROWS 32
#define CFG_MAX_FILE_BYTES ((size_t)1024 * 1024)
#define CFG_VALUE_BYTES 48 /* of a value quoted in a message */
#define CFG_NAME_BYTES 80  /* of a key or variable name in a message */
#define CFG_TEXT_LEN 512
#define CFG_WHY_LEN 1280
#define CFG_KIB 1024ull
#define CFG_MIB (1024ull * CFG_KIB)
#define CFG_GIB (1024ull * CFG_MIB)
#define CFG_SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

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
     .max = 1, .def = 0},
    {CFG_ROW("prebuilt_images", "catalog", GS_CFG_IDE_MAP, prebuilt.catalog,
             char **),
     .min = 1, .max = 1024},
};

const size_t gs_config_schema_len =
    sizeof(gs_config_schema) / sizeof(gs_config_schema[0]);

_Static_assert(sizeof(gs_config_schema) / sizeof(gs_config_schema[0]) <=
                   CFG_MAX_ROWS,
               "raise CFG_MAX_ROWS");

/* The variables of the original plan, kept with their meaning. They are
 * applied before the GITSPACE_ORCHESTRATOR_* variables, which win. */
typedef struct {
  const char *var;
  const char *section;
  const char *key;
  unsigned ides;  /* IDE map targets, a bit per gs_ide */
  bool jetbrains; /* also every IDE of the JetBrains family */
} cfg_alias;

#define CFG_IDE_BIT(ide) (1u << (ide))

static const cfg_alias cfg_aliases[] = {
    {"GITSPACE_PREBUILT_IMAGES_ENABLED", "prebuilt_images", "enabled", 0,
     false},
    {"GITSPACE_PREBUILT_IMAGES_REGISTRY", "prebuilt_images", "registry", 0,
     false},
    {"GITSPACE_PREBUILT_IMAGE_VSCODE", "prebuilt_images", "catalog",
     CFG_IDE_BIT(GS_IDE_VS_CODE) | CFG_IDE_BIT(GS_IDE_VS_CODE_WEB), false},
    {"GITSPACE_PREBUILT_IMAGE_CURSOR", "prebuilt_images", "catalog",
     CFG_IDE_BIT(GS_IDE_CURSOR), false},
    {"GITSPACE_PREBUILT_IMAGE_WINDSURF", "prebuilt_images", "catalog",
     CFG_IDE_BIT(GS_IDE_WINDSURF), false},
    {"GITSPACE_PREBUILT_IMAGE_JETBRAINS", "prebuilt_images", "catalog", 0,
     true},
};

/* One value to set: a scalar's text, or the shape of what came instead. */
typedef struct {
  const char *text;
  size_t len;
  bool null;         /* a YAML null (~, null, or nothing) */
  const char *shape; /* NULL for a scalar, else "a mapping", "a sequence" */
} cfg_input;

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

static void cfg_msg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cfg_msg(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;

  if (buf != NULL && len > 0) {
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
  }
}

/* Appends `word` to the comma-separated list in `buf`. */
static void cfg_list_add(char *buf, size_t len, const char *word) {
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
static void cfg_excerpt(const char *text, size_t len, size_t max, char *out,
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
    break;
  }
  return ok && *out >= row->min && *out <= row->max;
}

static bool cfg_is_text(const gs_config_key *row) {
  return row->type == GS_CFG_STRING || row->type == GS_CFG_IDE_MAP;
}

/* Whether `in` is valid for `row`; numbers are parsed into `*num`. */
static bool cfg_input_ok(const gs_config_key *row, const cfg_input *in,
                         unsigned long long *num) {
  bool scalar =
      in->shape == NULL && !in->null && memchr(in->text, '\0', in->len) == NULL;
  bool unset = in->shape == NULL && (in->null || in->len == 0) &&
               (row->flags & GS_CFG_NULLABLE) != 0;
  bool ok = unset;

  *num = 0;
  if (!unset && scalar && cfg_is_text(row)) {
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
    cfg_list_add(names, sizeof(names),
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

/* Describes what `row` accepts; `element` for one entry of an IDE map. */
static void cfg_expect(const gs_config_key *row, bool element, char *buf,
                       size_t len) {
  switch (row->type) {
  case GS_CFG_STRING:
    cfg_expect_text(row, false, buf, len);
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
static void cfg_why(const gs_config_key *row, bool element, const cfg_input *in,
                    char *why, size_t whylen) {
  char expect[CFG_TEXT_LEN];
  char got[CFG_TEXT_LEN + 8];

  cfg_expect(row, element, expect, sizeof(expect));
  if (in->shape != NULL) {
    snprintf(got, sizeof(got), "%s", in->shape);
  } else if (in->null) {
    snprintf(got, sizeof(got), "null");
  } else {
    char text[CFG_TEXT_LEN];

    cfg_excerpt(in->text, in->len, CFG_VALUE_BYTES, text, sizeof(text));
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

/* Validates `in` for `row` (element `ide` of an IDE map, or -1) and stores
 * it. Returns 0, GS_ENOMEM, or GS_EINVAL with the reason in `why`. */
static int cfg_set(gs_config *cfg, const gs_config_key *row, int ide,
                   const cfg_input *in, char *why, size_t whylen) {
  int rc = 0;
  unsigned long long num = 0;
  bool element = row->type == GS_CFG_IDE_MAP && ide >= 0;

  if ((row->type == GS_CFG_IDE_MAP && !element) ||
      !cfg_input_ok(row, in, &num)) {
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
  }
  for (size_t i = 0; i < gs_config_schema_len && rc == 0; i++) {
    const gs_config_key *row = &gs_config_schema[i];

    for (size_t j = 0; j < cfg_slot_count(row) && rc == 0; j++) {
      const char *s = *cfg_slot_const(src, row, j);

      rc = cfg_store_text(cfg_slot(dst, row, j), s, s != NULL ? strlen(s) : 0);
    }
  }
  return rc;
}

typedef int (*cfg_apply_fn)(gs_config *work, const void *arg, char *err,
                            size_t errlen);

/* Runs `apply` on a copy of `cfg` and keeps the copy only on success, so a
 * failed load or env pass leaves `cfg` as it was. */
static int cfg_transact(gs_config *cfg, cfg_apply_fn apply, const void *arg,
                        char *err, size_t errlen) {
  gs_config work;
  int rc = cfg_copy(&work, cfg);

  cfg_msg(err, errlen, "%s", "");
  if (rc != 0) {
    cfg_msg(err, errlen, "out of memory");
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

typedef struct {
  yaml_parser_t parser;
  const char *name;
  const char *buf;
  size_t len;
  gs_config *cfg;
  char *err;
  size_t errlen;
  /* Where each key was first set (line + 1; 0 for not yet), to name both
   * places of a duplicate. Sections are counted at their first row. */
  size_t section_line[CFG_MAX_ROWS];
  size_t key_line[CFG_MAX_ROWS];
  size_t ide_line[GS_IDE_COUNT];
} cfg_reader;

typedef struct {
  const char *name;
  const char *yaml;
  size_t len;
} cfg_source;

typedef int (*cfg_key_fn)(cfg_reader *r, const yaml_event_t *key,
                          const char *path, size_t ctx);

static int cfg_fail(cfg_reader *r, size_t line, const char *path,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Formats "<file>:<line>: <key>: <reason>"; returns GS_EINVAL. */
static int cfg_fail(cfg_reader *r, size_t line, const char *path,
                    const char *fmt, ...) {
  char why[CFG_WHY_LEN];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  if (path[0] != '\0') {
    cfg_msg(r->err, r->errlen, "%s:%zu: %s: %s", r->name, line, path, why);
  } else {
    cfg_msg(r->err, r->errlen, "%s:%zu: %s", r->name, line, why);
  }
  return GS_EINVAL;
}

static size_t cfg_line(const yaml_event_t *ev) {
  return ev->start_mark.line + 1;
}

static int cfg_syntax_error(cfg_reader *r) {
  const yaml_parser_t *p = &r->parser;
  int rc = GS_EINVAL;
  size_t line = p->problem_mark.line + 1;
  const char *problem = p->problem != NULL ? p->problem : "unknown error";

  if (p->error == YAML_MEMORY_ERROR) {
    rc = GS_ENOMEM;
    cfg_msg(r->err, r->errlen, "%s: out of memory", r->name);
  } else if (p->error == YAML_READER_ERROR) {
    size_t end = p->problem_offset < r->len ? p->problem_offset : r->len;

    line = 1;
    for (size_t i = 0; i < end; i++) {
      line += r->buf[i] == '\n';
    }
    cfg_fail(r, line, "", "cannot read YAML: %s", problem);
  } else if (p->context != NULL) {
    cfg_fail(r, line, "", "YAML syntax error: %s (%s)", problem, p->context);
  } else {
    cfg_fail(r, line, "", "YAML syntax error: %s", problem);
  }
  return rc;
}

static const yaml_char_t *cfg_event_tag(const yaml_event_t *ev) {
  const yaml_char_t *tag = NULL;

  if (ev->type == YAML_SCALAR_EVENT) {
    tag = ev->data.scalar.tag;
  } else if (ev->type == YAML_MAPPING_START_EVENT) {
    tag = ev->data.mapping_start.tag;
  } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
    tag = ev->data.sequence_start.tag;
  }
  return tag;
}

/* Core-schema tags (!!str, !!int, ...) and "!" are harmless; the value is
 * read by the schema anyway. Application tags mean something we would
 * ignore, so they are refused. */
static bool cfg_tag_ok(const yaml_char_t *tag) {
  static const char core[] = "tag:yaml.org,2002:";
  const char *t = (const char *)tag;

  return t == NULL || strcmp(t, "!") == 0 ||
         strncmp(t, core, sizeof(core) - 1) == 0;
}

/* Reads the next event into `ev`, refusing aliases and unknown tags. The
 * event is always safe to delete, also on error. */
static int cfg_next(cfg_reader *r, const char *path, yaml_event_t *ev) {
  int rc = 0;
  char text[CFG_TEXT_LEN];

  if (!yaml_parser_parse(&r->parser, ev)) {
    memset(ev, 0, sizeof(*ev));
    rc = cfg_syntax_error(r);
  } else if (ev->type == YAML_ALIAS_EVENT) {
    const char *anchor = (const char *)ev->data.alias.anchor;

    cfg_excerpt(anchor, strlen(anchor), CFG_NAME_BYTES, text, sizeof(text));
    rc = cfg_fail(r, cfg_line(ev), path,
                  "YAML aliases (*%s) are not supported; write the value out",
                  text);
  } else if (!cfg_tag_ok(cfg_event_tag(ev))) {
    const char *tag = (const char *)cfg_event_tag(ev);

    cfg_excerpt(tag, strlen(tag), CFG_NAME_BYTES, text, sizeof(text));
    rc = cfg_fail(r, cfg_line(ev), path, "unsupported YAML tag \"%s\"", text);
  }
  return rc;
}

static bool cfg_event_null(const yaml_event_t *ev) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;

  return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.tag == NULL &&
         ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
          strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

static cfg_input cfg_event_input(const yaml_event_t *ev) {
  cfg_input in = {"", 0, false, NULL};

  if (ev->type == YAML_SCALAR_EVENT) {
    in.text = (const char *)ev->data.scalar.value;
    in.len = ev->data.scalar.length;
    in.null = cfg_event_null(ev);
  } else if (ev->type == YAML_MAPPING_START_EVENT) {
    in.shape = "a mapping";
  } else {
    in.shape = "a sequence";
  }
  return in;
}

/* Writes the dotted path of `key` under `parent` (a known key, short). */
static void cfg_path(char *buf, size_t len, const char *parent,
                     const yaml_event_t *key) {
  int n = snprintf(buf, len, "%s%s", parent, parent[0] != '\0' ? "." : "");

  if (n >= 0 && (size_t)n < len) {
    cfg_excerpt((const char *)key->data.scalar.value, key->data.scalar.length,
                CFG_NAME_BYTES, buf + n, len - (size_t)n);
  }
}

static bool cfg_key_is(const yaml_event_t *key, const char *word) {
  return strlen(word) == key->data.scalar.length &&
         memcmp(word, key->data.scalar.value, key->data.scalar.length) == 0;
}

/* Reads key/value pairs up to the end of the mapping, handing each scalar
 * key to `fn`, which reads the value. */
static int cfg_read_pairs(cfg_reader *r, const char *path, cfg_key_fn fn,
                          size_t ctx) {
  int rc = 0;
  bool done = false;

  while (rc == 0 && !done) {
    yaml_event_t key;

    rc = cfg_next(r, path, &key);
    if (rc != 0 || key.type == YAML_MAPPING_END_EVENT) {
      done = true;
    } else if (key.type != YAML_SCALAR_EVENT) {
      rc = cfg_fail(r, cfg_line(&key), path, "expected a plain key, got %s",
                    cfg_event_input(&key).shape);
    } else {
      char child[CFG_TEXT_LEN];

      cfg_path(child, sizeof(child), path, &key);
      rc = fn(r, &key, child, ctx);
    }
    yaml_event_delete(&key);
  }
  return rc;
}

/* Reads a value that must be a mapping (or null, meaning empty). */
static int cfg_read_mapping(cfg_reader *r, const char *path, const char *what,
                            cfg_key_fn fn, size_t ctx) {
  yaml_event_t ev;
  int rc = cfg_next(r, path, &ev);

  if (rc == 0 && ev.type == YAML_MAPPING_START_EVENT) {
    rc = cfg_read_pairs(r, path, fn, ctx);
  } else if (rc == 0 && !cfg_event_null(&ev)) {
    cfg_input in = cfg_event_input(&ev);
    char got[CFG_TEXT_LEN] = "";

    if (in.shape == NULL) {
      cfg_excerpt(in.text, in.len, CFG_VALUE_BYTES, got, sizeof(got));
    }
    rc = cfg_fail(r, cfg_line(&ev), path, "expected %s, got %s%s%s", what,
                  in.shape != NULL ? in.shape : "\"", got,
                  in.shape != NULL ? "" : "\"");
  }
  yaml_event_delete(&ev);
  return rc;
}

static int cfg_read_scalar(cfg_reader *r, const char *path, size_t row,
                           int ide) {
  yaml_event_t ev;
  int rc = cfg_next(r, path, &ev);

  if (rc == 0) {
    cfg_input in = cfg_event_input(&ev);
    char why[CFG_WHY_LEN];

    rc = cfg_set(r->cfg, &gs_config_schema[row], ide, &in, why, sizeof(why));
    if (rc == GS_EINVAL) {
      rc = cfg_fail(r, cfg_line(&ev), path, "%s", why);
    } else if (rc != 0) {
      cfg_msg(r->err, r->errlen, "%s: %s", r->name, why);
    }
  }
  yaml_event_delete(&ev);
  return rc;
}

/* Checks that a key was not given before in the same mapping. */
static int cfg_first_time(cfg_reader *r, size_t *seen, const yaml_event_t *key,
                          const char *path) {
  int rc = 0;

  if (*seen != 0) {
    rc = cfg_fail(r, cfg_line(key), path, "duplicate key (first on line %zu)",
                  *seen);
  } else {
    *seen = cfg_line(key);
  }
  return rc;
}

static int cfg_catalog_key(cfg_reader *r, const yaml_event_t *key,
                           const char *path, size_t row) {
  gs_ide ide = GS_IDE_VS_CODE_WEB;
  int rc = gs_ide_parse((const char *)key->data.scalar.value,
                        key->data.scalar.length, &ide);

  if (rc != 0) {
    char known[CFG_TEXT_LEN] = "";

    for (int i = 0; i < GS_IDE_COUNT; i++) {
      cfg_list_add(known, sizeof(known), gs_ide_get((gs_ide)i)->name);
    }
    rc = cfg_fail(r, cfg_line(key), path,
                  "unknown IDE type; expected one of %s", known);
  } else {
    rc = cfg_first_time(r, &r->ide_line[ide], key, path);
  }
  if (rc == 0) {
    rc = cfg_read_scalar(r, path, row, (int)ide);
  }
  return rc;
}

static int cfg_section_key(cfg_reader *r, const yaml_event_t *key,
                           const char *path, size_t first) {
  const char *section = gs_config_schema[first].section;
  size_t row = first;
  int rc = 0;

  while (row < gs_config_schema_len &&
         strcmp(gs_config_schema[row].section, section) == 0 &&
         !cfg_key_is(key, gs_config_schema[row].key)) {
    row++;
  }
  if (row == gs_config_schema_len ||
      strcmp(gs_config_schema[row].section, section) != 0) {
    char known[CFG_TEXT_LEN] = "";

    for (size_t i = first; i < row; i++) {
      cfg_list_add(known, sizeof(known), gs_config_schema[i].key);
    }
    rc = cfg_fail(r, cfg_line(key), path, "unknown key; expected one of %s",
                  known);
  } else {
    rc = cfg_first_time(r, &r->key_line[row], key, path);
  }
  if (rc == 0 && gs_config_schema[row].type == GS_CFG_IDE_MAP) {
    char what[CFG_TEXT_LEN];

    cfg_expect(&gs_config_schema[row], false, what, sizeof(what));
    rc = cfg_read_mapping(r, path, what, cfg_catalog_key, row);
  } else if (rc == 0) {
    rc = cfg_read_scalar(r, path, row, -1);
  }
  return rc;
}

static int cfg_root_key(cfg_reader *r, const yaml_event_t *key,
                        const char *path, size_t unused) {
  size_t first = 0;
  int rc = 0;
  char known[CFG_TEXT_LEN] = "";

  (void)unused;
  while (first < gs_config_schema_len &&
         !cfg_key_is(key, gs_config_schema[first].section)) {
    if (first == 0 || strcmp(gs_config_schema[first].section,
                             gs_config_schema[first - 1].section) != 0) {
      cfg_list_add(known, sizeof(known), gs_config_schema[first].section);
    }
    first++;
  }
  if (first == gs_config_schema_len) {
    rc = cfg_fail(r, cfg_line(key), path, "unknown section; expected one of %s",
                  known);
  } else {
    rc = cfg_first_time(r, &r->section_line[first], key, path);
  }
  if (rc == 0) {
    rc = cfg_read_mapping(r, path, "a mapping of settings", cfg_section_key,
                          first);
  }
  return rc;
}

/* Reads one document: a mapping of sections, or nothing at all. */
static int cfg_read_document(cfg_reader *r) {
  yaml_event_t ev;
  int rc = cfg_next(r, "", &ev);

  if (rc == 0 && ev.type == YAML_MAPPING_START_EVENT) {
    rc = cfg_read_pairs(r, "", cfg_root_key, 0);
  } else if (rc == 0 && !cfg_event_null(&ev)) {
    rc = cfg_fail(r, cfg_line(&ev), "",
                  "expected a mapping of sections at the top level, got %s",
                  ev.type == YAML_SCALAR_EVENT ? "a scalar"
                                               : cfg_event_input(&ev).shape);
  }
  yaml_event_delete(&ev);
  if (rc == 0) {
    rc = cfg_next(r, "", &ev); /* the document end */
    yaml_event_delete(&ev);
  }
  return rc;
}

static int cfg_read_stream(cfg_reader *r) {
  yaml_event_t ev;
  int rc = cfg_next(r, "", &ev); /* the stream start */

  yaml_event_delete(&ev);
  if (rc == 0) {
    rc = cfg_next(r, "", &ev);
  }
  if (rc == 0 && ev.type == YAML_DOCUMENT_START_EVENT) {
    yaml_event_delete(&ev);
    rc = cfg_read_document(r);
    if (rc == 0) {
      rc = cfg_next(r, "", &ev);
    }
    if (rc == 0 && ev.type != YAML_STREAM_END_EVENT) {
      rc = cfg_fail(r, cfg_line(&ev), "",
                    "only one YAML document is allowed in a config file");
    }
  }
  yaml_event_delete(&ev);
  return rc;
}

static int cfg_read(gs_config *work, const void *arg, char *err,
                    size_t errlen) {
  const cfg_source *src = arg;
  cfg_reader *r = calloc(1, sizeof(*r));
  int rc = r == NULL ? GS_ENOMEM : 0;

  if (rc == 0 && !yaml_parser_initialize(&r->parser)) {
    rc = GS_ENOMEM;
  } else if (rc == 0) {
    r->name = src->name;
    r->buf = src->yaml;
    r->len = src->len;
    r->cfg = work;
    r->err = err;
    r->errlen = errlen;
    yaml_parser_set_input_string(&r->parser, (const unsigned char *)src->yaml,
                                 src->len);
    rc = cfg_read_stream(r);
    yaml_parser_delete(&r->parser);
  }
  if (rc == GS_ENOMEM) {
    cfg_msg(err, errlen, "%s: out of memory", src->name);
  }
  free(r);
  return rc;
}

int gs_config_load_string(gs_config *cfg, const char *name, const char *yaml,
                          size_t len, char *err, size_t errlen) {
  cfg_source src = {name != NULL ? name : "<string>", yaml != NULL ? yaml : "",
                    yaml != NULL ? len : 0};

  return cfg_transact(cfg, cfg_read, &src, err, errlen);
}

static int cfg_errno_code(int e) {
  int rc = GS_EIO;

  if (e == ENOENT || e == ENOTDIR) {
    rc = GS_ENOENT;
  } else if (e == EACCES || e == EPERM) {
    rc = GS_EPERM;
  } else if (e == ENOMEM) {
    rc = GS_ENOMEM;
  }
  return rc;
}

/* Reads all of `f` into a new buffer, refusing files over the size cap. */
static int cfg_slurp(FILE *f, const char *path, char **out, size_t *len,
                     char *err, size_t errlen) {
  char *buf = malloc(CFG_MAX_FILE_BYTES + 1);
  int rc = buf == NULL ? GS_ENOMEM : 0;

  *len = 0;
  if (rc == 0) {
    *len = fread(buf, 1, CFG_MAX_FILE_BYTES + 1, f);
    if (ferror(f)) {
      rc = cfg_errno_code(errno);
      cfg_msg(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    } else if (*len > CFG_MAX_FILE_BYTES) {
      rc = GS_EINVAL;
      cfg_msg(err, errlen, "%s: larger than %zu bytes; is this a config file?",
              path, CFG_MAX_FILE_BYTES);
    }
  } else {
    cfg_msg(err, errlen, "%s: out of memory", path);
  }
  if (rc != 0) {
    free(buf);
    buf = NULL;
  }
  *out = buf;
  return rc;
}

int gs_config_load_file(gs_config *cfg, const char *path, char *err,
                        size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0;
  int rc = 0;

  if (f == NULL) {
    rc = cfg_errno_code(errno);
    cfg_msg(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  } else {
    rc = cfg_slurp(f, path, &buf, &len, err, errlen);
    fclose(f);
  }
  if (rc == 0) {
    rc = gs_config_load_string(cfg, path, buf, len, err, errlen);
  }
  free(buf);
  return rc;
}

/* Writes GITSPACE_ORCHESTRATOR_<SECTION>_<KEY>[_<IDE>] for `row`. */
static void cfg_env_name(const gs_config_key *row, int ide, char *buf,
                         size_t len) {
  size_t n = (size_t)snprintf(buf, len, "%s%s_%s%s%s", CFG_ENV_PREFIX,
                              row->section, row->key, ide >= 0 ? "_" : "",
                              ide >= 0 ? gs_ide_get((gs_ide)ide)->name : "");

  for (size_t i = 0; i < n && i < len; i++) {
    if (buf[i] >= 'a' && buf[i] <= 'z') {
      buf[i] = (char)(buf[i] - 'a' + 'A');
    }
  }
}

static bool cfg_env_is(const char *var, size_t n, const gs_config_key *row,
                       int ide) {
  char name[CFG_TEXT_LEN];

  cfg_env_name(row, ide, name, sizeof(name));
  return strlen(name) == n && memcmp(name, var, n) == 0;
}

/* Finds the row (and IDE, or -1) a generic variable names. */
static bool cfg_env_find(const char *var, size_t n, size_t *row, int *ide) {
  bool found = false;

  for (size_t i = 0; i < gs_config_schema_len && !found; i++) {
    const gs_config_key *r = &gs_config_schema[i];

    *row = i;
    *ide = -1;
    if (r->type != GS_CFG_IDE_MAP) {
      found = cfg_env_is(var, n, r, -1);
    }
    for (int j = 0; r->type == GS_CFG_IDE_MAP && !found && j < GS_IDE_COUNT;
         j++) {
      *ide = j;
      found = cfg_env_is(var, n, r, j);
    }
  }
  return found;
}

static size_t cfg_row_find(const char *section, const char *key) {
  size_t i = 0;

  while (i < gs_config_schema_len &&
         (strcmp(gs_config_schema[i].section, section) != 0 ||
          strcmp(gs_config_schema[i].key, key) != 0)) {
    i++;
  }
  return i;
}

static int cfg_env_set(gs_config *work, const char *var, size_t n, size_t row,
                       int ide, char *err, size_t errlen) {
  const char *value = var + n + 1;
  cfg_input in = {value, strlen(value), false, NULL};
  char why[CFG_WHY_LEN];
  char name[CFG_TEXT_LEN];
  int rc = cfg_set(work, &gs_config_schema[row], ide, &in, why, sizeof(why));

  if (rc != 0) {
    cfg_excerpt(var, n, CFG_NAME_BYTES, name, sizeof(name));
    cfg_msg(err, errlen, "%s: %s", name, why);
  }
  return rc;
}

static bool cfg_alias_targets(const cfg_alias *a, int ide) {
  return (a->ides & CFG_IDE_BIT(ide)) != 0 ||
         (a->jetbrains &&
          gs_ide_get((gs_ide)ide)->family == GS_IDE_FAMILY_JETBRAINS);
}

static int cfg_env_alias(gs_config *work, const cfg_alias *a, const char *var,
                         size_t n, char *err, size_t errlen) {
  size_t row = cfg_row_find(a->section, a->key);
  int rc = 0;

  if (gs_config_schema[row].type != GS_CFG_IDE_MAP) {
    rc = cfg_env_set(work, var, n, row, -1, err, errlen);
  }
  for (int i = 0; gs_config_schema[row].type == GS_CFG_IDE_MAP &&
                  i < GS_IDE_COUNT && rc == 0;
       i++) {
    if (cfg_alias_targets(a, i)) {
      rc = cfg_env_set(work, var, n, row, i, err, errlen);
    }
  }
  return rc;
}

/* The plan's variables: the first pass, so generic variables win. */
static int cfg_env_plan(gs_config *work, char *const *envp, char *err,
                        size_t errlen) {
  size_t n_alias = sizeof(cfg_aliases) / sizeof(cfg_aliases[0]);
  int rc = 0;

  for (size_t i = 0; envp[i] != NULL && rc == 0; i++) {
    const char *eq = strchr(envp[i], '=');
    size_t n = eq != NULL ? (size_t)(eq - envp[i]) : 0;

    for (size_t j = 0; eq != NULL && j < n_alias && rc == 0; j++) {
      if (strlen(cfg_aliases[j].var) == n &&
          memcmp(cfg_aliases[j].var, envp[i], n) == 0) {
        rc = cfg_env_alias(work, &cfg_aliases[j], envp[i], n, err, errlen);
      }
    }
  }
  return rc;
}

static int cfg_env_generic(gs_config *work, char *const *envp, char *err,
                           size_t errlen) {
  size_t prefix = strlen(CFG_ENV_PREFIX);
  int rc = 0;

  for (size_t i = 0; envp[i] != NULL && rc == 0; i++) {
    const char *eq = strchr(envp[i], '=');
    size_t n = eq != NULL ? (size_t)(eq - envp[i]) : 0;
    size_t row = 0;
    int ide = -1;

    if (n < prefix || strncmp(envp[i], CFG_ENV_PREFIX, prefix) != 0) {
      continue;
    }
    if (cfg_env_find(envp[i], n, &row, &ide)) {
      rc = cfg_env_set(work, envp[i], n, row, ide, err, errlen);
    } else {
      char name[CFG_TEXT_LEN];

      cfg_excerpt(envp[i], n, CFG_NAME_BYTES, name, sizeof(name));
      rc = GS_EINVAL;
      cfg_msg(err, errlen,
              "%s: unknown variable; the names are " CFG_ENV_PREFIX
              "<SECTION>_<KEY> for the keys of the config file, such as "
              "GITSPACE_ORCHESTRATOR_LOG_LEVEL",
              name);
    }
  }
  return rc;
}

static int cfg_env(gs_config *work, const void *arg, char *err, size_t errlen) {
  char *const *envp = arg;
  int rc = cfg_env_plan(work, envp, err, errlen);

  if (rc == 0) {
    rc = cfg_env_generic(work, envp, err, errlen);
  }
  return rc;
}

int gs_config_apply_env(gs_config *cfg, char *const *envp, char *err,
                        size_t errlen) {
  static char *const none[] = {NULL};

  return cfg_transact(cfg, cfg_env, envp != NULL ? envp : none, err, errlen);
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
    break;
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
