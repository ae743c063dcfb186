/* A gRPC test client built on nanopb and libcurl: a protobuf codec and an
 * HTTP/2 stack independent of the daemon's, so that encoding or framing bugs
 * on either side show.
 *
 *   nanopb_client SOCKET check [SERVICE]    health Check answers SERVING
 *   nanopb_client SOCKET resolve-image      ResolveImage from the catalog
 *   nanopb_client SOCKET echo SIZE [N]      SIZE random bytes round trip,
 *                                           N times (one connection each)
 *   nanopb_client SOCKET stream COUNT SIZE  COUNT generated messages arrive
 *
 * Exits 0 when the expectation holds, 1 when it does not, 2 on bad usage. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "gitspace/orchestrator/v1/orchestrator.pb.h"
#include "gitspace/testing/v1/echo.pb.h"
#include "grpc/health/v1/health.pb.h"

#define NP_PATTERN_PERIOD 251u
#define NP_GRPC_OK 0
#define NP_GRPC_UNIMPLEMENTED 12

/* A byte buffer: owned by whoever holds the struct, freed by np_buf_free. */
typedef struct {
  uint8_t *data;
  size_t len;
  size_t cap;
} np_buf;

/* What came back from one call. */
typedef struct {
  long http_status;
  int grpc_status; /* -1 when the server sent none */
  char grpc_message[1024];
  char content_type[128];
  np_buf body;
} np_response;

static void np_buf_free(np_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

static bool np_buf_append(np_buf *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap > 0 ? b->cap : 4096;
    uint8_t *grown;

    while (cap < b->len + len) {
      cap *= 2;
    }
    grown = realloc(b->data, cap);
    if (grown == NULL) {
      return false;
    }
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return true;
}

/* ---- HTTP/2 through libcurl ---------------------------------------------- */

static size_t np_on_body(char *ptr, size_t size, size_t n, void *data) {
  np_response *resp = data;

  if (!np_buf_append(&resp->body, ptr, size * n)) {
    return 0;
  }
  return size * n;
}

static int np_hex(int c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = tolower(c);
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

/* Percent-decodes a grpc-message value into `out`. */
static void np_decode_message(const char *in, size_t len, char *out,
                              size_t outlen) {
  size_t o = 0;

  for (size_t i = 0; i < len && o + 1 < outlen; i++) {
    if (in[i] == '%' && i + 2 < len && np_hex(in[i + 1]) >= 0 &&
        np_hex(in[i + 2]) >= 0) {
      out[o++] = (char)(np_hex(in[i + 1]) * 16 + np_hex(in[i + 2]));
      i += 2;
    } else {
      out[o++] = in[i];
    }
  }
  out[o] = '\0';
}

/* Sees the response headers and, after the body, the trailers. */
static size_t np_on_header(char *ptr, size_t size, size_t n, void *data) {
  np_response *resp = data;
  size_t len = size * n;
  const char *colon = memchr(ptr, ':', len);
  size_t name_len;
  const char *value;
  size_t value_len;

  if (colon == NULL) {
    return len;
  }
  name_len = (size_t)(colon - ptr);
  value = colon + 1;
  value_len = len - name_len - 1;
  while (value_len > 0 && (*value == ' ' || *value == '\t')) {
    value++;
    value_len--;
  }
  while (value_len > 0 &&
         (value[value_len - 1] == '\r' || value[value_len - 1] == '\n' ||
          value[value_len - 1] == ' ')) {
    value_len--;
  }

  if (name_len == 11 && strncasecmp(ptr, "grpc-status", 11) == 0) {
    char digits[16];

    if (value_len >= sizeof(digits)) {
      value_len = sizeof(digits) - 1;
    }
    memcpy(digits, value, value_len);
    digits[value_len] = '\0';
    resp->grpc_status = atoi(digits);
  } else if (name_len == 12 && strncasecmp(ptr, "grpc-message", 12) == 0) {
    np_decode_message(value, value_len, resp->grpc_message,
                      sizeof(resp->grpc_message));
  } else if (name_len == 12 && strncasecmp(ptr, "content-type", 12) == 0) {
    if (value_len >= sizeof(resp->content_type)) {
      value_len = sizeof(resp->content_type) - 1;
    }
    memcpy(resp->content_type, value, value_len);
    resp->content_type[value_len] = '\0';
  }
  return len;
}

/* POSTs one framed message to /<path> over the Unix socket. Returns false
 * (after saying why) when the HTTP exchange itself failed. */
static bool np_call(const char *socket_path, const char *path,
                    const np_buf *framed, np_response *resp) {
  char url[512];
  struct curl_slist *headers = NULL;
  CURL *h = curl_easy_init();
  CURLcode rc;

  memset(resp, 0, sizeof(*resp));
  resp->grpc_status = -1;
  if (h == NULL) {
    fprintf(stderr, "curl_easy_init failed\n");
    return false;
  }

  snprintf(url, sizeof(url), "http://localhost%s", path);
  headers = curl_slist_append(headers, "content-type: application/grpc");
  headers = curl_slist_append(headers, "te: trailers");
  headers = curl_slist_append(headers, "grpc-timeout: 30S");
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_path);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                   (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)framed->data);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)framed->len);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "gs-nanopb-client");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, np_on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, np_on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
  /* A response that stalls shows as a timeout, not a hung test. */
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);

  rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->http_status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);

  if (rc != CURLE_OK) {
    fprintf(stderr, "%s: curl: %s\n", path, curl_easy_strerror(rc));
    return false;
  }
  return true;
}

