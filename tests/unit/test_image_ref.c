/* Unit tests for plugin/image_ref.c: the image reference grammar. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitspace/error.h"
#include "gitspace/image_ref.h"

#define HEX64 "eac63657dc479c4a1590063209bf85bb3b86300e097b4f4d38c0531d0db891d9"
#define HEX128 HEX64 HEX64
#define PREBUILT "ghcr.io/ysicing/gitspace-runtime"

typedef struct {
  const char *in;
  const char *domain;
  const char *path;
  const char *tag;
  const char *digest;
} valid_case;

typedef struct {
  const char *in;
  const char *reason; /* a substring of the error message */
} invalid_case;

static gs_image_ref parse_ok(const char *s) {
  gs_image_ref ref;
  char err[256] = "";
  int rc = gs_image_ref_parse(s, strlen(s), &ref, err, sizeof(err));

  if (rc != 0) {
    print_message("\"%s\" -> %s\n", s, err);
  }
  assert_int_equal(rc, 0);
  assert_string_equal(err, "");
  return ref;
}

static void expect_invalid(const char *s, size_t len, const char *reason) {
  gs_image_ref ref;
  char err[512] = "";

  memset(&ref, 0x5a, sizeof(ref));
  assert_int_equal(gs_image_ref_parse(s, len, &ref, err, sizeof(err)),
                   GS_EINVAL);
  if (strstr(err, reason) == NULL) {
    print_message("\"%.*s\": error \"%s\" lacks \"%s\"\n", (int)len, s, err,
                  reason);
    fail();
  }
  /* On error the output is left alone. */
  assert_int_equal(((unsigned char *)&ref)[0], 0x5a);
  assert_int_equal(((unsigned char *)&ref)[sizeof(ref) - 1], 0x5a);
}

static void expect_parts(const valid_case *c) {
  gs_image_ref ref = parse_ok(c->in);

  assert_string_equal(ref.domain, c->domain);
  assert_string_equal(ref.path, c->path);
  assert_string_equal(ref.tag, c->tag);
  assert_string_equal(ref.digest, c->digest);
}

/* Fills buf with `n` copies of `c` and terminates it. */
static char *repeat(char *buf, char c, size_t n) {
  memset(buf, c, n);
  buf[n] = '\0';
  return buf;
}

/* Writes `prefix` then `n` copies of `c` into buf (`size` bytes). */
static char *fill(char *buf, size_t size, const char *prefix, char c,
                  size_t n) {
  int p = snprintf(buf, size, "%s", prefix);

  assert_true(p >= 0 && (size_t)p + n < size);
  return repeat(buf + p, c, n) - p;
}

/* ---- the shared cases file ------------------------------------------- */

/* Splits `line` at tabs into at most `max` fields, keeping empty ones;
 * returns the count. */
static size_t split_tabs(char *line, char **fields, size_t max) {
  size_t n = 0;
  char *p = line;

  line[strcspn(line, "\r\n")] = '\0';
  while (n < max) {
    char *tab = strchr(p, '\t');

    fields[n++] = p;
    if (tab == NULL) {
      break;
    }
    *tab = '\0';
    p = tab + 1;
  }
  return n;
}

/* One row: reference, valid, domain, path, tag, digest, prebuilt. */
static void check_tsv_row(char **f, const gs_image_ref *prebuilt) {
  gs_image_ref ref;
  char err[256] = "";
  int rc = gs_image_ref_parse(f[0], strlen(f[0]), &ref, err, sizeof(err));

  print_message("checking %s -> %s\n", f[0], rc == 0 ? "valid" : err);
  if (strcmp(f[1], "no") == 0) {
    assert_int_equal(rc, GS_EINVAL);
    assert_true(err[0] != '\0');
    return;
  }
  assert_string_equal(f[1], "yes");
  assert_int_equal(rc, 0);
  assert_string_equal(ref.domain, f[2]);
  assert_string_equal(ref.path, f[3]);
  assert_string_equal(ref.tag, f[4]);
  assert_string_equal(ref.digest, f[5]);
  assert_int_equal(gs_image_ref_same_repository(&ref, prebuilt),
                   strcmp(f[6], "yes") == 0);
}

static void test_gs_image_ref_parse_cases_tsv(void **state) {
  const char *dir = getenv("GS_CASES_DIR");
  char path[4096];
  char line[2048];
  FILE *f = NULL;
  size_t rows = 0;
  gs_image_ref prebuilt;

  (void)state;
  if (dir == NULL || dir[0] == '\0') {
    fail_msg("GS_CASES_DIR is not set; run through ctest, or set it to the "
             "directory holding image-references.tsv");
  }
  snprintf(path, sizeof(path), "%s/image-references.tsv", dir);
  f = fopen(path, "r");
  if (f == NULL) {
    fail_msg("cannot read %s: %s", path, strerror(errno));
  }
  assert_int_equal(gs_image_ref_parse_repository(PREBUILT, strlen(PREBUILT),
                                                 &prebuilt, NULL, 0),
                   0);
  assert_non_null(fgets(line, sizeof(line), f)); /* the header */
  while (fgets(line, sizeof(line), f) != NULL) {
    char *fields[7];
    size_t n = split_tabs(line, fields, 7);

    if (n == 1 && fields[0][0] == '\0') {
      continue; /* a blank line */
    }
    if (n != 7) {
      fclose(f);
      fail_msg("%s: row %zu has %zu fields, not 7", path, rows + 2, n);
    } else {
      check_tsv_row(fields, &prebuilt);
    }
    rows++;
  }
  fclose(f);
  print_message("%zu rows of image-references.tsv\n", rows);
  assert_true(rows > 0);
}

