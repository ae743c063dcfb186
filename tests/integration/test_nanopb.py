"""The nanopb + libcurl C client against the test daemon: an independent
protobuf codec and HTTP/2 stack on the other end of the wire."""

import os
import subprocess
import unittest

from daemon import DaemonTestCase


class NanopbClientTest(DaemonTestCase):

    def client(self, *args, timeout=60):
        path = os.environ.get("GS_NANOPB_CLIENT")
        if not path:
            self.skipTest("GS_NANOPB_CLIENT is not set")
        r = subprocess.run([path, self.daemon.socket_path] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        self.assertEqual(r.returncode, 0,
                         "nanopb_client %s: exit %d\n%s%s\n%s"
                         % (" ".join(args), r.returncode, r.stdout, r.stderr,
                            self.daemon.describe()))
        return r.stdout

    def test_health_check(self):
        self.assertIn("SERVING", self.client("check"))

    def test_health_check_orchestrator(self):
        self.client("check", "gitspace.orchestrator.v1.Orchestrator")

    def test_resolve_image_from_catalog(self):
        self.assertIn("ghcr.io/ysicing/gitspace-runtime:vscode-web-latest",
                      self.client("resolve-image"))

    def test_echo_3mib_round_trip(self):
        self.client("echo", str(3 << 20))

    def test_echo_3mib_many_times_without_stalling(self):
        # libcurl drains the socket fast, which exposes output that is left
        # in nghttp2 with no write pending: each call must finish (the
        # client gives up on a call after 20 s).
        self.client("echo", str(3 << 20), "60", timeout=600)

    def test_echo_small_and_empty(self):
        for size in ("0", "1", "127", "128", "16379", "16380", "70000"):
            self.client("echo", size)

    def test_stream_messages(self):
        self.client("stream", "40", "1000")
        self.client("stream", "3", "0")


if __name__ == "__main__":
    unittest.main()
