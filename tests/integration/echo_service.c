/* gitspace.testing.v1.Echo: delayed echoes and timed streams on the call's
 * loop, with cancellation, flow control and drain, for the transport tests. */
#include "echo_service.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "gitspace/error.h"
#include "gitspace/testing/v1/echo.pb-c.h"

typedef Gitspace__Testing__V1__EchoRequest echo_request;
typedef Gitspace__Testing__V1__StreamRequest stream_request;
typedef Gitspace__Testing__V1__EchoResponse echo_response;

/* Generated payloads repeat (index + i) % ECHO_PATTERN_PERIOD. */
#define ECHO_PATTERN_PERIOD 251u

/* Messages a Stream with interval 0 sends per loop turn before it yields, so
 * one stream cannot starve the other connections. */
#define ECHO_STREAM_BURST 64u

typedef struct echo_job echo_job;

/* Calls still in progress, so the drain hook can end the streams. */
typedef struct {
  echo_job *head;
} echo_registry;

/* One call whose handler has not finished: a delayed Echo or a Stream. */
struct echo_job {
  gs_call *call; /* NULL once finished */
  const char *method;
  bool is_stream;
  echo_registry *registry;
  echo_job *prev;
  echo_job *next;
  uv_timer_t timer;

  /* Echo: the request, owned by the call until it is finished. */
  const echo_request *request;

  /* Stream: `size` + ECHO_PATTERN_PERIOD pattern bytes; message k is the
   * `size` bytes at offset k % ECHO_PATTERN_PERIOD. */
  uint8_t *pattern;
  uint32_t count;
  uint32_t size;
  uint32_t interval_ms;
  uint32_t sent;
  bool waiting_writable;
};

static echo_registry echo_calls;

static uint8_t *echo_pattern_new(size_t len) {
  uint8_t *buf = malloc(len > 0 ? len : 1);

  if (buf == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < len; i++) {
    buf[i] = (uint8_t)(i % ECHO_PATTERN_PERIOD);
  }
  return buf;
}

/* Maps a gs_call_send result to the status that ends the call. */
static gs_status echo_status_of(int rc, const char **message) {
  *message = NULL;
  if (rc >= 0) {
    return GS_STATUS_OK;
  }
  if (rc == GS_ECANCELED) {
    return GS_STATUS_CANCELLED;
  }
  if (rc == GS_ERANGE) {
    *message = "the response exceeds the message size limit";
    return GS_STATUS_RESOURCE_EXHAUSTED;
  }
  if (rc == GS_ENOMEM) {
    *message = "out of memory for the response";
    return GS_STATUS_RESOURCE_EXHAUSTED;
  }
  *message = "sending the response failed";
  return GS_STATUS_INTERNAL;
}

/* Sends the one response of Echo. Returns gs_call_send's result, or
 * GS_ENOMEM when the generated payload cannot be allocated. */
static int echo_send_response(gs_call *call, const echo_request *req) {
  echo_response resp = GITSPACE__TESTING__V1__ECHO_RESPONSE__INIT;
  uint8_t *generated = NULL;
  int rc;

  if (req->response_size == 0) {
    resp.payload = req->payload;
  } else {
    generated = echo_pattern_new(req->response_size);
    if (generated == NULL) {
      return GS_ENOMEM;
    }
    resp.payload.data = generated;
    resp.payload.len = req->response_size;
  }

  rc = gs_call_send(call, &resp.base);
  free(generated);
  return rc;
}

/* ---- calls that outlive their handler ------------------------------------ */

static void echo_job_free(uv_handle_t *handle) {
  echo_job *job = handle->data;

  free(job->pattern);
  free(job);
}

static echo_job *echo_job_new(gs_call *call, const char *method,
                              echo_registry *registry) {
  echo_job *job = calloc(1, sizeof(*job));

  if (job == NULL) {
    return NULL;
  }
  job->call = call;
  job->method = method;
  job->registry = registry;
  uv_timer_init(gs_call_loop(call), &job->timer);
  job->timer.data = job;

  job->next = registry->head;
  if (registry->head != NULL) {
    registry->head->prev = job;
  }
  registry->head = job;
  return job;
}

/* Finishes the call once; the job is freed when its timer has closed. Safe
 * to reach twice (a cancel from inside gs_call_send, then the send's error):
 * the job stays allocated until the close callback, a loop turn later. */
static void echo_job_finish(echo_job *job, gs_status code,
                            const char *message) {
  gs_call *call = job->call;

  if (call == NULL) {
    return;
  }
  job->call = NULL;

  if (job->prev != NULL) {
    job->prev->next = job->next;
  } else {
    job->registry->head = job->next;
  }
  if (job->next != NULL) {
    job->next->prev = job->prev;
  }

  uv_timer_stop(&job->timer);
  uv_close((uv_handle_t *)&job->timer, echo_job_free);
  gs_call_finish(call, code, message);
}

/* The call ended under the handler: the client cancelled or went away, the
 * deadline passed, or the drain timed out. The log line is what the tests
 * look for to see that the work was stopped. */
static void echo_job_cancel(echo_job *job) {
  if (job->call == NULL) {
    return;
  }
  GS_INFO(gs_call_id(job->call), "echo.%s -> cancelled", job->method);
  echo_job_finish(job, GS_STATUS_CANCELLED, NULL);
}