/* ---- gs_image_ref_parse: valid references ---------------------------- */

static const valid_case valid_cases[] = {
    /* Docker Hub: the default domain, "library/" for one component. */
    {"ubuntu", "docker.io", "library/ubuntu", "", ""},
    {"ubuntu:24.04", "docker.io", "library/ubuntu", "24.04", ""},
    {"docker.io/ubuntu", "docker.io", "library/ubuntu", "", ""},
    {"docker.io/library/ubuntu", "docker.io", "library/ubuntu", "", ""},
    {"index.docker.io/ubuntu", "docker.io", "library/ubuntu", "", ""},
    {"index.docker.io/ysicing/tools:1.0", "docker.io", "ysicing/tools", "1.0",
     ""},
    {"ysicing/tools", "docker.io", "ysicing/tools", "", ""},
    {"a/b/c/d", "docker.io", "a/b/c/d", "", ""},
    /* A lone name with a ':' is a name and a tag, never a domain. */
    {"localhost:5000", "docker.io", "library/localhost", "5000", ""},
    {"ghcr.io", "docker.io", "library/ghcr.io", "", ""},
    {"localhost", "docker.io", "library/localhost", "", ""},
    /* Domains: a '.', a ':' or "localhost"; never "library/" added. */
    {"localhost/ubuntu", "localhost", "ubuntu", "", ""},
    {"localhost:5000/ubuntu", "localhost:5000", "ubuntu", "", ""},
    {"localhost:5000/gitspace-runtime:base-latest", "localhost:5000",
     "gitspace-runtime", "base-latest", ""},
    {"registry:5000/team/app", "registry:5000", "team/app", "", ""},
    {"my-registry.example.com:443/a/b/c:v1", "my-registry.example.com:443",
     "a/b/c", "v1", ""},
    {"Registry.Example.COM/app", "Registry.Example.COM", "app", "", ""},
    {"127.0.0.1:5000/app", "127.0.0.1:5000", "app", "", ""},
    {"[::1]:5000/app:1", "[::1]:5000", "app", "1", ""},
    {"[2001:DB8::1]/app", "[2001:DB8::1]", "app", "", ""},
    {"a.b/c", "a.b", "c", "", ""},
    {"x-y.z/c", "x-y.z", "c", "", ""},
    {"ghcr.io/ysicing/gitspace-runtime", "ghcr.io", "ysicing/gitspace-runtime",
     "", ""},
    {"mcr.microsoft.com/devcontainers/base:dev-ubuntu-24.04",
     "mcr.microsoft.com", "devcontainers/base", "dev-ubuntu-24.04", ""},
    /* Path separators. */
    {"ghcr.io/a.b", "ghcr.io", "a.b", "", ""},
    {"ghcr.io/a_b", "ghcr.io", "a_b", "", ""},
    {"ghcr.io/a__b", "ghcr.io", "a__b", "", ""},
    {"ghcr.io/a-b", "ghcr.io", "a-b", "", ""},
    {"ghcr.io/a--b", "ghcr.io", "a--b", "", ""},
    {"ghcr.io/a---b", "ghcr.io", "a---b", "", ""},
    {"ghcr.io/a.b_c__d-e--f/0", "ghcr.io", "a.b_c__d-e--f/0", "", ""},
    /* Tags. */
    {"app:_", "docker.io", "library/app", "_", ""},
    {"app:V1.0-RC_2", "docker.io", "library/app", "V1.0-RC_2", ""},
    {"app:latest.", "docker.io", "library/app", "latest.", ""},
    /* Digests, with and without a tag. */
    {"app@sha256:" HEX64, "docker.io", "library/app", "", "sha256:" HEX64},
    {"app:v1@sha256:" HEX64, "docker.io", "library/app", "v1", "sha256:" HEX64},
    {"ghcr.io/a/b:v1@sha512:" HEX128, "ghcr.io", "a/b", "v1", "sha512:" HEX128},
    {"app@multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
     "docker.io", "library/app", "",
     "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"},
    {"app@x.y_z-1:abcdefghijklmnopqrstuvwxyzABCD=_", "docker.io", "library/app",
     "", "x.y_z-1:abcdefghijklmnopqrstuvwxyzABCD=_"},
};

static void test_gs_image_ref_parse_valid_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
    print_message("valid: %s\n", valid_cases[i].in);
    expect_parts(&valid_cases[i]);
  }
}

