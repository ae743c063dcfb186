"""Transport hardening against the daemon: handshake and idle timeouts, the
pending request bytes limits, oversized headers answered as a status,
zero timeouts, content types, SIGHUP, a second SIGTERM, a socket that is
no longer ours, and log lines that stay one line of valid UTF-8.

Everything runs against the production daemon except the pending-bytes
tests, which need the Echo test service (a request large enough to hold)."""

import json
import os
import shutil
import signal
import socket
import struct
import time
import unittest
import urllib.parse

import h2.exceptions

from daemon import Daemon, DaemonTestCase, health_pb2, health_pb2_grpc
from echo_util import MiB, echo_pb2, echo_request_size
from test_raw_h2 import (CHECK_PATH, ECHO_PATH, FRAME_GOAWAY, FRAME_PING,
                         FRAME_SETTINGS, PREFACE, H2Client, frame,
                         grpc_message, parse_frames, read_until_eof)

import grpc

KiB = 1 << 10
SERVING = health_pb2.HealthCheckResponse.SERVING
FLAG_ACK = 0x1


# ---- helpers ---------------------------------------------------------------

def log_lines(daemon):
    """The daemon's log as raw lines (bytes), without line ends."""
    path = daemon.log_path
    with open(path, "rb") as f:
        return f.read().split(b"\n")[:-1]


def warn_lines(daemon, word):
    return [line for line in daemon.log().splitlines()
            if line.startswith("WARN") and word in line]


def wait_warn(daemon, word, timeout=5.0):
    """Waits for a WARN line containing `word`; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = warn_lines(daemon, word)
        if lines:
            return lines[0]
        time.sleep(0.02)
    raise AssertionError("no WARN line with %r within %.1f s\n%s"
                         % (word, timeout, daemon.describe()))


def grpc_message_of(ex):
    """The decoded grpc-message of an answer (trailers or trailers-only)."""
    raw = ex.trailers.get("grpc-message", ex.headers.get("grpc-message", ""))
    return urllib.parse.unquote(raw)


def connected_for(sock, seconds):
    """Reads (and drops) whatever arrives for `seconds`. Returns
    (still_open, bytes read): still_open is False at EOF or a reset."""
    buf = b""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return True, buf
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return True, buf
        except ConnectionResetError:
            return False, buf
        if not data:
            return False, buf
        buf += data


def wait_settled(client, timeout=3.0):
    """Pumps until the server's SETTINGS and its connection WINDOW_UPDATE
    have arrived, so that the client may send up to the server's windows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (client.conn.remote_settings.initial_window_size > 65535 and
                client.conn.outbound_flow_control_window > 65535):
            return
        if not client.pump(0.05):
            raise AssertionError("connection closed during the handshake")
    raise AssertionError("the server's SETTINGS and window did not arrive")


def send_body(client, sid, data, end_stream=False, timeout=10.0):
    """Sends `data` on a stream as flow control allows. Returns False when
    the stream was closed under us (the rest is then dropped)."""
    off = 0
    deadline = time.monotonic() + timeout
    while off < len(data) or end_stream:
        try:
            window = client.conn.local_flow_control_window(sid)
        except h2.exceptions.StreamClosedError:
            return False
        n = min(len(data) - off, window, client.conn.max_outbound_frame_size)
        last = end_stream and off + n == len(data)
        if n == 0 and not last:
            if time.monotonic() > deadline:
                raise AssertionError("no flow-control credit for %.0f s on "
                                     "stream %d" % (timeout, sid))
            if not client.pump(0.05):
                return False
            continue
        try:
            client.conn.send_data(sid, data[off:off + n], end_stream=last)
        except h2.exceptions.StreamClosedError:
            return False
        client.sock.settimeout(timeout)  # pump() leaves a short one
        client.flush()
        off += n
        if last:
            break
    return True


def check_request(service=b""):
    """A HealthCheckRequest encoded by hand: field 1, length-delimited, any
    bytes (grpcio would refuse a str that is not UTF-8)."""
    if not service:
        return b""
    assert len(service) < 128
    return b"\x0a" + bytes([len(service)]) + service


