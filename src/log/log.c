/* Levelled, one-line-per-event logging to a file descriptor. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gitspace/error.h"
#include "gitspace/log.h"

#define LOG_LINE_MAX 2048

gs_log_level gs_log_threshold = GS_LOG_INFO;
static gs_log_format log_format = GS_LOG_TEXT;
static int log_fd = 2;

static const char *const log_level_names[] = {"DEBUG", "INFO", "WARN", "ERROR",
                                              "OFF"};
static const char *const log_level_keys[] = {"debug", "info", "warn", "error",
                                             "off"};

void gs_log_setup(gs_log_level level, gs_log_format format) {
  gs_log_threshold = level;
  log_format = format;
}

void gs_log_set_fd(int fd) {
  log_fd = fd;
}

int gs_log_level_parse(const char *s, gs_log_level *out) {
  for (size_t i = 0; i < sizeof(log_level_keys) / sizeof(*log_level_keys);
       i++) {
    if (strcmp(s, log_level_keys[i]) == 0) {
      *out = (gs_log_level)i;
      return 0;
    }
  }
  if (strcmp(s, "warning") == 0) {
    *out = GS_LOG_WARN;
    return 0;
  }
  return GS_EINVAL;
}

const char *gs_log_level_name(gs_log_level level) {
  if ((unsigned)level > GS_LOG_OFF) {
    return "?";
  }
  return log_level_keys[level];
}

int gs_log_format_parse(const char *s, gs_log_format *out) {
  if (strcmp(s, "text") == 0) {
    *out = GS_LOG_TEXT;
    return 0;
  }
  if (strcmp(s, "json") == 0) {
    *out = GS_LOG_JSON;
    return 0;
  }
  return GS_EINVAL;
}

const char *gs_log_format_name(gs_log_format format) {
  return format == GS_LOG_JSON ? "json" : "text";
}

/* Appends `s` JSON-escaped; returns the new length (never past cap - 1). */
static size_t log_json_escape(char *buf, size_t len, size_t cap,
                              const char *s) {
  static const char hex[] = "0123456789abcdef";

  for (; *s != '\0' && len + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;

    if (c == '"' || c == '\\') {
      buf[len++] = '\\';
      buf[len++] = (char)c;
    } else if (c < 0x20) {
      buf[len++] = '\\';
      buf[len++] = 'u';
      buf[len++] = '0';
      buf[len++] = '0';
      buf[len++] = hex[c >> 4];
      buf[len++] = hex[c & 0xf];
    } else {
      buf[len++] = (char)c;
    }
  }
  return len;
}

/* Replaces control characters so that a message stays on one line. */
static void log_flatten(char *s) {
  for (; *s != '\0'; s++) {
    if ((unsigned char)*s < 0x20) {
      *s = ' ';
    }
  }
}

static size_t log_timestamp(char *buf, size_t cap) {
  struct timespec ts;
  struct tm tm;
  size_t n;

  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  n += (size_t)snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return n;
}

static void log_emit(const char *line, size_t len) {
  while (len > 0) {
    ssize_t n = write(log_fd, line, len);

    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    line += n;
    len -= (size_t)n;
  }
}

void gs_log_vwrite(gs_log_level level, const char *id, const char *fmt,
                   va_list ap) {
  char msg[LOG_LINE_MAX];
  char line[LOG_LINE_MAX + 256];
  char ts[40];
  size_t len;

  if (level < gs_log_threshold || (unsigned)level >= GS_LOG_OFF) {
    return;
  }
  vsnprintf(msg, sizeof(msg), fmt, ap);
  log_flatten(msg);
  log_timestamp(ts, sizeof(ts));
  if (id == NULL || *id == '\0') {
    id = "-";
  }
  if (log_format == GS_LOG_JSON) {
    len = (size_t)snprintf(line, sizeof(line),
                           "{\"level\":\"%s\",\"ts\":\"%s\",\"id\":\"",
                           log_level_keys[level], ts);
    len = log_json_escape(line, len, sizeof(line), id);
    len += (size_t)snprintf(line + len, sizeof(line) - len, "\",\"msg\":\"");
    len = log_json_escape(line, len, sizeof(line) - 3, msg);
    line[len++] = '"';
    line[len++] = '}';
  } else {
    int n = snprintf(line, sizeof(line), "%-5s %s %s %s",
                     log_level_names[level], ts, id, msg);

    len = n < 0 ? 0 : (size_t)n;
    if (len > sizeof(line) - 2) {
      len = sizeof(line) - 2;
    }
  }
  line[len++] = '\n';
  log_emit(line, len);
}

void gs_log_write(gs_log_level level, const char *id, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  gs_log_vwrite(level, id, fmt, ap);
  va_end(ap);
}