/* ---- gRPC framing with nanopb -------------------------------------------- */

/* Encodes `msg` behind the 5-byte gRPC prefix into `out` (owned by the
 * caller). */
static bool np_frame(const pb_msgdesc_t *fields, const void *msg, np_buf *out) {
  size_t size;
  pb_ostream_t os;

  memset(out, 0, sizeof(*out));
  if (!pb_get_encoded_size(&size, fields, msg)) {
    return false;
  }
  out->data = malloc(5 + size);
  if (out->data == NULL) {
    return false;
  }
  out->len = out->cap = 5 + size;
  out->data[0] = 0;
  out->data[1] = (uint8_t)(size >> 24);
  out->data[2] = (uint8_t)(size >> 16);
  out->data[3] = (uint8_t)(size >> 8);
  out->data[4] = (uint8_t)size;
  os = pb_ostream_from_buffer(out->data + 5, size);
  if (!pb_encode(&os, fields, msg) || os.bytes_written != size) {
    fprintf(stderr, "pb_encode: %s\n", PB_GET_ERROR(&os));
    np_buf_free(out);
    return false;
  }
  return true;
}

/* Finds message `k` of a response body. Returns false when the body holds
 * fewer messages or is malformed (a compressed flag, a short message). */
static bool np_message_at(const np_buf *body, size_t k, const uint8_t **data,
                          size_t *len) {
  size_t off = 0;

  for (size_t i = 0;; i++) {
    uint32_t n;

    if (body->len - off < 5) {
      return false;
    }
    if (body->data[off] != 0) {
      fprintf(stderr, "message %zu has compressed flag %u\n", i,
              body->data[off]);
      return false;
    }
    n = (uint32_t)body->data[off + 1] << 24 |
        (uint32_t)body->data[off + 2] << 16 |
        (uint32_t)body->data[off + 3] << 8 | (uint32_t)body->data[off + 4];
    if (body->len - off - 5 < n) {
      fprintf(stderr, "message %zu is cut short\n", i);
      return false;
    }
    if (i == k) {
      *data = body->data + off + 5;
      *len = n;
      return true;
    }
    off += 5 + n;
  }
}

static size_t np_message_count(const np_buf *body) {
  size_t count = 0;
  const uint8_t *data;
  size_t len;

  while (np_message_at(body, count, &data, &len)) {
    count++;
  }
  return count;
}

static bool np_expect_status(const char *what, const np_response *resp,
                             int code) {
  if (resp->http_status != 200) {
    fprintf(stderr, "%s: HTTP status %ld, want 200\n", what, resp->http_status);
    return false;
  }
  if (strncmp(resp->content_type, "application/grpc", 16) != 0) {
    fprintf(stderr, "%s: content-type \"%s\"\n", what, resp->content_type);
    return false;
  }
  if (resp->grpc_status != code) {
    fprintf(stderr, "%s: grpc-status %d (%s), want %d\n", what,
            resp->grpc_status, resp->grpc_message, code);
    return false;
  }
  return true;
}

