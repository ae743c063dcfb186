/* Unit tests: the encoded-answer cache of ResolveImage's warm path and the
 * answer it encodes (plugin/resolve_cache.c, plugin/resolve_answer.c). Time
 * is the `now` parameter: nothing sleeps. */
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
#include "resolve_answer.h"
#include "resolve_cache.h"

#define DIGEST                                                                 \
  "sha256:35a41adeb0888b6e8a58b9d0010b4a81c1a021ed9c6f101991b0ffc2d418713d"
#define VSCODE_WEB "ghcr.io/ysicing/gitspace-runtime:vscode-web-latest"

typedef Gitspace__Orchestrator__V1__ResolveImageResponse response;

typedef struct {
  gs_config cfg;
  gs_catalog cat;
  gs_resolve_cache cache;
  char err[512];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));

  if (f == NULL || gs_config_init(&f->cfg) != 0 ||
      gs_catalog_build(&f->cfg, &f->cat, f->err, sizeof(f->err)) != 0) {
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;

  gs_resolve_cache_free(&f->cache);
  gs_catalog_free(&f->cat);
  gs_config_free(&f->cfg);
  free(f);
  return 0;
}

/* The resolution of `ide` with no devcontainer image under `mode`. */
static gs_resolution begin(fixture *f, const char *ide, gs_verify_mode mode) {
  gs_resolution r;

  assert_int_equal(
      gs_resolve_begin(&f->cat, ide, "", mode, &r, f->err, sizeof(f->err)), 0);
  return r;
}

/* A registry answer, fresh (not from the registry's cache). */
static gs_manifest_result answer(gs_manifest_outcome outcome,
                                 uint64_t expires_ms) {
  gs_manifest_result res;

  memset(&res, 0, sizeof(res));
  res.outcome = outcome;
  res.expires_ms = expires_ms;
  if (outcome == GS_MANIFEST_FOUND) {
    snprintf(res.digest, sizeof(res.digest), "%s", DIGEST);
  }
  snprintf(res.detail, sizeof(res.detail), "detail of %s",
           gs_manifest_outcome_name(outcome));
  return res;
}

/* `r` as the full path encodes it (protobuf_c_message_pack); *len gets
 * its length. Freed by the caller. */
static uint8_t *encode(const gs_resolution *r, bool asked, size_t *len) {
  gs_resolve_answer a;
  uint8_t *buf;

  gs_resolve_answer_build(r, asked, &a);
  *len = protobuf_c_message_get_packed_size(&a.resp.base);
  buf = malloc(*len > 0 ? *len : 1);
  assert_non_null(buf);
  assert_int_equal(protobuf_c_message_pack(&a.resp.base, buf), *len);
  return buf;
}

static void assert_same_bytes(const gs_resolve_cached *hit,
                              const gs_resolution *r, bool asked) {
  size_t len;
  uint8_t *want = encode(r, asked, &len);

  assert_non_null(hit);
  assert_int_equal(hit->len, len);
  assert_memory_equal(hit->packed, want, len);
  free(want);
}

static response *decode(const gs_resolve_cached *hit) {
  response *resp;

  assert_non_null(hit);
  resp = gitspace__orchestrator__v1__resolve_image_response__unpack(
      NULL, hit->len, hit->packed);
  assert_non_null(resp);
  return resp;
}

/* A FOUND answer comes back as the same bytes as a freshly encoded answer
 * with from_cache true, whatever from_cache the answer that filled it had. */
static void
test_gs_resolve_cache_get_identical_to_fresh_from_cache(void **state) {
  fixture *f = *state;

  for (int fresh = 0; fresh < 2; fresh++) {
    gs_resolution r = begin(f, "vs_code_web", GS_VERIFY_DEFAULT);
    gs_manifest_result res = answer(GS_MANIFEST_FOUND, 5000);
    const gs_resolve_cached *hit;
    response *resp;

    res.from_cache = fresh == 0;
    gs_resolve_finish(&f->cat, &res, &r);
    assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, 5000, 3), 0);
    hit = gs_resolve_cache_get(&f->cache, GS_IDE_VS_CODE_WEB, true, 0, 3);
    r.from_cache = true;
    assert_same_bytes(hit, &r, true);
    resp = decode(hit);
    assert_true(resp->from_cache);
    assert_true(resp->verified);
    assert_true(resp->prebuilt);
    assert_string_equal(resp->image, VSCODE_WEB);
    assert_string_equal(resp->reference->normalized, VSCODE_WEB);
    assert_string_equal(resp->reference->tag, "vscode-web-latest");
    assert_string_equal(resp->digest, DIGEST);
    assert_string_equal(resp->ide_family, "code-server");
    assert_int_equal(resp->ide_port, 8089);
    assert_int_equal(
        resp->source,
        GITSPACE__ORCHESTRATOR__V1__IMAGE_SOURCE__IMAGE_SOURCE_PREBUILT);
    assert_int_equal(
        resp->verification,
        GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_FOUND);
    assert_string_equal(resp->fallback_reason, "");
    assert_string_equal(resp->warning, "");
    gitspace__orchestrator__v1__resolve_image_response__free_unpacked(resp,
                                                                      NULL);
    assert_string_equal(hit->summary,
                        "PREBUILT " VSCODE_WEB " " DIGEST " (cached)");
  }
}