def quiet_sockets(daemon, timeout=5.0):
    """The sockets the daemon holds with no connection open (the listener
    and its own clients'), once every connection it accepted (the start-up
    probe's included) has closed."""
    deadline = time.monotonic() + timeout
    while True:
        log = daemon.log()
        if log.count("accept -> ok") == log.count(" close -> ok"):
            time.sleep(0.1)  # the line comes just before the close itself
            return daemon.open_sockets()
        if time.monotonic() > deadline:
            raise AssertionError("connections still open\n"
                                 + daemon.describe())
        time.sleep(0.02)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RealDaemonTestCase(DaemonTestCase):
    """The production daemon, one per test."""

    real_daemon = True
    daemon_per_test = True

    def setUp(self):
        super().setUp()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        super().tearDown()

    def client(self, **kw):
        c = H2Client(self.daemon, **kw)
        self.clients.append(c)
        return c

    def raw(self):
        s = self.daemon.raw_socket()
        self.clients.append(s)
        return s


# ---- 1. handshake timeout ---------------------------------------------------

class HandshakeTimeoutTest(RealDaemonTestCase):
    """limits.handshake_timeout_ms: 300."""

    daemon_config = {"limits": {"handshake_timeout_ms": 300}}

    def assert_dropped(self, sock, what):
        start = time.monotonic()
        buf = read_until_eof(sock, timeout=3.0)
        took = time.monotonic() - start
        self.assertIsNotNone(buf, "%s: still connected after 3 s\n%s"
                             % (what, self.daemon.describe()))
        self.assertLess(took, 1.5, "%s: closed only after %.2f s"
                        % (what, took))
        # The timer closed it, not something sooner.
        self.assertGreater(took, 0.2, "%s: closed after %.2f s, before the "
                           "300 ms timeout" % (what, took))
        return buf

    def test_silent_client_is_disconnected(self):
        s = self.raw()
        self.assert_dropped(s, "a client that sent nothing")
        wait_warn(self.daemon, "handshake")

    def test_partial_preface_is_disconnected(self):
        s = self.raw()
        s.sendall(PREFACE[:10])
        self.assert_dropped(s, "a client that sent 10 bytes of the preface")
        wait_warn(self.daemon, "handshake")

    def test_preface_without_settings_is_disconnected(self):
        s = self.raw()
        s.sendall(PREFACE)
        self.assert_dropped(s, "a client that sent the magic but no SETTINGS")
        wait_warn(self.daemon, "handshake")

    def test_client_that_completes_the_handshake_stays(self):
        s = self.raw()
        s.sendall(PREFACE + frame(FRAME_SETTINGS, 0, 0))
        open_, buf = connected_for(s, 0.6)
        self.assertTrue(open_, "closed within 0.6 s after a full handshake\n"
                        + self.daemon.describe())
        self.assertFalse([f for f in parse_frames(buf)
                          if f[0] == FRAME_GOAWAY], "GOAWAY after a full "
                         "handshake")
        # Still usable: a PING is answered.
        s.sendall(frame(FRAME_SETTINGS, FLAG_ACK, 0) +
                  frame(FRAME_PING, 0, 0, b"12345678"))
        s.settimeout(3)
        got = b""
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            data = s.recv(65536)
            self.assertTrue(data, "closed instead of answering a PING")
            got += data
            if any(f[0] == FRAME_PING and f[1] & FLAG_ACK and
                   f[3] == b"12345678" for f in parse_frames(got)):
                break
        else:
            self.fail("no PING ACK within 3 s")
        self.assertFalse(warn_lines(self.daemon, "handshake"),
                         self.daemon.describe())

    def test_grpcio_client_unaffected(self):
        with self.daemon.channel() as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            for _ in range(3):
                self.assertEqual(stub.Check(health_pb2.HealthCheckRequest(),
                                            timeout=5).status, SERVING)
                time.sleep(0.4)
        self.assertFalse(warn_lines(self.daemon, "handshake"),
                         self.daemon.describe())


# ---- 2. idle timeout --------------------------------------------------------

