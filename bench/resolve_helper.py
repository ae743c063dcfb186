#!/usr/bin/python3
"""The Python side of bench/resolve.sh: the registry, the request, checks.

Usage: resolve_helper.py COMMAND ARGS (run it with Debian's /usr/bin/python3,
which has python3-grpcio and python3-protobuf):

  stubs DIR             protoc stubs of orchestrator.proto into DIR
  request DIR OUT       writes the gRPC-framed ResolveImageRequest
                        {gitspace_id: "bench", ide_type: "vs_code_web"} to OUT
                        (checked against a hand encoding)
  registry DIR          starts docker-registry (no auth) on 127.0.0.1 with
                        tests/integration/registry_harness.py, pushes
                        gitspace-runtime:vscode-web-latest, writes
                        DIR/registry.env, then runs until SIGTERM or SIGINT
                        (or until its parent exits); on the way out writes
                        the requests the registry saw after the push to
                        DIR/registry.count and stops the registry (and
                        removes its directory)
  check DIR SOCK CACHED DIGEST
                        one grpcio ResolveImage call; exits 1 unless the
                        answer is PREBUILT, FOUND, verified, has DIGEST and
                        from_cache == CACHED (0 or 1)
  decode DIR FILE DIGEST
                        the same checks on a gRPC-framed response body that
                        curl saved to FILE; from_cache must be true

DIR is the bench's work directory; stubs go to DIR/stubs.
"""

import os
import re
import signal
import struct
import subprocess
import sys
import threading

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PROTO = os.path.join(ROOT, "proto")
ORCH_PROTO = "gitspace/orchestrator/v1/orchestrator.proto"

REPOSITORY = "gitspace-runtime"
TAG = "vscode-web-latest"
GITSPACE_ID = "bench"
IDE_TYPE = "vs_code_web"


def fail(msg):
    sys.stderr.write("resolve_helper: %s\n" % msg)
    sys.exit(1)


def stubs(workdir):
    out = os.path.join(workdir, "stubs")
    if not os.path.isdir(os.path.join(out, "gitspace")):
        os.makedirs(out, exist_ok=True)
        subprocess.run(
            ["protoc", "-I" + PROTO, "--python_out=" + out,
             "--grpc_python_out=" + out,
             "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
             ORCH_PROTO], check=True)
    sys.path.insert(0, out)
    from gitspace.orchestrator.v1 import orchestrator_pb2 as pb
    return pb


def frame(payload):
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def unframe(data):
    if len(data) < 5 or data[0] != 0:
        fail("not one uncompressed gRPC frame: %r" % data[:16])
    (n,) = struct.unpack(">I", data[1:5])
    if len(data) != 5 + n:
        fail("frame says %d bytes, body holds %d" % (n, len(data) - 5))
    return data[5:]


# ---- request ----------------------------------------------------------------


def cmd_request(workdir, out):
    pb = stubs(workdir)
    payload = pb.ResolveImageRequest(
        gitspace_id=GITSPACE_ID, ide_type=IDE_TYPE).SerializeToString()
    # Field 1 and field 2, both length-delimited (wire type 2).
    by_hand = (b"\x0a" + bytes([len(GITSPACE_ID)]) + GITSPACE_ID.encode()
               + b"\x12" + bytes([len(IDE_TYPE)]) + IDE_TYPE.encode())
    if payload != by_hand:
        fail("protobuf gave %s, hand encoding %s"
             % (payload.hex(), by_hand.hex()))
    with open(out, "wb") as f:
        f.write(frame(payload))


# ---- checks -----------------------------------------------------------------


def describe(pb, resp):
    return ("source %s, verification %s, verified %s, from_cache %s, "
            "image %s, digest %s" % (
                pb.ImageSource.Name(resp.source),
                pb.Verification.Name(resp.verification), resp.verified,
                resp.from_cache, resp.image, resp.digest))


