/* Error codes shared by every module: 0 or a negative GS_E* value. */
#ifndef GITSPACE_ERROR_H
#define GITSPACE_ERROR_H

#include <errno.h>

enum {
  GS_OK = 0,
  GS_ENOMEM = -ENOMEM,
  GS_EINVAL = -EINVAL,
  GS_ENOENT = -ENOENT,
  GS_EEXIST = -EEXIST,
  GS_EADDRINUSE = -EADDRINUSE,
  GS_ECANCELED = -ECANCELED,
  GS_ERANGE = -ERANGE,
  GS_EIO = -EIO,
  GS_EPERM = -EPERM,
  GS_ENOTSOCK = -ENOTSOCK,
  GS_EPROTO = -EPROTO,
  GS_ETIMEDOUT = -ETIMEDOUT,
  GS_ECONNREFUSED = -ECONNREFUSED,
  GS_EACCES = -EACCES,
  GS_EAGAIN = -EAGAIN
};

/* Returns a static English description of a GS_E* code. */
const char *gs_strerror(int code);

#endif
