/* Unit tests: token endpoint helpers (src/registry/token.c), the expiring
 * cache (src/registry/cache.c) and digests (src/registry/digest.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/registry/cache.h"
#include "../../src/registry/digest.h"
#include "../../src/registry/token.h"
#include "gitspace/error.h"

static void test_gs_token_url_table(void **state) {
  static const struct {
    const char *realm;
    const char *service;
    const char *scope;
    const char *url;
  } cases[] = {
      {"https://auth.docker.io/token", "registry.docker.io",
       "repository:library/ubuntu:pull",
       "https://auth.docker.io/token?service=registry.docker.io&scope="
       "repository%3Alibrary%2Fubuntu%3Apull"},
      {"https://ghcr.io/token?x=1", "ghcr.io", "repository:a/b:pull",
       "https://ghcr.io/token?x=1&service=ghcr.io&scope=repository%3Aa%2Fb%"
       "3Apull"},
      {"http://127.0.0.1:5000/token?", "", "repository:a:pull",
       "http://127.0.0.1:5000/token?scope=repository%3Aa%3Apull"},
      {"https://r/t", "my service&x=y", "s",
       "https://r/t?service=my%20service%26x%3Dy&scope=s"},
  };
  char url[256];

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(gs_token_url(cases[i].realm, cases[i].service,
                                  cases[i].scope, url, sizeof(url)),
                     0);
    assert_string_equal(url, cases[i].url);
  }
}

static void test_gs_token_url_refuses_bad_realm(void **state) {
  char url[64];

  (void)state;
  assert_int_equal(gs_token_url("file:///etc/passwd", "", "s", url, 64),
                   GS_EINVAL);
  assert_int_equal(gs_token_url("ftp://x/token", "", "s", url, 64), GS_EINVAL);
  assert_int_equal(gs_token_url("https://x/t#frag", "", "s", url, 64),
                   GS_EINVAL);
  assert_int_equal(gs_token_url("https://x/t\r\nX: y", "", "s", url, 64),
                   GS_EINVAL);
  assert_int_equal(
      gs_token_url("https://x/token", "svc", "a-long-scope-value", url, 24),
      GS_ERANGE);
  assert_string_equal(url, "");
}

static void test_gs_token_form_escapes_everything(void **state) {
  char form[256];

  (void)state;
  assert_int_equal(gs_token_form("reg.io", "repository:a/b:pull", "r+t/=", form,
                                 sizeof(form)),
                   0);
  assert_string_equal(form, "grant_type=refresh_token&service=reg.io&scope="
                            "repository%3Aa%2Fb%3Apull&client_id=gitspace-"
                            "orchestratord&refresh_token=r%2Bt%2F%3D");
  assert_int_equal(gs_token_form("s", "s", "secret", form, 40), GS_ERANGE);
  assert_null(strstr(form, "secret"));
}

static void test_gs_token_parse_table(void **state) {
  static const struct {
    const char *body;
    int rv;
    const char *token;
    uint64_t expires;
  } cases[] = {
      {"{\"token\":\"abc\",\"expires_in\":300}", 0, "abc", 300},
      {"{\"access_token\":\"xyz\"}", 0, "xyz", GS_TOKEN_DEFAULT_EXPIRES},
      {"{\"token\":\"\",\"access_token\":\"xyz\",\"expires_in\":10}", 0, "xyz",
       GS_TOKEN_DEFAULT_EXPIRES},
      {"{\"token\":\"a\",\"expires_in\":99999999999}", 0, "a",
       GS_TOKEN_MAX_EXPIRES},
      {"{\"token\":\"a\",\"expires_in\":\"300\"}", 0, "a",
       GS_TOKEN_DEFAULT_EXPIRES},
      {"{\"token\":\"has space\"}", GS_EINVAL, NULL, 0},
      {"{\"token\":\"line\\r\\nX: y\"}", GS_EINVAL, NULL, 0},
      {"{\"token\":5}", GS_EINVAL, NULL, 0},
      {"{}", GS_EINVAL, NULL, 0},
      {"[\"token\"]", GS_EINVAL, NULL, 0},
      {"not json", GS_EINVAL, NULL, 0},
      {"", GS_EINVAL, NULL, 0},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *token = NULL;
    uint64_t expires = 0;
    int rv =
        gs_token_parse(cases[i].body, strlen(cases[i].body), &token, &expires);

    print_message("case: %s\n", cases[i].body);
    assert_int_equal(rv, cases[i].rv);
    if (rv == 0) {
      assert_string_equal(token, cases[i].token);
      assert_int_equal(expires, cases[i].expires);
    } else {
      assert_null(token);
    }
    free(token);
  }
}

static void test_gs_ttl_cache_expiry_and_replace(void **state) {
  gs_ttl_cache *c;
  size_t len = 0;
  const char *v;

  (void)state;
  assert_int_equal(gs_ttl_cache_new(8, &c), 0);
  assert_int_equal(gs_ttl_cache_put(c, "k", "one", 4, 100, 200), 0);
  v = gs_ttl_cache_get(c, "k", 150, &len);
  assert_non_null(v);
  assert_string_equal(v, "one");
  assert_int_equal(len, 4);
  assert_int_equal(gs_ttl_cache_put(c, "k", "two", 4, 150, 300), 0);
  assert_int_equal(gs_ttl_cache_size(c), 1);
  assert_string_equal(gs_ttl_cache_get(c, "k", 250, NULL), "two");
  assert_null(gs_ttl_cache_get(c, "k", 300, NULL)); /* expired: dropped */
  assert_int_equal(gs_ttl_cache_size(c), 0);
  assert_null(gs_ttl_cache_get(c, "missing", 0, NULL));
  gs_ttl_cache_put(c, "a", "x", 2, 0, 10);
  gs_ttl_cache_remove(c, "a");
  assert_null(gs_ttl_cache_get(c, "a", 0, NULL));
  gs_ttl_cache_free(c);
}

