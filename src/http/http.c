/* libcurl's multi interface driven by libuv: sockets, timer, completions. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_api.h"
#include "gitspace/error.h"
#include "gitspace/http.h"
#include "gitspace/log.h"

#define HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTP_HEADERS_MAX ((size_t)64 * 1024)

struct gs_http {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;
  gs_http_request *requests;
  unsigned handles_open;
  bool closing;
  void (*closed)(void *data);
  void *closed_data;
};

struct gs_http_request {
  gs_http *http;
  gs_http_request *prev;
  gs_http_request *next;
  CURL *easy;
  struct curl_slist *headers;
  char *url;
  char *body;
  char *method;
  char *ca_file;
  char *client_cert;
  char *client_key;
  gs_http_done_fn done;
  gs_http_data_fn on_data;
  void *data;
  /* Response. */
  char *resp_body;
  size_t resp_len;
  size_t resp_cap;
  size_t max_body;
  char *resp_headers; /* "name: value\0" lines of the last response */
  size_t hdr_len;
  size_t hdr_cap;
  bool too_big;
  bool aborted;
  char errbuf[CURL_ERROR_SIZE];
};

typedef struct {
  uv_poll_t poll;
  curl_socket_t fd;
  gs_http *http;
} http_socket;

static void http_handle_closed(uv_handle_t *handle);

/* ---- completion ---------------------------------------------------------- */

static void http_unlink(gs_http_request *req) {
  gs_http *http = req->http;

  if (req->prev != NULL) {
    req->prev->next = req->next;
  } else {
    http->requests = req->next;
  }
  if (req->next != NULL) {
    req->next->prev = req->prev;
  }
}

static void http_request_free(gs_http_request *req) {
  if (req->easy != NULL) {
    gs_curl.multi_remove_handle(req->http->multi, req->easy);
    gs_curl.easy_cleanup(req->easy);
  }
  gs_curl.slist_free_all(req->headers);
  free(req->url);
  free(req->body);
  free(req->method);
  free(req->ca_file);
  free(req->client_cert);
  free(req->client_key);
  free(req->resp_body);
  free(req->resp_headers);
  free(req);
}

static int http_error_code(CURLcode rc) {
  switch (rc) {
  case CURLE_OK:
    return 0;
  case CURLE_OPERATION_TIMEDOUT:
    return GS_ETIMEDOUT;
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return GS_ECONNREFUSED;
  case CURLE_WRITE_ERROR:
  case CURLE_ABORTED_BY_CALLBACK:
    return GS_ECANCELED;
  case CURLE_FILESIZE_EXCEEDED:
    return GS_ERANGE;
  case CURLE_OUT_OF_MEMORY:
    return GS_ENOMEM;
  default:
    return GS_EIO;
  }
}

static void http_complete(gs_http_request *req, CURLcode rc) {
  gs_http_response resp;
  double total = 0;

  memset(&resp, 0, sizeof(resp));
  gs_curl.easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &resp.status);
  gs_curl.easy_getinfo(req->easy, CURLINFO_TOTAL_TIME, &total);
  resp.total_ms = total * 1000.0;
  resp.error = http_error_code(rc);
  if (req->too_big) {
    resp.error = GS_ERANGE;
  } else if (req->aborted) {
    resp.error = GS_ECANCELED;
  }
  if (resp.error == GS_ERANGE) {
    resp.error_text = "response body exceeds the size limit";
  } else if (rc != CURLE_OK) {
    resp.error_text =
        req->errbuf[0] != '\0' ? req->errbuf : gs_curl.easy_strerror(rc);
  } else {
    resp.error_text = "";
  }
  resp.body = req->resp_body != NULL ? req->resp_body : "";
  resp.body_len = req->resp_len;
  http_unlink(req);
  req->done(req, &resp, req->data);
  http_request_free(req);
}

