/* Unit tests: Docker config.json credentials (src/registry/credentials.c)
 * and the base64 they are written in (src/registry/base64.c). No error
 * message may hold a secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/registry/base64.h"
#include "../../src/registry/credentials.h"
#include "gitspace/error.h"

#define SECRET "pa55:word-Xyz"
#define SECRET_B64 "YWxpY2U6cGE1NTp3b3JkLVh5eg==" /* alice:pa55:word-Xyz */

typedef struct {
  char dir[64];
  char path[128];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));

  snprintf(f->dir, sizeof(f->dir), "/tmp/gs-creds-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->path, sizeof(f->path), "%s/config.json", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;

  unlink(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

static void write_file(const fixture *f, const char *text) {
  FILE *fp = fopen(f->path, "w");

  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

/* Loads `text`; returns the code; the message must never hold a secret. */
static int load(const fixture *f, const char *text, gs_credentials **out,
                char *err, size_t errlen) {
  int rv;

  write_file(f, text);
  *out = NULL;
  rv = gs_credentials_load(f->path, out, err, errlen);
  assert_null(strstr(err, SECRET));
  assert_null(strstr(err, "pa55"));
  assert_null(strstr(err, SECRET_B64));
  assert_null(strstr(err, "TOPSECRET"));
  return rv;
}

static void test_gs_credentials_load_auth_base64(void **state) {
  fixture *f = *state;
  gs_credentials *c;
  const gs_credential *e;
  char err[256];

  assert_int_equal(
      load(f, "{\"auths\": {\"ghcr.io\": {\"auth\": \"" SECRET_B64 "\"}}}", &c,
           err, sizeof(err)),
      0);
  assert_int_equal(gs_credentials_count(c), 1);
  e = gs_credentials_find(c, "ghcr.io");
  assert_non_null(e);
  assert_string_equal(e->host, "ghcr.io");
  assert_string_equal(e->username, "alice");
  assert_string_equal(e->password, SECRET); /* split at the first colon */
  assert_null(e->identity_token);
  assert_non_null(gs_credentials_find(c, "GHCR.io"));
  assert_null(gs_credentials_find(c, "quay.io"));
  gs_credentials_free(c);
}

static void test_gs_credentials_load_username_password(void **state) {
  fixture *f = *state;
  gs_credentials *c;
  const gs_credential *e;
  char err[256];

  assert_int_equal(load(f,
                        "{\"auths\": {\"localhost:5000\": {\"username\": "
                        "\"bob\", \"password\": \"" SECRET "\"}}}",
                        &c, err, sizeof(err)),
                   0);
  e = gs_credentials_find(c, "localhost:5000");
  assert_non_null(e);
  assert_string_equal(e->username, "bob");
  assert_string_equal(e->password, SECRET);
  assert_null(gs_credentials_find(c, "localhost"));
  gs_credentials_free(c);
}

static void test_gs_credentials_load_docker_hub_keys(void **state) {
  fixture *f = *state;
  gs_credentials *c;
  char err[256];

  assert_int_equal(load(f,
                        "{\"auths\": {\"https://index.docker.io/v1/\": "
                        "{\"auth\": \"" SECRET_B64 "\"}}}",
                        &c, err, sizeof(err)),
                   0);
  assert_non_null(gs_credentials_find(c, "docker.io"));
  assert_non_null(gs_credentials_find(c, "index.docker.io"));
  assert_non_null(gs_credentials_find(c, "registry-1.docker.io"));
  assert_string_equal(gs_credentials_find(c, "docker.io")->host, "docker.io");
  assert_null(gs_credentials_find(c, "ghcr.io"));
  gs_credentials_free(c);
}

static void test_gs_credentials_load_url_keys(void **state) {
  fixture *f = *state;
  gs_credentials *c;
  char err[256];

  assert_int_equal(load(f,
                        "{\"auths\": {\"https://ghcr.io\": {\"auth\": "
                        "\"" SECRET_B64 "\"}, \"http://reg.local:5000/v2/\": "
                        "{\"username\": \"u\", \"password\": \"p\"}}}",
                        &c, err, sizeof(err)),
                   0);
  assert_int_equal(gs_credentials_count(c), 2);
  assert_non_null(gs_credentials_find(c, "ghcr.io"));
  assert_non_null(gs_credentials_find(c, "reg.local:5000"));
  assert_non_null(gs_credentials_find(c, "https://reg.local:5000"));
  gs_credentials_free(c);
}

static void test_gs_credentials_load_identity_token(void **state) {
  fixture *f = *state;
  gs_credentials *c;
  const gs_credential *e;
  char err[256];

  assert_int_equal(load(f,
                        "{\"auths\": {\"myreg.azurecr.io\": {\"auth\": \"\", "
                        "\"identitytoken\": \"TOPSECRET-refresh\"}}}",
                        &c, err, sizeof(err)),
                   0);
  e = gs_credentials_find(c, "myreg.azurecr.io");
  assert_non_null(e);
  assert_null(e->username);
  assert_null(e->password);
  assert_string_equal(e->identity_token, "TOPSECRET-refresh");
  gs_credentials_free(c);
}

static void test_gs_credentials_load_empty_entries_skipped(void **state) {
  fixture *f = *state;
  gs_credentials *c;
  char err[256];

  assert_int_equal(load(f,
                        "{\"auths\": {\"ghcr.io\": {}}, \"credsStore\": "
                        "\"desktop\"}",
                        &c, err, sizeof(err)),
                   0);
  assert_int_equal(gs_credentials_count(c), 0);
  assert_null(gs_credentials_find(c, "ghcr.io"));
  gs_credentials_free(c);
  assert_int_equal(load(f, "{}", &c, err, sizeof(err)), 0);
  assert_int_equal(gs_credentials_count(c), 0);
  gs_credentials_free(c);
}

static void test_gs_credentials_load_malformed_json(void **state) {
  fixture *f = *state;
  gs_credentials *c;
  char err[256];

  assert_int_equal(load(f,
                        "{\n  \"auths\": {\n    \"ghcr.io\": {\"password\": "
                        "\"TOPSECRET-" SECRET "\" oops}\n  }\n}\n",
                        &c, err, sizeof(err)),
                   GS_EINVAL);
  assert_null(c);
  assert_non_null(strstr(err, f->path));
  assert_non_null(strstr(err, "line 3"));
  /* An unterminated string: jansson would quote it back. */
  assert_int_equal(load(f, "{\"auths\": {\"x\": {\"password\": \"TOPSECRET", &c,
                        err, sizeof(err)),
                   GS_EINVAL);
  assert_non_null(strstr(err, "invalid JSON"));
}

static void test_gs_credentials_load_missing_file(void **state) {
  fixture *f = *state;
  gs_credentials *c = NULL;
  char err[256];

  assert_int_equal(gs_credentials_load(f->path, &c, err, sizeof(err)),
                   GS_ENOENT);
  assert_null(c);
  assert_non_null(strstr(err, f->path));
  assert_int_equal(gs_credentials_load(f->dir, &c, err, sizeof(err)),
                   GS_EINVAL);
  assert_non_null(strstr(err, f->dir));
}

typedef struct {
  const char *name;
  const char *json;
  const char *says; /* a phrase the message must hold */
} bad_case;

static const bad_case bad_cases[] = {
    {"bad base64", "{\"auths\": {\"ghcr.io\": {\"auth\": \"pa55!!word\"}}}",
     "\"ghcr.io\": \"auth\" is not valid base64"},
    {"base64 of a secret without colon",
     "{\"auths\": {\"ghcr.io\": {\"auth\": \"cGE1NXdvcmQ=\"}}}",
     "does not decode to user:password"},
    {"auth not a string", "{\"auths\": {\"ghcr.io\": {\"auth\": 5}}}",
     "\"auth\" is not a string"},
    {"password not a string",
     "{\"auths\": {\"ghcr.io\": {\"username\": \"u\", \"password\": [\"" SECRET
     "\"]}}}",
     "\"password\" is not a string"},
    {"entry not an object", "{\"auths\": {\"ghcr.io\": \"" SECRET "\"}}",
     "\"ghcr.io\" is not an object"},
    {"auths not an object", "{\"auths\": [1]}", "\"auths\" is not an object"},
    {"top level array", "[]", "top level is not an object"},
    {"empty key", "{\"auths\": {\"https://\": {\"auth\": \"" SECRET_B64 "\"}}}",
     "is not a registry host"},
    {"duplicate key",
     "{\"auths\": {\"a\": {}, \"a\": {\"password\": \"TOPSECRET\"}}}",
     "invalid JSON"},
};

static void test_gs_credentials_load_rejects_bad_entries(void **state) {
  fixture *f = *state;

  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    gs_credentials *c;
    char err[256];

    print_message("case: %s\n", bad_cases[i].name);
    assert_int_equal(load(f, bad_cases[i].json, &c, err, sizeof(err)),
                     GS_EINVAL);
    assert_null(c);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, bad_cases[i].says));
  }
}

