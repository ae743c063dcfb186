"""A real OCI registry (Debian's docker-registry 2.8) for the tests.

Registry(mode) runs `docker-registry serve CONFIG` on 127.0.0.1 with its
storage, config and log in a temporary directory, in one of three auth
modes:

- "none": anonymous pull and push;
- "htpasswd": HTTP basic auth against a bcrypt file made by
  `htpasswd -Bbn`;
- "token": the Docker token flow; the realm is a TokenIssuer
  (token_issuer.py) started alongside, whose self-signed certificate is the
  registry's rootcertbundle.

Clients under test talk to `address` ("127.0.0.1:PORT"), which is a small
counting HTTP/1.1 proxy in front of the registry: it records each request
(method, path, status) when it arrives, before forwarding it, so that a
count read after a client has its answer is exact; there is no log to race
with. The harness itself pushes straight to the registry's own port, so its
pushes are not counted.

stop() kills the registry and closes the proxy's listener and every
connection it holds (clients then get "connection refused", as from a
stopped registry); start() again brings both back on the same ports with
the same storage.

SilentServer is a TCP listener that accepts connections and never answers.
"""

import base64
import ctypes
import hashlib
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

from token_issuer import TokenIssuer, free_port

REGISTRY_BIN = os.environ.get("GS_DOCKER_REGISTRY", "/usr/bin/docker-registry")
HTPASSWD_BIN = os.environ.get("GS_HTPASSWD", "/usr/bin/htpasswd")

START_TIMEOUT = 20.0

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ACCEPT_ALL = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST,
                        DOCKER_MANIFEST])

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate",
              "proxy-authorization", "te", "trailers", "transfer-encoding",
              "upgrade"}


class HarnessError(AssertionError):
    pass


def _die_with_parent():
    """In the child: SIGTERM when the thread that started it ends, so that
    a test killed by ctest's timeout leaves no registry behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def basic(user, password):
    return "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()


def parse_challenge(header):
    """'Bearer realm="x",service="y"' -> ("bearer", {"realm": "x", ...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    i = 0
    while i < len(rest):
        eq = rest.find("=", i)
        if eq < 0:
            break
        key = rest[i:eq].strip().strip(",").strip()
        i = eq + 1
        if i < len(rest) and rest[i] == '"':
            end = rest.find('"', i + 1)
            params[key.lower()] = rest[i + 1:end]
            i = end + 1
        else:
            end = rest.find(",", i)
            end = len(rest) if end < 0 else end
            params[key.lower()] = rest[i:end].strip()
            i = end
        while i < len(rest) and rest[i] in ", ":
            i += 1
    return scheme.lower(), params


def docker_auth_file(path, entries):
    """Writes a Docker config.json: entries is {host: (user, password)}."""
    auths = {}
    for host, (user, password) in entries.items():
        auths[host] = {"auth": base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()}
    with open(path, "w") as f:
        json.dump({"auths": auths}, f, indent=2)
    os.chmod(path, 0o600)
    return path


# ---- the counting proxy -----------------------------------------------------


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, owner):
        self.owner = owner
        self.conns = set()
        self.conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):
        with self.conns_lock:
            self.conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def drop_connections(self):
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _forward(self):
        owner = self.server.owner
        entry = owner._record(self.command, self.path,
                              self.headers.get("Authorization"))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP}
        try:
            conn = http.client.HTTPConnection("127.0.0.1",
                                              owner.registry_port, timeout=30)
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            resp_headers = resp.getheaders()
            conn.close()
        except OSError as e:
            entry["status"] = 502
            entry["error"] = str(e)
            data = b"registry unreachable behind the test proxy\n"
            self.send_response(502)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        entry["status"] = status
        self.send_response(status)
        for k, v in resp_headers:
            if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                continue
            self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length",
                             dict((k.lower(), v) for k, v in resp_headers)
                             .get("content-length", "0"))
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward


# ---- the registry -----------------------------------------------------------