typedef struct {
  uint64_t now;
  bool hit;
} expiry_case;

/* Served while now < expires_ms, as the registry's own cache does. */
static void test_gs_resolve_cache_get_expiry(void **state) {
  static const expiry_case cases[] = {
      {0, true},     {1000, true},  {6999, true},
      {7000, false}, {7001, false}, {UINT64_MAX, false},
  };
  fixture *f = *state;
  gs_resolution r = begin(f, "cursor", GS_VERIFY_DEFAULT);
  gs_manifest_result res = answer(GS_MANIFEST_FOUND, 7000);

  gs_resolve_finish(&f->cat, &res, &r);
  assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, 7000, 0), 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    const gs_resolve_cached *hit =
        gs_resolve_cache_get(&f->cache, GS_IDE_CURSOR, true, cases[i].now, 0);

    if ((hit != NULL) != cases[i].hit) {
      fail_msg("now %llu: want %s", (unsigned long long)cases[i].now,
               cases[i].hit ? "a hit" : "a miss");
    }
  }
}

/* An answer kept under one registry generation is not served under
 * another: gs_registry_flush_cache moves the generation on. */
static void test_gs_resolve_cache_get_flush_invalidates(void **state) {
  fixture *f = *state;
  gs_resolution r = begin(f, "vs_code", GS_VERIFY_DEFAULT);
  gs_resolution never = begin(f, "vs_code", GS_VERIFY_NEVER);
  gs_manifest_result res = answer(GS_MANIFEST_FOUND, 60000);

  gs_resolve_finish(&f->cat, &res, &r);
  assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, 60000, 1), 0);
  assert_int_equal(
      gs_resolve_cache_put(&f->cache, &never, false, UINT64_MAX, 1), 0);
  assert_non_null(gs_resolve_cache_get(&f->cache, GS_IDE_VS_CODE, true, 10, 1));
  assert_non_null(
      gs_resolve_cache_get(&f->cache, GS_IDE_VS_CODE, false, 10, 1));
  assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_VS_CODE, true, 10, 2));
  assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_VS_CODE, false, 10, 2));
  /* Refilled under the new generation, it is served again. */
  assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, 60000, 2), 0);
  assert_non_null(gs_resolve_cache_get(&f->cache, GS_IDE_VS_CODE, true, 10, 2));
}

/* Requests off the catalog path are never kept: a devcontainer image
 * (even one in the prebuilt repository) and an unknown IDE, whose answer
 * names the request's own strings. */
static void test_gs_resolve_cache_put_bypassed_off_catalog(void **state) {
  static const char *const devcontainer[] = {
      "docker.io/library/ubuntu:22.04",
      VSCODE_WEB,
  };
  fixture *f = *state;
  gs_resolution r;

  for (size_t i = 0; i < sizeof(devcontainer) / sizeof(*devcontainer); i++) {
    assert_int_equal(gs_resolve_begin(&f->cat, "vs_code_web", devcontainer[i],
                                      GS_VERIFY_DEFAULT, &r, f->err,
                                      sizeof(f->err)),
                     0);
    assert_int_equal(r.source, GS_SOURCE_DEVCONTAINER);
    assert_int_equal(gs_resolve_cache_put(&f->cache, &r, false, UINT64_MAX, 0),
                     0);
    assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, UINT64_MAX, 0),
                     0);
  }
  r = begin(f, "emacs", GS_VERIFY_DEFAULT);
  assert_int_equal(gs_resolve_cache_put(&f->cache, &r, false, UINT64_MAX, 0),
                   0);
  for (int i = 0; i < GS_IDE_COUNT; i++) {
    assert_null(gs_resolve_cache_get(&f->cache, (gs_ide)i, false, 0, 0));
    assert_null(gs_resolve_cache_get(&f->cache, (gs_ide)i, true, 0, 0));
  }
}