def judge(pb, resp, cached, digest):
    problems = []
    if resp.source != pb.IMAGE_SOURCE_PREBUILT:
        problems.append("source is not PREBUILT")
    if resp.verification != pb.VERIFICATION_FOUND:
        problems.append("verification is not FOUND")
    if not resp.verified:
        problems.append("not verified")
    if resp.digest != digest:
        problems.append("digest is not the pushed %s" % digest)
    if resp.from_cache != cached:
        problems.append("from_cache is not %s" % cached)
    print(describe(pb, resp))
    if problems:
        fail("; ".join(problems))


def cmd_check(workdir, sock, cached, digest):
    pb = stubs(workdir)
    import grpc
    from gitspace.orchestrator.v1 import orchestrator_pb2_grpc as pb_grpc

    with grpc.insecure_channel("unix:" + sock) as channel:
        stub = pb_grpc.OrchestratorStub(channel)
        resp = stub.ResolveImage(
            pb.ResolveImageRequest(gitspace_id=GITSPACE_ID,
                                   ide_type=IDE_TYPE), timeout=10)
    judge(pb, resp, cached == "1", digest)


def cmd_decode(workdir, path, digest):
    pb = stubs(workdir)
    with open(path, "rb") as f:
        data = f.read()
    resp = pb.ResolveImageResponse.FromString(unframe(data))
    judge(pb, resp, True, digest)


# ---- registry ---------------------------------------------------------------

# docker-registry logs one "response completed" line per request, with
# http.request.method=HEAD and http.request.uri=/v2/... (in double quotes
# when the URI holds characters such as "?").
LOG_LINE = re.compile(r'msg="response completed".*'
                      r'http\.request\.method=(\S+).*'
                      r'http\.request\.uri=(?:"([^"]*)"|(\S+))')


def logged_requests(log, offset):
    """(method, uri) of each request the registry logged after offset."""
    found = []
    for line in log[offset:].splitlines():
        m = LOG_LINE.search(line)
        if m:
            found.append((m.group(1), m.group(2) or m.group(3)))
    return found


def cmd_registry(workdir):
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from registry_harness import Registry

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    reg = Registry(mode="none")
    try:
        reg.start()
        digest = reg.push_image(REPOSITORY, TAG)
        # The harness's own pushes and its HEAD went straight to the
        # registry; whatever is logged after this offset came from the
        # daemon, through the counting proxy at reg.address.
        offset = len(reg.log())
        mark = reg.mark()
        env = os.path.join(workdir, "registry.env")
        with open(env + ".tmp", "w") as f:
            f.write("address=%s\ndigest=%s\nregistry_pid=%d\nlog=%s\n"
                    % (reg.address, digest, reg.proc.pid, reg.log_path))
        os.rename(env + ".tmp", env)
        parent = os.getppid()
        while not stop.wait(0.2):
            if os.getppid() != parent:
                break  # the bench script is gone: clean up all the same
            if not reg.running:
                fail("docker-registry exited:\n" + reg.log()[-2000:])
        proxied = reg.requests()[mark[0]:]
        logged = logged_requests(reg.log(), offset)
        with open(os.path.join(workdir, "registry.count"), "w") as f:
            f.write("manifests_logged=%d\nmanifests_proxied=%d\n"
                    "requests_logged=%d\nrequests_proxied=%d\n" % (
                        sum("/manifests/" in u for _, u in logged),
                        sum("/manifests/" in r["path"] for r in proxied),
                        len(logged), len(proxied)))
            for method, uri in logged:
                f.write("# registry log: %s %s\n" % (method, uri))
            for r in proxied:
                f.write("# proxy: %s %s -> %s\n"
                        % (r["method"], r["path"], r["status"]))
    finally:
        reg.close()


def main(argv):
    cmds = {"stubs": (cmd_stubs_only, 1), "request": (cmd_request, 2),
            "registry": (cmd_registry, 1), "check": (cmd_check, 4),
            "decode": (cmd_decode, 3)}
    if len(argv) < 2 or argv[1] not in cmds or \
            len(argv) - 2 != cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    cmds[argv[1]][0](*argv[2:])
    return 0


def cmd_stubs_only(workdir):
    stubs(workdir)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
