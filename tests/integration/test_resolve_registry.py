"""ResolveImage against a real registry (Debian's docker-registry 2.8).

The production daemon (GS_REAL_DAEMON) verifies prebuilt images against a
registry run by registry_harness.py in each auth mode (none, htpasswd,
token with token_issuer.py), through a counting proxy so that the tests
can say how many manifest requests reached the registry. Every test starts
its own daemon (cold cache) and stops it at the end, checking a clean exit
and that no password (nor its base64 form) appears in the daemon's log.

The harness itself is checked first (HarnessTest), without the daemon.
"""

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from daemon import Daemon

import grpc
from gitspace.orchestrator.v1 import orchestrator_pb2 as pb
from gitspace.orchestrator.v1 import orchestrator_pb2_grpc as pb_grpc

import health_pb2

from registry_harness import (ACCEPT_ALL, Registry, SilentServer,
                              docker_auth_file)

REPO = "gitspace-runtime"
PUBLIC_REPO = "public/runtime"
BASE = "mcr.microsoft.com/devcontainers/base:dev-ubuntu-24.04"
USER = "gitspace-puller"
PASSWORD = "Pull-Secret-7f3a9c"
WRONG_PASSWORD = "Wrong-Secret-b81d2e"
OTHER_USER = "gitspace-other"
OTHER_PASSWORD = "Other-Secret-55c0aa"
SECRETS = [PASSWORD, WRONG_PASSWORD, OTHER_PASSWORD] + [
    base64.b64encode(("%s:%s" % (u, p)).encode()).decode()
    for u in (USER, OTHER_USER)
    for p in (PASSWORD, WRONG_PASSWORD, OTHER_PASSWORD)]

TIMEOUT_MS = 1500
# Slack for a sanitizer build and a busy machine.
SLACK = 1.5

# ide -> tag in the catalog; "pushed" says whether the registry has it and
# in which form.
CATALOG = {
    "vs_code_web": "vscode-web-latest",
    "vs_code": "vscode-latest",
    "cursor": "cursor-latest",
    "windsurf": "windsurf-latest",
    "goland": "goland-latest",
    "intellij": "intellij-latest",
    "pycharm": "pycharm-latest",  # never pushed: "tag missing"
}
PUSHED = {
    "vscode-web-latest": "docker",
    "vscode-latest": "docker",
    "cursor-latest": "oci",
    "windsurf-latest": "docker",
    "goland-latest": "oci",
    "intellij-latest": "oci-index",
}

V = pb.Verification
S = pb.ImageSource


# ---- the daemon -------------------------------------------------------------


def _yaml_value(value, indent):
    pad = "  " * indent
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, k))
                out.extend(_yaml_value(v, indent + 1))
            else:
                out.append("%s%s: %s" % (pad, k, _yaml_scalar(v)))
        return out
    if isinstance(value, list):
        return ["%s- %s" % (pad, _yaml_scalar(v)) for v in value]
    raise TypeError(value)


def _yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):  # empty
        return "[]"
    return json.dumps(v)  # a double-quoted YAML string


def to_yaml(config):
    return "\n".join(_yaml_value(config, 0)) + "\n"


class ResolveDaemon(Daemon):
    """The production daemon with a nested config (lists, the catalog map)
    and chosen GITSPACE_* variables in its environment."""

    def __init__(self, config, env=None):
        super().__init__(None, real=True)
        self.config = {"log": {"level": "debug"}}
        self.config.update(config)
        self.env = dict(env or {})

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="gs-itest-rr-")
        self.socket_path = os.path.join(self.dir, "orchestrator.sock")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.config_path = os.path.join(self.dir, "config.yaml")
        with open(self.config_path, "w") as f:
            f.write(to_yaml(self.config))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GITSPACE_")}
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.update(self.env)
        argv = [self.binary, "--socket", self.socket_path,
                "--config", self.config_path] + self.args
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=env)
        self._wait_listening()
        return self


