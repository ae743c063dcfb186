/* An asynchronous HTTP client: libcurl's multi interface on a libuv loop. */
#ifndef GITSPACE_HTTP_H
#define GITSPACE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct gs_http gs_http;
typedef struct gs_http_request gs_http_request;

typedef struct {
  long status;            /* HTTP status of the final response; 0 if none */
  int error;              /* 0, or GS_ETIMEDOUT, GS_ECONNREFUSED, GS_EIO... */
  const char *error_text; /* what went wrong at the transport, or "" */
  const char *body;       /* NUL-terminated; "" when empty or streamed */
  size_t body_len;
  double total_ms; /* time the request took */
} gs_http_response;

/* Called once per request unless it was cancelled. `resp` and everything it
 * points to are valid only during the call. */
typedef void (*gs_http_done_fn)(gs_http_request *req,
                                const gs_http_response *resp, void *data);

/* Called with each piece of the body when streaming is asked for; return 0
 * to go on, non-zero to abort the request (done then reports GS_ECANCELED).
 * `chunk` is borrowed. */
typedef int (*gs_http_data_fn)(gs_http_request *req, const char *chunk,
                               size_t len, void *data);

typedef struct {
  const char *method; /* "GET" (default), "HEAD", "POST", ... */
  const char *url;
  const char *const *headers; /* "Name: value" strings, NULL-terminated */
  const char *body;           /* request body or NULL */
  size_t body_len;
  uint64_t timeout_ms;         /* whole request; 0: none */
  uint64_t connect_timeout_ms; /* 0: libcurl's default */
  size_t max_body;             /* bytes kept; more is an error; 0: 1 MiB */
  const char *ca_file;         /* PEM bundle; NULL: the system's */
  const char *client_cert;     /* PEM file, with client_key; or NULL */
  const char *client_key;
  bool insecure_skip_verify; /* no TLS verification (tests only) */
  bool follow_redirects;
  gs_http_data_fn on_data; /* stream the body instead of keeping it */
} gs_http_options;

/* Creates a client on `loop`. Returns 0 or a GS_E* code; *out is closed by
 * gs_http_close. */
int gs_http_new(uv_loop_t *loop, gs_http **out);

/* Starts a request. Every string in `opts` is copied. `done` runs later from
 * the loop, never from within this call. On success stores the request in
 * *out (may be NULL), valid until `done` runs or gs_http_cancel. Returns 0
 * or a GS_E* code. */
int gs_http_start(gs_http *http, const gs_http_options *opts,
                  gs_http_done_fn done, void *data, gs_http_request **out);

/* Stops a request; its `done` will not run. */
void gs_http_cancel(gs_http_request *req);

/* Returns the value of response header `name` (case-insensitive) of the
 * final response, or NULL. Valid only inside `done` (or `on_data`). */
const char *gs_http_header(const gs_http_request *req, const char *name);

/* Cancels every request, closes the client's handles and frees it; `done`
 * (optional) runs once all handles have closed. */
void gs_http_close(gs_http *http, void (*done)(void *data), void *data);

#endif
