/* Unit tests: the prebuilt-image catalog and the ResolveImage decision
 * (plugin/catalog.c, plugin/resolve.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "gitspace/error.h"
#include "resolve.h"

#define EVIL "ghcr.io/ysicing/gitspace-runtime-evil"

typedef struct {
  gs_config cfg;
  gs_catalog cat;
  char err[512];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));

  if (f == NULL || gs_config_init(&f->cfg) != 0) {
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;

  gs_catalog_free(&f->cat);
  gs_config_free(&f->cfg);
  free(f);
  return 0;
}

static void load(fixture *f, const char *yaml) {
  if (yaml != NULL) {
    assert_int_equal(gs_config_load_string(&f->cfg, "t.yaml", yaml,
                                           strlen(yaml), f->err,
                                           sizeof(f->err)),
                     0);
  }
  assert_int_equal(gs_catalog_build(&f->cfg, &f->cat, f->err, sizeof(f->err)),
                   0);
}

static void image_of(const gs_resolution *r, char *out, size_t len) {
  gs_image_ref_format(&r->image, out, len);
}

/* Every Gitness IDE gets its own catalog image, joined to the registry. */
static void test_gs_resolve_begin_every_ide_default(void **state) {
  fixture *f = *state;

  load(f, NULL);
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    const gs_ide_info *ide = gs_ide_get((gs_ide)i);
    gs_resolution r;
    char want[300];
    char got[600];

    assert_int_equal(gs_resolve_begin(&f->cat, ide->name, "", GS_VERIFY_DEFAULT,
                                      &r, f->err, sizeof(f->err)),
                     0);
    snprintf(want, sizeof(want), "ghcr.io/ysicing/gitspace-runtime:%s",
             ide->default_tag);
    image_of(&r, got, sizeof(got));
    assert_string_equal(got, want);
    assert_int_equal(r.source, GS_SOURCE_PREBUILT);
    assert_true(r.prebuilt);
    assert_true(r.verify); /* verification is on by default */
    assert_true(r.ide_known);
    assert_int_equal(r.ide, i);
  }
}

static void test_gs_resolve_begin_vscode_web_and_vscode_differ(void **state) {
  fixture *f = *state;
  gs_resolution web;
  gs_resolution ssh;

  load(f, NULL);
  gs_resolve_begin(&f->cat, "vs_code_web", NULL, GS_VERIFY_NEVER, &web, f->err,
                   sizeof(f->err));
  gs_resolve_begin(&f->cat, "vs_code", NULL, GS_VERIFY_NEVER, &ssh, f->err,
                   sizeof(f->err));
  assert_string_equal(web.image.tag, "vscode-web-latest");
  assert_string_equal(ssh.image.tag, "vscode-latest");
  assert_false(web.verify);
}

static void test_gs_resolve_begin_full_reference_kept(void **state) {
  fixture *f = *state;
  gs_resolution r;
  char got[600];

  load(f, "prebuilt_images:\n"
          "  catalog:\n"
          "    goland: registry.example.com:5000/ide/goland:2024.1\n"
          "    cursor: my-cursor-tag\n");
  gs_resolve_begin(&f->cat, "goland", "", GS_VERIFY_DEFAULT, &r, f->err,
                   sizeof(f->err));
  image_of(&r, got, sizeof(got));
  assert_string_equal(got, "registry.example.com:5000/ide/goland:2024.1");
  /* Not the prebuilt repository: a catalog image need not be ours. */
  assert_false(r.prebuilt);
  assert_int_equal(r.source, GS_SOURCE_PREBUILT);
  gs_resolve_begin(&f->cat, "cursor", "", GS_VERIFY_DEFAULT, &r, f->err,
                   sizeof(f->err));
  image_of(&r, got, sizeof(got));
  assert_string_equal(got, "ghcr.io/ysicing/gitspace-runtime:my-cursor-tag");
}

static void test_gs_resolve_begin_devcontainer_wins(void **state) {
  fixture *f = *state;
  gs_resolution r;
  char got[600];

  load(f, NULL);
  assert_int_equal(gs_resolve_begin(&f->cat, "vs_code_web", "node:20",
                                    GS_VERIFY_DEFAULT, &r, f->err,
                                    sizeof(f->err)),
                   0);
  image_of(&r, got, sizeof(got));
  assert_string_equal(got, "docker.io/library/node:20");
  assert_int_equal(r.source, GS_SOURCE_DEVCONTAINER);
  assert_false(r.prebuilt);
  assert_false(r.verify);
  gs_resolve_begin(&f->cat, "vs_code_web",
                   "ghcr.io/ysicing/gitspace-runtime:base-latest",
                   GS_VERIFY_DEFAULT, &r, f->err, sizeof(f->err));
  assert_int_equal(r.source, GS_SOURCE_DEVCONTAINER);
  assert_true(r.prebuilt);
  gs_resolve_begin(&f->cat, "vs_code_web", EVIL ":vscode-web-latest",
                   GS_VERIFY_DEFAULT, &r, f->err, sizeof(f->err));
  assert_false(r.prebuilt);
  assert_string_equal(r.warning, "");
  /* The image is still the devcontainer's, but the caller is told. */
  gs_resolve_begin(&f->cat, "emacs", "node:20", GS_VERIFY_DEFAULT, &r, f->err,
                   sizeof(f->err));
  assert_int_equal(r.source, GS_SOURCE_DEVCONTAINER);
  assert_non_null(strstr(r.warning, "emacs"));
}