/* ---- gs_image_ref_parse: invalid references -------------------------- */

static const invalid_case invalid_cases[] = {
    {"", "empty"},
    {":tag", "no repository name"},
    {"@sha256:" HEX64, "no repository name"},
    {" ubuntu", "whitespace (0x20) at offset 0"},
    {"ubuntu ", "whitespace (0x20) at offset 6"},
    {"ubu ntu", "whitespace"},
    {"ubuntu\t", "whitespace (0x09)"},
    {"ubuntu\n", "whitespace (0x0a)"},
    {"ubu\x01ntu", "control character 0x01 at offset 3"},
    {"ubuntu\x7f", "control character 0x7f"},
    {"ubunt\xc3\xbc", "non-ASCII byte 0xc3 at offset 5"},
    /* Uppercase is for domains only. */
    {"Ubuntu", "path component \"Ubuntu\" has uppercase letters"},
    {"ghcr.io/Ysicing/gitspace-runtime:vscode-latest",
     "path component \"Ysicing\" has uppercase letters"},
    {"Foo/bar", "path component \"Foo\" has uppercase letters"},
    {"ghcr.io/a/B", "path component \"B\" has uppercase letters"},
    /* Separators. */
    {"ghcr.io/a___b", "invalid separator \"___\""},
    {"ghcr.io/a-.b", "invalid separator \"-.\""},
    {"ghcr.io/a.-b", "invalid separator \".-\""},
    {"ghcr.io/a..b", "invalid separator \"..\""},
    {"ghcr.io/a_-b", "invalid separator"},
    {"ghcr.io/a-_b", "invalid separator"},
    {"ghcr.io/a-", "ends with a separator"},
    {"ghcr.io/a_", "ends with a separator"},
    {"ghcr.io/a.", "ends with a separator"},
    {"ghcr.io/-a", "starts with a separator"},
    {"ghcr.io/.a", "starts with a separator"},
    {"_a", "starts with a separator"},
    {"ghcr.io/a+b", "invalid character '+'"},
    {"ghcr.io/a//b", "has an empty component"},
    {"ghcr.io/", "has an empty component"},
    {"ghcr.io/a/", "has an empty component"},
    {"/a", "has an empty component"},
    {"a//b", "has an empty component"},
    /* Domains. */
    {"-ghcr.io/a", "component \"-ghcr\""},
    {"ghcr-.io/a", "component \"ghcr-\""},
    {"ghcr..io/a", "empty component"},
    {".io/a", "empty component"},
    {"gh_cr.io/a", "component \"gh_cr\""},
    {"localhost:/a", "port is empty"},
    {"localhost:50a0/a", "port \"50a0\" is not a number"},
    {"host:1:2/a", "port \"1:2\" is not a number"},
    {"[::1/a", "'[' without ']'"},
    {"[]:5000/a", "empty IPv6 address"},
    {"[::g]/a", "hex digits"},
    {"[::1]x:5/a", "only a port may follow ']'"},
    {"[::1]:/a", "port is empty"},
    /* Tags. */
    {"ghcr.io/ysicing/gitspace-runtime:", "invalid tag \"\": tag is empty"},
    {"a:b:c", "invalid tag \"b:c\""},
    {"a:.b", "must start with a letter, digit or '_'"},
    {"a:-b", "must start with a letter, digit or '_'"},
    {"a:b+c", "character '+'"},
    {"localhost:5000/a:b/c", "path component \"a:b\" has invalid character"},
    /* Digests. */
    {"a@", "invalid digest \"\": digest is empty"},
    {"a:v1@", "digest is empty"},
    {"a@sha256", "no ':' between algorithm and encoded value"},
    {"a@:" HEX64, "algorithm \"\""},
    {"a@SHA256:" HEX64, "algorithm \"SHA256\""},
    {"a@sha256+:" HEX64, "algorithm \"sha256+\""},
    {"a@sha+-x:" HEX64, "algorithm \"sha+-x\""},
    {"a@sha256:" HEX64 "@sha256:" HEX64, "needs lowercase hex, not '@'"},
    {"a@foo:" HEX64 "@x", "character '@' in the encoded value"},
    {"a@foo:abc", "shorter than 32 characters"},
    {"a@foo:", "shorter than 32 characters"},
    {"a@sha256:", "sha256 needs 64 hex digits, not 0"},
    {"a@sha512:" HEX64, "sha512 needs 128 hex digits, not 64"},
    {"a@sha256:" HEX128, "sha256 needs 64 hex digits, not 128"},
};

static void test_gs_image_ref_parse_invalid_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]);
       i++) {
    print_message("invalid: %s\n", invalid_cases[i].in);
    expect_invalid(invalid_cases[i].in, strlen(invalid_cases[i].in),
                   invalid_cases[i].reason);
  }
}

/* A terminator inside `len` is a control character, like any other. */
static void test_gs_image_ref_parse_embedded_nul(void **state) {
  (void)state;
  expect_invalid("ubuntu\0:1", 9, "control character 0x00 at offset 6");
}