static void http_check_done(gs_http *http) {
  CURLMsg *msg;
  int left;

  while ((msg = gs_curl.multi_info_read(http->multi, &left)) != NULL) {
    gs_http_request *req = NULL;

    if (msg->msg != CURLMSG_DONE) {
      continue;
    }
    gs_curl.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
    if (req != NULL) {
      http_complete(req, msg->data.result);
    }
  }
}

/* ---- libcurl <-> libuv --------------------------------------------------- */

static void http_on_poll(uv_poll_t *poll, int status, int events) {
  http_socket *s = poll->data;
  gs_http *http = s->http;
  int flags = 0;
  int running = 0;

  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    flags |= (events & UV_READABLE) != 0 ? CURL_CSELECT_IN : 0;
    flags |= (events & UV_WRITABLE) != 0 ? CURL_CSELECT_OUT : 0;
  }
  gs_curl.multi_socket_action(http->multi, s->fd, flags, &running);
  http_check_done(http);
}

static void http_on_timer(uv_timer_t *timer) {
  gs_http *http = timer->data;
  int running = 0;

  gs_curl.multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  http_check_done(http);
}

static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  gs_http *http = userp;

  (void)multi;
  if (timeout_ms < 0) {
    uv_timer_stop(&http->timer);
  } else {
    /* Never act from inside libcurl: even 0 waits for the next turn. */
    uv_timer_start(&http->timer, http_on_timer, (uint64_t)timeout_ms, 0);
  }
  return 0;
}

static int http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
                          void *socketp) {
  gs_http *http = userp;
  http_socket *s = socketp;
  int events = 0;

  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (s != NULL) {
      uv_poll_stop(&s->poll);
      uv_close((uv_handle_t *)&s->poll, http_handle_closed);
      gs_curl.multi_assign(http->multi, fd, NULL);
    }
    return 0;
  }
  if (s == NULL) {
    s = calloc(1, sizeof(*s));
    if (s == NULL || uv_poll_init_socket(http->loop, &s->poll, fd) != 0) {
      free(s);
      return -1;
    }
    s->fd = fd;
    s->http = http;
    s->poll.data = s;
    http->handles_open++;
    gs_curl.multi_assign(http->multi, fd, s);
  }
  events |= (what & CURL_POLL_IN) != 0 ? UV_READABLE : 0;
  events |= (what & CURL_POLL_OUT) != 0 ? UV_WRITABLE : 0;
  uv_poll_start(&s->poll, events, http_on_poll);
  return 0;
}

/* ---- request set-up ------------------------------------------------------ */

/* Appends `n` bytes to a growing buffer and keeps it NUL-terminated.
 * Returns 0 or GS_ENOMEM (the buffer is then unchanged). */
static int http_append(char **buf, size_t *len, size_t *cap, const char *p,
                       size_t n) {
  if (*len + n + 1 > *cap) {
    size_t c = *cap == 0 ? 1024 : *cap;
    char *b;

    while (c < *len + n + 1) {
      c *= 2;
    }
    b = realloc(*buf, c);
    if (b == NULL) {
      return GS_ENOMEM;
    }
    *buf = b;
    *cap = c;
  }
  memcpy(*buf + *len, p, n);
  *len += n;
  (*buf)[*len] = '\0';
  return 0;
}

static size_t http_on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  gs_http_request *req = ud;
  size_t n = size * nmemb;

  if (req->on_data != NULL) {
    if (req->on_data(req, ptr, n, req->data) != 0) {
      req->aborted = true;
      return 0;
    }
    return n;
  }
  if (req->resp_len + n > req->max_body) {
    req->too_big = true;
    return 0;
  }
  if (http_append(&req->resp_body, &req->resp_len, &req->resp_cap, ptr, n) !=
      0) {
    return 0;
  }
  return n;
}

