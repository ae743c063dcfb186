"""A Docker registry token server (the "token" auth flow) for the tests.

    GET /token?service=SERVICE&scope=repository:NAME:pull[,push]...
    Authorization: Basic base64(user:password)      (optional)

answers {"token": JWT, "access_token": JWT, "expires_in": ..., "issued_at":
...}. The JWT is signed with a key whose self-signed certificate is the
registry's rootcertbundle (cert_path); its header carries that certificate
in x5c (and, with use_kid, the libtrust key id in kid instead).

- Wrong user or password: 401 (never a token).
- A known user gets "pull" on every repository it asks for, and "push" too
  when it is one of `pushers`.
- An anonymous request gets "pull" only on the repositories listed in
  `public_repositories`; for any other repository the token grants nothing
  (as Docker Hub does), so the registry then answers 401.
- A request naming another service: 400.

Every request is recorded (requests()): path, service, scopes, the user (or
None), the status. Passwords are not recorded.
"""

import base64
import datetime
import hashlib
import http.server
import json
import os
import socket
import threading
import time
import urllib.parse
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def self_signed(alg="ES256", common_name="gitspace-test-token-issuer"):
    """Returns (private key, certificate) for `alg` (ES256 or RS256)."""
    if alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError("unsupported alg %r" % alg)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def libtrust_key_id(public_key):
    """The key id docker/libtrust derives from a public key: base32 of the
    first 240 bits of the SHA-256 of the DER SubjectPublicKeyInfo, in 12
    groups of 4 characters joined by ':'."""
    der = public_key.public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(b32[i:i + 4] for i in range(0, 48, 4))


def parse_scope(scope):
    """"repository:name:pull,push" -> ("repository", "name", ["pull",
    "push"]); the name may itself hold ':' (a port), so split from both
    ends."""
    kind, rest = scope.split(":", 1)
    name, actions = rest.rsplit(":", 1)
    return kind, name, [a for a in actions.split(",") if a]


class TokenIssuer:
    def __init__(self, directory, users, service="gitspace-test-registry",
                 issuer="gitspace-test-issuer", public_repositories=(),
                 pushers=(), alg="ES256", use_kid=False, ttl=300):
        self.directory = directory
        self.users = dict(users)
        self.service = service
        self.issuer = issuer
        self.public_repositories = set(public_repositories)
        self.pushers = set(pushers)
        self.alg = alg
        self.use_kid = use_kid
        self.ttl = ttl
        self.key, self.cert = self_signed(alg)
        self.cert_path = os.path.join(directory, "token-issuer.pem")
        with open(self.cert_path, "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        self._lock = threading.Lock()
        self._requests = []
        self._server = None
        self._thread = None
        self.port = None

    # ---- lifecycle -------------------------------------------------------

    def start(self, port=None):
        issuer = self

        class Handler(_TokenHandler):
            pass
        Handler.issuer = issuer
        self.port = port or free_port()
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        args=(0.05,),
                                        name="token-issuer", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def realm(self):
        return "http://127.0.0.1:%d/token" % self.port

    # ---- observation -----------------------------------------------------

    def requests(self):
        with self._lock:
            return list(self._requests)

    def _record(self, entry):
        with self._lock:
            self._requests.append(entry)

    # ---- tokens ----------------------------------------------------------

    def granted(self, user, kind, name, actions):
        if kind != "repository":
            return []
        if user is None:
            allowed = {"pull"} if name in self.public_repositories else set()
        else:
            allowed = {"pull"}
            if user in self.pushers:
                allowed.add("push")
        return [a for a in actions if a in allowed]

    def mint(self, subject, access, ttl=None):
        """A signed token for `access` ([{type, name, actions}])."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject or "",
            "aud": self.service,
            "exp": now + (ttl or self.ttl),
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        if self.use_kid:
            headers = {"kid": libtrust_key_id(self.key.public_key())}
        else:
            der = self.cert.public_bytes(serialization.Encoding.DER)
            headers = {"x5c": [base64.b64encode(der).decode()]}
        return jwt.encode(claims, self.key, algorithm=self.alg,
                          headers=headers)


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    issuer = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, body, extra=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        iss = self.issuer
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        service = (query.get("service") or [""])[0]
        scopes = []
        for s in query.get("scope", []):
            # Several scopes may share one parameter, separated by spaces.
            scopes.extend(x for x in s.split(" ") if x)
        entry = {"path": url.path, "service": service, "scopes": scopes,
                 "user": None, "status": None, "anonymous": True}

        def done(status, body, extra=()):
            entry["status"] = status
            iss._record(entry)
            self._reply(status, body, extra)

        if url.path != "/token":
            return done(404, {"errors": [{"code": "NOT_FOUND"}]})
        user = None
        auth = self.headers.get("Authorization", "")
        if auth:
            scheme, _, value = auth.partition(" ")
            if scheme.lower() != "basic":
                return done(401, {"details": "unsupported authorization"},
                            [("WWW-Authenticate", 'Basic realm="token"')])
            try:
                user, _, password = (base64.b64decode(value.strip())
                                     .decode().partition(":"))
            except (ValueError, UnicodeDecodeError):
                return done(400, {"details": "bad basic credentials"})
            entry["user"] = user
            entry["anonymous"] = False
            if iss.users.get(user) != password:
                return done(401, {"details": "incorrect username or "
                                  "password"},
                            [("WWW-Authenticate", 'Basic realm="token"')])
        if service != iss.service:
            return done(400, {"details": "unknown service %r" % service})
        access = []
        for scope in scopes:
            try:
                kind, name, actions = parse_scope(scope)
            except ValueError:
                return done(400, {"details": "bad scope %r" % scope})
            actions = iss.granted(user, kind, name, actions)
            if actions:
                access.append({"type": kind, "name": name,
                               "actions": actions})
        entry["access"] = access
        token = iss.mint(user, access)
        now = datetime.datetime.now(datetime.timezone.utc)
        return done(200, {"token": token, "access_token": token,
                          "expires_in": iss.ttl,
                          "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")})

    def do_POST(self):
        # The OAuth2 form of the flow is not offered; clients fall back to
        # GET, as they do against registries without it.
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.issuer._record({"path": self.path, "service": None,
                             "scopes": [], "user": None, "status": 404,
                             "anonymous": True, "method": "POST"})
        self._reply(404, {"details": "POST is not supported"})
