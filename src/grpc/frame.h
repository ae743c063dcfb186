/* gRPC length-prefixed messages: a 1-byte flag and a 4-byte length. */
#ifndef GS_GRPC_FRAME_H
#define GS_GRPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GS_FRAME_HEADER_LEN 5

/* Called for each complete message. `body` (`len` bytes, NULL when empty)
 * is handed over: the callee frees it. Return 0 to go on, or an error code
 * to stop feeding. */
typedef int (*gs_frame_message_cb)(void *arg, bool compressed, uint8_t *body,
                                   size_t len);

typedef struct {
  uint8_t header[GS_FRAME_HEADER_LEN];
  size_t header_len;
  uint8_t *body;
  size_t body_len;
  size_t body_need;
  bool compressed;
  size_t max_len;
} gs_frame_decoder;

void gs_frame_decoder_init(gs_frame_decoder *d, size_t max_len);

/* Feeds `len` bytes. Returns 0, GS_ERANGE when a message announces more than
 * the limit (nothing of it is buffered), GS_ENOMEM, GS_EPROTO when the flag
 * byte is neither 0 nor 1, or the callback's error. */
int gs_frame_decoder_feed(gs_frame_decoder *d, const uint8_t *data, size_t len,
                          gs_frame_message_cb cb, void *arg);

/* True when a message has started but not ended. */
bool gs_frame_decoder_partial(const gs_frame_decoder *d);

/* The length the current message announced (valid after GS_ERANGE). */
size_t gs_frame_decoder_announced(const gs_frame_decoder *d);

void gs_frame_decoder_free(gs_frame_decoder *d);

/* Writes a message prefix for a body of `len` bytes into `out`. */
void gs_frame_encode_header(uint8_t out[GS_FRAME_HEADER_LEN], bool compressed,
                            uint32_t len);

#endif
