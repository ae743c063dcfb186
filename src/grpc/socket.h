/* The listening Unix domain socket: path checks, stale files, permissions. */
#ifndef GS_GRPC_SOCKET_H
#define GS_GRPC_SOCKET_H

#include <stddef.h>

typedef enum {
  GS_SOCKET_ABSENT = 0, /* nothing at the path */
  GS_SOCKET_STALE,      /* a socket file nobody answers on */
  GS_SOCKET_LIVE,       /* a socket a process accepts connections on */
  GS_SOCKET_NOT_SOCKET  /* some other kind of file */
} gs_socket_state;

/* Tells what is at `path`. Returns the state, or a negative GS_E* code when
 * the path cannot be examined. */
int gs_socket_probe(const char *path);

/* Creates a listening socket at `path` (borrowed): a stale socket file is
 * replaced, a live one or a non-socket is refused; the parent directory is
 * created when missing (mode 0755); the file gets `mode` and, when `group` is
 * not NULL, that group (a name or a number). On success stores a
 * non-blocking, close-on-exec descriptor in *fd_out (the caller closes it)
 * and returns 0; otherwise returns a GS_E* code and a message in `err`. */
int gs_socket_bind(const char *path, unsigned mode, const char *group,
                   int *fd_out, char *err, size_t errlen);

/* Resolves a group name or number. Returns 0 or GS_ENOENT. */
int gs_socket_group_id(const char *group, unsigned *gid_out);

#endif
