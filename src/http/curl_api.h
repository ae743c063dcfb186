/* libcurl and libcrypto, loaded on first use rather than at start. */
#ifndef GS_HTTP_CURL_API_H
#define GS_HTTP_CURL_API_H

#include <stddef.h>

#include <curl/curl.h>

/* The functions the HTTP client and the registry client call. They are
 * looked up with dlopen/dlsym the first time gs_curl_api_load runs: libcurl
 * brings OpenSSL, GnuTLS, Kerberos and LDAP with it, several megabytes of
 * resident memory that a daemon which never asks a registry need not pay. */
typedef struct {
  CURLcode (*global_init)(long flags);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
  CURLMcode (*multi_assign)(CURLM *multi, curl_socket_t fd, void *p);
  CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t fd, int ev,
                                   int *running);
  CURLMsg *(*multi_info_read)(CURLM *multi, int *left);
  CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
  CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
  CURLMcode (*multi_cleanup)(CURLM *multi);
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
  CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
  void (*easy_cleanup)(CURL *easy);
  const char *(*easy_strerror)(CURLcode code);
  struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
  void (*slist_free_all)(struct curl_slist *list);
  /* libcrypto: SHA-256 of a manifest body. */
  int (*evp_digest)(const void *data, size_t len, unsigned char *md,
                    unsigned int *mdlen, const void *type, void *engine);
  const void *(*evp_sha256)(void);
} gs_curl_api;

/* The table; valid once gs_curl_api_load returned 0. */
extern gs_curl_api gs_curl;

/* Loads the libraries once (later calls return the first result) and
 * initialises libcurl. Returns 0, or GS_ENOENT with the loader's message in
 * `err` (`errlen` bytes, terminated; may be NULL). Not thread-safe: call
 * from the loop's thread. */
int gs_curl_api_load(char *err, size_t errlen);

#endif