static void test_gs_resolve_begin_extra_repositories(void **state) {
  fixture *f = *state;
  gs_resolution r;

  load(f, "prebuilt_images:\n"
          "  extra_repositories: [mirror.local:5000/gitspace-runtime]\n");
  gs_resolve_begin(&f->cat, "cursor",
                   "mirror.local:5000/gitspace-runtime:cursor-latest",
                   GS_VERIFY_DEFAULT, &r, f->err, sizeof(f->err));
  assert_true(r.prebuilt);
  gs_resolve_begin(&f->cat, "cursor", "mirror.local:5000/gitspace:cursor",
                   GS_VERIFY_DEFAULT, &r, f->err, sizeof(f->err));
  assert_false(r.prebuilt);
}

static void test_gs_resolve_begin_bad_input_names_field(void **state) {
  fixture *f = *state;
  gs_resolution r;

  load(f, NULL);
  assert_int_equal(gs_resolve_begin(&f->cat, "", "", GS_VERIFY_DEFAULT, &r,
                                    f->err, sizeof(f->err)),
                   GS_EINVAL);
  assert_non_null(strstr(f->err, "ide_type"));
  assert_int_equal(gs_resolve_begin(&f->cat, NULL, "", GS_VERIFY_DEFAULT, &r,
                                    f->err, sizeof(f->err)),
                   GS_EINVAL);
  assert_int_equal(gs_resolve_begin(&f->cat, "vs_code", "Bad Image!",
                                    GS_VERIFY_DEFAULT, &r, f->err,
                                    sizeof(f->err)),
                   GS_EINVAL);
  assert_non_null(strstr(f->err, "devcontainer_image"));
}

static void test_gs_resolve_begin_unknown_ide_base(void **state) {
  fixture *f = *state;
  gs_resolution r;
  char got[600];

  load(f, NULL);
  assert_int_equal(gs_resolve_begin(&f->cat, "emacs", "", GS_VERIFY_DEFAULT, &r,
                                    f->err, sizeof(f->err)),
                   0);
  image_of(&r, got, sizeof(got));
  assert_string_equal(got, GS_DEFAULT_BASE_IMAGE);
  assert_int_equal(r.source, GS_SOURCE_FALLBACK);
  assert_non_null(strstr(r.reason, "emacs"));
  assert_false(r.ide_known);
  assert_false(r.verify);
}

static void test_gs_resolve_begin_disabled_always_base(void **state) {
  fixture *f = *state;

  load(f, "prebuilt_images:\n  enabled: false\n"
          "  base_image: ubuntu:24.04\n");
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    gs_resolution r;
    char got[600];

    gs_resolve_begin(&f->cat, gs_ide_get((gs_ide)i)->name, "", GS_VERIFY_ALWAYS,
                     &r, f->err, sizeof(f->err));
    image_of(&r, got, sizeof(got));
    assert_string_equal(got, "docker.io/library/ubuntu:24.04");
    assert_int_equal(r.source, GS_SOURCE_BASE);
    assert_false(r.prebuilt);
    assert_false(r.verify);
  }
}

static void test_gs_resolve_begin_verify_modes(void **state) {
  fixture *f = *state;
  gs_resolution r;

  load(f, "prebuilt_images:\n  verify: false\n");
  gs_resolve_begin(&f->cat, "rider", "", GS_VERIFY_DEFAULT, &r, f->err,
                   sizeof(f->err));
  assert_false(r.verify);
  gs_resolve_begin(&f->cat, "rider", "", GS_VERIFY_ALWAYS, &r, f->err,
                   sizeof(f->err));
  assert_true(r.verify);
}

typedef struct {
  gs_manifest_outcome outcome;
  bool fallback_on_indefinite;
  gs_image_source source;
  bool verified;
  bool warned;
} finish_case;

static const finish_case finish_cases[] = {
    {GS_MANIFEST_FOUND, false, GS_SOURCE_PREBUILT, true, false},
    {GS_MANIFEST_NOT_FOUND, false, GS_SOURCE_FALLBACK, false, false},
    {GS_MANIFEST_UNAUTHORIZED, false, GS_SOURCE_FALLBACK, false, false},
    {GS_MANIFEST_RATE_LIMITED, false, GS_SOURCE_PREBUILT, false, true},
    {GS_MANIFEST_UNREACHABLE, false, GS_SOURCE_PREBUILT, false, true},
    {GS_MANIFEST_TIMED_OUT, false, GS_SOURCE_PREBUILT, false, true},
    {GS_MANIFEST_RATE_LIMITED, true, GS_SOURCE_FALLBACK, false, false},
    {GS_MANIFEST_UNREACHABLE, true, GS_SOURCE_FALLBACK, false, false},
    {GS_MANIFEST_TIMED_OUT, true, GS_SOURCE_FALLBACK, false, false},
    {GS_MANIFEST_FOUND, true, GS_SOURCE_PREBUILT, true, false},
};

