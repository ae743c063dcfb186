/* Unit tests: the listening socket's path handling (src/grpc/socket.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitspace/error.h"
#include "socket.h"

typedef struct {
  char dir[40];
  char path[64];
  char err[256];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));

  snprintf(f->dir, sizeof(f->dir), "/tmp/gs-socket-XXXXXX");
  if (mkdtemp(f->dir) == NULL) {
    free(f);
    return -1;
  }
  snprintf(f->path, sizeof(f->path), "%s/d.sock", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  char cmd[128];

  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
  if (system(cmd) != 0) {
    return -1;
  }
  free(f);
  return 0;
}

/* Leaves a socket file behind with nobody listening, as a killed daemon. */
static void make_stale(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);

  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  close(fd);
}

static void test_gs_socket_bind_creates_with_mode(void **state) {
  fixture *f = *state;
  struct stat st;
  int fd = -1;

  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_ABSENT);
  assert_int_equal(
      gs_socket_bind(f->path, 0660, NULL, &fd, f->err, sizeof(f->err)), 0);
  assert_true(fd >= 0);
  assert_int_equal(stat(f->path, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0660);
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_LIVE);
  close(fd);
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_STALE);
}

static void test_gs_socket_bind_other_mode_and_group(void **state) {
  fixture *f = *state;
  struct stat st;
  char gid[16];
  int fd = -1;

  snprintf(gid, sizeof(gid), "%u", (unsigned)getgid());
  assert_int_equal(
      gs_socket_bind(f->path, 0600, gid, &fd, f->err, sizeof(f->err)), 0);
  assert_int_equal(stat(f->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_gid, getgid());
  close(fd);
}

static void test_gs_socket_bind_unknown_group(void **state) {
  fixture *f = *state;
  int fd = -1;

  assert_int_equal(gs_socket_bind(f->path, 0660, "no-such-group-gs", &fd,
                                  f->err, sizeof(f->err)),
                   GS_ENOENT);
  assert_non_null(strstr(f->err, "no-such-group-gs"));
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_ABSENT);
}

static void test_gs_socket_bind_replaces_stale(void **state) {
  fixture *f = *state;
  int fd = -1;

  make_stale(f->path);
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_STALE);
  assert_int_equal(
      gs_socket_bind(f->path, 0660, NULL, &fd, f->err, sizeof(f->err)), 0);
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_LIVE);
  close(fd);
}

static void test_gs_socket_bind_refuses_live(void **state) {
  fixture *f = *state;
  int first = -1;
  int second = -1;

  assert_int_equal(
      gs_socket_bind(f->path, 0660, NULL, &first, f->err, sizeof(f->err)), 0);
  assert_int_equal(
      gs_socket_bind(f->path, 0660, NULL, &second, f->err, sizeof(f->err)),
      GS_EADDRINUSE);
  assert_int_equal(second, -1);
  assert_non_null(strstr(f->err, "another process is serving"));
  assert_non_null(strstr(f->err, f->path));
  /* The first socket still works. */
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_LIVE);
  close(first);
}

static void test_gs_socket_bind_refuses_regular_file(void **state) {
  fixture *f = *state;
  struct stat st;
  FILE *fp = fopen(f->path, "w");
  int fd = -1;

  assert_non_null(fp);
  fputs("keep me", fp);
  fclose(fp);
  assert_int_equal(gs_socket_probe(f->path), GS_SOCKET_NOT_SOCKET);
  assert_int_equal(
      gs_socket_bind(f->path, 0660, NULL, &fd, f->err, sizeof(f->err)),
      GS_EEXIST);
  assert_non_null(strstr(f->err, "not a socket"));
  assert_int_equal(stat(f->path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_size, 7);
}

static void test_gs_socket_bind_creates_parent(void **state) {
  fixture *f = *state;
  char path[160];
  int fd = -1;

  snprintf(path, sizeof(path), "%s/run/d.sock", f->dir);
  assert_int_equal(
      gs_socket_bind(path, 0660, NULL, &fd, f->err, sizeof(f->err)), 0);
  assert_int_equal(gs_socket_probe(path), GS_SOCKET_LIVE);
  close(fd);
}

static void test_gs_socket_bind_path_too_long(void **state) {
  fixture *f = *state;
  char path[200];
  int fd = -1;

  memset(path, 'a', sizeof(path) - 1);
  path[0] = '/';
  path[sizeof(path) - 1] = '\0';
  assert_int_equal(
      gs_socket_bind(path, 0660, NULL, &fd, f->err, sizeof(f->err)), GS_ERANGE);
  assert_non_null(strstr(f->err, "socket path"));
  assert_int_equal(gs_socket_bind("", 0660, NULL, &fd, f->err, sizeof(f->err)),
                   GS_ERANGE);
}

static void test_gs_socket_group_id_forms(void **state) {
  unsigned gid = 99;

  (void)state;
  assert_int_equal(gs_socket_group_id("0", &gid), 0);
  assert_int_equal(gid, 0);
  assert_int_equal(gs_socket_group_id("root", &gid), 0);
  assert_int_equal(gid, 0);
  assert_int_equal(gs_socket_group_id("12x", &gid), GS_ENOENT);
  assert_int_equal(gs_socket_group_id("", &gid), GS_ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_gs_socket_bind_creates_with_mode,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_socket_bind_other_mode_and_group,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_socket_bind_unknown_group, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_socket_bind_replaces_stale, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_socket_bind_refuses_live, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_socket_bind_refuses_regular_file,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_gs_socket_bind_creates_parent, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_gs_socket_bind_path_too_long, setup,
                                      teardown),
      cmocka_unit_test(test_gs_socket_group_id_forms),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
