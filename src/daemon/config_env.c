/* Config from the environment: GITSPACE_ORCHESTRATOR_* and plan aliases. */
#include <stdbool.h>
#include <string.h>

#include "gitspace/config.h"
#include "gitspace/error.h"
#include "config_int.h"

#define CFG_ENV_PREFIX "GITSPACE_ORCHESTRATOR_"

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
  char name[GS_CFG_TEXT_LEN];

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

/* Drops the spaces around `*text` (`*len` bytes). */
static void cfg_env_trim(const char **text, size_t *len) {
  while (*len > 0 && (*text)[0] == ' ') {
    (*text)++;
    (*len)--;
  }
  while (*len > 0 && (*text)[*len - 1] == ' ') {
    (*len)--;
  }
}

/* Sets a list from comma-separated items, each trimmed of spaces; an empty
 * value (or only spaces) is an empty list. An empty item, as in "a,,b" or
 * "a,", is refused like any string too short. */
static int cfg_env_set_list(gs_config *work, const gs_config_key *row,
                            const char *value, char *why, size_t whylen) {
  size_t len = strlen(value);
  int rc = 0;
  bool more = true;

  gs_config_strings_clear(work, row);
  cfg_env_trim(&value, &len);
  more = len > 0;
  while (rc == 0 && more) {
    const char *comma = memchr(value, ',', len);
    size_t item = comma != NULL ? (size_t)(comma - value) : len;
    gs_config_input in = {value, item, false, NULL};

    cfg_env_trim(&in.text, &in.len);
    rc = gs_config_strings_add(work, row, &in, why, whylen);
    more = comma != NULL;
    if (more) {
      value = comma + 1;
      len -= item + 1;
    }
  }
  return rc;
}

static int cfg_env_set(gs_config *work, const char *var, size_t n, size_t row,
                       int ide, char *err, size_t errlen) {
  const gs_config_key *key = &gs_config_schema[row];
  const char *value = var + n + 1;
  gs_config_input in = {value, strlen(value), false, NULL};
  char why[GS_CFG_WHY_LEN];
  char name[GS_CFG_TEXT_LEN];
  int rc = 0;

  if (key->type == GS_CFG_STRING_LIST) {
    rc = cfg_env_set_list(work, key, value, why, sizeof(why));
  } else {
    rc = gs_config_set(work, key, ide, &in, why, sizeof(why));
  }
  if (rc != 0) {
    gs_config_excerpt(var, n, GS_CFG_NAME_BYTES, name, sizeof(name));
    gs_config_msg(err, errlen, "%s: %s", name, why);
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
      char name[GS_CFG_TEXT_LEN];

      gs_config_excerpt(envp[i], n, GS_CFG_NAME_BYTES, name, sizeof(name));
      rc = GS_EINVAL;
      gs_config_msg(err, errlen,
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

  return gs_config_transact(cfg, cfg_env, envp != NULL ? envp : none, err,
                            errlen);
}
