"""Misbehaving clients, on a raw socket or through python3-h2: the daemon
answers what it can, closes what it must, and keeps serving the others."""

import gzip
import os
import socket
import struct
import time
import unittest

import h2.config
import h2.connection
import h2.events
import h2.settings

from daemon import DaemonTestCase
from echo_util import echo_pb2

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_DATA, FRAME_SETTINGS, FRAME_PING, FRAME_GOAWAY = 0x0, 0x4, 0x6, 0x7
ECHO_PATH = "/gitspace.testing.v1.Echo/Echo"
STREAM_PATH = "/gitspace.testing.v1.Echo/Stream"
CHECK_PATH = "/grpc.health.v1.Health/Check"


def frame(ftype, flags, stream_id, payload=b""):
    return (struct.pack(">I", len(payload))[1:] + bytes([ftype, flags])
            + struct.pack(">I", stream_id) + payload)


def grpc_message(data, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(data)) + data


def read_until_eof(sock, timeout=5.0):
    """Reads until the peer closes; returns the bytes, or None on timeout."""
    sock.settimeout(0.2)
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return buf
        if not data:
            return buf
        buf += data
    return None


def parse_frames(buf):
    """Splits bytes into (type, flags, stream, payload) tuples."""
    frames = []
    while len(buf) >= 9:
        length = int.from_bytes(buf[:3], "big")
        if len(buf) < 9 + length:
            break
        stream = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
        frames.append((buf[3], buf[4], stream, buf[9:9 + length]))
        buf = buf[9 + length:]
    return frames


class Exchange:
    """What came back on one stream."""

    def __init__(self):
        self.headers = {}
        self.trailers = {}
        self.data = b""
        self.ended = False
        self.reset = None

    @property
    def done(self):
        return self.ended or self.reset is not None

    def grpc_status(self):
        """From the trailers, or the headers of a trailers-only answer."""
        return self.trailers.get("grpc-status",
                                 self.headers.get("grpc-status"))

    def grpc_messages(self):
        out, buf = [], self.data
        while len(buf) >= 5:
            flag, length = struct.unpack(">BI", buf[:5])
            out.append(buf[5:5 + length])
            buf = buf[5 + length:]
        return out

    def __repr__(self):
        return ("Exchange(headers=%r, trailers=%r, %d data bytes, ended=%r, "
                "reset=%r)" % (self.headers, self.trailers, len(self.data),
                               self.ended, self.reset))