def daemon_config(address, repo=REPO, auth_file=None, insecure=True,
                  **extra):
    """The config of a daemon verifying prebuilt images at address/repo.
    extra: prebuilt_images.* and registry.* overrides, as
    section__key=value."""
    cfg = {
        "prebuilt_images": {
            "enabled": True,
            "registry": "%s/%s" % (address, repo),
            "base_image": BASE,
            "verify": True,
            "catalog": dict(CATALOG),
        },
        "registry": {
            "timeout_ms": TIMEOUT_MS,
            "cache_ttl_ms": 60000,
            "negative_cache_ttl_ms": 60000,
        },
    }
    if insecure:
        cfg["registry"]["insecure_hosts"] = [address]
    if auth_file:
        cfg["registry"]["auth_file"] = auth_file
    for key, value in extra.items():
        section, name = key.split("__", 1)
        if value is None:
            cfg[section].pop(name, None)
        else:
            cfg[section][name] = value
    return cfg


class ResolveTestCase(unittest.TestCase):
    """Helpers: start_daemon() (stopped and checked at the end of the
    test), resolve(), and assertions on a ResolveImageResponse."""

    def setUp(self):
        self.daemons = []

    def tearDown(self):
        for d in getattr(self, "daemons", []):
            try:
                if d.proc.poll() is None:
                    self.assertEqual(d.check(),
                                     health_pb2.HealthCheckResponse.SERVING)
                d.stop()
                self.assert_no_secret(d.log(), "the daemon log")
            finally:
                d.kill()

    def start_daemon(self, config, env=None):
        d = ResolveDaemon(config, env)
        d.start()
        self.daemons.append(d)
        self.daemon = d
        return d

    def resolve(self, d, ide_type, devcontainer_image="", timeout=10,
                verify=pb.VERIFY_MODE_DEFAULT, gitspace_id="gs-rr"):
        req = pb.ResolveImageRequest(
            gitspace_id=gitspace_id, ide_type=ide_type,
            devcontainer_image=devcontainer_image, verify=verify)
        with d.channel() as ch:
            try:
                return pb_grpc.OrchestratorStub(ch).ResolveImage(
                    req, timeout=timeout)
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                    self.fail("ResolveImage is UNIMPLEMENTED: %s"
                              % e.details())
                raise

    def wait_log_line(self, d, pattern, timeout=3.0):
        """The first line of the daemon's log matching `pattern`."""
        deadline = time.monotonic() + timeout
        while True:
            for line in d.log().splitlines():
                if re.search(pattern, line):
                    return line
            if time.monotonic() > deadline:
                self.fail("no log line matches %r\n%s"
                          % (pattern, d.describe()))
            time.sleep(0.05)

    def describe(self, resp, extra=""):
        text = "response:\n%s" % resp
        if extra:
            text += "\n" + extra
        if getattr(self, "daemon", None) is not None:
            text += "\n" + self.daemon.describe()
        return text

    def assert_no_secret(self, text, where):
        for secret in SECRETS:
            self.assertNotIn(secret, text, "a password (or its base64 form) "
                             "appears in %s" % where)

    def assert_prebuilt_found(self, resp, address, tag, digest, repo=REPO):
        msg = self.describe(resp)
        self.assertEqual(resp.source, S.IMAGE_SOURCE_PREBUILT, msg)
        self.assertTrue(resp.prebuilt, msg)
        self.assertTrue(resp.verified, msg)
        self.assertEqual(resp.verification, V.VERIFICATION_FOUND, msg)
        self.assertEqual(resp.digest, digest, msg)
        self.assertEqual(resp.fallback_reason, "", msg)
        self.assertEqual(resp.warning, "", msg)
        name = "%s/%s" % (address, repo)
        self.assertIn(resp.image, ("%s:%s" % (name, tag),
                                   "%s:%s@%s" % (name, tag, digest),
                                   "%s@%s" % (name, digest)), msg)
        self.assertEqual(resp.reference.domain, address, msg)
        self.assertEqual(resp.reference.path, repo, msg)

    def assert_fallback(self, resp, verification, *words):
        msg = self.describe(resp)
        self.assertEqual(resp.source, S.IMAGE_SOURCE_FALLBACK, msg)
        self.assertEqual(resp.image, BASE, msg)
        self.assertFalse(resp.prebuilt, msg)
        self.assertFalse(resp.verified, msg)
        self.assertEqual(resp.digest, "", msg)
        self.assertEqual(resp.verification, verification, msg)
        self.assertNotEqual(resp.fallback_reason, "", msg)
        if words:
            reason = resp.fallback_reason.lower()
            self.assertTrue(any(w.lower() in reason for w in words),
                            "the reason names none of %r\n%s" % (words, msg))
        self.assert_no_secret(resp.fallback_reason, "fallback_reason")
        self.assert_no_secret(resp.warning, "warning")

    def assert_prebuilt_kept(self, resp, address, tag, verification,
                             repo=REPO):
        """An indefinite answer that kept the prebuilt image."""
        msg = self.describe(resp)
        self.assertEqual(resp.source, S.IMAGE_SOURCE_PREBUILT, msg)
        self.assertTrue(resp.prebuilt, msg)
        self.assertFalse(resp.verified, msg)
        self.assertEqual(resp.verification, verification, msg)
        self.assertEqual(resp.digest, "", msg)
        self.assertNotEqual(resp.warning, "", msg)
        self.assertEqual(resp.fallback_reason, "", msg)
        self.assertEqual(resp.image, "%s/%s:%s" % (address, repo, tag), msg)