/* Verified and unverified answers of one IDE live side by side. */
static void test_gs_resolve_cache_get_verify_modes_apart(void **state) {
  fixture *f = *state;
  gs_resolution verified = begin(f, "goland", GS_VERIFY_ALWAYS);
  gs_resolution skipped = begin(f, "goland", GS_VERIFY_NEVER);
  gs_manifest_result res = answer(GS_MANIFEST_FOUND, 60000);
  const gs_resolve_cached *hit;
  response *resp;

  assert_true(verified.verify);
  assert_false(skipped.verify);
  gs_resolve_finish(&f->cat, &res, &verified);
  assert_int_equal(gs_resolve_cache_put(&f->cache, &verified, true, 60000, 0),
                   0);
  assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_GOLAND, false, 0, 0));
  assert_int_equal(
      gs_resolve_cache_put(&f->cache, &skipped, false, UINT64_MAX, 0), 0);

  hit = gs_resolve_cache_get(&f->cache, GS_IDE_GOLAND, false, 0, 0);
  assert_same_bytes(hit, &skipped, false);
  resp = decode(hit);
  assert_false(resp->from_cache); /* no registry answer behind it */
  assert_false(resp->verified);
  assert_string_equal(resp->digest, "");
  assert_int_equal(
      resp->verification,
      GITSPACE__ORCHESTRATOR__V1__VERIFICATION__VERIFICATION_SKIPPED);
  gitspace__orchestrator__v1__resolve_image_response__free_unpacked(resp, NULL);
  assert_string_equal(
      hit->summary, "PREBUILT ghcr.io/ysicing/gitspace-runtime:goland-latest");

  hit = gs_resolve_cache_get(&f->cache, GS_IDE_GOLAND, true, 0, 0);
  verified.from_cache = true;
  assert_same_bytes(hit, &verified, true);
  /* Other IDEs are not touched. */
  assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_CLION, true, 0, 0));
  assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_CLION, false, 0, 0));
}

/* Unverified answers depend on the config alone: kept forever. */
static void test_gs_resolve_cache_get_unverified_forever(void **state) {
  fixture *f = *state;
  gs_resolution r = begin(f, "rider", GS_VERIFY_NEVER);

  assert_int_equal(gs_resolve_cache_put(&f->cache, &r, false, UINT64_MAX, 0),
                   0);
  assert_non_null(
      gs_resolve_cache_get(&f->cache, GS_IDE_RIDER, false, UINT64_MAX - 1, 0));
}

/* A definite "no" falls back to the base image, kept for the negative
 * TTL like a "yes". */
static void test_gs_resolve_cache_put_definite_negative(void **state) {
  static const gs_manifest_outcome outcomes[] = {GS_MANIFEST_NOT_FOUND,
                                                 GS_MANIFEST_UNAUTHORIZED};
  fixture *f = *state;

  for (size_t i = 0; i < sizeof(outcomes) / sizeof(*outcomes); i++) {
    gs_resolution r = begin(f, "pycharm", GS_VERIFY_DEFAULT);
    gs_manifest_result res = answer(outcomes[i], 900);
    const gs_resolve_cached *hit;
    response *resp;

    gs_resolve_finish(&f->cat, &res, &r);
    assert_int_equal(r.source, GS_SOURCE_FALLBACK);
    assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, 900, 0), 0);
    hit = gs_resolve_cache_get(&f->cache, GS_IDE_PYCHARM, true, 899, 0);
    r.from_cache = true;
    assert_same_bytes(hit, &r, true);
    resp = decode(hit);
    assert_true(resp->from_cache);
    assert_false(resp->verified);
    assert_string_equal(resp->image, GS_DEFAULT_BASE_IMAGE);
    assert_non_null(strstr(resp->fallback_reason, res.detail));
    gitspace__orchestrator__v1__resolve_image_response__free_unpacked(resp,
                                                                      NULL);
    assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_PYCHARM, true, 900, 0));
  }
}

