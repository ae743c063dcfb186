/* Unit tests: status names and grpc-message encoding (src/grpc/status.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gitspace/status.h"

typedef struct {
  const char *in;
  const char *out;
} encode_case;

static const encode_case encode_cases[] = {
    {"", ""},
    {"plain text", "plain text"},
    {"100% sure", "100%25 sure"},
    {"line\nbreak", "line%0Abreak"},
    {"tab\there", "tab%09here"},
    {"caf\xc3\xa9", "caf%C3%A9"},
    {"\x7f", "%7F"},
    {"~!#$&'()*+,/:;=?@[]", "~!#$&'()*+,/:;=?@[]"},
};

static void test_gs_status_encode_message_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(encode_cases) / sizeof(*encode_cases); i++) {
    char out[128];
    char back[128];
    const encode_case *c = &encode_cases[i];
    size_t n = gs_status_encode_message(c->in, strlen(c->in), out, sizeof(out));

    assert_string_equal(out, c->out);
    assert_int_equal(n, strlen(c->out));
    gs_status_decode_message(out, n, back, sizeof(back));
    assert_string_equal(back, c->in);
  }
}

/* A cut never splits an escape or a UTF-8 character. */
static void test_gs_status_encode_message_truncates_whole(void **state) {
  const char *in = "ab\xc3\xa9zz";
  char out[16];
  size_t n;

  (void)state;
  n = gs_status_encode_message(in, strlen(in), out, 8);
  assert_string_equal(out, "ab");
  assert_int_equal(n, 2);
  n = gs_status_encode_message(in, strlen(in), out, 9);
  assert_int_equal(n, 8);
  n = gs_status_encode_message("%", 1, out, 3);
  assert_string_equal(out, "");
  assert_int_equal(n, 0);
  assert_int_equal(gs_status_encode_message("x", 1, out, 0), 0);
}

static void test_gs_status_decode_message_malformed_kept(void **state) {
  char out[32];

  (void)state;
  gs_status_decode_message("50%", 3, out, sizeof(out));
  assert_string_equal(out, "50%");
  gs_status_decode_message("%zz%4", 5, out, sizeof(out));
  assert_string_equal(out, "%zz%4");
  gs_status_decode_message("%41%62", 6, out, sizeof(out));
  assert_string_equal(out, "Ab");
}

static void test_gs_status_name_every_code(void **state) {
  (void)state;
  assert_string_equal(gs_status_name(GS_STATUS_OK), "OK");
  assert_string_equal(gs_status_name(GS_STATUS_INVALID_ARGUMENT),
                      "INVALID_ARGUMENT");
  assert_string_equal(gs_status_name(GS_STATUS_RESOURCE_EXHAUSTED),
                      "RESOURCE_EXHAUSTED");
  assert_string_equal(gs_status_name(GS_STATUS_UNIMPLEMENTED), "UNIMPLEMENTED");
  assert_string_equal(gs_status_name(GS_STATUS_UNAUTHENTICATED),
                      "UNAUTHENTICATED");
  assert_string_equal(gs_status_name((gs_status)17), "UNKNOWN");
  assert_string_equal(gs_status_name((gs_status)-1), "UNKNOWN");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_status_encode_message_table),
      cmocka_unit_test(test_gs_status_encode_message_truncates_whole),
      cmocka_unit_test(test_gs_status_decode_message_malformed_kept),
      cmocka_unit_test(test_gs_status_name_every_code),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