/* ---- bytes fields as callbacks ------------------------------------------- */

typedef struct {
  const uint8_t *data;
  size_t len;
} np_slice;

static bool np_encode_bytes(pb_ostream_t *os, const pb_field_t *field,
                            void *const *arg) {
  const np_slice *s = *arg;

  return pb_encode_tag_for_field(os, field) &&
         pb_encode_string(os, s->data, s->len);
}

/* Reads a bytes field into an np_buf (a later occurrence replaces it). */
static bool np_decode_bytes(pb_istream_t *is, const pb_field_t *field,
                            void **arg) {
  np_buf *b = *arg;
  size_t n = is->bytes_left;

  (void)field;
  b->len = 0;
  if (n > b->cap) {
    uint8_t *grown = realloc(b->data, n);

    if (grown == NULL) {
      return false;
    }
    b->data = grown;
    b->cap = n;
  }
  if (!pb_read(is, b->data, n)) {
    return false;
  }
  b->len = n;
  return true;
}

static void np_pattern(uint8_t *out, size_t len, uint32_t index) {
  for (size_t i = 0; i < len; i++) {
    out[i] = (uint8_t)((index + i) % NP_PATTERN_PERIOD);
  }
}

/* ---- subcommands --------------------------------------------------------- */

static int np_cmd_check(const char *sock, const char *service) {
  grpc_health_v1_HealthCheckRequest req =
      grpc_health_v1_HealthCheckRequest_init_zero;
  grpc_health_v1_HealthCheckResponse out =
      grpc_health_v1_HealthCheckResponse_init_zero;
  np_response resp = {0};
  np_buf framed;
  const uint8_t *data;
  size_t len;
  pb_istream_t is;
  int rc = 1;

  snprintf(req.service, sizeof(req.service), "%s", service);
  if (!np_frame(grpc_health_v1_HealthCheckRequest_fields, &req, &framed)) {
    return 1;
  }
  if (!np_call(sock, "/grpc.health.v1.Health/Check", &framed, &resp)) {
    goto out;
  }
  if (!np_expect_status("Check", &resp, NP_GRPC_OK)) {
    goto out;
  }
  if (np_message_count(&resp.body) != 1 ||
      !np_message_at(&resp.body, 0, &data, &len)) {
    fprintf(stderr, "Check: want exactly one message\n");
    goto out;
  }
  is = pb_istream_from_buffer(data, len);
  if (!pb_decode(&is, grpc_health_v1_HealthCheckResponse_fields, &out)) {
    fprintf(stderr, "Check: pb_decode: %s\n", PB_GET_ERROR(&is));
    goto out;
  }
  if (out.status != grpc_health_v1_HealthCheckResponse_ServingStatus_SERVING) {
    fprintf(stderr, "Check: status %d, want SERVING\n", (int)out.status);
    goto out;
  }
  printf("Check \"%s\": SERVING\n", service);
  rc = 0;

out:
  np_buf_free(&resp.body);
  np_buf_free(&framed);
  return rc;
}

/* Decodes one length-prefixed ResolveImageResponse from the body. */
static bool
np_decode_resolve(const np_response *resp,
                  gitspace_orchestrator_v1_ResolveImageResponse *out) {
  pb_istream_t is;

  if (resp->body.len < 5) {
    fprintf(stderr, "ResolveImage: %zu body bytes, no message\n",
            resp->body.len);
    return false;
  }
  is = pb_istream_from_buffer(resp->body.data + 5, resp->body.len - 5);
  if (!pb_decode(&is, gitspace_orchestrator_v1_ResolveImageResponse_fields,
                 out)) {
    fprintf(stderr, "ResolveImage: pb_decode: %s\n", PB_GET_ERROR(&is));
    return false;
  }
  return true;
}

