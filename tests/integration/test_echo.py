"""Payloads, streams, deadlines, cancellation and concurrency through the
Echo test service."""

import concurrent.futures
import os
import time
import unittest

from daemon import DaemonTestCase
from echo_util import BIG_CLIENT_OPTIONS, MiB, echo_pb2, pattern, stub

import grpc


class EchoTest(DaemonTestCase):

    def setUp(self):
        self.channel = self.daemon.channel(BIG_CLIENT_OPTIONS)
        self.stub = stub(self.channel)

    def tearDown(self):
        self.channel.close()
        super().tearDown()

    # ---- unary -------------------------------------------------------------

    def test_echo_small(self):
        resp = self.stub.Echo(echo_pb2.EchoRequest(payload=b"hello"),
                              timeout=5)
        self.assertEqual(resp.payload, b"hello")

    def test_echo_empty(self):
        resp = self.stub.Echo(echo_pb2.EchoRequest(), timeout=5)
        self.assertEqual(resp.payload, b"")

    def test_echo_with_delay(self):
        start = time.monotonic()
        resp = self.stub.Echo(
            echo_pb2.EchoRequest(payload=b"later", delay_ms=200), timeout=5)
        self.assertEqual(resp.payload, b"later")
        self.assertGreaterEqual(time.monotonic() - start, 0.19)

    def test_echo_3mib_both_ways(self):
        payload = os.urandom(3 * MiB)
        resp = self.stub.Echo(echo_pb2.EchoRequest(payload=payload),
                              timeout=30)
        self.assertEqual(len(resp.payload), len(payload))
        self.assertTrue(resp.payload == payload, "payload differs")

    def test_echo_generated_3mib_response(self):
        resp = self.stub.Echo(
            echo_pb2.EchoRequest(response_size=3 * MiB), timeout=30)
        self.assertEqual(len(resp.payload), 3 * MiB)
        self.assertTrue(resp.payload == pattern(3 * MiB), "pattern differs")

    def test_large_responses_repeatedly(self):
        # 100 generated 3 MiB responses, each on its own connection; each
        # must arrive in well under its deadline.
        for i in range(100):
            with self.daemon.channel(BIG_CLIENT_OPTIONS) as ch:
                start = time.monotonic()
                try:
                    resp = stub(ch).Echo(
                        echo_pb2.EchoRequest(response_size=3 * MiB),
                        timeout=10)
                except grpc.RpcError as e:
                    self.fail("call %d: %s after %.1f s" % (
                        i, e.code(), time.monotonic() - start))
                self.assertEqual(len(resp.payload), 3 * MiB)

    def test_echo_sizes_around_frame_boundaries(self):
        # HTTP/2 frames carry 16 KiB by default and the gRPC prefix adds 5
        # bytes: sizes near those edges catch framing mistakes.
        for size in (1, 16384 - 8, 16384 - 5, 16384 - 4, 16384, 16385,
                     65535 - 5, 65535, 65536, 131072 + 3):
            payload = os.urandom(size)
            resp = self.stub.Echo(echo_pb2.EchoRequest(payload=payload),
                                  timeout=10)
            self.assertTrue(resp.payload == payload, "size %d" % size)

    # ---- deadlines and cancellation ---------------------------------------

    def test_deadline_exceeded_stops_the_handler(self):
        start = time.monotonic()
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.Echo(echo_pb2.EchoRequest(payload=b"x", delay_ms=5000),
                           timeout=0.3)
        elapsed = time.monotonic() - start
        self.assert_code(cm.exception, grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(elapsed, 2.0)
        self.daemon.wait_log("echo.Echo -> cancelled", timeout=3)

    def test_client_cancel_mid_stream_stops_the_handler(self):
        before = self.daemon.log().count("echo.Stream -> cancelled")
        stream = self.stub.Stream(
            echo_pb2.StreamRequest(count=10000, size=64, interval_ms=5),
            timeout=60)
        for i in range(3):
            msg = next(stream)
            self.assertEqual(msg.index, i)
            self.assertEqual(msg.payload, pattern(64, i))
        stream.cancel()
        deadline = time.monotonic() + 3
        while (self.daemon.log().count("echo.Stream -> cancelled") <= before
               and time.monotonic() < deadline):
            time.sleep(0.02)
        self.assertGreater(self.daemon.log().count("echo.Stream -> cancelled"),
                           before, self.daemon.describe())

    def test_channel_close_mid_echo_stops_the_handler(self):
        before = self.daemon.log().count("echo.Echo -> cancelled")
        ch = self.daemon.channel()
        future = stub(ch).Echo.future(
            echo_pb2.EchoRequest(payload=b"x", delay_ms=10000), timeout=30)
        time.sleep(0.3)
        ch.close()  # the connection goes away with the call open
        with self.assertRaises(grpc.RpcError):
            future.result()
        deadline = time.monotonic() + 3
        while (self.daemon.log().count("echo.Echo -> cancelled") <= before
               and time.monotonic() < deadline):
            time.sleep(0.02)
        self.assertGreater(self.daemon.log().count("echo.Echo -> cancelled"),
                           before, self.daemon.describe())

    # ---- streams -----------------------------------------------------------

    def test_stream_all_messages_in_order(self):
        msgs = list(self.stub.Stream(
            echo_pb2.StreamRequest(count=50, size=100, interval_ms=1),
            timeout=10))
        self.assertEqual([m.index for m in msgs], list(range(50)))
        for m in msgs:
            self.assertEqual(m.payload, pattern(100, m.index))

    def test_stream_zero_messages(self):
        stream = self.stub.Stream(echo_pb2.StreamRequest(count=0), timeout=5)
        self.assertEqual(list(stream), [])
        self.assertEqual(stream.code(), grpc.StatusCode.OK)

    def test_stream_fast_large_volume_with_flow_control(self):
        # 2000 x 32 KiB = 64 MiB as fast as flow control allows: the server
        # must wait for the window rather than queue without bound, and
        # every byte must arrive in order.
        count, size = 2000, 32 * 1024
        n = 0
        for m in self.stub.Stream(
                echo_pb2.StreamRequest(count=count, size=size, interval_ms=0),
                timeout=60):
            self.assertEqual(m.index, n)
            if n % 97 == 0:
                self.assertEqual(m.payload, pattern(size, n))
            else:
                self.assertEqual(len(m.payload), size)
            n += 1
        self.assertEqual(n, count)

    def test_slow_reader_stream(self):
        # The client reads slowly while the server produces fast.
        stream = self.stub.Stream(
            echo_pb2.StreamRequest(count=300, size=64 * 1024, interval_ms=0),
            timeout=60)
        n = 0
        for m in stream:
            self.assertEqual(m.index, n)
            n += 1
            if n % 50 == 0:
                time.sleep(0.2)
        self.assertEqual(n, 300)

    # ---- concurrency -------------------------------------------------------

    def test_200_concurrent_calls_on_one_channel(self):
        futures = []
        for i in range(200):
            payload = bytes([i % 256]) * (1 + (i * 37) % 5000)
            req = echo_pb2.EchoRequest(payload=payload, delay_ms=i % 50)
            futures.append((payload, self.stub.Echo.future(req, timeout=30)))
        for payload, f in futures:
            self.assertEqual(f.result().payload, payload)

    def test_mixed_concurrent_unary_and_streams(self):
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            def run_stream(i):
                msgs = list(self.stub.Stream(
                    echo_pb2.StreamRequest(count=20, size=i * 100 + 1,
                                           interval_ms=1), timeout=30))
                return [m.index for m in msgs]

            def run_echo(i):
                p = os.urandom(i * 1000)
                return self.stub.Echo(echo_pb2.EchoRequest(payload=p),
                                      timeout=30).payload == p

            streams = [pool.submit(run_stream, i) for i in range(16)]
            echoes = [pool.submit(run_echo, i) for i in range(64)]
            for f in streams:
                self.assertEqual(f.result(), list(range(20)))
            for f in echoes:
                self.assertTrue(f.result())

    # ---- compression -------------------------------------------------------

    def test_gzip_request_is_unimplemented(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.Echo(echo_pb2.EchoRequest(payload=b"z" * 1000),
                           compression=grpc.Compression.Gzip, timeout=5)
        self.assert_code(cm.exception, grpc.StatusCode.UNIMPLEMENTED)


class ConnectionsTest(DaemonTestCase):

    def test_50_connections_at_once(self):
        import health_pb2
        import health_pb2_grpc

        channels = [self.daemon.channel([("grpc.use_local_subchannel_pool", 1),
                                         ("gs.test.channel", i)])
                    for i in range(50)]
        try:
            for ch in channels:
                grpc.channel_ready_future(ch).result(timeout=10)
            # Every channel holds its own connection: the daemon holds the
            # listener plus at least 50 accepted sockets.
            self.assertGreaterEqual(self.daemon.open_sockets(), 51)
            futures = [health_pb2_grpc.HealthStub(ch).Check.future(
                health_pb2.HealthCheckRequest(service=""), timeout=10)
                for ch in channels]
            for f in futures:
                self.assertEqual(f.result().status,
                                 health_pb2.HealthCheckResponse.SERVING)
        finally:
            for ch in channels:
                ch.close()

    def test_connections_are_released(self):
        base = self.daemon.open_sockets()
        for _ in range(30):
            self.daemon.check()
        deadline = time.monotonic() + 5
        while (self.daemon.open_sockets() > base + 1
               and time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertLessEqual(self.daemon.open_sockets(), base + 1)


if __name__ == "__main__":
    unittest.main()