static void test_gs_image_ref_parse_null_arguments(void **state) {
  gs_image_ref ref;
  char err[64] = "";

  (void)state;
  assert_int_equal(gs_image_ref_parse(NULL, 3, &ref, err, sizeof(err)),
                   GS_EINVAL);
  assert_true(err[0] != '\0');
  assert_int_equal(gs_image_ref_parse("abc", 3, NULL, NULL, 0), GS_EINVAL);
  /* err may be NULL, or too small for the whole message. */
  assert_int_equal(gs_image_ref_parse("A", 1, &ref, NULL, 0), GS_EINVAL);
  assert_int_equal(gs_image_ref_parse("A", 1, &ref, err, 1), GS_EINVAL);
  assert_string_equal(err, "");
  assert_int_equal(gs_image_ref_parse("A", 1, &ref, err, 8), GS_EINVAL);
  assert_int_equal(strlen(err), 7);
}

/* A successful parse leaves no old message behind. */
static void test_gs_image_ref_parse_clears_err(void **state) {
  gs_image_ref ref;
  char err[64] = "stale";

  (void)state;
  assert_int_equal(gs_image_ref_parse("a", 1, &ref, err, sizeof(err)), 0);
  assert_string_equal(err, "");
}

/* The length bounds the reference: bytes after it are never read. */
static void test_gs_image_ref_parse_not_terminated(void **state) {
  static const char longer[] = "ghcr.io/ysicing/gitspace-runtime:vscode-X";
  static const char unterminated[7] = "ubuntu:"; /* no terminator */
  char *heap = malloc(sizeof(unterminated));
  gs_image_ref ref;

  (void)state;
  assert_int_equal(gs_image_ref_parse(longer, strlen(PREBUILT), &ref, NULL, 0),
                   0);
  assert_string_equal(ref.path, "ysicing/gitspace-runtime");
  assert_string_equal(ref.tag, "");
  assert_int_equal(
      gs_image_ref_parse(longer, strlen(PREBUILT) + 7, &ref, NULL, 0), 0);
  assert_string_equal(ref.tag, "vscode");
  /* A prefix ending in the ':' is a missing tag, not the next byte. */
  expect_invalid(longer, strlen(PREBUILT) + 1, "tag is empty");

  /* Exactly sized on the heap: ASan reports any read past the end. */
  assert_non_null(heap);
  memcpy(heap, unterminated, sizeof(unterminated));
  expect_invalid(heap, 7, "tag is empty");
  assert_int_equal(gs_image_ref_parse(heap, 6, &ref, NULL, 0), 0);
  assert_string_equal(ref.path, "library/ubuntu");
  free(heap);
}

/* 128 characters is the longest tag. */
static void test_gs_image_ref_parse_tag_length(void **state) {
  char in[2 + GS_IMAGE_TAG_MAX + 2];
  gs_image_ref ref;

  (void)state;
  ref = parse_ok(fill(in, sizeof(in), "a:", 't', GS_IMAGE_TAG_MAX));
  assert_int_equal(strlen(ref.tag), GS_IMAGE_TAG_MAX);

  fill(in, sizeof(in), "a:", 't', GS_IMAGE_TAG_MAX + 1);
  expect_invalid(in, strlen(in), "longer than 128 characters");
}

static void test_gs_image_ref_parse_digest_lengths(void **state) {
  char in[256];
  char hex[130];
  gs_image_ref ref;

  (void)state;
  snprintf(in, sizeof(in), "a@sha256:%s", repeat(hex, 'f', 63));
  expect_invalid(in, strlen(in), "needs 64 hex digits, not 63");
  snprintf(in, sizeof(in), "a@sha256:%s", repeat(hex, 'f', 64));
  ref = parse_ok(in);
  assert_int_equal(strlen(ref.digest), 7 + 64);
  snprintf(in, sizeof(in), "a@sha256:%s", repeat(hex, 'f', 65));
  expect_invalid(in, strlen(in), "needs 64 hex digits, not 65");

  snprintf(in, sizeof(in), "a@sha512:%s", repeat(hex, '0', 127));
  expect_invalid(in, strlen(in), "needs 128 hex digits, not 127");
  snprintf(in, sizeof(in), "a@sha512:%s", repeat(hex, '0', 128));
  ref = parse_ok(in);
  assert_int_equal(strlen(ref.digest), 7 + 128);
  snprintf(in, sizeof(in), "a@sha512:%s", repeat(hex, '0', 129));
  expect_invalid(in, strlen(in), "needs 128 hex digits, not 129");

  /* Known algorithms want lowercase hex; unknown ones a wider alphabet. */
  snprintf(in, sizeof(in), "a@sha256:%s", repeat(hex, 'F', 64));
  expect_invalid(in, strlen(in), "needs lowercase hex, not 'F'");
  snprintf(in, sizeof(in), "a@sha256:%s", repeat(hex, 'g', 64));
  expect_invalid(in, strlen(in), "needs lowercase hex, not 'g'");
  snprintf(in, sizeof(in), "a@blake3:%s", repeat(hex, 'Z', 31));
  expect_invalid(in, strlen(in), "shorter than 32 characters");
  snprintf(in, sizeof(in), "a@blake3:%s", repeat(hex, 'Z', 32));
  ref = parse_ok(in);
  assert_string_equal(ref.digest + 7, hex);
}

