/* Unit tests: logging (src/log/log.c): levels, one line per event, escaping
 * of what clients send, JSON lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitspace/log.h"

static int log_pipe[2];

static int setup(void **state) {
  (void)state;
  if (pipe(log_pipe) != 0) {
    return -1;
  }
  gs_log_set_fd(log_pipe[1]);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  gs_log_set_fd(2);
  gs_log_setup(GS_LOG_INFO, GS_LOG_TEXT);
  close(log_pipe[0]);
  close(log_pipe[1]);
  return 0;
}

/* Reads what has been logged so far. */
static size_t drain(char *buf, size_t cap) {
  ssize_t n;

  close(log_pipe[1]);
  n = read(log_pipe[0], buf, cap - 1);
  buf[n > 0 ? n : 0] = '\0';
  close(log_pipe[0]);
  if (pipe(log_pipe) != 0) {
    fail_msg("pipe");
  }
  gs_log_set_fd(log_pipe[1]);
  return n > 0 ? (size_t)n : 0;
}

static size_t count_lines(const char *s) {
  size_t n = 0;

  for (; *s != '\0'; s++) {
    n += *s == '\n';
  }
  return n;
}

static void test_gs_log_write_levels_filtered(void **state) {
  char buf[4096];

  (void)state;
  gs_log_setup(GS_LOG_INFO, GS_LOG_TEXT);
  GS_DEBUG("c1/s1", "hidden %d", 1);
  GS_INFO("c1/s1", "shown %d", 2);
  GS_ERROR("-", "bad -> %s", "worse");
  drain(buf, sizeof(buf));
  assert_null(strstr(buf, "hidden"));
  assert_non_null(strstr(buf, "shown 2"));
  assert_int_equal(count_lines(buf), 2);
  assert_int_equal(strncmp(buf, "INFO  ", 6), 0);
  assert_non_null(strstr(buf, "\nERROR "));
  assert_non_null(strstr(buf, " c1/s1 shown 2\n"));
  gs_log_setup(GS_LOG_OFF, GS_LOG_TEXT);
  GS_ERROR("-", "nothing");
  assert_int_equal(drain(buf, sizeof(buf)), 0);
}

/* A client's bytes never split a line nor make it invalid UTF-8. */
static void test_gs_log_write_escapes_client_bytes(void **state) {
  char buf[4096];

  (void)state;
  gs_log_setup(GS_LOG_DEBUG, GS_LOG_TEXT);
  GS_INFO("gs 1\n", "service \"%s\" unknown", "\xff\xfe\nERROR fake\t\x7f");
  GS_INFO("-", "caf\xc3\xa9 ok, cut \xe2\x82");
  drain(buf, sizeof(buf));
  assert_int_equal(count_lines(buf), 2);
  assert_non_null(strstr(buf, "\\xff\\xfe\\x0aERROR fake\\x09\\x7f"));
  assert_non_null(strstr(buf, " gs\\x201\\x0a service"));
  assert_non_null(strstr(buf, "caf\xc3\xa9 ok, cut \\xe2\\x82\n"));
}

static void test_gs_log_write_json_lines(void **state) {
  char buf[4096];

  (void)state;
  gs_log_setup(GS_LOG_INFO, GS_LOG_JSON);
  GS_WARN("c2/s3", "quote \" backslash \\ byte \x01 end");
  drain(buf, sizeof(buf));
  assert_int_equal(count_lines(buf), 1);
  assert_int_equal(strncmp(buf, "{\"level\":\"warn\",\"ts\":\"", 22), 0);
  assert_non_null(strstr(buf, "\"id\":\"c2/s3\""));
  assert_non_null(
      strstr(buf, "\"msg\":\"quote \\\" backslash \\\\ byte \\\\x01 end\"}\n"));
}

static void test_gs_log_write_long_message_one_line(void **state) {
  char big[8192];
  char buf[16384];

  (void)state;
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  gs_log_setup(GS_LOG_INFO, GS_LOG_TEXT);
  GS_INFO("-", "%s", big);
  drain(buf, sizeof(buf));
  assert_int_equal(count_lines(buf), 1);
  assert_true(strlen(buf) < 4096);
}

static void test_gs_log_level_parse_names(void **state) {
  gs_log_level l;
  gs_log_format f;

  (void)state;
  assert_int_equal(gs_log_level_parse("debug", &l), 0);
  assert_int_equal(l, GS_LOG_DEBUG);
  assert_int_equal(gs_log_level_parse("off", &l), 0);
  assert_int_equal(l, GS_LOG_OFF);
  assert_int_equal(gs_log_level_parse("warning", &l), 0);
  assert_int_equal(l, GS_LOG_WARN);
  assert_int_not_equal(gs_log_level_parse("loud", &l), 0);
  assert_int_equal(gs_log_format_parse("json", &f), 0);
  assert_int_equal(f, GS_LOG_JSON);
  assert_int_not_equal(gs_log_format_parse("xml", &f), 0);
  assert_string_equal(gs_log_level_name(GS_LOG_ERROR), "error");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_gs_log_write_levels_filtered, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_log_write_escapes_client_bytes,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_log_write_json_lines, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_log_write_long_message_one_line,
                                      setup, teardown),
      cmocka_unit_test(test_gs_log_level_parse_names),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
