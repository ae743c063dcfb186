/* The config file reader: YAML from a file or a buffer, through libyaml. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "gitspace/config.h"
#include "gitspace/error.h"
#include "config_int.h"

#define CFG_MAX_FILE_BYTES ((size_t)1024 * 1024)

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
  size_t section_line[GS_CFG_MAX_ROWS];
  size_t key_line[GS_CFG_MAX_ROWS];
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
  char why[GS_CFG_WHY_LEN];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  if (path[0] != '\0') {
    gs_config_msg(r->err, r->errlen, "%s:%zu: %s: %s", r->name, line, path,
                  why);
  } else {
    gs_config_msg(r->err, r->errlen, "%s:%zu: %s", r->name, line, why);
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
    gs_config_msg(r->err, r->errlen, "%s: out of memory", r->name);
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
  char text[GS_CFG_TEXT_LEN];

  if (!yaml_parser_parse(&r->parser, ev)) {
    memset(ev, 0, sizeof(*ev));
    rc = cfg_syntax_error(r);
  } else if (ev->type == YAML_ALIAS_EVENT) {
    const char *anchor = (const char *)ev->data.alias.anchor;

    gs_config_excerpt(anchor, strlen(anchor), GS_CFG_NAME_BYTES, text,
                      sizeof(text));
    rc = cfg_fail(r, cfg_line(ev), path,
                  "YAML aliases (*%s) are not supported; write the value out",
                  text);
  } else if (!cfg_tag_ok(cfg_event_tag(ev))) {
    const char *tag = (const char *)cfg_event_tag(ev);

    gs_config_excerpt(tag, strlen(tag), GS_CFG_NAME_BYTES, text, sizeof(text));
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

static gs_config_input cfg_event_input(const yaml_event_t *ev) {
  gs_config_input in = {"", 0, false, NULL};

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
    gs_config_excerpt((const char *)key->data.scalar.value,
                      key->data.scalar.length, GS_CFG_NAME_BYTES, buf + n,
                      len - (size_t)n);
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
      char child[GS_CFG_TEXT_LEN];

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
    gs_config_input in = cfg_event_input(&ev);
    char got[GS_CFG_TEXT_LEN] = "";

    if (in.shape == NULL) {
      gs_config_excerpt(in.text, in.len, GS_CFG_VALUE_BYTES, got, sizeof(got));
    }
    rc = cfg_fail(r, cfg_line(&ev), path, "expected %s, got %s%s%s", what,
                  in.shape != NULL ? in.shape : "\"", got,
                  in.shape != NULL ? "" : "\"");
  }
  yaml_event_delete(&ev);
  return rc;
}

/* Turns what gs_config_set or gs_config_strings_add said about the value
 * at `ev` into the reader's message; returns `rc`. */
static int cfg_set_result(cfg_reader *r, const yaml_event_t *ev,
                          const char *path, int rc, const char *why) {
  if (rc == GS_EINVAL) {
    rc = cfg_fail(r, cfg_line(ev), path, "%s", why);
  } else if (rc != 0) {
    gs_config_msg(r->err, r->errlen, "%s: %s", r->name, why);
  }
  return rc;
}

static int cfg_set_event(cfg_reader *r, const yaml_event_t *ev,
                         const char *path, size_t row, int ide) {
  gs_config_input in = cfg_event_input(ev);
  char why[GS_CFG_WHY_LEN];
  int rc =
      gs_config_set(r->cfg, &gs_config_schema[row], ide, &in, why, sizeof(why));

  return cfg_set_result(r, ev, path, rc, why);
}

static int cfg_read_scalar(cfg_reader *r, const char *path, size_t row,
                           int ide) {
  yaml_event_t ev;
  int rc = cfg_next(r, path, &ev);

  if (rc == 0) {
    rc = cfg_set_event(r, &ev, path, row, ide);
  }
  yaml_event_delete(&ev);
  return rc;
}

/* Reads the items of a sequence, which has started, into an empty list. An
 * item that is not a scalar stops the reading at once, so nothing nested
 * is ever walked. */
static int cfg_read_items(cfg_reader *r, const char *path, size_t row) {
  const gs_config_key *key = &gs_config_schema[row];
  int rc = 0;
  bool done = false;

  gs_config_strings_clear(r->cfg, key);
  while (rc == 0 && !done) {
    yaml_event_t ev;

    rc = cfg_next(r, path, &ev);
    if (rc == 0 && ev.type == YAML_SEQUENCE_END_EVENT) {
      done = true;
    } else if (rc == 0) {
      gs_config_input in = cfg_event_input(&ev);
      char why[GS_CFG_WHY_LEN];

      rc = gs_config_strings_add(r->cfg, key, &in, why, sizeof(why));
      rc = cfg_set_result(r, &ev, path, rc, why);
    }
    yaml_event_delete(&ev);
  }
  return rc;
}

/* Reads a list value: a sequence of strings, or null for an empty list.
 * Anything else is refused by gs_config_set. */