/* Keeps the header lines of the last response, "name: value\0" each. */
static size_t http_on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  gs_http_request *req = ud;
  size_t n = size * nmemb;
  size_t len = n;

  if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
    req->hdr_len = 0; /* a new response (after 100, a redirect, ...) */
    return n;
  }
  while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n')) {
    len--;
  }
  if (len == 0) {
    return n;
  }
  if (req->hdr_len + len + 1 > HTTP_HEADERS_MAX) {
    return 0;
  }
  /* The terminator written after each line stays: it ends the line. */
  if (http_append(&req->resp_headers, &req->hdr_len, &req->hdr_cap, ptr, len) !=
      0) {
    return 0;
  }
  req->hdr_len++;
  return n;
}

const char *gs_http_header(const gs_http_request *req, const char *name) {
  size_t nlen = strlen(name);
  size_t off = 0;

  while (off < req->hdr_len) {
    const char *line = req->resp_headers + off;
    size_t llen = strlen(line);

    if (llen > nlen && line[nlen] == ':' &&
        strncasecmp(line, name, nlen) == 0) {
      const char *v = line + nlen + 1;

      while (*v == ' ' || *v == '\t') {
        v++;
      }
      return v;
    }
    off += llen + 1;
  }
  return NULL;
}

static char *http_strdup(const char *s, bool *failed) {
  char *p;

  if (s == NULL) {
    return NULL;
  }
  p = strdup(s);
  if (p == NULL) {
    *failed = true;
  }
  return p;
}

static int http_copy_options(gs_http_request *req, const gs_http_options *o) {
  bool failed = false;

  req->url = http_strdup(o->url, &failed);
  req->method = http_strdup(o->method != NULL ? o->method : "GET", &failed);
  req->ca_file = http_strdup(o->ca_file, &failed);
  req->client_cert = http_strdup(o->client_cert, &failed);
  req->client_key = http_strdup(o->client_key, &failed);
  if (o->body != NULL) {
    req->body = malloc(o->body_len + 1);
    if (req->body == NULL) {
      failed = true;
    } else {
      memcpy(req->body, o->body, o->body_len);
      req->body[o->body_len] = '\0';
    }
  }
  for (size_t i = 0; o->headers != NULL && o->headers[i] != NULL; i++) {
    struct curl_slist *l = gs_curl.slist_append(req->headers, o->headers[i]);

    if (l == NULL) {
      failed = true;
      break;
    }
    req->headers = l;
  }
  return failed || req->url == NULL ? GS_ENOMEM : 0;
}

static void http_setup_tls(gs_http_request *req, const gs_http_options *o) {
  CURL *e = req->easy;

  if (req->ca_file != NULL) {
    gs_curl.easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
  }
  if (req->client_cert != NULL) {
    gs_curl.easy_setopt(e, CURLOPT_SSLCERT, req->client_cert);
    gs_curl.easy_setopt(e, CURLOPT_SSLKEY, req->client_key);
  }
  if (o->insecure_skip_verify) {
    gs_curl.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    gs_curl.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

static void http_setup_easy(gs_http_request *req, const gs_http_options *o) {
  CURL *e = req->easy;

  gs_curl.easy_setopt(e, CURLOPT_URL, req->url);
  gs_curl.easy_setopt(e, CURLOPT_PRIVATE, req);
  gs_curl.easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
  gs_curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  gs_curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  gs_curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body);
  gs_curl.easy_setopt(e, CURLOPT_WRITEDATA, req);
  gs_curl.easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header);
  gs_curl.easy_setopt(e, CURLOPT_HEADERDATA, req);
  gs_curl.easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
  gs_curl.easy_setopt(e, CURLOPT_USERAGENT,
                      "gitspace-orchestratord/" GS_VERSION);
  if (strcmp(req->method, "HEAD") == 0) {
    gs_curl.easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (strcmp(req->method, "GET") != 0) {
    gs_curl.easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
  }
  if (req->body != NULL) {
    gs_curl.easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    gs_curl.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                        (curl_off_t)o->body_len);
  }
  if (o->timeout_ms > 0) {
    gs_curl.easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
  }
  if (o->connect_timeout_ms > 0) {
    gs_curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                        (long)o->connect_timeout_ms);
  }
  if (o->follow_redirects) {
    gs_curl.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    gs_curl.easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
  }
  http_setup_tls(req, o);
}

