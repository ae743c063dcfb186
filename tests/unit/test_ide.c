/* Unit tests for plugin/ide.c: the table of Gitness IDE types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitspace/error.h"
#include "gitspace/ide.h"

static void test_gs_ide_get_every_type(void **state) {
  (void)state;
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    const gs_ide_info *info = gs_ide_get((gs_ide)i);

    assert_non_null(info);
    assert_non_null(info->name);
    assert_non_null(info->default_tag);
    assert_true(info->port >= 8088 && info->port <= 8099);
  }
}

static void test_gs_ide_get_out_of_range(void **state) {
  (void)state;
  assert_null(gs_ide_get(GS_IDE_COUNT));
  assert_null(gs_ide_get((gs_ide)(GS_IDE_COUNT + 7)));
  assert_null(gs_ide_get((gs_ide)-1));
}

static void test_gs_ide_parse_every_name(void **state) {
  (void)state;
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    const char *name = gs_ide_get((gs_ide)i)->name;
    gs_ide ide = GS_IDE_COUNT;

    assert_int_equal(gs_ide_parse(name, strlen(name), &ide), 0);
    assert_int_equal(ide, i);
  }
}

static void test_gs_ide_parse_rejects(void **state) {
  static const char *const bad[] = {
      "",         "vscode",      "VS_CODE",      "vs_code ",
      " vs_code", "vs_cod",      "vs_code_webx", "jetbrains",
      "IntelliJ", "vs-code-web", "vs_code\n"};

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    gs_ide ide = GS_IDE_COUNT;

    assert_int_equal(gs_ide_parse(bad[i], strlen(bad[i]), &ide), GS_EINVAL);
    assert_int_equal(ide, GS_IDE_COUNT);
  }
  assert_int_equal(gs_ide_parse(NULL, 0, NULL), GS_EINVAL);
}

/* The length bounds the name: no terminator is needed or read. */
static void test_gs_ide_parse_uses_length(void **state) {
  gs_ide ide = GS_IDE_COUNT;
  char buf[] = {'v', 's', '_', 'c', 'o', 'd', 'e', 'X'};

  (void)state;
  assert_int_equal(gs_ide_parse("vs_code_web", 7, &ide), 0);
  assert_int_equal(ide, GS_IDE_VS_CODE);
  assert_int_equal(gs_ide_parse(buf, 7, &ide), 0);
  assert_int_equal(ide, GS_IDE_VS_CODE);
}

static void test_gs_ide_family_name_each(void **state) {
  (void)state;
  assert_string_equal(gs_ide_family_name(GS_IDE_FAMILY_CODE_SERVER),
                      "code-server");
  assert_string_equal(gs_ide_family_name(GS_IDE_FAMILY_SSH), "ssh");
  assert_string_equal(gs_ide_family_name(GS_IDE_FAMILY_JETBRAINS), "jetbrains");
  assert_string_equal(gs_ide_family_name((gs_ide_family)42), "unknown");
}

/* Splits `line` at tabs into at most `max` fields; returns the count. */
static size_t split_tabs(char *line, char **fields, size_t max) {
  size_t n = 0;
  char *save = NULL;

  line[strcspn(line, "\r\n")] = '\0';
  for (char *f = strtok_r(line, "\t", &save); f != NULL && n < max;
       f = strtok_r(NULL, "\t", &save)) {
    fields[n++] = f;
  }
  return n;
}

/* One row of gitness-ide-types.tsv against the table. */
static void check_tsv_row(char **f, unsigned *seen) {
  gs_ide ide = GS_IDE_COUNT;
  const gs_ide_info *info = NULL;
  unsigned lo = 0;
  unsigned hi = 0;
  char *end = NULL;
  const char *family = NULL;

  print_message("checking %s\n", f[0]);
  assert_int_equal(gs_ide_parse(f[0], strlen(f[0]), &ide), 0);
  info = gs_ide_get(ide);
  assert_string_equal(info->name, f[0]);

  /* A port range (JetBrains 8090-8097): the table keeps the first port. */
  lo = (unsigned)strtoul(f[1], &end, 10);
  hi = lo;
  if (*end == '-') {
    hi = (unsigned)strtoul(end + 1, &end, 10);
  }
  assert_int_equal(*end, '\0');
  assert_true(lo > 0 && lo <= hi);
  assert_int_equal(info->port, lo);
  assert_true(info->port <= hi);

  family = gs_ide_family_name(info->family);
  assert_int_equal(strncmp(f[2], family, strlen(family)), 0);
  assert_true(f[2][strlen(family)] == '\0' || f[2][strlen(family)] == ' ');

  assert_string_equal(info->default_tag, f[3]);
  *seen |= 1u << ide;
}

static void test_gs_ide_get_matches_cases_tsv(void **state) {
  const char *dir = getenv("GS_CASES_DIR");
  char path[4096];
  char line[1024];
  FILE *f = NULL;
  unsigned seen = 0;
  size_t rows = 0;

  (void)state;
  if (dir == NULL || dir[0] == '\0') {
    print_message("GS_CASES_DIR is not set (ctest sets it); skipping the "
                  "gitness-ide-types.tsv check\n");
    skip();
  }
  snprintf(path, sizeof(path), "%s/gitness-ide-types.tsv", dir);
  f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof(line), f)); /* the header */
  while (fgets(line, sizeof(line), f) != NULL) {
    char *fields[4];

    if (split_tabs(line, fields, 4) == 4) {
      check_tsv_row(fields, &seen);
      rows++;
    }
  }
  fclose(f);
  assert_int_equal(rows, GS_IDE_COUNT);
  assert_int_equal(seen, (1u << GS_IDE_COUNT) - 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_ide_get_every_type),
      cmocka_unit_test(test_gs_ide_get_out_of_range),
      cmocka_unit_test(test_gs_ide_parse_every_name),
      cmocka_unit_test(test_gs_ide_parse_rejects),
      cmocka_unit_test(test_gs_ide_parse_uses_length),
      cmocka_unit_test(test_gs_ide_family_name_each),
      cmocka_unit_test(test_gs_ide_get_matches_cases_tsv),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
