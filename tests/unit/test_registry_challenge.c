/* Unit tests: WWW-Authenticate parsing (src/registry/challenge.c), table
 * driven, plus a robustness pass over random and mutated input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/registry/challenge.h"
#include "gitspace/error.h"

typedef struct {
  const char *name;
  const char *input;
  int count; /* expected return: number of challenges, or GS_EINVAL */
  gs_auth_scheme scheme0;
  const char *realm0;
  const char *service0;
  const char *scope0;
  const char *error0;
  gs_auth_scheme scheme1; /* checked when count > 1 */
  const char *realm1;
} chal_case;

static const chal_case chal_cases[] = {
    {"docker hub",
     "Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
     "docker.io\",scope=\"repository:library/ubuntu:pull\"",
     1, GS_AUTH_BEARER, "https://auth.docker.io/token", "registry.docker.io",
     "repository:library/ubuntu:pull", "", 0, NULL},
    {"ghcr",
     "Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\","
     "scope=\"repository:user/image:pull\"",
     1, GS_AUTH_BEARER, "https://ghcr.io/token", "ghcr.io",
     "repository:user/image:pull", "", 0, NULL},
    {"error param",
     "Bearer realm=\"https://r.example/token\",service=\"r.example\","
     "scope=\"repository:a/b:pull\",error=\"insufficient_scope\"",
     1, GS_AUTH_BEARER, "https://r.example/token", "r.example",
     "repository:a/b:pull", "insufficient_scope", 0, NULL},
    {"basic", "Basic realm=\"Registry Realm\"", 1, GS_AUTH_BASIC,
     "Registry Realm", "", "", "", 0, NULL},
    {"case-insensitive names", "bEaReR REALM=\"x\", Service=y, SCOPE=z", 1,
     GS_AUTH_BEARER, "x", "y", "z", "", 0, NULL},
    {"commas inside quotes",
     "Bearer realm=\"https://a/t?x=1,2\",scope=\"repository:a:pull,push\"", 1,
     GS_AUTH_BEARER, "https://a/t?x=1,2", "", "repository:a:pull,push", "", 0,
     NULL},
    {"backslash escapes", "Bearer realm=\"a\\\"b\\\\c\\d\"", 1, GS_AUTH_BEARER,
     "a\"b\\cd", "", "", "", 0, NULL},
    {"spaces around = and commas",
     "Bearer   realm = \"x\" ,  service = y  ,scope=\"\"", 1, GS_AUTH_BEARER,
     "x", "y", "", "", 0, NULL},
    {"two challenges", "Basic realm=\"b\", Bearer realm=\"t\",service=\"s\"", 2,
     GS_AUTH_BASIC, "b", "", "", "", GS_AUTH_BEARER, "t"},
    {"token68 then another", "Basic dXNlcjpwYXNz==, Bearer realm=\"t\"", 2,
     GS_AUTH_BASIC, "", "", "", "", GS_AUTH_BEARER, "t"},
    {"unknown scheme first",
     "Digest realm=\"d\", nonce=\"abc\", qop=auth, Bearer realm=\"t\"", 2,
     GS_AUTH_OTHER, "d", "", "", "", GS_AUTH_BEARER, "t"},
    {"RFC 7235 example",
     "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", "
     "Basic realm=\"simple\"",
     2, GS_AUTH_OTHER, "apps", "", "", "", GS_AUTH_BASIC, "simple"},
    {"scheme alone", "Bearer", 1, GS_AUTH_BEARER, "", "", "", "", 0, NULL},
    {"empty list elements", " , Bearer realm=x,, ,service=y ,", 1,
     GS_AUTH_BEARER, "x", "y", "", "", 0, NULL},
    {"unknown long param kept out",
     "Bearer realm=x, "
     "other=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
     1, GS_AUTH_BEARER, "x", "", "", "", 0, NULL},
    {"empty", "", GS_EINVAL, 0, NULL, NULL, NULL, NULL, 0, NULL},
    {"only commas", " , ,", GS_EINVAL, 0, NULL, NULL, NULL, NULL, 0, NULL},
    {"quoted scheme", "\"Bearer\" realm=x", GS_EINVAL, 0, NULL, NULL, NULL,
     NULL, 0, NULL},
    {"lone equals", "=", GS_EINVAL, 0, NULL, NULL, NULL, NULL, 0, NULL},
    {"no space after scheme", "Bearer\"realm\"", GS_EINVAL, 0, NULL, NULL, NULL,
     NULL, 0, NULL},
    {"truncated quoted realm", "Bearer realm=\"https://auth", GS_EINVAL, 0,
     NULL, NULL, NULL, NULL, 0, NULL},
    {"truncated second value", "Bearer realm=\"x\",service=\"", GS_EINVAL, 0,
     NULL, NULL, NULL, NULL, 0, NULL},
    {"truncated escape", "Bearer realm=\"x\\", GS_EINVAL, 0, NULL, NULL, NULL,
     NULL, 0, NULL},
    {"junk after value", "Bearer realm=\"x\" junk", GS_EINVAL, 0, NULL, NULL,
     NULL, NULL, 0, NULL},
    {"control byte in quotes", "Bearer realm=\"a\x01z\"", GS_EINVAL, 0, NULL,
     NULL, NULL, NULL, 0, NULL},
    {"bad byte in token", "Bearer realm=a\x7f", GS_EINVAL, 0, NULL, NULL, NULL,
     NULL, 0, NULL},
    {"semicolons", "Bearer; realm=x", GS_EINVAL, 0, NULL, NULL, NULL, NULL, 0,
     NULL},
};

