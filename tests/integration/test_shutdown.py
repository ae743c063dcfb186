"""SIGTERM with calls in flight: streams end with a status, unary calls may
finish until the drain timeout, then are cancelled; the daemon exits 0 and
removes its socket."""

import os
import socket
import threading
import time
import unittest

from daemon import Daemon
from echo_util import echo_pb2, stub

import grpc


class ShutdownBase(unittest.TestCase):
    """Each test owns its daemon and ends it."""

    daemon_config = None

    def setUp(self):
        self.daemon = Daemon(self.daemon_config).start()

    def tearDown(self):
        self.daemon.kill()

    def assert_socket_gone(self):
        self.assertFalse(os.path.exists(self.daemon.socket_path))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with self.assertRaises(OSError):
            s.connect(self.daemon.socket_path)
        s.close()


class ShutdownTest(ShutdownBase):

    def test_sigterm_during_stream_ends_it_with_a_status(self):
        with self.daemon.channel() as ch:
            stream = stub(ch).Stream(
                echo_pb2.StreamRequest(count=10, size=8, interval_ms=60000),
                timeout=60)
            self.assertEqual(next(stream).index, 0)

            self.daemon.terminate()
            start = time.monotonic()
            with self.assertRaises(grpc.RpcError) as cm:
                next(stream)
            self.assertLess(time.monotonic() - start, 5.0)
            # The Echo service ends its streams in the drain hook.
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE,
                             "%s %r\n%s" % (cm.exception.code(),
                                            cm.exception.details(),
                                            self.daemon.describe()))
        self.daemon.assert_clean_exit(timeout=10)
        self.assert_socket_gone()

    def test_sigterm_lets_a_call_in_flight_finish(self):
        with self.daemon.channel() as ch:
            future = stub(ch).Echo.future(
                echo_pb2.EchoRequest(payload=b"finish me", delay_ms=1500),
                timeout=30)
            time.sleep(0.3)
            self.daemon.terminate()
            self.assertEqual(future.result().payload, b"finish me",
                             self.daemon.describe())
        self.daemon.assert_clean_exit(timeout=10)
        self.assert_socket_gone()

    def test_no_new_connections_while_draining(self):
        with self.daemon.channel() as ch:
            future = stub(ch).Echo.future(
                echo_pb2.EchoRequest(payload=b"x", delay_ms=1500), timeout=30)
            time.sleep(0.3)
            self.daemon.terminate()
            time.sleep(0.3)
            # The socket file is removed as the drain starts.
            self.assert_socket_gone()
            self.assertEqual(future.result().payload, b"x")
        self.daemon.assert_clean_exit(timeout=10)

    def test_sigterm_with_many_open_calls(self):
        results = []
        with self.daemon.channel() as ch:
            s = stub(ch)
            futures = [s.Echo.future(
                echo_pb2.EchoRequest(payload=b"%d" % i, delay_ms=500),
                timeout=30) for i in range(50)]
            streams = [s.Stream(
                echo_pb2.StreamRequest(count=1000, size=10, interval_ms=20),
                timeout=30) for _ in range(10)]

            def drain(stream):
                try:
                    for _ in stream:
                        pass
                    results.append(stream.code())
                except grpc.RpcError as e:
                    results.append(e.code())

            threads = [threading.Thread(target=drain, args=(st,))
                       for st in streams]
            for t in threads:
                t.start()
            time.sleep(0.2)
            self.daemon.terminate()
            for i, f in enumerate(futures):
                self.assertEqual(f.result().payload, b"%d" % i)
            for t in threads:
                t.join(10)
                self.assertFalse(t.is_alive(), "a stream hangs")
        self.assertEqual(len(results), 10)
        self.daemon.assert_clean_exit(timeout=10)


class DrainTimeoutTest(ShutdownBase):
    """drain_timeout_ms: 500 - calls still open then are cancelled."""

    daemon_config = {"limits": {"drain_timeout_ms": 500}}

    def test_drain_timeout_cancels_a_long_call(self):
        with self.daemon.channel() as ch:
            future = stub(ch).Echo.future(
                echo_pb2.EchoRequest(payload=b"x", delay_ms=60000),
                timeout=60)
            time.sleep(0.3)
            self.daemon.terminate()
            start = time.monotonic()
            with self.assertRaises(grpc.RpcError):
                future.result(timeout=10)
            self.assertLess(time.monotonic() - start, 5.0)
        self.daemon.wait_log("echo.Echo -> cancelled", timeout=3)
        self.daemon.assert_clean_exit(timeout=10)
        self.assert_socket_gone()

    def test_drain_timeout_exit_is_prompt(self):
        with self.daemon.channel() as ch:
            future = stub(ch).Echo.future(
                echo_pb2.EchoRequest(payload=b"x", delay_ms=60000),
                timeout=60)
            time.sleep(0.3)
            start = time.monotonic()
            self.daemon.terminate()
            self.daemon.assert_clean_exit(timeout=10)
            self.assertLess(time.monotonic() - start, 5.0)
            with self.assertRaises(grpc.RpcError):
                future.result(timeout=10)


if __name__ == "__main__":
    unittest.main()