static int cfg_read_list(cfg_reader *r, const char *path, size_t row) {
  yaml_event_t ev;
  int rc = cfg_next(r, path, &ev);

  if (rc == 0 && ev.type == YAML_SEQUENCE_START_EVENT) {
    rc = cfg_read_items(r, path, row);
  } else if (rc == 0) {
    rc = cfg_set_event(r, &ev, path, row, -1);
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
    char known[GS_CFG_TEXT_LEN] = "";

    for (int i = 0; i < GS_IDE_COUNT; i++) {
      gs_config_list_add(known, sizeof(known), gs_ide_get((gs_ide)i)->name);
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
    char known[GS_CFG_TEXT_LEN] = "";

    for (size_t i = first; i < row; i++) {
      gs_config_list_add(known, sizeof(known), gs_config_schema[i].key);
    }
    rc = cfg_fail(r, cfg_line(key), path, "unknown key; expected one of %s",
                  known);
  } else {
    rc = cfg_first_time(r, &r->key_line[row], key, path);
  }
  if (rc == 0 && gs_config_schema[row].type == GS_CFG_IDE_MAP) {
    char what[GS_CFG_TEXT_LEN];

    gs_config_expect(&gs_config_schema[row], false, what, sizeof(what));
    rc = cfg_read_mapping(r, path, what, cfg_catalog_key, row);
  } else if (rc == 0 && gs_config_schema[row].type == GS_CFG_STRING_LIST) {
    rc = cfg_read_list(r, path, row);
  } else if (rc == 0) {
    rc = cfg_read_scalar(r, path, row, -1);
  }
  return rc;
}

static int cfg_root_key(cfg_reader *r, const yaml_event_t *key,
                        const char *path, size_t unused) {
  size_t first = 0;
  int rc = 0;
  char known[GS_CFG_TEXT_LEN] = "";

  (void)unused;
  while (first < gs_config_schema_len &&
         !cfg_key_is(key, gs_config_schema[first].section)) {
    if (first == 0 || strcmp(gs_config_schema[first].section,
                             gs_config_schema[first - 1].section) != 0) {
      gs_config_list_add(known, sizeof(known), gs_config_schema[first].section);
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
    gs_config_msg(err, errlen, "%s: out of memory", src->name);
  }
  free(r);
  return rc;
}

int gs_config_load_string(gs_config *cfg, const char *name, const char *yaml,
                          size_t len, char *err, size_t errlen) {
  cfg_source src = {name != NULL ? name : "<string>", yaml != NULL ? yaml : "",
                    yaml != NULL ? len : 0};

  return gs_config_transact(cfg, cfg_read, &src, err, errlen);
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
      gs_config_msg(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    } else if (*len > CFG_MAX_FILE_BYTES) {
      rc = GS_EINVAL;
      gs_config_msg(err, errlen,
                    "%s: larger than %zu bytes; is this a config file?", path,
                    CFG_MAX_FILE_BYTES);
    }
  } else {
    gs_config_msg(err, errlen, "%s: out of memory", path);
  }
  if (rc != 0) {
    free(buf);
    buf = NULL;
  }
  *out = buf;
  return rc;
}

/* What kind of file `st` is, for the message refusing it. */
static const char *cfg_file_kind(const struct stat *st) {
  const char *kind = "a special file";

  if (S_ISDIR(st->st_mode)) {
    kind = "a directory";
  } else if (S_ISFIFO(st->st_mode)) {
    kind = "a FIFO";
  } else if (S_ISSOCK(st->st_mode)) {
    kind = "a socket";
  } else if (S_ISCHR(st->st_mode)) {
    kind = "a character device";
  } else if (S_ISBLK(st->st_mode)) {
    kind = "a block device";
  }
  return kind;
}

/* A regular file, or /dev/null (an empty config). Anything else could
 * block the read forever (a FIFO, a terminal) or never end (a device). */
static bool cfg_file_readable(const struct stat *st) {
  struct stat null;

  return S_ISREG(st->st_mode) ||
         (S_ISCHR(st->st_mode) && stat("/dev/null", &null) == 0 &&
          S_ISCHR(null.st_mode) && st->st_rdev == null.st_rdev);
}

/* Opens `path` for reading as a stream, refusing what is not a regular
 * file. O_NONBLOCK keeps the open of a FIFO without a writer from waiting;
 * regular files ignore it. Returns 0 with *out set, or a GS_E* code. */
static int cfg_open(const char *path, FILE **out, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  int rc = 0;

  *out = NULL;
  if (fd < 0) {
    rc = cfg_errno_code(errno);
    gs_config_msg(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  } else if (fstat(fd, &st) != 0) {
    rc = cfg_errno_code(errno);
    gs_config_msg(err, errlen, "%s: cannot read: %s", path, strerror(errno));
  } else if (!cfg_file_readable(&st)) {
    rc = GS_EINVAL;
    gs_config_msg(err, errlen, "%s: not a regular file (%s)", path,
                  cfg_file_kind(&st));
  } else if ((*out = fdopen(fd, "rb")) == NULL) {
    rc = GS_ENOMEM; /* fdopen fails only for want of memory here */
    gs_config_msg(err, errlen, "%s: out of memory", path);
  }
  if (rc != 0 && fd >= 0) {
    close(fd);
  }
  return rc;
}

int gs_config_load_file(gs_config *cfg, const char *path, char *err,
                        size_t errlen) {
  FILE *f = NULL;
  char *buf = NULL;
  size_t len = 0;
  int rc = cfg_open(path, &f, err, errlen);

  if (rc == 0) {
    rc = cfg_slurp(f, path, &buf, &len, err, errlen);
    fclose(f);
  }
  if (rc == 0) {
    rc = gs_config_load_string(cfg, path, buf, len, err, errlen);
  }
  free(buf);
  return rc;
}