static void test_gs_resolve_finish_outcomes(void **state) {
  fixture *f = *state;

  load(f, NULL);
  for (size_t i = 0; i < sizeof(finish_cases) / sizeof(*finish_cases); i++) {
    const finish_case *c = &finish_cases[i];
    gs_manifest_result res;
    gs_resolution r;
    char got[600];

    memset(&res, 0, sizeof(res));
    res.outcome = c->outcome;
    res.from_cache = i % 2 == 0;
    snprintf(res.detail, sizeof(res.detail), "detail-%zu", i);
    if (c->outcome == GS_MANIFEST_FOUND) {
      snprintf(res.digest, sizeof(res.digest), "sha256:%064d", 7);
    }
    f->cat.fallback_on_indefinite = c->fallback_on_indefinite;
    gs_resolve_begin(&f->cat, "vs_code_web", "", GS_VERIFY_DEFAULT, &r, f->err,
                     sizeof(f->err));
    gs_resolve_finish(&f->cat, &res, &r);
    image_of(&r, got, sizeof(got));
    assert_int_equal(r.source, c->source);
    assert_int_equal(r.verified, c->verified);
    assert_int_equal(r.outcome, c->outcome);
    assert_int_equal(r.from_cache, res.from_cache);
    assert_int_equal(r.warning[0] != '\0', c->warned);
    if (c->source == GS_SOURCE_FALLBACK) {
      assert_string_equal(got, GS_DEFAULT_BASE_IMAGE);
      assert_non_null(strstr(r.reason, res.detail));
      assert_false(r.prebuilt);
    } else {
      assert_string_equal(got,
                          "ghcr.io/ysicing/gitspace-runtime:vscode-web-latest");
      assert_true(r.prebuilt);
    }
    if (c->verified) {
      assert_string_equal(r.digest, res.digest);
    } else {
      assert_string_equal(r.digest, "");
    }
    if (c->warned) {
      assert_non_null(strstr(r.warning, res.detail));
    }
  }
}

typedef struct {
  const char *yaml;
  const char *key;
} bad_catalog_case;

static const bad_catalog_case bad_catalogs[] = {
    {"prebuilt_images:\n  registry: ghcr.io/Upper/x\n",
     "prebuilt_images.registry"},
    {"prebuilt_images:\n  registry: ghcr.io/a/b:tag\n",
     "prebuilt_images.registry"},
    {"prebuilt_images:\n  base_image: 'bad image'\n",
     "prebuilt_images.base_image"},
    {"prebuilt_images:\n  catalog:\n    clion: 'ghcr.io/a/b:'\n",
     "prebuilt_images.catalog.clion"},
    {"prebuilt_images:\n  extra_repositories: [ok.io/a, 'NO/x']\n",
     "prebuilt_images.extra_repositories[1]"},
    {"registry:\n  insecure_hosts: ['127.0.0.1:5000', 'http://x']\n",
     "registry.insecure_hosts[1]"},
    {"registry:\n  insecure_hosts: ['::1']\n", "registry.insecure_hosts[0]"},
    {"registry:\n  insecure_hosts: ['a.io/path']\n",
     "registry.insecure_hosts[0]"},
};

static void test_gs_catalog_build_errors_name_key(void **state) {
  fixture *f = *state;

  for (size_t i = 0; i < sizeof(bad_catalogs) / sizeof(*bad_catalogs); i++) {
    gs_config cfg;
    gs_catalog cat;
    const char *y = bad_catalogs[i].yaml;

    assert_int_equal(gs_config_init(&cfg), 0);
    assert_int_equal(gs_config_load_string(&cfg, "t.yaml", y, strlen(y), f->err,
                                           sizeof(f->err)),
                     0);
    assert_int_equal(gs_catalog_build(&cfg, &cat, f->err, sizeof(f->err)),
                     GS_EINVAL);
    if (strstr(f->err, bad_catalogs[i].key) == NULL) {
      fail_msg("case %zu: \"%s\" does not name %s", i, f->err,
               bad_catalogs[i].key);
    }
    gs_config_free(&cfg);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_gs_resolve_begin_every_ide_default,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_gs_resolve_begin_vscode_web_and_vscode_differ, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_resolve_begin_full_reference_kept,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_resolve_begin_devcontainer_wins,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_resolve_begin_extra_repositories,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_gs_resolve_begin_bad_input_names_field, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_resolve_begin_unknown_ide_base,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_gs_resolve_begin_disabled_always_base, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_resolve_begin_verify_modes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_resolve_finish_outcomes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_catalog_build_errors_name_key,
                                      setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
