/* The IDE types Gitness knows, with their ports and families. */
#ifndef GITSPACE_IDE_H
#define GITSPACE_IDE_H

#include <stddef.h>

typedef enum {
  GS_IDE_VS_CODE_WEB = 0,
  GS_IDE_VS_CODE,
  GS_IDE_CURSOR,
  GS_IDE_WINDSURF,
  GS_IDE_INTELLIJ,
  GS_IDE_PYCHARM,
  GS_IDE_GOLAND,
  GS_IDE_WEBSTORM,
  GS_IDE_CLION,
  GS_IDE_PHPSTORM,
  GS_IDE_RUBYMINE,
  GS_IDE_RIDER,
  GS_IDE_COUNT
} gs_ide;

typedef enum {
  GS_IDE_FAMILY_CODE_SERVER = 0, /* browser IDE */
  GS_IDE_FAMILY_SSH,             /* desktop IDE over SSH */
  GS_IDE_FAMILY_JETBRAINS        /* JetBrains remote development */
} gs_ide_family;

typedef struct {
  const char *name; /* Gitness string, e.g. "vs_code_web" */
  unsigned port;    /* Gitness default port; 8090 for JetBrains (the first
                       of Gitness's 8090-8097 range) */
  gs_ide_family family;
  const char *default_tag; /* tag in the default prebuilt registry */
} gs_ide_info;

/* Returns the static description of `ide`, or NULL when out of range. */
const gs_ide_info *gs_ide_get(gs_ide ide);

/* Parses a Gitness IDE string of `len` bytes. Returns 0 or GS_EINVAL. */
int gs_ide_parse(const char *s, size_t len, gs_ide *out);

/* "code-server", "ssh" or "jetbrains"; "unknown" when out of range. */
const char *gs_ide_family_name(gs_ide_family family);

#endif