static void test_gs_challenge_parse_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(chal_cases) / sizeof(chal_cases[0]); i++) {
    const chal_case *c = &chal_cases[i];
    gs_auth_challenge out[4];
    int n = gs_challenge_parse(c->input, strlen(c->input), out, 4);

    print_message("case: %s\n", c->name);
    assert_int_equal(n, c->count);
    if (n <= 0) {
      continue;
    }
    assert_int_equal(out[0].scheme, c->scheme0);
    assert_string_equal(out[0].realm, c->realm0);
    assert_string_equal(out[0].service, c->service0);
    assert_string_equal(out[0].scope, c->scope0);
    assert_string_equal(out[0].error, c->error0);
    if (n > 1) {
      assert_int_equal(out[1].scheme, c->scheme1);
      assert_string_equal(out[1].realm, c->realm1);
    }
  }
}

static void test_gs_challenge_parse_nul_byte_refused(void **state) {
  static const char in[] = "Bearer realm=\"a\0b\"";
  gs_auth_challenge out[1];

  (void)state;
  assert_int_equal(gs_challenge_parse(in, sizeof(in) - 1, out, 1), GS_EINVAL);
}

static void test_gs_challenge_parse_length_limits(void **state) {
  size_t big = GS_CHALLENGE_INPUT_MAX + 1;
  char *s = malloc(big + 1);
  gs_auth_challenge out[1];
  int n;

  (void)state;
  /* A realm one byte too long for its field. */
  n = snprintf(s, big, "Bearer realm=\"");
  memset(s + n, 'r', GS_CHALLENGE_REALM_MAX + 1);
  strcpy(s + n + GS_CHALLENGE_REALM_MAX + 1, "\"");
  assert_int_equal(gs_challenge_parse(s, strlen(s), out, 1), GS_EINVAL);
  /* Exactly the field's size fits. */
  strcpy(s + n + GS_CHALLENGE_REALM_MAX, "\"");
  assert_int_equal(gs_challenge_parse(s, strlen(s), out, 1), 1);
  assert_int_equal(strlen(out[0].realm), GS_CHALLENGE_REALM_MAX);
  /* A whole header over the limit. */
  memset(s, ' ', big);
  memcpy(s, "Bearer", 6);
  assert_int_equal(gs_challenge_parse(s, big, out, 1), GS_EINVAL);
  assert_int_equal(gs_challenge_parse(NULL, 0, out, 1), GS_EINVAL);
  free(s);
}

