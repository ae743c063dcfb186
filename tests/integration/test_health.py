"""grpc.health.v1.Health against the production daemon."""

import os
import time
import unittest

from daemon import Daemon, DaemonTestCase

import grpc
import health_pb2
import health_pb2_grpc

Status = health_pb2.HealthCheckResponse
ORCHESTRATOR = "gitspace.orchestrator.v1.Orchestrator"


class HealthCheckTest(DaemonTestCase):
    real_daemon = True

    def setUp(self):
        self.channel = self.daemon.channel()
        self.stub = health_pb2_grpc.HealthStub(self.channel)

    def tearDown(self):
        self.channel.close()
        super().tearDown()

    def check(self, service):
        return self.stub.Check(health_pb2.HealthCheckRequest(service=service),
                               timeout=5)

    def test_check_server_serving(self):
        self.assertEqual(self.check("").status, Status.SERVING)

    def test_check_orchestrator_serving(self):
        self.assertEqual(self.check(ORCHESTRATOR).status, Status.SERVING)

    def test_check_unknown_service_not_found(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.check("no.such.Service")
        self.assert_code(cm.exception, grpc.StatusCode.NOT_FOUND)

    def test_check_test_service_absent_from_production(self):
        # The Echo service exists only in gitspace-orchestratord-test.
        with self.assertRaises(grpc.RpcError) as cm:
            self.check("gitspace.testing.v1.Echo")
        self.assert_code(cm.exception, grpc.StatusCode.NOT_FOUND)

    def test_check_many_in_a_row_on_one_channel(self):
        for _ in range(100):
            self.assertEqual(self.check("").status, Status.SERVING)


class HealthWatchTest(unittest.TestCase):
    """Each test owns its daemon: they end it with SIGTERM."""

    def setUp(self):
        self.daemon = Daemon(real=True).start()

    def tearDown(self):
        self.daemon.kill()

    def test_watch_serving_then_not_serving_on_sigterm(self):
        with self.daemon.channel() as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            stream = stub.Watch(health_pb2.HealthCheckRequest(service=""),
                                timeout=30)
            first = next(stream)
            self.assertEqual(first.status, Status.SERVING)

            self.daemon.terminate()
            started = time.monotonic()
            second = next(stream)
            self.assertEqual(second.status, Status.NOT_SERVING,
                             self.daemon.describe())
            with self.assertRaises(StopIteration):
                next(stream)
            self.assertEqual(stream.code(), grpc.StatusCode.OK,
                             "%s %r" % (stream.code(), stream.details()))
            # The stream ends at once, not at the drain timeout.
            self.assertLess(time.monotonic() - started, 5.0)

        self.daemon.assert_clean_exit()
        self.assertFalse(os.path.exists(self.daemon.socket_path))

    def test_watch_sigterm_repeatedly(self):
        # The last frames race the close of the connection: a daemon that
        # closes as soon as its output is flushed makes grpcio fail the
        # stream now and then ("Broken pipe") instead of ending it with OK.
        self.daemon.stop()
        for i in range(60):
            d = Daemon(real=True).start()
            try:
                with d.channel() as ch:
                    stream = health_pb2_grpc.HealthStub(ch).Watch(
                        health_pb2.HealthCheckRequest(service=""), timeout=30)
                    self.assertEqual(next(stream).status, Status.SERVING)
                    d.terminate()
                    try:
                        statuses = [m.status for m in stream]
                    except grpc.RpcError as e:
                        self.fail("round %d: %s %r\n%s" % (
                            i, e.code(), e.details(), d.describe()))
                    self.assertEqual(statuses, [Status.NOT_SERVING])
                    self.assertEqual(stream.code(), grpc.StatusCode.OK)
                d.assert_clean_exit()
            finally:
                d.kill()

    def test_watch_orchestrator_serving(self):
        with self.daemon.channel() as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            stream = stub.Watch(
                health_pb2.HealthCheckRequest(service=ORCHESTRATOR),
                timeout=30)
            self.assertEqual(next(stream).status, Status.SERVING)
            stream.cancel()
        self.daemon.stop()

    def test_watch_unknown_service_says_service_unknown(self):
        # The health protocol answers Watch on an unknown service with a
        # SERVICE_UNKNOWN message, not an error.
        with self.daemon.channel() as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            stream = stub.Watch(
                health_pb2.HealthCheckRequest(service="no.such.Service"),
                timeout=30)
            self.assertEqual(next(stream).status, Status.SERVICE_UNKNOWN)
            stream.cancel()
        self.daemon.stop()

    def test_sigterm_idle_daemon_exits_cleanly(self):
        self.assertEqual(self.daemon.check(), Status.SERVING)
        self.daemon.stop(timeout=5)


if __name__ == "__main__":
    unittest.main()