/* libcurl is loaded, and its multi handle made, at the first request. */
static int http_start_multi(gs_http *http) {
  char err[256];

  if (http->multi != NULL) {
    return 0;
  }
  if (gs_curl_api_load(err, sizeof(err)) != 0) {
    GS_ERROR("-", "http -> %s", err);
    return GS_ENOENT;
  }
  http->multi = gs_curl.multi_init();
  if (http->multi == NULL) {
    return GS_ENOMEM;
  }
  gs_curl.multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
  gs_curl.multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
  gs_curl.multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
  gs_curl.multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
  return 0;
}

int gs_http_start(gs_http *http, const gs_http_options *opts,
                  gs_http_done_fn done, void *data, gs_http_request **out) {
  gs_http_request *req;
  int rv;

  if (http->closing) {
    return GS_ECANCELED;
  }
  rv = http_start_multi(http);
  if (rv != 0) {
    return rv;
  }
  req = calloc(1, sizeof(*req));
  if (req == NULL) {
    return GS_ENOMEM;
  }
  req->http = http;
  req->done = done;
  req->data = data;
  req->on_data = opts->on_data;
  req->max_body = opts->max_body > 0 ? opts->max_body : HTTP_DEFAULT_MAX_BODY;
  rv = http_copy_options(req, opts);
  if (rv == 0) {
    req->easy = gs_curl.easy_init();
    rv = req->easy == NULL ? GS_ENOMEM : 0;
  }
  if (rv == 0) {
    http_setup_easy(req, opts);
    if (gs_curl.multi_add_handle(http->multi, req->easy) != CURLM_OK) {
      gs_curl.easy_cleanup(req->easy);
      req->easy = NULL;
      rv = GS_ENOMEM;
    }
  }
  if (rv != 0) {
    http_request_free(req);
    return rv;
  }
  req->next = http->requests;
  if (http->requests != NULL) {
    http->requests->prev = req;
  }
  http->requests = req;
  if (out != NULL) {
    *out = req;
  }
  return 0;
}

void gs_http_cancel(gs_http_request *req) {
  http_unlink(req);
  http_request_free(req);
}

/* ---- life cycle ---------------------------------------------------------- */

int gs_http_new(uv_loop_t *loop, gs_http **out) {
  gs_http *http;

  http = calloc(1, sizeof(*http));
  if (http == NULL) {
    return GS_ENOMEM;
  }
  http->loop = loop;
  uv_timer_init(loop, &http->timer);
  http->timer.data = http;
  http->handles_open = 1;
  *out = http;
  return 0;
}

static void http_handle_closed(uv_handle_t *handle) {
  gs_http *http;

  if (handle->type == UV_POLL) {
    http_socket *s = handle->data;

    http = s->http;
    free(s);
  } else {
    http = handle->data;
  }
  http->handles_open--;
  if (http->closing && http->handles_open == 0) {
    void (*closed)(void *) = http->closed;
    void *data = http->closed_data;

    free(http);
    if (closed != NULL) {
      closed(data);
    }
  }
}

void gs_http_close(gs_http *http, void (*done)(void *data), void *data) {
  if (http->closing) {
    return;
  }
  http->closing = true;
  http->closed = done;
  http->closed_data = data;
  for (gs_http_request *req = http->requests; req != NULL;) {
    gs_http_request *next = req->next;

    http_request_free(req);
    req = next;
  }
  http->requests = NULL;
  /* Cleaning up the multi handle removes its sockets, closing our polls. */
  if (http->multi != NULL) {
    gs_curl.multi_cleanup(http->multi);
    http->multi = NULL;
  }
  uv_timer_stop(&http->timer);
  uv_close((uv_handle_t *)&http->timer, http_handle_closed);
}
