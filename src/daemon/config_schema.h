/* The config schema: one row per key, driving defaults, file, env, print. */
#ifndef GITSPACE_CONFIG_SCHEMA_H
#define GITSPACE_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

#include "gitspace/config.h"

/* How a key's value is written and which C type sits at its offset. */
typedef enum {
  GS_CFG_STRING,     /* char *; min/max bound the length in bytes */
  GS_CFG_UINT,       /* unsigned; a whole number */
  GS_CFG_SIZE,       /* size_t; bytes, or with a KiB, MiB or GiB suffix */
  GS_CFG_MS,         /* unsigned; milliseconds, or with an ms or s suffix */
  GS_CFG_MODE,       /* unsigned; permission bits written in octal */
  GS_CFG_BOOL,       /* bool */
  GS_CFG_LOG_LEVEL,  /* gs_log_level */
  GS_CFG_LOG_FORMAT, /* gs_log_format */
  GS_CFG_IDE_MAP,    /* char *[GS_IDE_COUNT]; one string per IDE type */
  GS_CFG_STRING_LIST /* gs_config_strings; min/max bound each item */
} gs_config_type;

enum {
  GS_CFG_NULLABLE = 1u << 0, /* a string that may be null (unset) */
  GS_CFG_SECRET = 1u << 1    /* printed as "<redacted>" when set */
};

typedef struct gs_config_key {
  const char *section; /* YAML section, e.g. "limits" */
  const char *key;     /* key in the section, e.g. "max_connections" */
  gs_config_type type;
  size_t offset;          /* of the field in gs_config */
  unsigned long long min; /* smallest value, or shortest string or item */
  unsigned long long max; /* largest value, or longest string or item */
  unsigned long long def; /* default of a number, mode or bool */
  const char *def_str;    /* default of a string; IDE maps use ide.h tags */
  unsigned flags;         /* GS_CFG_NULLABLE, GS_CFG_SECRET */
} gs_config_key;

/* The schema of gs_config, grouped by section in print order. */
extern const gs_config_key gs_config_schema[];
extern const size_t gs_config_schema_len;

/* Writes `cfg` as YAML to `out` following `schema` (`n` rows, borrowed).
 * gs_config_print uses gs_config_schema; tests pass their own rows to check
 * how flags such as GS_CFG_SECRET print. */
void gs_config_print_schema(const gs_config *cfg, const gs_config_key *schema,
                            size_t n, FILE *out);

#endif