/* The digest field holds 200 characters; a longer one is refused. */
static void test_gs_image_ref_parse_digest_too_long(void **state) {
  char in[300];
  char enc[256];
  gs_image_ref ref;

  (void)state;
  snprintf(in, sizeof(in), "a@x:%s", repeat(enc, 'a', GS_IMAGE_DIGEST_MAX - 2));
  ref = parse_ok(in);
  assert_int_equal(strlen(ref.digest), GS_IMAGE_DIGEST_MAX);
  snprintf(in, sizeof(in), "a@x:%s", repeat(enc, 'a', GS_IMAGE_DIGEST_MAX - 1));
  expect_invalid(in, strlen(in), "digest longer than 200 characters");
}

/* domain + '/' + path, as normalised, is at most 255 characters. */
static void test_gs_image_ref_parse_name_length(void **state) {
  char in[GS_IMAGE_NAME_MAX + 64];
  size_t room = GS_IMAGE_NAME_MAX - strlen("ghcr.io/");
  gs_image_ref ref;
  char out[GS_IMAGE_NAME_MAX + 64];

  (void)state;
  ref = parse_ok(fill(in, sizeof(in), "ghcr.io/", 'a', room));
  assert_int_equal(strlen(ref.path), room);
  assert_int_equal(gs_image_ref_repository(&ref, out, sizeof(out)),
                   GS_IMAGE_NAME_MAX);
  fill(in, sizeof(in), "ghcr.io/", 'a', room + 1);
  expect_invalid(in, strlen(in), "name longer than 255 characters");

  /* Nested components count too, with their slashes. */
  fill(in, sizeof(in), "ghcr.io/", 'a', room);
  in[8 + 10] = '/';
  (void)parse_ok(in);

  /* The implied "docker.io/library/" counts: 237 letters fit, 238 not. */
  room = GS_IMAGE_NAME_MAX - strlen("docker.io/library/");
  ref = parse_ok(repeat(in, 'b', room));
  assert_int_equal(strlen(ref.path), GS_IMAGE_NAME_MAX - strlen("docker.io/"));
  repeat(in, 'b', room + 1);
  expect_invalid(in, strlen(in), "name longer than 255 characters");

  /* index.docker.io shortens to docker.io before the count. */
  room = GS_IMAGE_NAME_MAX - strlen("docker.io/x/");
  (void)parse_ok(fill(in, sizeof(in), "index.docker.io/x/", 'c', room));
  fill(in, sizeof(in), "index.docker.io/x/", 'c', room + 1);
  expect_invalid(in, strlen(in), "name longer than 255 characters");
}

/* Whatever the size, the parser answers in bounds, and a message quotes
 * only the start of a long part, so its reason fits a small buffer. */
static void test_gs_image_ref_parse_huge_inputs(void **state) {
  static char buf[100000];
  size_t n = sizeof(buf);
  char err[128];
  gs_image_ref ref;

  (void)state;
  memset(buf, 'a', n);
  assert_int_equal(gs_image_ref_parse(buf, n, &ref, err, sizeof(err)),
                   GS_EINVAL);
  assert_string_equal(err, "name longer than 255 characters");

  memset(buf, '-', n);
  buf[0] = 'a';
  buf[n - 1] = '_';
  assert_int_equal(gs_image_ref_parse(buf, n, &ref, err, sizeof(err)),
                   GS_EINVAL);
  assert_non_null(strstr(err, "...\" has invalid separator"));

  memset(buf, 't', n);
  buf[0] = 'a';
  buf[1] = ':';
  assert_int_equal(gs_image_ref_parse(buf, n, &ref, err, sizeof(err)),
                   GS_EINVAL);
  assert_non_null(strstr(err, "...\": longer than 128 characters"));
}

/* Every single byte: alone it is a one-component name or nothing. */
static void test_gs_image_ref_parse_every_byte(void **state) {
  (void)state;
  for (int c = 0; c < 256; c++) {
    char b = (char)c;
    gs_image_ref ref;
    char err[128] = "";
    int rc = gs_image_ref_parse(&b, 1, &ref, err, sizeof(err));
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

    assert_int_equal(rc, ok ? 0 : GS_EINVAL);
    assert_true(ok || err[0] != '\0');
  }
}

/* ---- gs_image_ref_parse_repository ----------------------------------- */