class IdleTimeoutTest(RealDaemonTestCase):
    """limits.idle_timeout_ms: 400."""

    daemon_config = {"limits": {"idle_timeout_ms": 400}}

    def wait_goaway_then_eof(self, c, within=1.5):
        """Returns the time until the GOAWAY; asserts NO_ERROR and EOF."""
        start = time.monotonic()
        deadline = start + 3.0
        while c.terminated is None and not c.eof and \
                time.monotonic() < deadline:
            c.pump(0.05)
        took = time.monotonic() - start
        self.assertEqual(c.terminated, 0, "want a GOAWAY with NO_ERROR "
                         "(eof=%r, %.2f s)\n%s" % (c.eof, took,
                                                   self.daemon.describe()))
        self.assertLess(took, within, "GOAWAY only after %.2f s" % took)
        deadline = time.monotonic() + 3.0
        while not c.eof and time.monotonic() < deadline:
            try:
                c.pump(0.05)
            except h2.exceptions.ProtocolError:
                pass
        self.assertTrue(c.eof, "connection left open after the GOAWAY")
        return took

    def test_idle_raw_connection_gets_goaway_then_eof(self):
        c = self.client()
        took = self.wait_goaway_then_eof(c)
        self.assertGreater(took, 0.3, "GOAWAY after %.2f s, before the "
                           "400 ms timeout" % took)

    def test_open_call_keeps_the_connection(self):
        c = self.client()
        # A Check whose request has not ended: a call is open.
        sid = c.request(CHECK_PATH, end_stream=False)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            c.pump(0.05)
        self.assertIsNone(c.terminated, "GOAWAY with a call open\n"
                          + self.daemon.describe())
        self.assertFalse(c.eof, "closed with a call open")
        self.assertTrue(send_body(c, sid, grpc_message(b""), end_stream=True))
        ex = c.wait(sid)
        self.assertEqual(ex.grpc_status(), "0", ex)
        # The last call ended: now the idle timer runs again.
        self.wait_goaway_then_eof(c)

    # grpcio (1.51) does not read an idle channel's socket: the GOAWAY and
    # the EOF wait unread until the next call. While the daemon lingers
    # (waiting for the client's EOF, up to 2 s) that call finds them and
    # moves to a new connection; once the daemon has closed the socket, the
    # call's write fails first.

    def idle_channel(self):
        """A channel whose one connection made a Check and then went idle
        until the daemon sent its GOAWAY. Returns (channel, stub)."""
        ch = self.daemon.channel()
        stub = health_pb2_grpc.HealthStub(ch)
        self.assertEqual(stub.Check(health_pb2.HealthCheckRequest(),
                                    timeout=5).status, SERVING)
        took = self.daemon.wait_log("idle -> ", timeout=1.5)
        self.assertGreater(took, 0.3, "idle close after %.2f s" % took)
        return ch, stub

    def test_grpcio_channel_reconnects_after_goaway(self):
        ch, stub = self.idle_channel()
        with ch:
            accepted = self.daemon.log().count("accept -> ok")
            self.assertEqual(stub.Check(health_pb2.HealthCheckRequest(),
                                        timeout=5).status, SERVING)
            # On a new connection.
            self.assertEqual(self.daemon.log().count("accept -> ok"),
                             accepted + 1, self.daemon.describe())

    def test_daemon_closes_an_idle_grpcio_connection(self):
        # The listener and whatever else the daemon holds (its clients').
        base = quiet_sockets(self.daemon)
        ch, stub = self.idle_channel()
        with ch:
            deadline = time.monotonic() + 4.0
            while (self.daemon.open_sockets() > base and
                   time.monotonic() < deadline):
                time.sleep(0.02)
            self.assertEqual(self.daemon.open_sockets(), base,
                             "the idle connection is still open 4 s after "
                             "its GOAWAY\n" + self.daemon.describe())

    @unittest.expectedFailure
    def test_grpcio_channel_works_after_the_idle_close(self):
        # Fails with the daemon as of this test: the first call after the
        # daemon closed the socket gets UNAVAILABLE "Broken pipe" (EPIPE on
        # the Unix socket; grpcio retries nothing), the second reconnects.
        # Remove expectedFailure once an idle grpcio channel survives.
        base = quiet_sockets(self.daemon)
        ch, stub = self.idle_channel()
        with ch:
            deadline = time.monotonic() + 4.0
            while (self.daemon.open_sockets() > base and
                   time.monotonic() < deadline):
                time.sleep(0.02)
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(),
                                    timeout=5).status
            except grpc.RpcError as e:
                self.fail("first call after the idle close: %s %r"
                          % (e.code(), e.details()))
            self.assertEqual(status, SERVING)


