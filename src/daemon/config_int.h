/* Config internals shared by the schema, YAML and environment files. */
#ifndef GITSPACE_CONFIG_INT_H
#define GITSPACE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "gitspace/config.h"
#include "config_schema.h"

#define GS_CFG_MAX_ROWS 32    /* rows of gs_config_schema, at most */
#define GS_CFG_VALUE_BYTES 48 /* of a value quoted in a message */
#define GS_CFG_NAME_BYTES 80  /* of a key or variable name in a message */
#define GS_CFG_TEXT_LEN 512   /* of a name, a list or an excerpt */
#define GS_CFG_WHY_LEN 1280   /* of the reason a value was refused */

/* One value to set: a scalar's text, or the shape of what came instead. */
typedef struct gs_config_input {
  const char *text;
  size_t len;
  bool null;         /* a YAML null (~, null, or nothing) */
  const char *shape; /* NULL for a scalar, else "a mapping", "a sequence" */
} gs_config_input;

/* One pass over a working copy of the config (a file, the environment);
 * `arg` is the pass's input, borrowed. Returns 0 or a negative code with a
 * message in `err`. */
typedef int (*gs_config_apply_fn)(gs_config *work, const void *arg, char *err,
                                  size_t errlen);

/* Formats into `buf` (`len` bytes); does nothing when `buf` is NULL. */
void gs_config_msg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends `word` to the comma-separated list in `buf`. */
void gs_config_list_add(char *buf, size_t len, const char *word);

/* Writes `text` (`len` bytes, cut after `max`) into `out` for a message,
 * with every unprintable byte escaped. */
void gs_config_excerpt(const char *text, size_t len, size_t max, char *out,
                       size_t outlen);

/* Describes what `row` accepts; `element` for one entry of an IDE map or
 * one item of a list. */
void gs_config_expect(const gs_config_key *row, bool element, char *buf,
                      size_t len);

/* Validates `in` for `row` (element `ide` of an IDE map, or -1) and stores
 * a copy in `cfg`. A string list takes only a null here, meaning empty; its
 * items go through gs_config_strings_add. Returns 0, GS_ENOMEM, or
 * GS_EINVAL with the reason in `why`. */
int gs_config_set(gs_config *cfg, const gs_config_key *row, int ide,
                  const gs_config_input *in, char *why, size_t whylen);

/* Empties the string list of `row` in `cfg`. */
void gs_config_strings_clear(gs_config *cfg, const gs_config_key *row);

/* Validates `in` as the next item of the string list of `row` and appends a
 * copy to it in `cfg`. Returns 0, GS_ENOMEM, or GS_EINVAL with the reason
 * in `why` (the item is not a valid string, or the list is full). */
int gs_config_strings_add(gs_config *cfg, const gs_config_key *row,
                          const gs_config_input *in, char *why, size_t whylen);

/* Runs `apply` on a copy of `cfg` and keeps the copy only on success, so a
 * failed pass leaves `cfg` as it was. */
int gs_config_transact(gs_config *cfg, gs_config_apply_fn apply,
                       const void *arg, char *err, size_t errlen);

#endif