static void test_gs_image_ref_parse_repository_plain(void **state) {
  gs_image_ref ref;
  char err[128] = "";

  (void)state;
  assert_int_equal(gs_image_ref_parse_repository(PREBUILT, strlen(PREBUILT),
                                                 &ref, err, sizeof(err)),
                   0);
  assert_string_equal(ref.domain, "ghcr.io");
  assert_string_equal(ref.path, "ysicing/gitspace-runtime");
  assert_string_equal(ref.tag, "");
  assert_string_equal(ref.digest, "");
  assert_int_equal(gs_image_ref_parse_repository("ubuntu", 6, &ref, NULL, 0),
                   0);
  assert_string_equal(ref.path, "library/ubuntu");
  assert_int_equal(
      gs_image_ref_parse_repository("localhost:5000/x", 16, &ref, NULL, 0), 0);
  assert_string_equal(ref.domain, "localhost:5000");
}

static void test_gs_image_ref_parse_repository_rejects(void **state) {
  static const invalid_case cases[] = {
      {PREBUILT ":vscode-web-latest", "must not have a tag (\":vscode-web"},
      {PREBUILT "@sha256:" HEX64, "must not have a digest (\"@sha256:"},
      {PREBUILT ":v1@sha256:" HEX64, "must not have a tag"},
      {"localhost:5000", "must not have a tag (\":5000\")"},
      {PREBUILT ":", "tag is empty"},
      {"ghcr.io/Ysicing/x", "uppercase"},
      {"", "empty"},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gs_image_ref ref;
    char err[256] = "";

    memset(&ref, 0x5a, sizeof(ref));
    assert_int_equal(gs_image_ref_parse_repository(cases[i].in,
                                                   strlen(cases[i].in), &ref,
                                                   err, sizeof(err)),
                     GS_EINVAL);
    if (strstr(err, cases[i].reason) == NULL) {
      fail_msg("\"%s\": error \"%s\" lacks \"%s\"", cases[i].in, err,
               cases[i].reason);
    }
    assert_int_equal(((unsigned char *)&ref)[0], 0x5a);
  }
  assert_int_equal(
      gs_image_ref_parse_repository(PREBUILT ":x", 34, NULL, NULL, 0),
      GS_EINVAL);
}

/* ---- gs_image_ref_with_tag ------------------------------------------- */

static void test_gs_image_ref_with_tag_sets_tag_clears_digest(void **state) {
  gs_image_ref repo = parse_ok(PREBUILT ":old@sha256:" HEX64);
  gs_image_ref out;
  char err[128] = "stale";

  (void)state;
  assert_int_equal(
      gs_image_ref_with_tag(&repo, "vscode-web-latest", &out, err, sizeof(err)),
      0);
  assert_string_equal(err, "");
  assert_string_equal(out.domain, "ghcr.io");
  assert_string_equal(out.path, "ysicing/gitspace-runtime");
  assert_string_equal(out.tag, "vscode-web-latest");
  assert_string_equal(out.digest, "");
  /* The input is unchanged. */
  assert_string_equal(repo.tag, "old");
  assert_string_equal(repo.digest, "sha256:" HEX64);
}

/* The output may be the input. */
static void test_gs_image_ref_with_tag_in_place(void **state) {
  gs_image_ref ref = parse_ok("ubuntu@sha256:" HEX64);

  (void)state;
  assert_int_equal(gs_image_ref_with_tag(&ref, "24.04", &ref, NULL, 0), 0);
  assert_string_equal(ref.path, "library/ubuntu");
  assert_string_equal(ref.tag, "24.04");
  assert_string_equal(ref.digest, "");
}

static void test_gs_image_ref_with_tag_rejects(void **state) {
  static const invalid_case cases[] = {
      {"", "invalid tag \"\": tag is empty"},
      {".x", "must start with a letter, digit or '_'"},
      {"-x", "must start with a letter, digit or '_'"},
      {"a:b", "character ':'"},
      {"a@b", "character '@'"},
      {"a b", "character ' '"},
      {"a/b", "character '/'"},
  };
  gs_image_ref repo = parse_ok(PREBUILT ":keep");
  char tag[GS_IMAGE_TAG_MAX + 2];

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gs_image_ref out = repo;
    char err[256] = "";

    assert_int_equal(
        gs_image_ref_with_tag(&repo, cases[i].in, &out, err, sizeof(err)),
        GS_EINVAL);
    if (strstr(err, cases[i].reason) == NULL) {
      fail_msg("\"%s\": error \"%s\" lacks \"%s\"", cases[i].in, err,
               cases[i].reason);
    }
    assert_string_equal(out.tag, "keep");
  }
  assert_int_equal(gs_image_ref_with_tag(&repo, NULL, &repo, NULL, 0),
                   GS_EINVAL);
  assert_int_equal(gs_image_ref_with_tag(NULL, "x", &repo, NULL, 0), GS_EINVAL);
  assert_int_equal(gs_image_ref_with_tag(&repo, "x", NULL, NULL, 0), GS_EINVAL);

  repeat(tag, 'v', GS_IMAGE_TAG_MAX);
  assert_int_equal(gs_image_ref_with_tag(&repo, tag, &repo, NULL, 0), 0);
  assert_string_equal(repo.tag, tag);
  repeat(tag, 'v', GS_IMAGE_TAG_MAX + 1);
  assert_int_equal(gs_image_ref_with_tag(&repo, tag, &repo, NULL, 0),
                   GS_EINVAL);
}

