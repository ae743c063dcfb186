/* Levelled logging: one line per event, level first, an id on each line. */
#ifndef GITSPACE_LOG_H
#define GITSPACE_LOG_H

#include <stdarg.h>

typedef enum {
  GS_LOG_DEBUG = 0,
  GS_LOG_INFO = 1,
  GS_LOG_WARN = 2,
  GS_LOG_ERROR = 3,
  GS_LOG_OFF = 4
} gs_log_level;

typedef enum { GS_LOG_TEXT = 0, GS_LOG_JSON = 1 } gs_log_format;

/* Sets the lowest level written and the line format. Not thread-safe;
 * call before the loop runs. */
void gs_log_setup(gs_log_level level, gs_log_format format);

/* Sets the file descriptor lines are written to (default 2). */
void gs_log_set_fd(int fd);

extern gs_log_level gs_log_threshold;

/* Writes one line. `id` names what the line is about ("-" for the daemon
 * itself, "c3/s5" for a stream, a gitspace id); it is borrowed. Messages
 * longer than the line buffer are truncated, never split. Use the macros,
 * which skip formatting when the level is off. */
void gs_log_write(gs_log_level level, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gs_log_vwrite(gs_log_level level, const char *id, const char *fmt,
                   va_list ap) __attribute__((format(printf, 3, 0)));

/* Parses "debug", "info", "warn", "error", "off". Returns 0 or GS_EINVAL. */
int gs_log_level_parse(const char *s, gs_log_level *out);
const char *gs_log_level_name(gs_log_level level);
int gs_log_format_parse(const char *s, gs_log_format *out);
const char *gs_log_format_name(gs_log_format format);

#define GS_LOG(level, id, ...)                                                 \
  do {                                                                         \
    if ((level) >= gs_log_threshold) {                                         \
      gs_log_write((level), (id), __VA_ARGS__);                                \
    }                                                                          \
  } while (0)

#define GS_DEBUG(id, ...) GS_LOG(GS_LOG_DEBUG, id, __VA_ARGS__)
#define GS_INFO(id, ...) GS_LOG(GS_LOG_INFO, id, __VA_ARGS__)
#define GS_WARN(id, ...) GS_LOG(GS_LOG_WARN, id, __VA_ARGS__)
#define GS_ERROR(id, ...) GS_LOG(GS_LOG_ERROR, id, __VA_ARGS__)

#endif