static void test_gs_ttl_cache_bounded(void **state) {
  gs_ttl_cache *c;
  char key[16];

  (void)state;
  assert_int_equal(gs_ttl_cache_new(3, &c), 0);
  gs_ttl_cache_put(c, "soon", "1", 2, 0, 50);
  gs_ttl_cache_put(c, "late", "2", 2, 0, 500);
  gs_ttl_cache_put(c, "mid", "3", 2, 0, 100);
  gs_ttl_cache_put(c, "new", "4", 2, 0, 400); /* evicts "soon" */
  assert_int_equal(gs_ttl_cache_size(c), 3);
  assert_null(gs_ttl_cache_get(c, "soon", 0, NULL));
  assert_non_null(gs_ttl_cache_get(c, "late", 0, NULL));
  gs_ttl_cache_put(c, "newer", "5", 2, 200, 600); /* "mid" expired first */
  assert_null(gs_ttl_cache_get(c, "mid", 0, NULL));
  assert_non_null(gs_ttl_cache_get(c, "new", 0, NULL));
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "k%d", i);
    gs_ttl_cache_put(c, key, "v", 2, 0, 1000 + (uint64_t)i);
  }
  assert_int_equal(gs_ttl_cache_size(c), 3);
  gs_ttl_cache_clear(c);
  assert_int_equal(gs_ttl_cache_size(c), 0);
  gs_ttl_cache_free(c);
  gs_ttl_cache_free(NULL);
}

static void test_gs_digest_sha256_and_validity(void **state) {
  const char *body = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd."
                     "oci.image.index.v1+json\",\"manifests\":[]}";
  char out[80];

  (void)state;
  assert_int_equal(gs_digest_sha256(body, strlen(body), out, sizeof(out)), 0);
  assert_string_equal(out, "sha256:dff9de10919148711140d349bf03f1a99eb06f94b0"
                           "3e51715ccebfa7cdc518e2");
  assert_true(gs_digest_is_valid(out));
  assert_int_equal(gs_digest_sha256("", 0, out, 10), GS_ERANGE);
  assert_true(gs_digest_is_valid("sha512+b64.x:0123456789abcdef0123456789"
                                 "abcdef"));
  assert_false(gs_digest_is_valid("sha256:abc"));
  assert_false(gs_digest_is_valid(":0123456789abcdef0123456789abcdef"));
  assert_false(gs_digest_is_valid("SHA256:0123456789abcdef0123456789abcdef"));
  assert_false(gs_digest_is_valid("sha256:0123456789abcdef0123456789abcdeg"));
  assert_false(gs_digest_is_valid("sha256"));
  assert_false(gs_digest_is_valid("sha256:0123456789abcdef0123456789abcdef "
                                  "x"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_token_url_table),
      cmocka_unit_test(test_gs_token_url_refuses_bad_realm),
      cmocka_unit_test(test_gs_token_form_escapes_everything),
      cmocka_unit_test(test_gs_token_parse_table),
      cmocka_unit_test(test_gs_ttl_cache_expiry_and_replace),
      cmocka_unit_test(test_gs_ttl_cache_bounded),
      cmocka_unit_test(test_gs_digest_sha256_and_validity),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