class NoIdleTimeoutTest(RealDaemonTestCase):
    """limits.idle_timeout_ms: 0 - never."""

    daemon_config = {"limits": {"idle_timeout_ms": 0}}

    def test_idle_connection_stays_open(self):
        c = self.client()
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            c.pump(0.05)
        self.assertIsNone(c.terminated, "GOAWAY with idle_timeout_ms 0")
        self.assertFalse(c.eof, "closed with idle_timeout_ms 0")
        ex = c.wait(c.request(CHECK_PATH, grpc_message(b"")))
        self.assertEqual(ex.grpc_status(), "0", ex)

    def test_grpcio_connection_stays_open(self):
        base = quiet_sockets(self.daemon)
        with self.daemon.channel() as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
            self.assertEqual(self.daemon.open_sockets(), base + 1)
            time.sleep(1.0)
            self.assertEqual(self.daemon.open_sockets(), base + 1,
                             self.daemon.describe())


# ---- 3. pending request bytes -----------------------------------------------

class PendingBytesPerConnectionTest(DaemonTestCase):
    """max_message_bytes 4 MiB, max_pending_bytes_per_connection 1 MiB, on
    the test daemon (Echo)."""

    daemon_per_test = True
    daemon_config = {"limits": {"max_message_bytes": 4 * MiB,
                                "max_pending_bytes_per_connection": MiB}}

    def setUp(self):
        super().setUp()
        self.c = H2Client(self.daemon)

    def tearDown(self):
        self.c.close()
        super().tearDown()

    def echo_body(self, size):
        """A gRPC-framed EchoRequest of exactly `size` bytes, and its
        payload."""
        n = size - 4
        self.assertEqual(echo_request_size(n), size)
        payload = os.urandom(n)
        msg = echo_pb2.EchoRequest(payload=payload).SerializeToString()
        self.assertEqual(len(msg), size)
        return grpc_message(msg), payload

    def test_second_message_over_the_connection_limit(self):
        c = self.c
        wait_settled(c)
        body_a, payload_a = self.echo_body(700 * KiB)
        sid_a = c.request(ECHO_PATH, end_stream=False)
        self.assertTrue(send_body(c, sid_a, body_a[:5 + 600 * KiB]))
        c.pump(0.2)
        self.assertFalse(c.exchanges[sid_a].done, c.exchanges[sid_a])

        # B announces 700 KiB: 1400 KiB would be held, over 1 MiB.
        sid_b = c.request(ECHO_PATH, struct.pack(">BI", 0, 700 * KiB),
                          end_stream=False)
        ex_b = c.wait(sid_b)
        self.assertIsNone(ex_b.reset, "B was reset, not answered: %r" % ex_b)
        self.assertEqual(ex_b.grpc_status(), "8", ex_b)
        self.assertIn("request bytes", grpc_message_of(ex_b), ex_b)

        # A is still served.
        self.assertFalse(c.exchanges[sid_a].done, c.exchanges[sid_a])
        self.assertTrue(send_body(c, sid_a, body_a[5 + 600 * KiB:],
                                  end_stream=True))
        ex_a = c.wait(sid_a, timeout=15)
        self.assertEqual(ex_a.grpc_status(), "0", ex_a)
        msgs = ex_a.grpc_messages()
        self.assertEqual(len(msgs), 1, ex_a)
        self.assertTrue(
            echo_pb2.EchoResponse.FromString(msgs[0]).payload == payload_a,
            "A's echo differs")

        # Nothing is left counted: another 700 KiB message fits again.
        body_c, payload_c = self.echo_body(700 * KiB)
        sid_c = c.request(ECHO_PATH, end_stream=False)
        self.assertTrue(send_body(c, sid_c, body_c, end_stream=True))
        ex_c = c.wait(sid_c, timeout=15)
        self.assertEqual(ex_c.grpc_status(), "0", ex_c)

    def test_other_connection_not_counted(self):
        # A holds 600 KiB on one connection; another connection may hold as
        # much (the default server-wide limit is far above).
        c = self.c
        wait_settled(c)
        body_a, _ = self.echo_body(700 * KiB)
        sid_a = c.request(ECHO_PATH, end_stream=False)
        self.assertTrue(send_body(c, sid_a, body_a[:5 + 600 * KiB]))
        other = H2Client(self.daemon)
        try:
            wait_settled(other)
            body_b, payload_b = self.echo_body(700 * KiB)
            sid_b = other.request(ECHO_PATH, end_stream=False)
            self.assertTrue(send_body(other, sid_b, body_b, end_stream=True))
            ex_b = other.wait(sid_b, timeout=15)
            self.assertEqual(ex_b.grpc_status(), "0", ex_b)
        finally:
            other.close()