static int np_cmd_resolve_image(const char *sock) {
  gitspace_orchestrator_v1_ResolveImageRequest req =
      gitspace_orchestrator_v1_ResolveImageRequest_init_zero;
  gitspace_orchestrator_v1_ResolveImageResponse out =
      gitspace_orchestrator_v1_ResolveImageResponse_init_zero;
  np_response resp = {0};
  np_buf framed;
  int rc = 1;

  snprintf(req.gitspace_id, sizeof(req.gitspace_id), "gs-nanopb");
  snprintf(req.ide_type, sizeof(req.ide_type), "vs_code_web");
  req.verify = gitspace_orchestrator_v1_VerifyMode_VERIFY_MODE_NEVER;
  if (!np_frame(gitspace_orchestrator_v1_ResolveImageRequest_fields, &req,
                &framed)) {
    return 1;
  }
  if (!np_call(sock, "/gitspace.orchestrator.v1.Orchestrator/ResolveImage",
               &framed, &resp)) {
    goto out;
  }
  if (!np_expect_status("ResolveImage", &resp, 0)) {
    goto out;
  }
  if (!np_decode_resolve(&resp, &out)) {
    goto out;
  }
  if (strcmp(out.image, "ghcr.io/ysicing/gitspace-runtime:vscode-web-latest") !=
          0 ||
      !out.prebuilt ||
      out.source !=
          gitspace_orchestrator_v1_ImageSource_IMAGE_SOURCE_PREBUILT ||
      out.ide_port != 8089 || strcmp(out.ide_family, "code-server") != 0) {
    fprintf(stderr,
            "ResolveImage: unexpected answer %s prebuilt=%d "
            "source=%d port=%u family=%s\n",
            out.image, (int)out.prebuilt, (int)out.source,
            (unsigned)out.ide_port, out.ide_family);
    goto out;
  }
  printf("ResolveImage: %s\n", out.image);
  rc = 0;

out:
  np_buf_free(&resp.body);
  np_buf_free(&framed);
  return rc;
}

static int np_echo_once(const char *sock, size_t size, unsigned seed) {
  gitspace_testing_v1_EchoRequest req =
      gitspace_testing_v1_EchoRequest_init_zero;
  gitspace_testing_v1_EchoResponse out =
      gitspace_testing_v1_EchoResponse_init_zero;
  np_slice sent = {NULL, size};
  np_buf got = {0};
  np_buf framed = {0};
  np_response resp = {0};
  uint8_t *payload = malloc(size > 0 ? size : 1);
  const uint8_t *data;
  size_t len;
  pb_istream_t is;
  int rc = 1;

  if (payload == NULL) {
    return 1;
  }
  srand(seed);
  for (size_t i = 0; i < size; i++) {
    payload[i] = (uint8_t)(rand() >> 7);
  }
  sent.data = payload;
  req.payload.funcs.encode = np_encode_bytes;
  req.payload.arg = &sent;
  if (!np_frame(gitspace_testing_v1_EchoRequest_fields, &req, &framed)) {
    goto out;
  }
  if (!np_call(sock, "/gitspace.testing.v1.Echo/Echo", &framed, &resp)) {
    goto out;
  }
  if (!np_expect_status("Echo", &resp, NP_GRPC_OK)) {
    goto out;
  }
  if (np_message_count(&resp.body) != 1 ||
      !np_message_at(&resp.body, 0, &data, &len)) {
    fprintf(stderr, "Echo: want exactly one message\n");
    goto out;
  }
  out.payload.funcs.decode = np_decode_bytes;
  out.payload.arg = &got;
  is = pb_istream_from_buffer(data, len);
  if (!pb_decode(&is, gitspace_testing_v1_EchoResponse_fields, &out)) {
    fprintf(stderr, "Echo: pb_decode: %s\n", PB_GET_ERROR(&is));
    goto out;
  }
  if (got.len != size || (size > 0 && memcmp(got.data, payload, size) != 0)) {
    fprintf(stderr, "Echo: got %zu bytes back, sent %zu, or they differ\n",
            got.len, size);
    goto out;
  }
  rc = 0;

out:
  np_buf_free(&got);
  np_buf_free(&resp.body);
  np_buf_free(&framed);
  free(payload);
  return rc;
}

/* `repeat` round trips, each on its own connection with its own payload. */
static int np_cmd_echo(const char *sock, size_t size, uint32_t repeat) {
  for (uint32_t i = 0; i < repeat; i++) {
    if (np_echo_once(sock, size, 12345u + (unsigned)size + i) != 0) {
      fprintf(stderr, "Echo: call %u of %u failed\n", i + 1, repeat);
      return 1;
    }
  }
  printf("Echo: %zu bytes round trip, %u times\n", size, repeat);
  return 0;
}

