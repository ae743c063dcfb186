/* Descriptions of the GS_E* error codes. */
#include <string.h>

#include "gitspace/error.h"

const char *gs_strerror(int code) {
  if (code == GS_OK) {
    return "success";
  }
  if (code < 0) {
    return strerror(-code);
  }
  return "unknown error";
}