/* ---- gs_image_ref_format and gs_image_ref_repository ------------------ */

static void test_gs_image_ref_format_normalised(void **state) {
  static const struct {
    const char *in;
    const char *full;
    const char *repo;
  } cases[] = {
      {"ubuntu", "docker.io/library/ubuntu", "docker.io/library/ubuntu"},
      {"ubuntu:24.04", "docker.io/library/ubuntu:24.04",
       "docker.io/library/ubuntu"},
      {"index.docker.io/ysicing/tools:1.0", "docker.io/ysicing/tools:1.0",
       "docker.io/ysicing/tools"},
      {"localhost:5000/a/b", "localhost:5000/a/b", "localhost:5000/a/b"},
      {PREBUILT "@sha256:" HEX64, PREBUILT "@sha256:" HEX64, PREBUILT},
      {PREBUILT ":v1@sha256:" HEX64, PREBUILT ":v1@sha256:" HEX64, PREBUILT},
      {"[::1]:5000/app:1", "[::1]:5000/app:1", "[::1]:5000/app"},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gs_image_ref ref = parse_ok(cases[i].in);
    gs_image_ref again;
    char out[600];

    assert_int_equal(gs_image_ref_format(&ref, out, sizeof(out)),
                     strlen(cases[i].full));
    assert_string_equal(out, cases[i].full);
    /* What format writes parses back to the same value. */
    again = parse_ok(out);
    assert_memory_equal(&again, &ref, sizeof(ref));

    assert_int_equal(gs_image_ref_repository(&ref, out, sizeof(out)),
                     strlen(cases[i].repo));
    assert_string_equal(out, cases[i].repo);
  }
}

/* Like snprintf: the length needed comes back, the output is cut and
 * terminated, and a zero size writes nothing. */
static void test_gs_image_ref_format_truncates(void **state) {
  gs_image_ref ref = parse_ok("ubuntu:24.04");
  char out[10];

  (void)state;
  memset(out, 'x', sizeof(out));
  assert_int_equal(gs_image_ref_format(&ref, out, sizeof(out)), 30);
  assert_string_equal(out, "docker.io");
  assert_int_equal(gs_image_ref_format(&ref, NULL, 0), 30);
  memset(out, 'x', sizeof(out));
  assert_int_equal(gs_image_ref_format(&ref, out, 0), 30);
  assert_int_equal(out[0], 'x');
}

static void test_gs_image_ref_format_longest(void **state) {
  char path[GS_IMAGE_NAME_MAX + 1];
  char tag[GS_IMAGE_TAG_MAX + 1];
  char enc[GS_IMAGE_DIGEST_MAX + 1];
  char in[GS_IMAGE_NAME_MAX + GS_IMAGE_TAG_MAX + GS_IMAGE_DIGEST_MAX + 8];
  char out[sizeof(in) + 32];
  gs_image_ref ref;
  int n = 0;

  (void)state;
  repeat(path, 'p', GS_IMAGE_NAME_MAX - strlen("ghcr.io/"));
  repeat(tag, 't', GS_IMAGE_TAG_MAX);
  repeat(enc, 'd', GS_IMAGE_DIGEST_MAX - strlen("x:"));
  n = snprintf(in, sizeof(in), "ghcr.io/%s:%s@x:%s", path, tag, enc);
  assert_int_equal(n, GS_IMAGE_NAME_MAX + 1 + GS_IMAGE_TAG_MAX + 1 +
                          GS_IMAGE_DIGEST_MAX);

  ref = parse_ok(in);
  assert_int_equal(gs_image_ref_format(&ref, out, sizeof(out)), n);
  assert_string_equal(out, in);
  assert_int_equal(gs_image_ref_repository(&ref, NULL, 0), GS_IMAGE_NAME_MAX);
}

static void test_gs_image_ref_repository_truncates(void **state) {
  gs_image_ref ref = parse_ok(PREBUILT ":v1");
  char out[8];

  (void)state;
  assert_int_equal(gs_image_ref_repository(&ref, out, sizeof(out)),
                   strlen(PREBUILT));
  assert_string_equal(out, "ghcr.io");
  assert_int_equal(gs_image_ref_repository(&ref, NULL, 0), strlen(PREBUILT));
}

/* ---- gs_image_ref_same_repository ------------------------------------ */

