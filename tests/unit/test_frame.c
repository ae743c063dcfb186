/* Unit tests: gRPC message framing (src/grpc/frame.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "gitspace/error.h"

typedef struct {
  unsigned count;
  bool compressed[4];
  size_t len[4];
  uint8_t first[4];
  int stop_with;
} sink;

static int sink_take(void *arg, bool compressed, uint8_t *body, size_t len) {
  sink *s = arg;

  if (s->count < 4) {
    s->compressed[s->count] = compressed;
    s->len[s->count] = len;
    s->first[s->count] = len > 0 ? body[0] : 0;
  }
  s->count++;
  free(body);
  return s->stop_with;
}

static void test_gs_frame_encode_header_big_endian(void **state) {
  uint8_t h[GS_FRAME_HEADER_LEN];

  (void)state;
  gs_frame_encode_header(h, false, 0x01020304);
  assert_int_equal(h[0], 0);
  assert_int_equal(h[1], 1);
  assert_int_equal(h[2], 2);
  assert_int_equal(h[3], 3);
  assert_int_equal(h[4], 4);
  gs_frame_encode_header(h, true, 5);
  assert_int_equal(h[0], 1);
  assert_int_equal(h[4], 5);
}

static void test_gs_frame_decoder_feed_whole_message(void **state) {
  const uint8_t in[] = {0, 0, 0, 0, 3, 'a', 'b', 'c'};
  gs_frame_decoder d;
  sink s = {0};

  (void)state;
  gs_frame_decoder_init(&d, 100);
  assert_int_equal(gs_frame_decoder_feed(&d, in, sizeof(in), sink_take, &s), 0);
  assert_int_equal(s.count, 1);
  assert_int_equal(s.len[0], 3);
  assert_int_equal(s.first[0], 'a');
  assert_false(s.compressed[0]);
  assert_false(gs_frame_decoder_partial(&d));
  gs_frame_decoder_free(&d);
}

/* Every split point of two messages gives the same two messages. */
static void test_gs_frame_decoder_feed_byte_by_byte(void **state) {
  const uint8_t in[] = {0, 0, 0, 0, 2, 'x', 'y', 0, 0,
                        0, 0, 0, 0, 0, 0,   0,   1, 'z'};
  (void)state;
  for (size_t cut = 0; cut <= sizeof(in); cut++) {
    gs_frame_decoder d;
    sink s = {0};

    gs_frame_decoder_init(&d, 100);
    assert_int_equal(gs_frame_decoder_feed(&d, in, cut, sink_take, &s), 0);
    assert_int_equal(
        gs_frame_decoder_feed(&d, in + cut, sizeof(in) - cut, sink_take, &s),
        0);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.len[0], 2);
    assert_int_equal(s.first[0], 'x');
    assert_int_equal(s.len[1], 0);
    assert_int_equal(s.len[2], 1);
    assert_int_equal(s.first[2], 'z');
    assert_false(gs_frame_decoder_partial(&d));
    gs_frame_decoder_free(&d);
  }
}

static void test_gs_frame_decoder_feed_over_limit(void **state) {
  const uint8_t in[] = {0, 0, 0x40, 0, 1, 'a'};
  gs_frame_decoder d;
  sink s = {0};

  (void)state;
  gs_frame_decoder_init(&d, 4 * 1024 * 1024);
  assert_int_equal(gs_frame_decoder_feed(&d, in, sizeof(in), sink_take, &s),
                   GS_ERANGE);
  assert_int_equal(gs_frame_decoder_announced(&d), 0x400001);
  assert_int_equal(s.count, 0);
  gs_frame_decoder_free(&d);
}

static void test_gs_frame_decoder_feed_at_limit(void **state) {
  uint8_t in[GS_FRAME_HEADER_LEN + 16] = {0};
  gs_frame_decoder d;
  sink s = {0};

  (void)state;
  gs_frame_encode_header(in, false, 16);
  gs_frame_decoder_init(&d, 16);
  assert_int_equal(gs_frame_decoder_feed(&d, in, sizeof(in), sink_take, &s), 0);
  assert_int_equal(s.count, 1);
  assert_int_equal(s.len[0], 16);
  gs_frame_decoder_free(&d);
}

static void test_gs_frame_decoder_feed_compressed_flag(void **state) {
  const uint8_t in[] = {1, 0, 0, 0, 1, 'q'};
  gs_frame_decoder d;
  sink s = {0};

  (void)state;
  gs_frame_decoder_init(&d, 100);
  assert_int_equal(gs_frame_decoder_feed(&d, in, sizeof(in), sink_take, &s), 0);
  assert_true(s.compressed[0]);
  gs_frame_decoder_free(&d);
}

static void test_gs_frame_decoder_feed_bad_flag(void **state) {
  const uint8_t in[] = {7, 0, 0, 0, 1, 'q'};
  gs_frame_decoder d;
  sink s = {0};

  (void)state;
  gs_frame_decoder_init(&d, 100);
  assert_int_equal(gs_frame_decoder_feed(&d, in, sizeof(in), sink_take, &s),
                   GS_EPROTO);
  assert_int_equal(s.count, 0);
  gs_frame_decoder_free(&d);
}

static void test_gs_frame_decoder_partial_truncated(void **state) {
  const uint8_t in[] = {0, 0, 0, 0, 9, 'a', 'b'};
  gs_frame_decoder d;
  sink s = {0};

  (void)state;
  gs_frame_decoder_init(&d, 100);
  assert_false(gs_frame_decoder_partial(&d));
  assert_int_equal(gs_frame_decoder_feed(&d, in, 3, sink_take, &s), 0);
  assert_true(gs_frame_decoder_partial(&d));
  assert_int_equal(gs_frame_decoder_feed(&d, in + 3, 4, sink_take, &s), 0);
  assert_true(gs_frame_decoder_partial(&d));
  assert_int_equal(s.count, 0);
  /* Freeing a decoder in the middle of a message releases its buffer. */
  gs_frame_decoder_free(&d);
}

static void test_gs_frame_decoder_feed_callback_error_stops(void **state) {
  const uint8_t in[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  gs_frame_decoder d;
  sink s = {0};

  (void)state;
  s.stop_with = GS_EINVAL;
  gs_frame_decoder_init(&d, 100);
  assert_int_equal(gs_frame_decoder_feed(&d, in, sizeof(in), sink_take, &s),
                   GS_EINVAL);
  assert_int_equal(s.count, 1);
  gs_frame_decoder_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_frame_encode_header_big_endian),
      cmocka_unit_test(test_gs_frame_decoder_feed_whole_message),
      cmocka_unit_test(test_gs_frame_decoder_feed_byte_by_byte),
      cmocka_unit_test(test_gs_frame_decoder_feed_over_limit),
      cmocka_unit_test(test_gs_frame_decoder_feed_at_limit),
      cmocka_unit_test(test_gs_frame_decoder_feed_compressed_flag),
      cmocka_unit_test(test_gs_frame_decoder_feed_bad_flag),
      cmocka_unit_test(test_gs_frame_decoder_partial_truncated),
      cmocka_unit_test(test_gs_frame_decoder_feed_callback_error_stops),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
