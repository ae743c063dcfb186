/* Unit tests: request strings checked on the wire (src/grpc/pb_strings.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitspace/error.h"
#include "gitspace/orchestrator/v1/orchestrator.pb-c.h"
#include "pb_strings.h"

typedef struct {
  const char *s;
  size_t len;
  int valid;
} utf8_case;

static const utf8_case utf8_cases[] = {
    {"", 0, 1},
    {"vs_code_web", 11, 1},
    {"caf\xc3\xa9", 5, 1},
    {"\xe2\x82\xac", 3, 1},     /* euro sign */
    {"\xf0\x9f\x98\x80", 4, 1}, /* emoji */
    {"\xf4\x8f\xbf\xbf", 4, 1}, /* U+10FFFF */
    {"a\0b", 3, 0},             /* NUL */
    {"\xff", 1, 0},
    {"\xc3", 1, 0},             /* cut short */
    {"\xc0\xaf", 2, 0},         /* overlong '/' */
    {"\xe0\x80\xaf", 3, 0},     /* overlong */
    {"\xed\xa0\x80", 3, 0},     /* surrogate */
    {"\xf4\x90\x80\x80", 4, 0}, /* past U+10FFFF */
    {"\xe2\x82", 2, 0},
    {"\x80", 1, 0},
};

static void test_gs_utf8_valid_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(*utf8_cases); i++) {
    const utf8_case *c = &utf8_cases[i];

    if (gs_utf8_valid((const uint8_t *)c->s, c->len) != c->valid) {
      fail_msg("case %zu: want %d", i, c->valid);
    }
  }
}

static void test_gs_pb_check_strings_good_message(void **state) {
  Gitspace__Orchestrator__V1__ResolveImageRequest req =
      GITSPACE__ORCHESTRATOR__V1__RESOLVE_IMAGE_REQUEST__INIT;
  uint8_t buf[256];
  size_t n;
  char err[128] = "";

  (void)state;
  req.gitspace_id = "caf\xc3\xa9";
  req.ide_type = "vs_code";
  req.verify = 2;
  n = protobuf_c_message_pack(&req.base, buf);
  assert_int_equal(
      gs_pb_check_strings(req.base.descriptor, buf, n, err, sizeof(err)), 0);
}

/* Field 2 (ide_type) with the given bytes, by hand. */
static size_t encode_ide_type(uint8_t *buf, const char *s, size_t len) {
  buf[0] = 2 << 3 | 2;
  buf[1] = (uint8_t)len;
  memcpy(buf + 2, s, len);
  return len + 2;
}

static void test_gs_pb_check_strings_names_the_field(void **state) {
  const ProtobufCMessageDescriptor *d =
      &gitspace__orchestrator__v1__resolve_image_request__descriptor;
  uint8_t buf[64];
  char err[128];
  size_t n;

  (void)state;
  n = encode_ide_type(buf, "vs_code\xff", 8);
  assert_int_equal(gs_pb_check_strings(d, buf, n, err, sizeof(err)), GS_EINVAL);
  assert_string_equal(err, "field ide_type: is not valid UTF-8");
  n = encode_ide_type(buf, "vs_code\0evil", 12);
  assert_int_equal(gs_pb_check_strings(d, buf, n, err, sizeof(err)), GS_EINVAL);
  assert_string_equal(err, "field ide_type: contains a NUL byte");
}

static void test_gs_pb_check_strings_nested_path(void **state) {
  Gitspace__Orchestrator__V1__BuildStepsRequest req =
      GITSPACE__ORCHESTRATOR__V1__BUILD_STEPS_REQUEST__INIT;
  Gitspace__Orchestrator__V1__GitspaceSpec spec =
      GITSPACE__ORCHESTRATOR__V1__GITSPACE_SPEC__INIT;
  Gitspace__Orchestrator__V1__Repository repo =
      GITSPACE__ORCHESTRATOR__V1__REPOSITORY__INIT;
  uint8_t buf[256];
  char err[128];
  size_t n;
  uint8_t *p;

  (void)state;
  repo.url = "https://x/y.git";
  spec.gitspace_id = "gs";
  spec.repository = &repo;
  req.spec = &spec;
  n = protobuf_c_message_pack(&req.base, buf);
  assert_int_equal(
      gs_pb_check_strings(req.base.descriptor, buf, n, err, sizeof(err)), 0);
  p = memmem(buf, n, "y.git", 5);
  assert_non_null(p);
  *p = 0xfe; /* same length, now invalid */
  assert_int_equal(
      gs_pb_check_strings(req.base.descriptor, buf, n, err, sizeof(err)),
      GS_EINVAL);
  assert_string_equal(err, "field spec.repository.url: is not valid UTF-8");
}

/* Truncated or odd encodings are the decoder's to refuse, not ours. */
static void test_gs_pb_check_strings_malformed_passes(void **state) {
  const ProtobufCMessageDescriptor *d =
      &gitspace__orchestrator__v1__resolve_image_request__descriptor;
  const uint8_t cut[] = {2 << 3 | 2, 50, 'v'};
  const uint8_t group[] = {3 << 3 | 3};
  const uint8_t varint[] = {0xff, 0xff};
  char err[64];

  (void)state;
  assert_int_equal(gs_pb_check_strings(d, cut, sizeof(cut), err, 64), 0);
  assert_int_equal(gs_pb_check_strings(d, group, sizeof(group), err, 64), 0);
  assert_int_equal(gs_pb_check_strings(d, varint, sizeof(varint), err, 64), 0);
  assert_int_equal(gs_pb_check_strings(d, NULL, 0, err, 64), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_utf8_valid_table),
      cmocka_unit_test(test_gs_pb_check_strings_good_message),
      cmocka_unit_test(test_gs_pb_check_strings_names_the_field),
      cmocka_unit_test(test_gs_pb_check_strings_nested_path),
      cmocka_unit_test(test_gs_pb_check_strings_malformed_passes),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