class PendingBytesMemoryTest(DaemonTestCase):
    """max_pending_bytes 8 MiB: 200 streams announcing 4 MiB - 1 each and
    sending 512 KiB of it do not make the daemon hold 100 MiB."""

    daemon_per_test = True
    daemon_config = {"limits": {"max_message_bytes": 4 * MiB,
                                "max_pending_bytes": 8 * MiB}}

    STREAMS = 200
    RSS_LIMIT_MIB = 64

    def test_rss_stays_bounded(self):
        c = H2Client(self.daemon)
        try:
            self._run(c)
        finally:
            c.close()

    def _run(self, c):
        pid = self.daemon.pid
        wait_settled(c)
        rss_start = rss_kib(pid)
        rss_max = rss_start
        chunk = struct.pack(">BI", 0, 4 * MiB - 1) + os.urandom(512 * KiB)
        sids = []
        for _ in range(self.STREAMS):
            sid = c.request(ECHO_PATH, end_stream=False)
            sids.append(sid)
            send_body(c, sid, chunk, timeout=30)
            c.pump(0.001)
            rss_max = max(rss_max, rss_kib(pid))
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            c.pump(0.05)
            rss_max = max(rss_max, rss_kib(pid))
        exchanges = [c.exchanges[s] for s in sids]
        refused = [ex for ex in exchanges if ex.grpc_status() == "8"]
        self.assertLess(rss_max / 1024, self.RSS_LIMIT_MIB,
                        "VmRSS reached %.0f MiB (%.0f MiB at the start; %d "
                        "of %d streams refused)" % (
                            rss_max / 1024, rss_start / 1024, len(refused),
                            len(exchanges)))
        self.assertGreaterEqual(len(refused), self.STREAMS * 3 // 4,
                                "only %d of %d streams got RESOURCE_EXHAUSTED"
                                % (len(refused), len(exchanges)))
        self.assertIn("request bytes", grpc_message_of(refused[0]))


# ---- 4. oversized headers ---------------------------------------------------

class HeaderLimitTest(RealDaemonTestCase):
    """limits.max_header_list_bytes: 2 KiB."""

    daemon_config = {"limits": {"max_header_list_bytes": 2 * KiB}}

    def test_big_metadata_gets_resource_exhausted(self):
        c = self.client()
        for _ in range(2):
            ex = c.wait(c.request(CHECK_PATH, grpc_message(b""),
                                  headers=[("x-big", "v" * (4 * KiB))]))
            self.assertIsNone(ex.reset, "reset instead of a status: %r" % ex)
            self.assertIsNone(c.terminated, "the connection was closed")
            self.assertEqual(ex.headers.get(":status"), "200", ex)
            self.assertEqual(ex.grpc_status(), "8", ex)
            self.assertIn("2048", grpc_message_of(ex), ex)
            # The same connection keeps working.
            ok = c.wait(c.request(CHECK_PATH, grpc_message(b"")))
            self.assertEqual(ok.grpc_status(), "0", ok)

    def test_big_metadata_through_grpcio(self):
        with self.daemon.channel() as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            with self.assertRaises(grpc.RpcError) as cm:
                stub.Check(health_pb2.HealthCheckRequest(), timeout=5,
                           metadata=[("x-big", "v" * (4 * KiB))])
            # The server's answer (its details name the limit), not one
            # grpcio made up.
            self.assert_code(cm.exception, grpc.StatusCode.RESOURCE_EXHAUSTED,
                             "2048")
            self.assertEqual(stub.Check(health_pb2.HealthCheckRequest(),
                                        timeout=5).status, SERVING)


# ---- 5. zero timeouts / 6. content types ------------------------------------