static void test_gs_image_ref_same_repository_table(void **state) {
  static const struct {
    const char *a;
    const char *b;
    bool same;
  } cases[] = {
      {PREBUILT, PREBUILT ":vscode-web-latest", true},
      {PREBUILT, PREBUILT "@sha256:" HEX64, true},
      {PREBUILT ":a", PREBUILT ":b", true},
      {"ubuntu", "docker.io/library/ubuntu:24.04", true},
      {"ubuntu", "index.docker.io/ubuntu", true},
      {"ubuntu", "docker.io/ubuntu", true},
      {PREBUILT, "ghcr.io/ysicing/gitspace-runtime-evil", false},
      {PREBUILT, "ghcr.io/ysicing/gitspace-runtim", false},
      {PREBUILT, "ghcr.io/ysicing/gitspace-runtime/sub", false},
      {PREBUILT, "ghcr.io/ysicing", false},
      {PREBUILT, "GHCR.io/ysicing/gitspace-runtime", false},
      {PREBUILT, "ghcr.io:443/ysicing/gitspace-runtime", false},
      {PREBUILT, "evil.ghcr.io/ysicing/gitspace-runtime", false},
      {PREBUILT, "ysicing/gitspace-runtime", false},
      {"localhost/a", "localhost:5000/a", false},
      {"a/b", "docker.io/a/b", true},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gs_image_ref a = parse_ok(cases[i].a);
    gs_image_ref b = parse_ok(cases[i].b);

    print_message("%s vs %s\n", cases[i].a, cases[i].b);
    assert_int_equal(gs_image_ref_same_repository(&a, &b), cases[i].same);
    assert_int_equal(gs_image_ref_same_repository(&b, &a), cases[i].same);
  }
}

/* ---- gs_image_ref_api_host ------------------------------------------- */

static void test_gs_image_ref_api_host_table(void **state) {
  static const struct {
    const char *in;
    const char *host;
  } cases[] = {
      {"ubuntu", "registry-1.docker.io"},
      {"docker.io/a/b", "registry-1.docker.io"},
      {"index.docker.io/a/b", "registry-1.docker.io"},
      {PREBUILT, "ghcr.io"},
      {"localhost:5000/a", "localhost:5000"},
      {"registry-1.docker.io/a", "registry-1.docker.io"},
      {"Docker.io/a", "Docker.io"},
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gs_image_ref ref = parse_ok(cases[i].in);

    assert_string_equal(gs_image_ref_api_host(&ref), cases[i].host);
  }
}

/* ---- gs_image_ref_is_tag --------------------------------------------- */

static void test_gs_image_ref_is_tag_table(void **state) {
  static const struct {
    const char *tag;
    bool ok;
  } cases[] = {
      {"latest", true},  {"vscode-web-latest", true},
      {"_", true},       {"1.0", true},
      {"A.b_c-D", true}, {"x.", true},
      {"", false},       {".x", false},
      {"-x", false},     {"a:b", false},
      {"a@b", false},    {"a b", false},
      {"a\tb", false},   {"\xc3\xa9", false},
  };
  char tag[GS_IMAGE_TAG_MAX + 2];

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(gs_image_ref_is_tag(cases[i].tag), cases[i].ok);
  }
  assert_false(gs_image_ref_is_tag(NULL));
  assert_true(gs_image_ref_is_tag(repeat(tag, 'a', GS_IMAGE_TAG_MAX)));
  assert_false(gs_image_ref_is_tag(repeat(tag, 'a', GS_IMAGE_TAG_MAX + 1)));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gs_image_ref_parse_cases_tsv),
      cmocka_unit_test(test_gs_image_ref_parse_valid_table),
      cmocka_unit_test(test_gs_image_ref_parse_invalid_table),
      cmocka_unit_test(test_gs_image_ref_parse_embedded_nul),
      cmocka_unit_test(test_gs_image_ref_parse_null_arguments),
      cmocka_unit_test(test_gs_image_ref_parse_clears_err),
      cmocka_unit_test(test_gs_image_ref_parse_not_terminated),
      cmocka_unit_test(test_gs_image_ref_parse_tag_length),
      cmocka_unit_test(test_gs_image_ref_parse_digest_lengths),
      cmocka_unit_test(test_gs_image_ref_parse_digest_too_long),
      cmocka_unit_test(test_gs_image_ref_parse_name_length),
      cmocka_unit_test(test_gs_image_ref_parse_huge_inputs),
      cmocka_unit_test(test_gs_image_ref_parse_every_byte),
      cmocka_unit_test(test_gs_image_ref_parse_repository_plain),
      cmocka_unit_test(test_gs_image_ref_parse_repository_rejects),
      cmocka_unit_test(test_gs_image_ref_with_tag_sets_tag_clears_digest),
      cmocka_unit_test(test_gs_image_ref_with_tag_in_place),
      cmocka_unit_test(test_gs_image_ref_with_tag_rejects),
      cmocka_unit_test(test_gs_image_ref_format_normalised),
      cmocka_unit_test(test_gs_image_ref_format_truncates),
      cmocka_unit_test(test_gs_image_ref_format_longest),
      cmocka_unit_test(test_gs_image_ref_repository_truncates),
      cmocka_unit_test(test_gs_image_ref_same_repository_table),
      cmocka_unit_test(test_gs_image_ref_api_host_table),
      cmocka_unit_test(test_gs_image_ref_is_tag_table),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
