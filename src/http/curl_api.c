/* Loading libcurl and libcrypto at first use, with dlopen. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "curl_api.h"
#include "gitspace/error.h"

gs_curl_api gs_curl;

typedef struct {
  const char *name;
  size_t offset;
  int lib; /* 0: libcurl, 1: libcrypto */
} curl_api_symbol;

#define CURL_API_SYM(lib, field, name)                                         \
  { name, offsetof(gs_curl_api, field), lib }

static const curl_api_symbol curl_api_symbols[] = {
    CURL_API_SYM(0, global_init, "curl_global_init"),
    CURL_API_SYM(0, multi_init, "curl_multi_init"),
    CURL_API_SYM(0, multi_setopt, "curl_multi_setopt"),
    CURL_API_SYM(0, multi_assign, "curl_multi_assign"),
    CURL_API_SYM(0, multi_socket_action, "curl_multi_socket_action"),
    CURL_API_SYM(0, multi_info_read, "curl_multi_info_read"),
    CURL_API_SYM(0, multi_add_handle, "curl_multi_add_handle"),
    CURL_API_SYM(0, multi_remove_handle, "curl_multi_remove_handle"),
    CURL_API_SYM(0, multi_cleanup, "curl_multi_cleanup"),
    CURL_API_SYM(0, easy_init, "curl_easy_init"),
    CURL_API_SYM(0, easy_setopt, "curl_easy_setopt"),
    CURL_API_SYM(0, easy_getinfo, "curl_easy_getinfo"),
    CURL_API_SYM(0, easy_cleanup, "curl_easy_cleanup"),
    CURL_API_SYM(0, easy_strerror, "curl_easy_strerror"),
    CURL_API_SYM(0, slist_append, "curl_slist_append"),
    CURL_API_SYM(0, slist_free_all, "curl_slist_free_all"),
    CURL_API_SYM(1, evp_digest, "EVP_Digest"),
    CURL_API_SYM(1, evp_sha256, "EVP_sha256"),
};

static const char *const curl_api_libs[] = {"libcurl.so.4", "libcrypto.so.3"};

static int curl_api_state; /* 0: not tried, 1: loaded, <0: the error */
static char curl_api_error[256];

static int curl_api_try_load(void) {
  void *handles[2] = {NULL, NULL};

  for (int i = 0; i < 2; i++) {
    /* Kept open for the life of the process: libcurl cannot be unloaded
     * safely once initialised. */
    handles[i] = dlopen(curl_api_libs[i], RTLD_NOW | RTLD_LOCAL);
    if (handles[i] == NULL) {
      snprintf(curl_api_error, sizeof(curl_api_error), "cannot load %s: %s",
               curl_api_libs[i], dlerror());
      return GS_ENOENT;
    }
  }
  for (size_t i = 0; i < sizeof(curl_api_symbols) / sizeof(*curl_api_symbols);
       i++) {
    const curl_api_symbol *s = &curl_api_symbols[i];
    void *fn = dlsym(handles[s->lib], s->name);

    if (fn == NULL) {
      snprintf(curl_api_error, sizeof(curl_api_error), "%s has no %s",
               curl_api_libs[s->lib], s->name);
      return GS_ENOENT;
    }
    memcpy((char *)&gs_curl + s->offset, &fn, sizeof(fn));
  }
  if (gs_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(curl_api_error, sizeof(curl_api_error),
             "libcurl failed to initialise");
    return GS_ENOENT;
  }
  return 1;
}

int gs_curl_api_load(char *err, size_t errlen) {
  if (curl_api_state == 0) {
    curl_api_state = curl_api_try_load();
  }
  if (curl_api_state == 1) {
    return 0;
  }
  if (err != NULL && errlen > 0) {
    snprintf(err, errlen, "%s", curl_api_error);
  }
  return curl_api_state;
}