static void test_gs_challenge_parse_extra_challenges_not_stored(void **state) {
  const char *in = "A x=1, B y=2, C z=3, Basic realm=b, Bearer realm=t";
  gs_auth_challenge out[2];

  (void)state;
  assert_int_equal(gs_challenge_parse(in, strlen(in), out, 2), 2);
  assert_null(gs_challenge_find(out, 2, GS_AUTH_BEARER));
  assert_int_equal(gs_challenge_parse(in, strlen(in), out, 1), 1);
}

static void test_gs_challenge_find_first_of_scheme(void **state) {
  const char *in = "Basic realm=a, Bearer realm=b, Bearer realm=c";
  gs_auth_challenge out[4];
  const gs_auth_challenge *c;

  (void)state;
  assert_int_equal(gs_challenge_parse(in, strlen(in), out, 4), 3);
  c = gs_challenge_find(out, 3, GS_AUTH_BEARER);
  assert_non_null(c);
  assert_string_equal(c->realm, "b");
  assert_null(gs_challenge_find(out, 3, GS_AUTH_OTHER));
}

static void chal_check_sane(const char *in, size_t len) {
  gs_auth_challenge out[3];
  int n = gs_challenge_parse(in, len, out, 3);

  assert_true(n == GS_EINVAL || (n >= 1 && n <= 3));
  for (int i = 0; i < n; i++) {
    assert_true(strlen(out[i].realm) <= GS_CHALLENGE_REALM_MAX);
    assert_true(strlen(out[i].service) <= GS_CHALLENGE_PARAM_MAX);
    assert_true(strlen(out[i].scope) <= GS_CHALLENGE_PARAM_MAX);
    assert_true(strlen(out[i].error) <= GS_CHALLENGE_PARAM_MAX);
  }
}

/* Never crashes, never overruns: every prefix of every table case, byte
 * flips, and random bytes from a small alphabet that hits the grammar. */
static void test_gs_challenge_parse_any_bytes(void **state) {
  static const char alphabet[] = "Bearer Basic realm=\"\\, \t=abc\x01\xff";
  uint32_t seed = 12345;
  char buf[96];

  (void)state;
  for (size_t i = 0; i < sizeof(chal_cases) / sizeof(chal_cases[0]); i++) {
    const char *in = chal_cases[i].input;
    size_t len = strlen(in);
    char *copy = malloc(len + 1);

    for (size_t cut = 0; cut <= len; cut++) {
      memcpy(copy, in, cut); /* not terminated on purpose */
      chal_check_sane(copy, cut);
    }
    for (size_t pos = 0; pos < len; pos++) {
      memcpy(copy, in, len);
      copy[pos] = (char)(copy[pos] ^ 0x22);
      chal_check_sane(copy, len);
    }
    free(copy);
  }
  for (int round = 0; round < 200000; round++) {
    size_t len;

    seed = seed * 1103515245u + 12345u;
    len = (seed >> 16) % sizeof(buf);
    for (size_t j = 0; j < len; j++) {
      seed = seed * 1103515245u + 12345u;
      buf[j] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
    }
    chal_check_sane(buf, len);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_challenge_parse_table),
      cmocka_unit_test(test_gs_challenge_parse_nul_byte_refused),
      cmocka_unit_test(test_gs_challenge_parse_length_limits),
      cmocka_unit_test(test_gs_challenge_parse_extra_challenges_not_stored),
      cmocka_unit_test(test_gs_challenge_find_first_of_scheme),
      cmocka_unit_test(test_gs_challenge_parse_any_bytes),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
