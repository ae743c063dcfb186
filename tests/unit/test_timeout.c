/* Unit tests: grpc-timeout parsing (src/grpc/timeout.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gitspace/error.h"
#include "timeout.h"

typedef struct {
  const char *in;
  int rv;
  uint64_t ms;
} timeout_case;

static const timeout_case timeout_cases[] = {
    {"1H", 0, 3600000},
    {"2M", 0, 120000},
    {"3S", 0, 3000},
    {"250m", 0, 250},
    {"0m", 0, 0},
    {"1500u", 0, 2}, /* 1.5 ms rounds up */
    {"1000u", 0, 1},
    {"1n", 0, 1}, /* any positive time is at least 1 ms */
    {"999999n", 0, 1},
    {"1000001n", 0, 2},
    {"99999999H", 0, 99999999ULL * 3600000ULL},
    {"99999999n", 0, 100},
    {"12345678S", 0, 12345678000ULL},
    {"", GS_EINVAL, 0},
    {"S", GS_EINVAL, 0},
    {"10", GS_EINVAL, 0},
    {"123456789S", GS_EINVAL, 0}, /* more than 8 digits */
    {"10s", GS_EINVAL, 0},        /* units are case-sensitive */
    {"10x", GS_EINVAL, 0},
    {"-1S", GS_EINVAL, 0},
    {"1 S", GS_EINVAL, 0},
    {"+5m", GS_EINVAL, 0},
};

static void test_gs_grpc_timeout_parse_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(timeout_cases) / sizeof(*timeout_cases); i++) {
    const timeout_case *c = &timeout_cases[i];
    uint64_t ms = 777;
    int rv = gs_grpc_timeout_parse(c->in, strlen(c->in), &ms);

    if (rv != c->rv || (rv == 0 && ms != c->ms)) {
      fail_msg("grpc-timeout \"%s\": got rv %d ms %llu, want rv %d ms %llu",
               c->in, rv, (unsigned long long)ms, c->rv,
               (unsigned long long)c->ms);
    }
  }
}

/* The length given is what counts, not a terminator. */
static void test_gs_grpc_timeout_parse_not_terminated(void **state) {
  uint64_t ms = 0;

  (void)state;
  assert_int_equal(gs_grpc_timeout_parse("5mXYZ", 2, &ms), 0);
  assert_int_equal(ms, 5);
  assert_int_equal(gs_grpc_timeout_parse("5m", 1, &ms), GS_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_grpc_timeout_parse_table),
      cmocka_unit_test(test_gs_grpc_timeout_parse_not_terminated),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
