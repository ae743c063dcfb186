/* Creating the daemon's listening Unix domain socket safely. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gitspace/error.h"
#include "socket.h"

#define SOCKET_BACKLOG 511

static int socket_fill_addr(struct sockaddr_un *sa, const char *path) {
  size_t len = strlen(path);

  if (len == 0 || len >= sizeof(sa->sun_path)) {
    return GS_ERANGE;
  }
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  memcpy(sa->sun_path, path, len + 1);
  return 0;
}

int gs_socket_probe(const char *path) {
  struct sockaddr_un sa;
  struct stat st;
  int fd;
  int rv;

  if (lstat(path, &st) != 0) {
    return errno == ENOENT ? GS_SOCKET_ABSENT : -errno;
  }
  if (!S_ISSOCK(st.st_mode)) {
    return GS_SOCKET_NOT_SOCKET;
  }
  rv = socket_fill_addr(&sa, path);
  if (rv != 0) {
    return rv;
  }
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -errno;
  }
  rv = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
  if (rv == 0 || errno == EAGAIN) {
    /* EAGAIN: the backlog is full, so somebody is listening. */
    rv = GS_SOCKET_LIVE;
  } else if (errno == ECONNREFUSED || errno == ENOENT) {
    rv = GS_SOCKET_STALE;
  } else {
    rv = -errno;
  }
  close(fd);
  return rv;
}

int gs_socket_group_id(const char *group, unsigned *gid_out) {
  struct group gr;
  struct group *found = NULL;
  char buf[4096];
  char *end;
  unsigned long n;

  errno = 0;
  n = strtoul(group, &end, 10);
  if (*group != '\0' && *end == '\0' && errno == 0 && n < 0xffffffffUL) {
    *gid_out = (unsigned)n;
    return 0;
  }
  if (getgrnam_r(group, &gr, buf, sizeof(buf), &found) != 0 || found == NULL) {
    return GS_ENOENT;
  }
  *gid_out = (unsigned)found->gr_gid;
  return 0;
}

/* Creates the socket's directory when it is missing (one level). */
static int socket_make_parent(const char *path, char *err, size_t errlen) {
  char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
  char *slash;

  snprintf(dir, sizeof(dir), "%s", path);
  slash = strrchr(dir, '/');
  if (slash == NULL || slash == dir) {
    return 0;
  }
  *slash = '\0';
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    int rv = -errno;

    snprintf(err, errlen, "socket %s: cannot create directory %s: %s", path,
             dir, strerror(errno));
    return rv;
  }
  return 0;
}

/* Refuses a live socket or a non-socket; removes a stale socket file. */
static int socket_clear_path(const char *path, char *err, size_t errlen) {
  int state = gs_socket_probe(path);

  switch (state) {
  case GS_SOCKET_ABSENT:
    return 0;
  case GS_SOCKET_STALE:
    if (unlink(path) != 0 && errno != ENOENT) {
      state = -errno;
      snprintf(err, errlen, "socket %s: cannot remove stale socket: %s", path,
               strerror(errno));
      return state;
    }
    return 0;
  case GS_SOCKET_LIVE:
    snprintf(err, errlen,
             "socket %s: another process is serving on it; stop it or "
             "choose another path",
             path);
    return GS_EADDRINUSE;
  case GS_SOCKET_NOT_SOCKET:
    snprintf(err, errlen,
             "socket %s: exists and is not a socket; refusing "
             "to replace it",
             path);
    return GS_EEXIST;
  default:
    snprintf(err, errlen, "socket %s: %s", path, strerror(-state));
    return state;
  }
}

static int socket_set_access(const char *path, unsigned mode, const char *group,
                             char *err, size_t errlen) {
  unsigned gid;

  if (group != NULL) {
    if (gs_socket_group_id(group, &gid) != 0) {
      snprintf(err, errlen, "socket %s: unknown group \"%s\"", path, group);
      return GS_ENOENT;
    }
    if (chown(path, (uid_t)-1, (gid_t)gid) != 0) {
      int rv = -errno;

      snprintf(err, errlen, "socket %s: cannot set group %s: %s", path, group,
               strerror(errno));
      return rv;
    }
  }
  if (chmod(path, (mode_t)mode) != 0) {
    int rv = -errno;

    snprintf(err, errlen, "socket %s: cannot set mode %04o: %s", path, mode,
             strerror(errno));
    return rv;
  }
  return 0;
}

int gs_socket_bind(const char *path, unsigned mode, const char *group,
                   int *fd_out, char *err, size_t errlen) {
  struct sockaddr_un sa;
  mode_t old_umask;
  int fd = -1;
  int rv;

  rv = socket_fill_addr(&sa, path);
  if (rv != 0) {
    snprintf(err, errlen, "socket path must be 1 to %zu bytes long",
             sizeof(sa.sun_path) - 1);
    return rv;
  }
  rv = socket_make_parent(path, err, errlen);
  if (rv != 0) {
    return rv;
  }
  rv = socket_clear_path(path, err, errlen);
  if (rv != 0) {
    return rv;
  }
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    rv = -errno;
    snprintf(err, errlen, "socket %s: %s", path, strerror(errno));
    return rv;
  }
  /* Nobody may connect between bind and chmod with wider rights. */
  old_umask = umask(0177);
  rv = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
  umask(old_umask);
  if (rv != 0) {
    rv = -errno;
    snprintf(err, errlen, "socket %s: bind: %s", path, strerror(errno));
    goto fail;
  }
  rv = socket_set_access(path, mode, group, err, errlen);
  if (rv != 0) {
    unlink(path);
    goto fail;
  }
  if (listen(fd, SOCKET_BACKLOG) != 0) {
    rv = -errno;
    snprintf(err, errlen, "socket %s: listen: %s", path, strerror(errno));
    unlink(path);
    goto fail;
  }
  *fd_out = fd;
  return 0;

fail:
  close(fd);
  return rv;
}
