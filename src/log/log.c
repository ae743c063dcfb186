/* Levelled, one-line-per-event logging to a file descriptor. */
#include <errno.h>
#include <stdbool.h>
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

/* Length of the valid UTF-8 sequence at `s` (`left` bytes), or 0. */
static size_t log_utf8_len(const unsigned char *s, size_t left) {
  size_t n;

  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    n = 2;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    n = 3;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    n = 4;
  } else {
    return 0;
  }
  if (n > left) {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) {
      return 0;
    }
  }
  return n;
}

/* Copies `in` to `out` (`cap` bytes, terminated) so that a message stays
 * one line of valid UTF-8 whatever a client sent: control characters and
 * bytes that are not UTF-8 become \xNN. */
static void log_sanitize(const char *in, char *out, size_t cap,
                         bool escape_space) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)in;
  size_t left = strlen(in);
  size_t o = 0;

  while (left > 0 && o + 5 < cap) {
    size_t n = p[0] < 0x80 ? 1 : log_utf8_len(p, left);

    if (n == 1 && p[0] >= 0x20 && p[0] != 0x7f &&
        !(escape_space && p[0] == ' ')) {
      out[o++] = (char)p[0];
    } else if (n > 1) {
      if (o + n + 1 >= cap) {
        break;
      }
      memcpy(out + o, p, n);
      o += n;
    } else {
      n = 1;
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[p[0] >> 4];
      out[o++] = hex[p[0] & 0xf];
    }
    p += n;
    left -= n;
  }
  out[o] = '\0';
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
  char raw[LOG_LINE_MAX];
  char idbuf[160];
  char msg[LOG_LINE_MAX];
  char line[LOG_LINE_MAX * 2 + 256];
  char ts[40];
  size_t len;

  if (level < gs_log_threshold || (unsigned)level >= GS_LOG_OFF) {
    return;
  }
  vsnprintf(raw, sizeof(raw), fmt, ap);
  log_sanitize(raw, msg, sizeof(msg), false);
  log_timestamp(ts, sizeof(ts));
  if (id == NULL || *id == '\0') {
    id = "-";
  }
  log_sanitize(id, idbuf, sizeof(idbuf), true);
  id = idbuf;
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