class H2Client:
    """A python3-h2 client on the daemon's socket. With ack=False it never
    returns flow-control credit, so the server's output backs up."""

    def __init__(self, daemon, window=None, ack=True):
        self.sock = daemon.raw_socket()
        config = h2.config.H2Configuration(client_side=True,
                                           header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings(
                {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.ack = ack
        self.exchanges = {}
        self.terminated = None
        self.eof = False
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path, body=b"", headers=(), end_stream=True,
                method="POST", content_type="application/grpc"):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":scheme", "http"), (":path", path),
                (":authority", "localhost"), ("content-type", content_type),
                ("te", "trailers")] + list(headers)
        self.conn.send_headers(sid, hdrs, end_stream=end_stream and not body)
        if body:
            self.conn.send_data(sid, body, end_stream=end_stream)
        self.flush()
        self.exchanges[sid] = Exchange()
        return sid

    def pump(self, timeout=0.2):
        """Reads once and handles the events. False at EOF."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return True
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        for ev in self.conn.receive_data(data):
            self._handle(ev)
        self.flush()
        return True

    def _handle(self, ev):
        ex = self.exchanges.get(getattr(ev, "stream_id", None))
        if isinstance(ev, h2.events.ResponseReceived):
            ex.headers = dict(ev.headers)
        elif isinstance(ev, h2.events.TrailersReceived):
            ex.trailers = dict(ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            ex.data += ev.data
            if self.ack:
                self.conn.acknowledge_received_data(
                    ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            ex.ended = True
        elif isinstance(ev, h2.events.StreamReset):
            ex.reset = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.terminated = ev.error_code

    def wait(self, sid, timeout=5.0):
        """Waits until the stream ends or is reset; returns its Exchange."""
        ex = self.exchanges[sid]
        deadline = time.monotonic() + timeout
        while not ex.done and time.monotonic() < deadline:
            if not self.pump() or self.terminated is not None:
                break
        return ex

    def close(self):
        self.sock.close()


class RawConnectionTest(DaemonTestCase):
    """Connection-level garbage: the connection closes, the daemon lives."""

    daemon_per_test = True

    def test_garbage_instead_of_preface(self):
        s = self.daemon.raw_socket()
        s.sendall(os.urandom(64) + b"\x00" * 100)
        self.assertIsNotNone(read_until_eof(s), "connection left open")
        s.close()

    def test_http1_request(self):
        s = self.daemon.raw_socket()
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertIsNotNone(read_until_eof(s), "connection left open")
        s.close()

    def test_truncated_preface_then_close(self):
        s = self.daemon.raw_socket()
        s.sendall(PREFACE[:10])
        s.close()

    def test_server_speaks_first(self):
        # A prior-knowledge server sends SETTINGS without waiting for the
        # client (grpcio hangs otherwise).
        s = self.daemon.raw_socket()
        s.settimeout(3)
        buf = b""
        while len(buf) < 9:
            data = s.recv(65536)
            self.assertTrue(data, "closed before SETTINGS")
            buf += data
        self.assertEqual(parse_frames(buf)[0][0], FRAME_SETTINGS)
        s.close()

    def assert_goaway_and_close(self, bad_frame):
        s = self.daemon.raw_socket()
        s.sendall(PREFACE + frame(FRAME_SETTINGS, 0, 0) + bad_frame)
        buf = read_until_eof(s)
        s.close()
        self.assertIsNotNone(buf, "connection left open")
        goaways = [f for f in parse_frames(buf) if f[0] == FRAME_GOAWAY]
        self.assertTrue(goaways, "no GOAWAY before the close")
        error_code = struct.unpack(">I", goaways[-1][3][4:8])[0]
        self.assertNotEqual(error_code, 0, "GOAWAY with NO_ERROR")
        return error_code

    def test_settings_frame_of_bad_length(self):
        code = self.assert_goaway_and_close(frame(FRAME_SETTINGS, 0, 0,
                                                  b"\x00" * 5))
        self.assertEqual(code, 0x6)  # FRAME_SIZE_ERROR

    def test_data_frame_on_stream_zero(self):
        code = self.assert_goaway_and_close(frame(FRAME_DATA, 0, 0, b"hi"))
        self.assertEqual(code, 0x1)  # PROTOCOL_ERROR

    def test_ping_frame_of_bad_length(self):
        self.assert_goaway_and_close(frame(FRAME_PING, 0, 0, b"\x00" * 7))


class RawStreamTest(DaemonTestCase):
    """Stream-level mistakes get an answer on the stream."""

    daemon_per_test = True

    def setUp(self):
        super().setUp()
        self.client = H2Client(self.daemon)

    def tearDown(self):
        self.client.close()
        super().tearDown()

    def test_valid_echo_through_h2(self):
        # The raw client itself works, so failures below mean something.
        body = grpc_message(
            echo_pb2.EchoRequest(payload=b"raw").SerializeToString())
        ex = self.client.wait(self.client.request(ECHO_PATH, body))
        self.assertEqual(ex.headers.get(":status"), "200", ex)
        self.assertEqual(ex.headers.get("content-type", "")[:16],
                         "application/grpc", ex)
        self.assertEqual(ex.grpc_status(), "0", ex)
        msgs = ex.grpc_messages()
        self.assertEqual(len(msgs), 1, ex)
        self.assertEqual(echo_pb2.EchoResponse.FromString(msgs[0]).payload,
                         b"raw")

    def test_prefix_announces_more_than_sent(self):
        body = struct.pack(">BI", 0, 100) + b"abc"
        ex = self.client.wait(self.client.request(ECHO_PATH, body))
        self.assertTrue(ex.ended, ex)
        self.assertEqual(ex.grpc_status(), "13", ex)  # INTERNAL

    def test_half_a_prefix_then_end_stream(self):
        ex = self.client.wait(self.client.request(ECHO_PATH, b"\x00\x00"))
        self.assertTrue(ex.ended, ex)
        self.assertEqual(ex.grpc_status(), "13", ex)

    def test_no_message_at_all_on_a_unary_call(self):
        ex = self.client.wait(self.client.request(ECHO_PATH, b""))
        self.assertTrue(ex.ended, ex)
        self.assertNotEqual(ex.grpc_status(), "0", ex)
        self.assertIsNotNone(ex.grpc_status(), ex)

    def test_two_messages_on_a_unary_call(self):
        one = grpc_message(
            echo_pb2.EchoRequest(payload=b"a").SerializeToString())
        ex = self.client.wait(self.client.request(ECHO_PATH, one + one))
        self.assertTrue(ex.ended, ex)
        self.assertNotEqual(ex.grpc_status(), "0", ex)
        self.assertIsNotNone(ex.grpc_status(), ex)

    def test_content_type_text_plain(self):
        ex = self.client.wait(self.client.request(
            CHECK_PATH, grpc_message(b""), content_type="text/plain"))
        self.assertEqual(ex.headers.get(":status"), "415", ex)

    def test_content_type_grpc_proto_accepted(self):
        ex = self.client.wait(self.client.request(
            CHECK_PATH, grpc_message(b""),
            content_type="application/grpc+proto"))
        self.assertEqual(ex.headers.get(":status"), "200", ex)
        self.assertEqual(ex.grpc_status(), "0", ex)

    def test_get_is_not_a_call(self):
        ex = self.client.wait(self.client.request(CHECK_PATH, method="GET"))
        self.assertTrue(ex.done, ex)
        self.assertFalse(ex.headers.get(":status") == "200"
                         and ex.grpc_status() == "0",
                         "a GET was served as a call: %r" % ex)

    def test_gzip_message_is_unimplemented(self):
        data = gzip.compress(
            echo_pb2.EchoRequest(payload=b"z" * 100).SerializeToString())
        ex = self.client.wait(self.client.request(
            ECHO_PATH, grpc_message(data, compressed=True),
            headers=[("grpc-encoding", "gzip")]))
        self.assertEqual(ex.grpc_status(), "12", ex)  # UNIMPLEMENTED

    def test_compressed_flag_without_encoding(self):
        # The flag says compressed but no grpc-encoding was named.
        data = echo_pb2.EchoRequest(payload=b"z").SerializeToString()
        ex = self.client.wait(self.client.request(
            ECHO_PATH, grpc_message(data, compressed=True)))
        self.assertIn(ex.grpc_status(), ("12", "13"), ex)

    def test_server_side_deadline(self):
        # No client-side cancel here: the server's own timer must end it.
        body = grpc_message(echo_pb2.EchoRequest(
            payload=b"x", delay_ms=5000).SerializeToString())
        start = time.monotonic()
        ex = self.client.wait(self.client.request(
            ECHO_PATH, body, headers=[("grpc-timeout", "300m")]),
            timeout=4)
        self.assertTrue(ex.done, "no answer within 4 s: %r" % ex)
        self.assertLess(time.monotonic() - start, 2.5)
        if ex.reset is None:
            self.assertEqual(ex.grpc_status(), "4", ex)  # DEADLINE_EXCEEDED
        self.daemon.wait_log("echo.Echo -> cancelled", timeout=3)

    def test_rst_stream_without_deadline(self):
        # The client resets a call that has no grpc-timeout while the handler
        # waits: the cancel hook runs, the handler finishes the call from it
        # (as gs_call_on_cancel allows), and the daemon lives on.
        body = grpc_message(echo_pb2.EchoRequest(
            payload=b"x", delay_ms=10000).SerializeToString())
        sid = self.client.request(ECHO_PATH, body)
        self.client.pump(0.2)
        self.client.conn.reset_stream(sid)
        self.client.flush()
        self.daemon.wait_log("echo.Echo -> cancelled", timeout=3)
        # A second call on the same connection still works.
        ok = grpc_message(
            echo_pb2.EchoRequest(payload=b"again").SerializeToString())
        ex = self.client.wait(self.client.request(ECHO_PATH, ok))
        self.assertEqual(ex.grpc_status(), "0", ex)

    def test_rst_stream_with_deadline(self):
        body = grpc_message(echo_pb2.EchoRequest(
            payload=b"x", delay_ms=10000).SerializeToString())
        sid = self.client.request(ECHO_PATH, body,
                                  headers=[("grpc-timeout", "20S")])
        self.client.pump(0.2)
        self.client.conn.reset_stream(sid)
        self.client.flush()
        self.daemon.wait_log("echo.Echo -> cancelled", timeout=3)

    def test_many_streams_then_rst_each(self):
        body = grpc_message(echo_pb2.EchoRequest(
            payload=b"x", delay_ms=10000).SerializeToString())
        before = self.daemon.log().count("echo.Echo -> cancelled")
        sids = [self.client.request(ECHO_PATH, body) for _ in range(20)]
        self.client.pump(0.3)
        for sid in sids:
            self.client.conn.reset_stream(sid)
        self.client.flush()
        deadline = time.monotonic() + 3
        while (self.daemon.log().count("echo.Echo -> cancelled") < before + 20
               and time.monotonic() < deadline):
            self.client.pump(0.05)
        self.assertEqual(
            self.daemon.log().count("echo.Echo -> cancelled"), before + 20,
            self.daemon.describe())


def read_stream_end_raw(sock, stream_id, idle_timeout=2.0):
    """Reads frames straight off the socket, as fast as it can, until the
    stream ends. Returns (ended, bytes read); ended is False when nothing
    arrived for idle_timeout seconds."""
    sock.settimeout(idle_timeout)
    buf, off = bytearray(), 0
    try:
        while True:
            data = sock.recv(1 << 22)
            if not data:
                return False, len(buf)
            buf += data
            while off + 9 <= len(buf):
                length = int.from_bytes(buf[off:off + 3], "big")
                if off + 9 + length > len(buf):
                    break
                ftype, flags = buf[off + 3], buf[off + 4]
                sid = int.from_bytes(buf[off + 5:off + 9], "big") & 0x7FFFFFFF
                off += 9 + length
                if sid == stream_id and (ftype == 0x3 or
                                         (ftype == 0x1 and flags & 0x1)):
                    return True, len(buf)
    except socket.timeout:
        return False, len(buf)


class RawThroughputTest(DaemonTestCase):
    """Large responses to a client that reads as fast as the socket allows
    and never needs to send anything back (its windows are huge): output
    the server leaves behind with no write pending is never sent."""

    daemon_per_test = True

    def test_large_responses_to_a_fast_reader(self):
        body = grpc_message(echo_pb2.EchoRequest(
            response_size=3 << 20).SerializeToString())
        for i in range(60):
            c = H2Client(self.daemon, window=2**31 - 1, ack=False)
            c.conn.increment_flow_control_window(2**31 - 1 - 65535)
            sid = c.request(ECHO_PATH, body)
            ended, got = read_stream_end_raw(c.sock, sid)
            c.close()
            self.assertTrue(ended, "call %d: the response stopped after %d "
                            "bytes and nothing came for 2 s" % (i, got))


class RawDisconnectTest(DaemonTestCase):
    """Clients that vanish at awkward moments."""

    daemon_per_test = True

    def test_disconnect_mid_message(self):
        c = H2Client(self.daemon)
        body = struct.pack(">BI", 0, 1000) + b"x" * 10
        c.request(ECHO_PATH, body, end_stream=False)
        c.pump(0.2)
        c.close()

    def test_disconnect_with_headers_only(self):
        c = H2Client(self.daemon)
        c.request(ECHO_PATH, end_stream=False)
        c.close()

    def test_disconnect_with_a_large_response_queued(self):
        # The client grants no credit: 3 MiB wait in the server's queue when
        # the connection goes.
        c = H2Client(self.daemon, ack=False)
        body = grpc_message(echo_pb2.EchoRequest(
            response_size=3 << 20).SerializeToString())
        c.request(ECHO_PATH, body)
        for _ in range(5):
            c.pump(0.1)
        c.close()

    def test_stream_respects_flow_control(self):
        # 200000 x 1000 bytes as fast as possible to a client that grants no
        # credit. A handler that waits for the writable hook is still running
        # when the client goes, and logs its cancel; one that queued
        # everything would have finished long before.
        rss_before = self._rss_kib()
        c = H2Client(self.daemon, ack=False)
        body = grpc_message(echo_pb2.StreamRequest(
            count=200000, size=1000, interval_ms=0).SerializeToString())
        before = self.daemon.log().count("echo.Stream -> cancelled")
        c.request(STREAM_PATH, body)
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            c.pump(0.1)
        grown_mib = (self._rss_kib() - rss_before) / 1024
        c.close()
        deadline = time.monotonic() + 3
        while (self.daemon.log().count("echo.Stream -> cancelled") <= before
               and time.monotonic() < deadline):
            time.sleep(0.02)
        self.assertGreater(self.daemon.log().count("echo.Stream -> cancelled"),
                           before, self.daemon.describe())
        self.assertLess(grown_mib, 64, "the daemon grew by %.0f MiB while the "
                        "client read nothing" % grown_mib)

    def _rss_kib(self):
        with open("/proc/%d/status" % self.daemon.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def test_many_abrupt_disconnects(self):
        body = grpc_message(echo_pb2.EchoRequest(
            payload=b"y" * 1000, delay_ms=50).SerializeToString())
        for i in range(50):
            c = H2Client(self.daemon)
            c.request(ECHO_PATH, body[: (i * 37) % len(body)] or body,
                      end_stream=(i % 2 == 0))
            if i % 3 == 0:
                c.pump(0.01)
            c.close()


if __name__ == "__main__":
    unittest.main()