static void test_gs_credentials_host_key_table(void **state) {
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
      {"ghcr.io", "ghcr.io"},
      {"https://ghcr.io", "ghcr.io"},
      {"HTTPS://GHCR.IO/", "ghcr.io"},
      {"http://localhost:5000/v2/", "localhost:5000"},
      {"https://index.docker.io/v1/", "docker.io"},
      {"index.docker.io", "docker.io"},
      {"registry-1.docker.io", "docker.io"},
      {"docker.io", "docker.io"},
      {"[::1]:5000", "[::1]:5000"},
  };
  char out[64];

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(gs_credentials_host_key(cases[i].in, out, sizeof(out)), 0);
    assert_string_equal(out, cases[i].out);
  }
  assert_int_equal(gs_credentials_host_key("", out, sizeof(out)), GS_EINVAL);
  assert_int_equal(gs_credentials_host_key("https:///x", out, sizeof(out)),
                   GS_EINVAL);
  assert_int_equal(gs_credentials_host_key("a-very-long-host.example", out, 8),
                   GS_EINVAL);
  gs_credentials_free(NULL);
  assert_null(gs_credentials_find(NULL, "ghcr.io"));
}

static void test_gs_base64_round_trip_rfc4648(void **state) {
  static const struct {
    const char *plain;
    const char *encoded;
  } cases[] = {{"", ""},
               {"f", "Zg=="},
               {"fo", "Zm8="},
               {"foo", "Zm9v"},
               {"foob", "Zm9vYg=="},
               {"fooba", "Zm9vYmE="},
               {"foobar", "Zm9vYmFy"}};
  char enc[32];
  char dec[32];
  size_t n;

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t len = strlen(cases[i].plain);

    assert_int_equal(gs_base64_encode(cases[i].plain, len, enc, sizeof(enc)),
                     (int)strlen(cases[i].encoded));
    assert_string_equal(enc, cases[i].encoded);
    assert_int_equal(gs_base64_decode(enc, strlen(enc), dec, sizeof(dec), &n),
                     0);
    assert_int_equal(n, len);
    assert_string_equal(dec, cases[i].plain);
  }
}

