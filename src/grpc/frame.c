/* Splitting a gRPC request body into length-prefixed messages. */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "gitspace/error.h"

void gs_frame_decoder_init(gs_frame_decoder *d, size_t max_len) {
  memset(d, 0, sizeof(*d));
  d->max_len = max_len;
}

static uint32_t frame_read_len(const uint8_t *p) {
  return (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 |
         (uint32_t)p[4];
}

/* Called once the five header bytes are in: checks and allocates. */
static int frame_start_body(gs_frame_decoder *d) {
  if (d->header[0] > 1) {
    return GS_EPROTO;
  }
  d->compressed = d->header[0] == 1;
  d->body_need = frame_read_len(d->header);
  d->body_len = 0;
  if (d->body_need > d->max_len) {
    return GS_ERANGE;
  }
  if (d->body_need > 0) {
    d->body = malloc(d->body_need);
    if (d->body == NULL) {
      return GS_ENOMEM;
    }
  }
  return 0;
}

static int frame_deliver(gs_frame_decoder *d, gs_frame_message_cb cb,
                         void *arg) {
  uint8_t *body = d->body;
  size_t len = d->body_len;

  d->body = NULL;
  d->body_len = 0;
  d->body_need = 0;
  d->header_len = 0;
  return cb(arg, d->compressed, body, len);
}

int gs_frame_decoder_feed(gs_frame_decoder *d, const uint8_t *data, size_t len,
                          gs_frame_message_cb cb, void *arg) {
  int rv;

  while (len > 0) {
    if (d->header_len < GS_FRAME_HEADER_LEN) {
      size_t n = GS_FRAME_HEADER_LEN - d->header_len;

      n = n < len ? n : len;
      memcpy(d->header + d->header_len, data, n);
      d->header_len += n;
      data += n;
      len -= n;
      if (d->header_len < GS_FRAME_HEADER_LEN) {
        break;
      }
      rv = frame_start_body(d);
      if (rv != 0) {
        return rv;
      }
    } else {
      size_t n = d->body_need - d->body_len;

      n = n < len ? n : len;
      memcpy(d->body + d->body_len, data, n);
      d->body_len += n;
      data += n;
      len -= n;
    }
    if (d->body_len == d->body_need) {
      rv = frame_deliver(d, cb, arg);
      if (rv != 0) {
        return rv;
      }
    }
  }
  return 0;
}

bool gs_frame_decoder_partial(const gs_frame_decoder *d) {
  return d->header_len > 0;
}

size_t gs_frame_decoder_announced(const gs_frame_decoder *d) {
  if (d->header_len < GS_FRAME_HEADER_LEN) {
    return 0;
  }
  return frame_read_len(d->header);
}

void gs_frame_decoder_free(gs_frame_decoder *d) {
  free(d->body);
  d->body = NULL;
  d->header_len = 0;
  d->body_len = 0;
}

void gs_frame_encode_header(uint8_t out[GS_FRAME_HEADER_LEN], bool compressed,
                            uint32_t len) {
  out[0] = compressed ? 1 : 0;
  out[1] = (uint8_t)(len >> 24);
  out[2] = (uint8_t)(len >> 16);
  out[3] = (uint8_t)(len >> 8);
  out[4] = (uint8_t)len;
}