static void echo_job_finish_sent(echo_job *job, int rc) {
  const char *message;
  gs_status code = echo_status_of(rc, &message);

  if (code == GS_STATUS_CANCELLED) {
    echo_job_cancel(job);
    return;
  }
  echo_job_finish(job, code, message);
}

static void echo_on_cancel(gs_call *call, void *data) {
  (void)call;
  echo_job_cancel(data);
}

/* ---- Echo ---------------------------------------------------------------- */

static void echo_delay_done(uv_timer_t *timer) {
  echo_job *job = timer->data;
  int rc = echo_send_response(job->call, job->request);

  echo_job_finish_sent(job, rc);
}

static void echo_handle_echo(gs_call *call, const ProtobufCMessage *request,
                             void *service_data) {
  const echo_request *req = (const echo_request *)request;
  echo_job *job;
  const char *message;
  gs_status code;

  if (req->delay_ms == 0) {
    code = echo_status_of(echo_send_response(call, req), &message);
    if (code == GS_STATUS_CANCELLED) {
      GS_INFO(gs_call_id(call), "echo.Echo -> cancelled");
    }
    gs_call_finish(call, code, message);
    return;
  }

  job = echo_job_new(call, "Echo", service_data);
  if (job == NULL) {
    gs_call_finish(call, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  job->request = req;
  gs_call_on_cancel(call, echo_on_cancel, job);
  uv_timer_start(&job->timer, echo_delay_done, req->delay_ms, 0);
}

/* ---- Stream -------------------------------------------------------------- */

static void echo_stream_tick(uv_timer_t *timer);

/* Sends what the interval and flow control allow, then arms the timer, waits
 * for the writable hook, or finishes. */
static void echo_stream_pump(echo_job *job) {
  echo_response resp = GITSPACE__TESTING__V1__ECHO_RESPONSE__INIT;
  unsigned burst = 0;
  int rc;

  while (job->sent < job->count && burst < ECHO_STREAM_BURST) {
    resp.payload.data = job->pattern + job->sent % ECHO_PATTERN_PERIOD;
    resp.payload.len = job->size;
    resp.index = job->sent;

    rc = gs_call_send(job->call, &resp.base);
    if (job->call == NULL) {
      return; /* cancelled from inside gs_call_send */
    }
    if (rc < 0) {
      echo_job_finish_sent(job, rc);
      return;
    }
    job->sent++;
    burst++;
    if (rc == 1) {
      job->waiting_writable = true;
      break;
    }
    if (job->interval_ms > 0) {
      break;
    }
  }

  if (job->sent == job->count) {
    echo_job_finish(job, GS_STATUS_OK, NULL);
    return;
  }
  if (!job->waiting_writable) {
    uv_timer_start(&job->timer, echo_stream_tick, job->interval_ms, 0);
  }
}

static void echo_stream_tick(uv_timer_t *timer) {
  echo_stream_pump(timer->data);
}

/* Resumes on the next loop turn (or after the interval) rather than from
 * inside the transport's write path. */
static void echo_on_writable(gs_call *call, void *data) {
  echo_job *job = data;

  (void)call;
  if (job->call == NULL || !job->waiting_writable) {
    return;
  }
  job->waiting_writable = false;
  uv_timer_start(&job->timer, echo_stream_tick, job->interval_ms, 0);
}

static void echo_handle_stream(gs_call *call, const ProtobufCMessage *request,
                               void *service_data) {
  const stream_request *req = (const stream_request *)request;
  echo_job *job;

  if (req->count == 0) {
    gs_call_finish(call, GS_STATUS_OK, NULL);
    return;
  }

  job = echo_job_new(call, "Stream", service_data);
  if (job == NULL) {
    gs_call_finish(call, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  job->pattern = echo_pattern_new((size_t)req->size + ECHO_PATTERN_PERIOD);
  if (job->pattern == NULL) {
    echo_job_finish(job, GS_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  job->is_stream = true;
  job->count = req->count;
  job->size = req->size;
  job->interval_ms = req->interval_ms;

  gs_call_on_cancel(call, echo_on_cancel, job);
  gs_call_on_writable(call, echo_on_writable, job);
  echo_stream_pump(job);
}

/* ---- the service --------------------------------------------------------- */

/* Streams would otherwise hold the shutdown until the drain timeout; a
 * delayed Echo is left to finish, as calls in flight may. */
static void echo_on_drain(void *data) {
  echo_registry *registry = data;
  echo_job *job = registry->head;

  while (job != NULL) {
    echo_job *next = job->next;

    if (job->is_stream) {
      GS_INFO(gs_call_id(job->call), "echo.%s -> ended by drain", job->method);
      echo_job_finish(job, GS_STATUS_UNAVAILABLE, "the server is draining");
    }
    job = next;
  }
}

static const gs_method echo_methods[] = {
    {"Echo", GS_METHOD_UNARY, &gitspace__testing__v1__echo_request__descriptor,
     echo_handle_echo},
    {"Stream", GS_METHOD_SERVER_STREAMING,
     &gitspace__testing__v1__stream_request__descriptor, echo_handle_stream},
};

const gs_service gs_echo_service = {
    .name = "gitspace.testing.v1.Echo",
    .methods = echo_methods,
    .n_methods = sizeof(echo_methods) / sizeof(echo_methods[0]),
    .call_log_level = GS_LOG_INFO,
    .data = &echo_calls,
    .on_drain = echo_on_drain,
};
