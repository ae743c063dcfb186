/* The table of IDE types Gitness sends: name, port, family, default tag. */
#include <string.h>

#include "gitspace/error.h"
#include "gitspace/ide.h"

/* Gitness gives JetBrains IDEs the port range 8090-8097 and picks one at
 * start; the prebuilt JetBrains images listen on the first port of that
 * range, so every JetBrains entry here says 8090. */
#define GS_IDE_JETBRAINS_PORT 8090u

static const gs_ide_info ide_table[GS_IDE_COUNT] = {
    [GS_IDE_VS_CODE_WEB] = {"vs_code_web", 8089u, GS_IDE_FAMILY_CODE_SERVER,
                            "vscode-web-latest"},
    [GS_IDE_VS_CODE] = {"vs_code", 8088u, GS_IDE_FAMILY_SSH, "vscode-latest"},
    [GS_IDE_CURSOR] = {"cursor", 8098u, GS_IDE_FAMILY_SSH, "cursor-latest"},
    [GS_IDE_WINDSURF] = {"windsurf", 8099u, GS_IDE_FAMILY_SSH,
                         "windsurf-latest"},
    [GS_IDE_INTELLIJ] = {"intellij", GS_IDE_JETBRAINS_PORT,
                         GS_IDE_FAMILY_JETBRAINS, "intellij-latest"},
    [GS_IDE_PYCHARM] = {"pycharm", GS_IDE_JETBRAINS_PORT,
                        GS_IDE_FAMILY_JETBRAINS, "pycharm-latest"},
    [GS_IDE_GOLAND] = {"goland", GS_IDE_JETBRAINS_PORT, GS_IDE_FAMILY_JETBRAINS,
                       "goland-latest"},
    [GS_IDE_WEBSTORM] = {"webstorm", GS_IDE_JETBRAINS_PORT,
                         GS_IDE_FAMILY_JETBRAINS, "webstorm-latest"},
    [GS_IDE_CLION] = {"clion", GS_IDE_JETBRAINS_PORT, GS_IDE_FAMILY_JETBRAINS,
                      "clion-latest"},
    [GS_IDE_PHPSTORM] = {"phpstorm", GS_IDE_JETBRAINS_PORT,
                         GS_IDE_FAMILY_JETBRAINS, "phpstorm-latest"},
    [GS_IDE_RUBYMINE] = {"rubymine", GS_IDE_JETBRAINS_PORT,
                         GS_IDE_FAMILY_JETBRAINS, "rubymine-latest"},
    [GS_IDE_RIDER] = {"rider", GS_IDE_JETBRAINS_PORT, GS_IDE_FAMILY_JETBRAINS,
                      "rider-latest"},
};

const gs_ide_info *gs_ide_get(gs_ide ide) {
  const gs_ide_info *info = NULL;

  /* The enum may be signed or unsigned; compare as an int. */
  if ((int)ide >= 0 && (int)ide < GS_IDE_COUNT) {
    info = &ide_table[ide];
  }
  return info;
}

int gs_ide_parse(const char *s, size_t len, gs_ide *out) {
  int rc = GS_EINVAL;

  if (s != NULL) {
    for (int i = 0; i < GS_IDE_COUNT && rc != 0; i++) {
      const char *name = ide_table[i].name;

      if (strlen(name) == len && memcmp(name, s, len) == 0) {
        *out = (gs_ide)i;
        rc = 0;
      }
    }
  }
  return rc;
}

const char *gs_ide_family_name(gs_ide_family family) {
  const char *name = "unknown";

  switch (family) {
  case GS_IDE_FAMILY_CODE_SERVER:
    name = "code-server";
    break;
  case GS_IDE_FAMILY_SSH:
    name = "ssh";
    break;
  case GS_IDE_FAMILY_JETBRAINS:
    name = "jetbrains";
    break;
  }
  return name;
}