class RequestHeadersTest(RealDaemonTestCase):

    def call(self, headers=(), content_type="application/grpc"):
        c = self.client()
        return c.wait(c.request(CHECK_PATH, grpc_message(b""),
                                headers=headers, content_type=content_type))

    def test_zero_timeouts_are_deadline_exceeded(self):
        for value in ("0S", "0n", "0m", "0u", "0M", "0H"):
            ex = self.call(headers=[("grpc-timeout", value)])
            self.assertEqual(ex.grpc_status(), "4",
                             "grpc-timeout %s: %r" % (value, ex))

    def test_one_second_timeout_is_ok(self):
        ex = self.call(headers=[("grpc-timeout", "1S")])
        self.assertEqual(ex.grpc_status(), "0", ex)
        msgs = ex.grpc_messages()
        self.assertEqual(len(msgs), 1, ex)
        self.assertEqual(
            health_pb2.HealthCheckResponse.FromString(msgs[0]).status,
            SERVING)

    def test_grpc_json_is_unsupported_media_type(self):
        ex = self.call(content_type="application/grpc+json")
        self.assertEqual(ex.headers.get(":status"), "415", ex)

    def test_grpc_proto_and_parameters_accepted(self):
        for ct in ("application/grpc+proto", "application/grpc; charset=utf-8",
                   "application/grpc"):
            ex = self.call(content_type=ct)
            self.assertEqual(ex.headers.get(":status"), "200",
                             "%s: %r" % (ct, ex))
            self.assertEqual(ex.grpc_status(), "0", "%s: %r" % (ct, ex))


# ---- 7. SIGHUP --------------------------------------------------------------

class SighupTest(RealDaemonTestCase):

    def test_sighup_is_ignored(self):
        with self.daemon.channel() as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            self.assertEqual(stub.Check(health_pb2.HealthCheckRequest(),
                                        timeout=5).status, SERVING)
            os.kill(self.daemon.pid, signal.SIGHUP)
            wait_warn(self.daemon, "ignored")
            self.assertIsNone(self.daemon.proc.poll(), "the daemon exited "
                              "on SIGHUP\n" + self.daemon.describe())
            # The open channel and a new one both work.
            self.assertEqual(stub.Check(health_pb2.HealthCheckRequest(),
                                        timeout=5).status, SERVING)
            self.assertEqual(self.daemon.check(), SERVING)
            os.kill(self.daemon.pid, signal.SIGHUP)
            deadline = time.monotonic() + 5
            while (len(warn_lines(self.daemon, "ignored")) < 2 and
                   time.monotonic() < deadline):
                time.sleep(0.02)
            self.assertEqual(len(warn_lines(self.daemon, "ignored")), 2,
                             self.daemon.describe())
        self.assertTrue(os.path.exists(self.daemon.socket_path))


# ---- 8. a second SIGTERM ----------------------------------------------------

class SecondSigtermTest(unittest.TestCase):
    """drain_timeout_ms 60 s, a call whose request never ends: the first
    SIGTERM drains, the second ends the drain at once."""

    def setUp(self):
        self.daemon = Daemon({"limits": {"drain_timeout_ms": 60000}},
                             real=True).start()
        self.c = None

    def tearDown(self):
        if self.c is not None:
            self.c.close()
        self.daemon.kill()

    def test_second_sigterm_stops_the_drain(self):
        d = self.daemon
        self.c = H2Client(d)
        sid = self.c.request(CHECK_PATH, end_stream=False)
        self.c.pump(0.2)
        self.assertFalse(self.c.exchanges[sid].done)

        d.terminate()
        d.wait_log("shutting down", timeout=5)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            self.c.pump(0.05)
        self.assertIsNone(d.proc.poll(), "the daemon did not drain: it "
                          "exited at once\n" + d.describe())
        self.assertFalse(os.path.exists(d.socket_path),
                         "socket still there while draining")

        start = time.monotonic()
        d.terminate()
        # The client keeps reading, as a real one would.
        while d.proc.poll() is None and time.monotonic() - start < 5:
            try:
                self.c.pump(0.05)
            except (h2.exceptions.ProtocolError, OSError):
                time.sleep(0.05)
        d.assert_clean_exit(timeout=5)
        took = time.monotonic() - start
        self.assertLess(took, 2.5, "exit %.2f s after the second SIGTERM"
                        % took)