# ---- the harness, without the daemon ----------------------------------------


class HarnessTest(unittest.TestCase):
    """registry_harness and token_issuer on their own: what the ResolveImage
    tests rely on."""

    def http(self, method, url, headers=None):
        req = urllib.request.Request(url, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def check_mode(self, mode):
        users = {USER: PASSWORD} if mode != "none" else None
        with Registry(mode, users=users,
                      public_repositories=(PUBLIC_REPO,)) as r:
            digests = {
                "docker": r.push_image(REPO, "a"),
                "oci": r.push_image(REPO, "b", fmt="oci"),
                "index": r.push_index(REPO, "c"),
            }
            self.assertEqual(len(set(digests.values())), 3)
            self.assertEqual(r.requests(), [], "pushes must not be counted")
            url = "http://%s/v2/%s/manifests/a" % (r.address, REPO)
            mark = r.mark()
            status, h, _ = self.http("HEAD", url, {"Accept": ACCEPT_ALL})
            if mode == "none":
                self.assertEqual(status, 200)
                self.assertEqual(h["Docker-Content-Digest"],
                                 digests["docker"])
            else:
                self.assertEqual(status, 401)
                self.assertIn("Basic" if mode == "htpasswd" else "Bearer",
                              h["Www-Authenticate"])
            seen = r.manifest_requests(REPO, "a", since=mark)
            self.assertEqual([(e["method"], e["status"]) for e in seen],
                             [("HEAD", status)])
            if mode == "token":
                self.check_token_flow(r, h["Www-Authenticate"], digests)
            r.stop()
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", r.port), timeout=2)
            r.start()
            self.assertEqual(r.head_manifest(REPO, "b"), digests["oci"])
            self.assertEqual(r.head_manifest(REPO, "c"), digests["index"])
            self.assertIsNone(r.head_manifest(REPO, "missing"))
            self.assertIsNone(r.head_manifest("no/such-repo", "a"))

    def check_token_flow(self, r, challenge, digests):
        self.assertIn('realm="%s"' % r.issuer.realm, challenge)
        base = "%s?service=%s&scope=" % (r.issuer.realm, r.issuer.service)
        auth = {"Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode()}
        bad = {"Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (USER, WRONG_PASSWORD)).encode()).decode()}
        scope = urllib.parse.quote("repository:%s:pull" % REPO)
        status, _, body = self.http("GET", base + scope, auth)
        self.assertEqual(status, 200)
        token = json.loads(body)["token"]
        url = "http://%s/v2/%s/manifests/a" % (r.address, REPO)
        status, h, _ = self.http("HEAD", url, {
            "Accept": ACCEPT_ALL, "Authorization": "Bearer " + token})
        self.assertEqual(status, 200)
        self.assertEqual(h["Docker-Content-Digest"], digests["docker"])
        status, _, _ = self.http("GET", base + scope, bad)
        self.assertEqual(status, 401)
        # Anonymous: a token that grants nothing on a private repository...
        status, _, body = self.http("GET", base + scope)
        self.assertEqual(status, 200)
        status, _, _ = self.http("HEAD", url, {
            "Authorization": "Bearer " + json.loads(body)["token"]})
        self.assertEqual(status, 401)
        # ...and pull on a public one.
        d = r.push_image(PUBLIC_REPO, "p")
        status, _, body = self.http("GET", base + urllib.parse.quote(
            "repository:%s:pull" % PUBLIC_REPO))
        self.assertEqual(status, 200)
        status, h, _ = self.http(
            "HEAD", "http://%s/v2/%s/manifests/p" % (r.address, PUBLIC_REPO),
            {"Accept": ACCEPT_ALL,
             "Authorization": "Bearer " + json.loads(body)["token"]})
        self.assertEqual((status, h.get("Docker-Content-Digest")), (200, d))

    def test_mode_none(self):
        self.check_mode("none")

    def test_mode_htpasswd(self):
        self.check_mode("htpasswd")

    def test_mode_token(self):
        self.check_mode("token")

    def test_silent_server(self):
        s = SilentServer()
        try:
            c = socket.create_connection(("127.0.0.1", s.port), timeout=2)
            c.settimeout(0.3)
            c.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            with self.assertRaises(socket.timeout):
                c.recv(1)
            c.close()
        finally:
            s.close()


# ---- ResolveImage in each auth mode -----------------------------------------


class _AuthModeTests:
    """Mixed into one TestCase per auth mode."""

    mode = None

    @classmethod
    def setUpClass(cls):
        users = None
        if cls.mode != "none":
            users = {USER: PASSWORD, OTHER_USER: OTHER_PASSWORD}
        cls.registry = Registry(cls.mode, users=users,
                                public_repositories=(PUBLIC_REPO,)).start()
        cls.digests = {}
        try:
            for tag, fmt in PUSHED.items():
                if fmt == "oci-index":
                    cls.digests[tag] = cls.registry.push_index(REPO, tag)
                else:
                    cls.digests[tag] = cls.registry.push_image(REPO, tag,
                                                               fmt=fmt)
            cls.public_digest = cls.registry.push_image(
                PUBLIC_REPO, "vscode-web-latest")
        except Exception:
            cls.registry.close()
            raise
        cls.auth_dir = tempfile.mkdtemp(prefix="gs-itest-auth-")

    @classmethod
    def tearDownClass(cls):
        cls.registry.close()
        shutil.rmtree(cls.auth_dir, ignore_errors=True)

    @property
    def address(self):
        return self.registry.address

    def auth_file(self, password=PASSWORD, name="config.json"):
        if self.mode == "none":
            return None
        return docker_auth_file(os.path.join(self.auth_dir, name),
                                {self.address: (USER, password)})

    def config(self, **extra):
        return daemon_config(self.address, auth_file=self.auth_file(),
                             **extra)

    def registry_report(self, mark):
        return ("registry requests: %s\ntoken requests: %s"
                % (json.dumps(self.registry.requests()[mark[0]:], indent=1),
                   json.dumps(self.registry.token_requests(mark),
                              indent=1)))

    # ---- found ---------------------------------------------------------

    def test_found_docker_schema2(self):
        d = self.start_daemon(self.config())
        resp = self.resolve(d, "vs_code_web")
        tag = "vscode-web-latest"
        self.assert_prebuilt_found(resp, self.address, tag,
                                   self.digests[tag])
        self.assertFalse(resp.from_cache, self.describe(resp))
        self.assertEqual(resp.ide_port, 8089, self.describe(resp))
        self.assertEqual(resp.ide_family, "code-server", self.describe(resp))

    def test_found_oci_manifest(self):
        d = self.start_daemon(self.config())
        resp = self.resolve(d, "cursor")
        self.assert_prebuilt_found(resp, self.address, "cursor-latest",
                                   self.digests["cursor-latest"])

    def test_found_oci_index(self):
        d = self.start_daemon(self.config())
        resp = self.resolve(d, "intellij")
        self.assert_prebuilt_found(resp, self.address, "intellij-latest",
                                   self.digests["intellij-latest"])

    # ---- definite no ---------------------------------------------------

    def test_tag_missing(self):
        d = self.start_daemon(self.config())
        resp = self.resolve(d, "pycharm")
        self.assert_fallback(resp, V.VERIFICATION_NOT_FOUND,
                             "pycharm-latest", "not found")

    def test_repository_missing(self):
        d = self.start_daemon(daemon_config(
            self.address, repo="no-such/repository",
            auth_file=self.auth_file()))
        resp = self.resolve(d, "vs_code_web")
        self.assert_fallback(resp, V.VERIFICATION_NOT_FOUND,
                             "no-such/repository", "not found")

    def test_verify_never_asks_nothing(self):
        d = self.start_daemon(self.config())
        mark = self.registry.mark()
        resp = self.resolve(d, "vs_code_web", verify=pb.VERIFY_MODE_NEVER)
        msg = self.describe(resp, self.registry_report(mark))
        self.assertEqual(resp.source, S.IMAGE_SOURCE_PREBUILT, msg)
        self.assertTrue(resp.prebuilt, msg)
        self.assertFalse(resp.verified, msg)
        self.assertEqual(resp.verification, V.VERIFICATION_SKIPPED, msg)
        self.assertEqual(resp.image,
                         "%s/%s:vscode-web-latest" % (self.address, REPO),
                         msg)
        self.assertEqual(self.registry.requests()[mark[0]:], [], msg)
        self.assertEqual(self.registry.token_requests(mark), [], msg)

    # ---- one lookup for many calls --------------------------------------

    def test_concurrent_calls_share_one_lookup(self):
        d = self.start_daemon(self.config())
        tag = "vscode-web-latest"
        mark = self.registry.mark()
        req = pb.ResolveImageRequest(gitspace_id="gs-many",
                                     ide_type="vs_code_web")
        # 100 calls at once, over four connections.
        channels = [d.channel() for _ in range(4)]
        try:
            stubs = [pb_grpc.OrchestratorStub(ch) for ch in channels]
            futures = [stubs[i % 4].ResolveImage.future(req, timeout=30)
                       for i in range(100)]
            responses = [f.result() for f in futures]
        finally:
            for ch in channels:
                ch.close()
        report = self.registry_report(mark)
        for resp in responses:
            self.assert_prebuilt_found(resp, self.address, tag,
                                       self.digests[tag])
        manifests = self.registry.manifest_requests(REPO, tag, since=mark)
        answered = [e for e in manifests if e["status"] != 401]
        challenged = [e for e in manifests if e["status"] == 401]
        self.assertEqual(len(answered), 1,
                         "want one manifest request answered\n" + report)
        self.assertLessEqual(len(challenged), 1,
                             "at most one 401 challenge\n" + report)
        other = [e for e in self.registry.requests()[mark[0]:]
                 if "/manifests/" in e["path"] and e not in manifests]
        self.assertEqual(other, [], report)
        tokens = self.registry.token_requests(mark)
        self.assertLessEqual(len(tokens), 1 if self.mode == "token" else 0,
                             report)

        mark = self.registry.mark()
        resp = self.resolve(d, "vs_code_web")
        self.assert_prebuilt_found(resp, self.address, tag, self.digests[tag])
        self.assertTrue(resp.from_cache, self.describe(resp))
        self.assertEqual(self.registry.requests()[mark[0]:], [],
                         self.registry_report(mark))
        self.assertEqual(self.registry.token_requests(mark), [],
                         self.registry_report(mark))


class _CredentialTests:
    """For the modes that check credentials."""

    def test_wrong_credentials(self):
        d = self.start_daemon(daemon_config(
            self.address, auth_file=self.auth_file(WRONG_PASSWORD,
                                                   "wrong.json")))
        resp = self.resolve(d, "vs_code_web")
        self.assert_fallback(resp, V.VERIFICATION_UNAUTHORIZED)
        self.assert_no_secret(d.log(), "the daemon log")

    def test_no_credentials(self):
        d = self.start_daemon(daemon_config(self.address))
        resp = self.resolve(d, "vs_code_web")
        self.assert_fallback(resp, V.VERIFICATION_UNAUTHORIZED)


class ResolveNoAuthTest(_AuthModeTests, ResolveTestCase):
    mode = "none"

    # ---- requests that need no registry answer ---------------------------

    def test_devcontainer_image_elsewhere(self):
        d = self.start_daemon(self.config())
        resp = self.resolve(
            d, "vs_code_web",
            devcontainer_image="docker.io/library/ubuntu:22.04")
        msg = self.describe(resp)
        self.assertEqual(resp.source, S.IMAGE_SOURCE_DEVCONTAINER, msg)
        self.assertFalse(resp.prebuilt, msg)
        self.assertIn(resp.image, ("docker.io/library/ubuntu:22.04",
                                   "ubuntu:22.04"), msg)
        self.assertEqual(resp.fallback_reason, "", msg)

    def test_devcontainer_image_in_prebuilt_repository(self):
        d = self.start_daemon(self.config())
        image = "%s/%s:vscode-web-latest" % (self.address, REPO)
        resp = self.resolve(d, "vs_code_web", devcontainer_image=image)
        msg = self.describe(resp)
        self.assertEqual(resp.source, S.IMAGE_SOURCE_DEVCONTAINER, msg)
        self.assertTrue(resp.prebuilt, msg)
        self.assertTrue(resp.image.startswith(image), msg)

    def test_devcontainer_image_in_lookalike_repository(self):
        d = self.start_daemon(self.config())
        image = "%s/%s-evil:vscode-web-latest" % (self.address, REPO)
        resp = self.resolve(d, "vs_code_web", devcontainer_image=image)
        msg = self.describe(resp)
        self.assertEqual(resp.source, S.IMAGE_SOURCE_DEVCONTAINER, msg)
        self.assertFalse(resp.prebuilt, msg)

    def test_empty_ide_type(self):
        d = self.start_daemon(self.config())
        with self.assertRaises(grpc.RpcError) as cm:
            self.resolve(d, "")
        self.assertEqual(cm.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT,
                         cm.exception.details())
        self.assertIn("ide_type", cm.exception.details() or "")

    def test_unknown_ide(self):
        d = self.start_daemon(self.config())
        mark = self.registry.mark()
        resp = self.resolve(d, "emacs")
        msg = self.describe(resp)
        self.assertEqual(resp.image, BASE, msg)
        self.assertFalse(resp.prebuilt, msg)
        self.assertIn(resp.source, (S.IMAGE_SOURCE_FALLBACK,
                                    S.IMAGE_SOURCE_BASE), msg)
        self.assertNotEqual(resp.fallback_reason, "", msg)
        self.assertEqual(self.registry.requests()[mark[0]:], [], msg)

    def test_prebuilt_disabled_by_environment(self):
        d = self.start_daemon(self.config(),
                              env={"GITSPACE_PREBUILT_IMAGES_ENABLED":
                                   "false"})
        mark = self.registry.mark()
        resp = self.resolve(d, "vs_code_web")
        msg = self.describe(resp)
        self.assertEqual(resp.source, S.IMAGE_SOURCE_BASE, msg)
        self.assertEqual(resp.image, BASE, msg)
        self.assertFalse(resp.prebuilt, msg)
        self.assertFalse(resp.verified, msg)
        self.assertEqual(resp.verification, V.VERIFICATION_SKIPPED, msg)
        self.assertEqual(self.registry.requests()[mark[0]:], [], msg)


class ResolveHtpasswdTest(_AuthModeTests, _CredentialTests,
                          ResolveTestCase):
    mode = "htpasswd"


class ResolveTokenTest(_AuthModeTests, _CredentialTests, ResolveTestCase):
    mode = "token"

    def test_anonymous_public_repository(self):
        d = self.start_daemon(daemon_config(self.address, repo=PUBLIC_REPO))
        resp = self.resolve(d, "vs_code_web")
        self.assert_prebuilt_found(resp, self.address, "vscode-web-latest",
                                   self.public_digest, repo=PUBLIC_REPO)
        anonymous = [t for t in self.registry.token_requests()
                     if t["anonymous"] and t["status"] == 200 and
                     any(PUBLIC_REPO in s for s in t["scopes"])]
        self.assertTrue(anonymous, "no anonymous token request seen")


# ---- indefinite answers -----------------------------------------------------


class RegistryStoppedTest(ResolveTestCase):
    """The registry stops while the daemon runs (token mode, credentials
    configured)."""

    @classmethod
    def setUpClass(cls):
        cls.registry = Registry("token", users={USER: PASSWORD}).start()
        cls.digests = {t: cls.registry.push_image(REPO, t)
                       for t in ("vscode-latest", "windsurf-latest",
                                 "goland-latest")}
        cls.auth_dir = tempfile.mkdtemp(prefix="gs-itest-auth-")
        cls.auth = docker_auth_file(
            os.path.join(cls.auth_dir, "config.json"),
            {cls.registry.address: (USER, PASSWORD)})

    @classmethod
    def tearDownClass(cls):
        cls.registry.close()
        shutil.rmtree(cls.auth_dir, ignore_errors=True)

    def run_stopped(self, **extra):
        addr = self.registry.address
        d = self.start_daemon(daemon_config(addr, auth_file=self.auth,
                                            **extra))
        first = self.resolve(d, "vs_code")
        self.assert_prebuilt_found(first, addr, "vscode-latest",
                                   self.digests["vscode-latest"])
        self.registry.stop()
        try:
            resp = self.resolve(d, "windsurf")
            cached = self.resolve(d, "vs_code")
        finally:
            self.registry.start()
        # A positive answer within its TTL still stands.
        self.assert_prebuilt_found(cached, addr, "vscode-latest",
                                   self.digests["vscode-latest"])
        self.assertTrue(cached.from_cache, self.describe(cached))
        # The registry is back: a new lookup succeeds.
        back = self.resolve(d, "goland")
        self.assert_prebuilt_found(back, addr, "goland-latest",
                                   self.digests["goland-latest"])
        return resp

    def test_stopped_keeps_prebuilt_by_default(self):
        resp = self.run_stopped()
        self.assert_prebuilt_kept(resp, self.registry.address,
                                  "windsurf-latest",
                                  V.VERIFICATION_UNREACHABLE)

    def test_stopped_falls_back_when_configured(self):
        resp = self.run_stopped(prebuilt_images__fallback_on_indefinite=True)
        self.assert_fallback(resp, V.VERIFICATION_UNREACHABLE)


class SilentRegistryTest(ResolveTestCase):
    """A registry address that accepts connections and never answers."""

    def setUp(self):
        super().setUp()
        self.silent = SilentServer()
        self.addCleanup(self.silent.close)

    def test_timeout_then_deadline(self):
        addr = self.silent.address
        d = self.start_daemon(daemon_config(addr))
        start = time.monotonic()
        resp = self.resolve(d, "vs_code_web", timeout=TIMEOUT_MS / 1000 + 10)
        elapsed = time.monotonic() - start
        self.assert_prebuilt_kept(resp, addr, "vscode-web-latest",
                                  V.VERIFICATION_TIMED_OUT)
        self.assertGreaterEqual(elapsed, 0.8 * TIMEOUT_MS / 1000,
                                self.describe(resp))
        self.assertLessEqual(elapsed, TIMEOUT_MS / 1000 + SLACK,
                             "answered after %.2f s\n%s"
                             % (elapsed, self.describe(resp)))
        self.assertGreaterEqual(self.silent.accepted, 1)

        # A call whose deadline is shorter than the registry timeout.
        start = time.monotonic()
        with self.assertRaises(grpc.RpcError) as cm:
            self.resolve(d, "cursor", timeout=0.3)
        elapsed = time.monotonic() - start
        self.assertEqual(cm.exception.code(),
                         grpc.StatusCode.DEADLINE_EXCEEDED,
                         "%s %s\n%s" % (cm.exception.code(),
                                        cm.exception.details(),
                                        d.describe()))
        self.assertLess(elapsed, 0.3 + 0.7, d.describe())
        # The daemon itself ended the call at its deadline (the client
        # gives up on its own too, so its clock alone proves nothing).
        line = self.wait_log_line(
            d, r"/ResolveImage -> (DEADLINE_EXCEEDED|CANCELLED)\b")
        ms = re.search(r" ([0-9.]+) ms$", line)
        self.assertTrue(ms and float(ms.group(1)) < 1000, line)

        # The daemon still serves: health, a call needing no registry, and
        # a verified call that times out again on its own.
        self.assertEqual(d.check(), health_pb2.HealthCheckResponse.SERVING)
        resp = self.resolve(d, "vs_code_web",
                            devcontainer_image="docker.io/library/alpine:3",
                            timeout=5)
        self.assertEqual(resp.source, S.IMAGE_SOURCE_DEVCONTAINER,
                         self.describe(resp))
        start = time.monotonic()
        resp = self.resolve(d, "windsurf", timeout=TIMEOUT_MS / 1000 + 10)
        elapsed = time.monotonic() - start
        self.assert_prebuilt_kept(resp, addr, "windsurf-latest",
                                  V.VERIFICATION_TIMED_OUT)
        self.assertLessEqual(elapsed, TIMEOUT_MS / 1000 + SLACK,
                             self.describe(resp))

    def test_timeout_falls_back_when_configured(self):
        addr = self.silent.address
        d = self.start_daemon(daemon_config(
            addr, prebuilt_images__fallback_on_indefinite=True))
        start = time.monotonic()
        resp = self.resolve(d, "vs_code_web", timeout=TIMEOUT_MS / 1000 + 10)
        elapsed = time.monotonic() - start
        self.assert_fallback(resp, V.VERIFICATION_TIMED_OUT)
        self.assertLessEqual(elapsed, TIMEOUT_MS / 1000 + SLACK,
                             self.describe(resp))


if __name__ == "__main__":
    unittest.main()