class Registry:
    """One docker-registry process behind a counting proxy.

    users: {user: password} (htpasswd and token modes). public_repositories:
    repositories anonymous users may pull (token mode). The first user is
    the one the harness pushes as."""

    def __init__(self, mode="none", users=None, public_repositories=(),
                 token_alg="ES256", token_use_kid=False):
        if mode not in ("none", "htpasswd", "token"):
            raise ValueError("mode %r" % mode)
        for tool, package in ((REGISTRY_BIN, "docker-registry"),
                              (HTPASSWD_BIN, "apache2-utils")):
            if not os.access(tool, os.X_OK):
                raise HarnessError("%s is missing: install the Debian "
                                   "package %s (scripts/deps.sh does)"
                                   % (tool, package))
        self.mode = mode
        self.users = dict(users or {})
        if mode != "none" and not self.users:
            raise ValueError("mode %s needs users" % mode)
        self.public_repositories = tuple(public_repositories)
        self.dir = tempfile.mkdtemp(prefix="gs-registry-")
        self.storage = os.path.join(self.dir, "storage")
        os.mkdir(self.storage)
        self.config_path = os.path.join(self.dir, "config.yml")
        self.log_path = os.path.join(self.dir, "registry.log")
        self.registry_port = free_port()
        self.port = free_port()  # the proxy: what clients are given
        self.proc = None
        self.proxy = None
        self._lock = threading.Lock()
        self._requests = []
        self.issuer = None
        if mode == "token":
            self.issuer = TokenIssuer(
                self.dir, self.users, public_repositories=public_repositories,
                pushers=list(self.users)[:1], alg=token_alg,
                use_kid=token_use_kid)
        self._write_config()

    # ---- config ----------------------------------------------------------

    def _write_config(self):
        lines = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  formatter: text",
            "  fields:",
            "    service: registry",
            "storage:",
            "  filesystem:",
            "    rootdirectory: %s" % json.dumps(self.storage),
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            "  addr: 127.0.0.1:%d" % self.registry_port,
            "  secret: gitspace-test-registry-secret",
            "  headers:",
            "    X-Content-Type-Options: [nosniff]",
        ]
        if self.mode == "htpasswd":
            path = os.path.join(self.dir, "htpasswd")
            with open(path, "w") as f:
                for user, password in self.users.items():
                    out = subprocess.run(
                        [HTPASSWD_BIN, "-Bbn", user, password],
                        check=True, capture_output=True, text=True).stdout
                    f.write(out.strip() + "\n")
            lines += ["auth:", "  htpasswd:",
                      "    realm: gitspace-test-realm",
                      "    path: %s" % json.dumps(path)]
        elif self.mode == "token":
            # The issuer's port must be known before the registry starts.
            self.issuer.port = free_port()
            lines += ["auth:", "  token:",
                      "    realm: %s" % json.dumps(self.issuer.realm),
                      "    service: %s" % json.dumps(self.issuer.service),
                      "    issuer: %s" % json.dumps(self.issuer.issuer),
                      "    rootcertbundle: %s"
                      % json.dumps(self.issuer.cert_path)]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    # ---- lifecycle -------------------------------------------------------

    @property
    def address(self):
        """host:port clients under test use (the counting proxy)."""
        return "127.0.0.1:%d" % self.port

    @property
    def direct_address(self):
        return "127.0.0.1:%d" % self.registry_port

    def start(self):
        if self.issuer is not None and self.issuer._server is None:
            self.issuer.start(self.issuer.port)
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [REGISTRY_BIN, "serve", self.config_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                preexec_fn=_die_with_parent)
        finally:
            log.close()
        self._wait_ready()
        self.proxy = _ProxyServer(("127.0.0.1", self.port), _ProxyHandler,
                                  self)
        threading.Thread(target=self.proxy.serve_forever, args=(0.05,),
                         name="registry-proxy", daemon=True).start()
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError("docker-registry exited with %d\n%s"
                                   % (self.proc.returncode, self.log()))
            try:
                conn = http.client.HTTPConnection(
                    "127.0.0.1", self.registry_port, timeout=2)
                conn.request("GET", "/v2/")
                status = conn.getresponse().status
                conn.close()
                if status in (200, 401):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise HarnessError("docker-registry did not answer /v2/ within "
                           "%.0f s\n%s" % (START_TIMEOUT, self.log()))

    def stop(self):
        """Stops the registry and the proxy (the token issuer keeps
        running); start() brings them back on the same ports."""
        if self.proxy is not None:
            self.proxy.shutdown()
            self.proxy.server_close()
            self.proxy.drop_connections()
            self.proxy = None
        self.kill()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        """Stops everything and removes the directory."""
        self.stop()
        if self.issuer is not None:
            self.issuer.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # ---- request counting ------------------------------------------------

    def _record(self, method, path, authorization):
        entry = {"method": method, "path": urllib.parse.unquote(
            urllib.parse.urlsplit(path).path), "status": None,
            "auth": (authorization or "").split(" ", 1)[0].lower() or None,
            "time": time.monotonic()}
        with self._lock:
            self._requests.append(entry)
        return entry

    def requests(self):
        """Every request that reached the proxy, in arrival order."""
        with self._lock:
            return [dict(e) for e in self._requests]

    def mark(self):
        """A position in the request record, for requests(since=...)."""
        with self._lock:
            return (len(self._requests),
                    len(self.issuer.requests()) if self.issuer else 0)

    def manifest_requests(self, repository=None, reference=None, since=None):
        start = since[0] if since else 0
        out = []
        for e in self.requests()[start:]:
            parts = e["path"].split("/manifests/")
            if len(parts) != 2 or not parts[0].startswith("/v2/"):
                continue
            if repository is not None and parts[0][4:] != repository:
                continue
            if reference is not None and parts[1] != reference:
                continue
            out.append(e)
        return out

    def token_requests(self, since=None):
        if self.issuer is None:
            return []
        start = since[1] if since else 0
        return self.issuer.requests()[start:]

    # ---- a small registry client (direct, not counted) --------------------

    def _auth_header(self, challenge, scope_actions, repository):
        scheme, params = parse_challenge(challenge)
        user = next(iter(self.users), None)
        if scheme == "basic":
            return basic(user, self.users[user])
        if scheme == "bearer":
            realm = urllib.parse.urlsplit(params["realm"])
            scope = "repository:%s:%s" % (repository, scope_actions)
            query = urllib.parse.urlencode(
                {"service": params.get("service", ""), "scope": scope})
            conn = http.client.HTTPConnection(realm.hostname, realm.port,
                                              timeout=10)
            headers = {}
            if user is not None:
                headers["Authorization"] = basic(user, self.users[user])
            conn.request("GET", realm.path + "?" + query, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status != 200:
                raise HarnessError("token request: %d %s"
                                   % (resp.status, body[:200]))
            return "Bearer " + json.loads(body)["token"]
        raise HarnessError("unknown challenge %r" % challenge)

    def request(self, method, path, body=None, headers=None, repository=None,
                actions="pull,push", url=None):
        """One request straight to the registry, answering an auth challenge
        once. Returns (status, headers dict (lower-case), body)."""
        headers = dict(headers or {})
        auth = None
        for _ in range(2):
            if auth:
                headers["Authorization"] = auth
            conn = http.client.HTTPConnection("127.0.0.1", self.registry_port,
                                              timeout=30)
            conn.request(method, url or path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            rh = {k.lower(): v for k, v in resp.getheaders()}
            conn.close()
            if resp.status == 401 and auth is None and self.mode != "none":
                auth = self._auth_header(rh.get("www-authenticate", ""),
                                         actions, repository)
                continue
            return resp.status, rh, data
        return resp.status, rh, data

    def push_blob(self, repository, data):
        digest = sha256_digest(data)
        status, h, body = self.request(
            "POST", "/v2/%s/blobs/uploads/" % repository,
            headers={"Content-Length": "0"}, repository=repository)
        if status != 202:
            raise HarnessError("blob upload start: %d %s" % (status, body))
        location = urllib.parse.urlsplit(h["location"])
        sep = "&" if location.query else ""
        url = "%s?%s%sdigest=%s" % (location.path, location.query, sep,
                                    urllib.parse.quote(digest))
        status, h, body = self.request(
            "PUT", None, url=url, body=data, repository=repository,
            headers={"Content-Type": "application/octet-stream",
                     "Content-Length": str(len(data))})
        if status != 201:
            raise HarnessError("blob upload: %d %s" % (status, body))
        if h.get("docker-content-digest") not in (None, digest):
            raise HarnessError("blob digest %s, registry says %s"
                               % (digest, h.get("docker-content-digest")))
        return digest

    def put_manifest(self, repository, reference, manifest, media_type):
        data = manifest if isinstance(manifest, bytes) else \
            json.dumps(manifest, indent=3).encode()
        status, h, body = self.request(
            "PUT", "/v2/%s/manifests/%s" % (repository, reference),
            body=data, repository=repository,
            headers={"Content-Type": media_type,
                     "Content-Length": str(len(data))})
        if status != 201:
            raise HarnessError("manifest PUT %s:%s: %d %s"
                               % (repository, reference, status, body))
        digest = h.get("docker-content-digest")
        if digest != sha256_digest(data):
            raise HarnessError("manifest digest: registry says %s, content "
                               "is %s" % (digest, sha256_digest(data)))
        return digest

    def push_image(self, repository, tag, fmt="docker", content=None):
        """Pushes a config blob, one layer and a manifest (fmt "docker":
        Docker v2 schema 2; "oci": OCI image manifest) as repository:tag.
        Returns the digest the registry reports for the manifest (checked
        again with a HEAD)."""
        content = content or ("%s:%s" % (repository, tag))
        layer = b"\x1f\x8b" + hashlib.sha256(content.encode()).digest() * 8
        config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Labels": {"gitspace.test": content}},
            "rootfs": {"type": "layers",
                       "diff_ids": [sha256_digest(layer)]}}).encode()
        config_digest = self.push_blob(repository, config)
        layer_digest = self.push_blob(repository, layer)
        if fmt == "docker":
            mt, cmt, lmt = DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER
        elif fmt == "oci":
            mt, cmt, lmt = OCI_MANIFEST, OCI_CONFIG, OCI_LAYER
        else:
            raise ValueError(fmt)
        manifest = {
            "schemaVersion": 2, "mediaType": mt,
            "config": {"mediaType": cmt, "size": len(config),
                       "digest": config_digest},
            "layers": [{"mediaType": lmt, "size": len(layer),
                        "digest": layer_digest}]}
        digest = self.put_manifest(repository, tag, manifest, mt)
        head = self.head_manifest(repository, tag)
        if head != digest:
            raise HarnessError("HEAD %s:%s says %s, PUT said %s"
                               % (repository, tag, head, digest))
        return digest

    def push_index(self, repository, tag, fmt="oci"):
        """Pushes a one-platform image and an image index (fmt "oci") or
        Docker manifest list ("docker") naming it, as repository:tag.
        Returns the index's digest."""
        child_tag = tag + "-amd64"
        child = self.push_image(repository, child_tag, fmt=fmt)
        status, h, body = self.request(
            "GET", "/v2/%s/manifests/%s" % (repository, child),
            headers={"Accept": ACCEPT_ALL}, repository=repository)
        if status != 200:
            raise HarnessError("GET child manifest: %d" % status)
        mt = OCI_INDEX if fmt == "oci" else DOCKER_LIST
        index = {"schemaVersion": 2, "mediaType": mt, "manifests": [{
            "mediaType": OCI_MANIFEST if fmt == "oci" else DOCKER_MANIFEST,
            "size": len(body), "digest": child,
            "platform": {"architecture": "amd64", "os": "linux"}}]}
        digest = self.put_manifest(repository, tag, index, mt)
        if self.head_manifest(repository, tag) != digest:
            raise HarnessError("HEAD of the index disagrees")
        return digest

    def head_manifest(self, repository, reference):
        """The Docker-Content-Digest of a HEAD, or None on 404."""
        status, h, _ = self.request(
            "HEAD", "/v2/%s/manifests/%s" % (repository, reference),
            headers={"Accept": ACCEPT_ALL}, repository=repository,
            actions="pull")
        if status == 404:
            return None
        if status != 200:
            raise HarnessError("HEAD %s:%s: %d" % (repository, reference,
                                                   status))
        return h.get("docker-content-digest")

    def delete_manifest(self, repository, reference):
        digest = self.head_manifest(repository, reference)
        status, _, body = self.request(
            "DELETE", "/v2/%s/manifests/%s" % (repository, digest),
            repository=repository, actions="pull,push,delete")
        if status != 202:
            raise HarnessError("DELETE: %d %s" % (status, body))


# ---- a listener that never answers ------------------------------------------


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never reads or writes."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._conns = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="silent-server")
        self._thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _run(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)

    def close(self):
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self._conns:
            c.close()