static int np_cmd_stream(const char *sock, uint32_t count, uint32_t size) {
  gitspace_testing_v1_StreamRequest req =
      gitspace_testing_v1_StreamRequest_init_zero;
  np_buf framed = {0};
  np_buf got = {0};
  np_response resp = {0};
  uint8_t *want = malloc(size > 0 ? size : 1);
  int rc = 1;

  if (want == NULL) {
    return 1;
  }
  req.count = count;
  req.size = size;
  if (!np_frame(gitspace_testing_v1_StreamRequest_fields, &req, &framed)) {
    goto out;
  }
  if (!np_call(sock, "/gitspace.testing.v1.Echo/Stream", &framed, &resp)) {
    goto out;
  }
  if (!np_expect_status("Stream", &resp, NP_GRPC_OK)) {
    goto out;
  }
  if (np_message_count(&resp.body) != count) {
    fprintf(stderr, "Stream: %zu messages, want %u\n",
            np_message_count(&resp.body), count);
    goto out;
  }
  for (uint32_t k = 0; k < count; k++) {
    gitspace_testing_v1_EchoResponse out =
        gitspace_testing_v1_EchoResponse_init_zero;
    const uint8_t *data;
    size_t len;
    pb_istream_t is;

    np_message_at(&resp.body, k, &data, &len);
    got.len = 0;
    out.payload.funcs.decode = np_decode_bytes;
    out.payload.arg = &got;
    is = pb_istream_from_buffer(data, len);
    if (!pb_decode(&is, gitspace_testing_v1_EchoResponse_fields, &out)) {
      fprintf(stderr, "Stream: message %u: pb_decode: %s\n", k,
              PB_GET_ERROR(&is));
      goto out;
    }
    np_pattern(want, size, k);
    if (out.index != k || got.len != size ||
        (size > 0 && memcmp(got.data, want, size) != 0)) {
      fprintf(stderr,
              "Stream: message %u: index %u, %zu bytes, or wrong "
              "content\n",
              k, out.index, got.len);
      goto out;
    }
  }
  printf("Stream: %u messages of %u bytes\n", count, size);
  rc = 0;

out:
  np_buf_free(&got);
  np_buf_free(&resp.body);
  np_buf_free(&framed);
  free(want);
  return rc;
}

static bool np_parse_u32(const char *s, uint32_t *out) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);

  if (*s == '\0' || *end != '\0' || v > UINT32_MAX) {
    return false;
  }
  *out = (uint32_t)v;
  return true;
}

static int np_usage(void) {
  fprintf(stderr, "usage: nanopb_client SOCKET check [SERVICE]\n"
                  "       nanopb_client SOCKET resolve-image\n"
                  "       nanopb_client SOCKET echo SIZE [REPEAT]\n"
                  "       nanopb_client SOCKET stream COUNT SIZE\n");
  return 2;
}

static int np_run(int argc, char **argv) {
  const char *sock = argv[1];
  const char *cmd = argv[2];
  uint32_t a;
  uint32_t b;

  if (strcmp(cmd, "check") == 0 && argc <= 4) {
    return np_cmd_check(sock, argc == 4 ? argv[3] : "");
  }
  if (strcmp(cmd, "resolve-image") == 0 && argc == 3) {
    return np_cmd_resolve_image(sock);
  }
  if (strcmp(cmd, "echo") == 0 && (argc == 4 || argc == 5) &&
      np_parse_u32(argv[3], &a)) {
    b = 1;
    if (argc == 5 && (!np_parse_u32(argv[4], &b) || b == 0)) {
      return np_usage();
    }
    return np_cmd_echo(sock, a, b);
  }
  if (strcmp(cmd, "stream") == 0 && argc == 5 && np_parse_u32(argv[3], &a) &&
      np_parse_u32(argv[4], &b)) {
    return np_cmd_stream(sock, a, b);
  }
  return np_usage();
}

int main(int argc, char **argv) {
  int rc;

  if (argc < 3) {
    return np_usage();
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "curl_global_init failed\n");
    return 1;
  }
  rc = np_run(argc, argv);
  curl_global_cleanup();
  return rc;
}