# ---- 9. a socket that is no longer ours -------------------------------------

class _DaemonAt(Daemon):
    """A production daemon listening on a given path (the later --socket
    wins over the one Daemon.start passes)."""

    def __init__(self, path):
        super().__init__(real=True, args=("--socket", path))
        self._path = path

    def _wait_listening(self):
        self.socket_path = self._path
        super()._wait_listening()


class SocketOwnershipTest(unittest.TestCase):

    def test_stopping_daemon_leaves_a_new_socket_alone(self):
        a = Daemon(real=True).start()
        b = None
        try:
            path = a.socket_path
            os.unlink(path)
            b = _DaemonAt(path).start()
            self.assertEqual(b.check(), SERVING)

            a.terminate()
            rc = a.wait_exit(timeout=10)
            self.assertEqual(rc, 0, a.describe())
            for word in ("AddressSanitizer", "runtime error:",
                         "LeakSanitizer"):
                self.assertNotIn(word, a.log(), a.describe())
            self.assertTrue(os.path.exists(path), "A removed B's socket\n"
                            + a.describe())
            self.assertEqual(b.check(), SERVING, b.describe())
            b.stop()  # B removes its own socket
        finally:
            a.kill()
            if b is not None:
                b.kill()
        shutil.rmtree(a.dir, ignore_errors=True)


# ---- 10. log lines ----------------------------------------------------------

# Valid UTF-8 (invalid bytes are refused before any handler sees them, see
# test_invalid_utf8_refused) with a newline and an escape sequence that
# would forge a line or colour a terminal if logged raw.
EVIL = b"\x1b[31m\nERROR fake"


class LogSanitizingTest(unittest.TestCase):

    def setUp(self):
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None:
            self.daemon.kill()

    def evil_check(self):
        c = H2Client(self.daemon)
        try:
            ex = c.wait(c.request(CHECK_PATH,
                                  grpc_message(check_request(EVIL))))
        finally:
            c.close()
        self.assertEqual(ex.grpc_status(), "5", ex)  # NOT_FOUND
        # The daemon is done with the call once it logged it.
        self.daemon.wait_log("fake", timeout=5)
        self.assertEqual(self.daemon.check(), SERVING)

    def test_text_log(self):
        self.daemon = Daemon(real=True).start()
        self.evil_check()
        lines = log_lines(self.daemon)
        self.assertTrue(lines)
        for raw in lines:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                self.fail("log line is not UTF-8: %r" % raw)
            self.assertFalse(raw.startswith(b"ERROR fake"),
                             "a client forged a log line: %r" % raw)
        mine = [ln for ln in lines if b"fake" in ln]
        self.assertTrue([ln for ln in mine if b"NOT_FOUND" in ln], mine)
        for ln in mine:
            self.assertIn(b"\\x1b[31m\\x0aERROR fake", ln)
        self.daemon.stop()

    def test_invalid_utf8_refused(self):
        self.daemon = Daemon(real=True).start()
        c = H2Client(self.daemon)
        try:
            ex = c.wait(c.request(CHECK_PATH, grpc_message(
                check_request(b"\xff\xfe\nERROR fake"))))
        finally:
            c.close()
        self.assertEqual(ex.grpc_status(), "3", ex)  # INVALID_ARGUMENT
        self.assertIn("service", grpc_message_of(ex))
        for raw in log_lines(self.daemon):
            raw.decode("utf-8")
            self.assertFalse(raw.startswith(b"ERROR fake"))
        self.daemon.stop()

    def test_json_log(self):
        self.daemon = Daemon(real=True, args=("--log-format", "json")).start()
        self.evil_check()
        lines = log_lines(self.daemon)
        self.assertTrue(lines)
        records = []
        for raw in lines:
            try:
                records.append(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as e:
                self.fail("log line is not JSON (%s): %r" % (e, raw))
        mine = [r for r in records if "fake" in r.get("msg", "")]
        self.assertTrue([r for r in mine if "NOT_FOUND" in r["msg"]], mine)
        for r in mine:
            self.assertIn("\\x1b[31m\\x0aERROR fake", r["msg"])
            self.assertNotIn("\n", r["msg"])
        self.daemon.stop()


if __name__ == "__main__":
    unittest.main()