static void test_gs_base64_decode_strict(void **state) {
  char dec[16];
  size_t n;

  (void)state;
  assert_int_equal(gs_base64_decode("Zm9vYg", 6, dec, sizeof(dec), &n), 0);
  assert_string_equal(dec, "foob"); /* padding is optional */
  assert_int_equal(gs_base64_decode("Zm9v YmFy", 9, dec, sizeof(dec), &n),
                   GS_EINVAL);
  assert_int_equal(gs_base64_decode("Zm9vY", 5, dec, sizeof(dec), &n),
                   GS_EINVAL);
  assert_int_equal(gs_base64_decode("Zg=", 3, dec, sizeof(dec), &n), GS_EINVAL);
  assert_int_equal(gs_base64_decode("Zm9vYmFy", 8, dec, 4, &n), GS_ERANGE);
  assert_string_equal(dec, "");
  assert_int_equal(gs_base64_encode("foobar", 6, dec, 8), GS_ERANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_gs_credentials_load_auth_base64,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_gs_credentials_load_username_password, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_credentials_load_docker_hub_keys,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_credentials_load_url_keys, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_credentials_load_identity_token,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_gs_credentials_load_empty_entries_skipped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_credentials_load_malformed_json,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_credentials_load_missing_file,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_gs_credentials_load_rejects_bad_entries, setup, teardown),
      cmocka_unit_test(test_gs_credentials_host_key_table),
      cmocka_unit_test(test_gs_base64_round_trip_rfc4648),
      cmocka_unit_test(test_gs_base64_decode_strict),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