/* Indefinite answers are not cached by the registry (expires_ms 0): the
 * slot is emptied, with or without a warning in the answer. */
static void test_gs_resolve_cache_put_indefinite_empties(void **state) {
  static const bool fallback[] = {false, true};
  fixture *f = *state;

  for (size_t i = 0; i < sizeof(fallback) / sizeof(*fallback); i++) {
    gs_resolution good = begin(f, "webstorm", GS_VERIFY_DEFAULT);
    gs_resolution r = begin(f, "webstorm", GS_VERIFY_DEFAULT);
    gs_manifest_result ok = answer(GS_MANIFEST_FOUND, 100);
    gs_manifest_result res = answer(GS_MANIFEST_UNREACHABLE, 0);

    gs_resolve_finish(&f->cat, &ok, &good);
    assert_int_equal(gs_resolve_cache_put(&f->cache, &good, true, 100, 0), 0);
    f->cat.fallback_on_indefinite = fallback[i];
    gs_resolve_finish(&f->cat, &res, &r);
    assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, 0, 0), 0);
    assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_WEBSTORM, true, 0, 0));
    /* A warning is never replayed from the cache, whatever the expiry. */
    if (r.warning[0] != '\0') {
      assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, 100, 0), 0);
      assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_WEBSTORM, true, 0, 0));
    }
  }
}

typedef struct {
  bool enabled;
  bool verify;
  gs_verify_mode mode;
  bool want;
} verifies_case;

/* The fast path's decision is the one gs_resolve_begin makes. */
static void test_gs_resolve_catalog_verifies_matches_begin(void **state) {
  static const verifies_case cases[] = {
      {true, true, GS_VERIFY_DEFAULT, true},
      {true, true, GS_VERIFY_ALWAYS, true},
      {true, true, GS_VERIFY_NEVER, false},
      {true, false, GS_VERIFY_DEFAULT, false},
      {true, false, GS_VERIFY_ALWAYS, true},
      {true, false, GS_VERIFY_NEVER, false},
      {false, true, GS_VERIFY_DEFAULT, false},
      {false, true, GS_VERIFY_ALWAYS, false},
      {false, false, GS_VERIFY_ALWAYS, false},
  };
  fixture *f = *state;

  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    gs_resolution r;

    f->cat.enabled = cases[i].enabled;
    f->cat.verify = cases[i].verify;
    r = begin(f, "clion", cases[i].mode);
    assert_int_equal(gs_resolve_catalog_verifies(&f->cat, cases[i].mode),
                     cases[i].want);
    assert_int_equal(r.verify, cases[i].want);
  }
}

/* Putting again replaces; freeing twice is harmless. */
static void test_gs_resolve_cache_put_replaces(void **state) {
  fixture *f = *state;
  gs_resolution r = begin(f, "intellij", GS_VERIFY_DEFAULT);
  gs_manifest_result found = answer(GS_MANIFEST_FOUND, 100);
  gs_manifest_result missing = answer(GS_MANIFEST_NOT_FOUND, 200);
  gs_resolution r2 = r;

  gs_resolve_finish(&f->cat, &found, &r);
  gs_resolve_finish(&f->cat, &missing, &r2);
  assert_int_equal(gs_resolve_cache_put(&f->cache, &r, true, 100, 0), 0);
  assert_int_equal(gs_resolve_cache_put(&f->cache, &r2, true, 200, 0), 0);
  r2.from_cache = true;
  assert_same_bytes(
      gs_resolve_cache_get(&f->cache, GS_IDE_INTELLIJ, true, 150, 0), &r2,
      true);
  gs_resolve_cache_free(&f->cache);
  assert_null(gs_resolve_cache_get(&f->cache, GS_IDE_INTELLIJ, true, 0, 0));
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(test_gs_resolve_cache_get_identical_to_fresh_from_cache),
      TEST(test_gs_resolve_cache_get_expiry),
      TEST(test_gs_resolve_cache_get_flush_invalidates),
      TEST(test_gs_resolve_cache_put_bypassed_off_catalog),
      TEST(test_gs_resolve_cache_get_verify_modes_apart),
      TEST(test_gs_resolve_cache_get_unverified_forever),
      TEST(test_gs_resolve_cache_put_definite_negative),
      TEST(test_gs_resolve_cache_put_indefinite_empties),
      TEST(test_gs_resolve_catalog_verifies_matches_begin),
      TEST(test_gs_resolve_cache_put_replaces),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
