"""The message size limit, both directions, default and configured."""

import os
import unittest

from daemon import DaemonTestCase
from echo_util import (BIG_CLIENT_OPTIONS, MiB, echo_pb2, echo_request_size,
                       pattern, stub)

import grpc

RESOURCE_EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED


class LimitTestCase(DaemonTestCase):
    """The client's own limits are raised far above the server's, so every
    refusal seen here is the server's."""

    def setUp(self):
        self.channel = self.daemon.channel(BIG_CLIENT_OPTIONS)
        self.stub = stub(self.channel)

    def tearDown(self):
        self.channel.close()
        super().tearDown()

    def echo(self, **kw):
        return self.stub.Echo(echo_pb2.EchoRequest(**kw), timeout=30)

    def assert_exhausted(self, **kw):
        with self.assertRaises(grpc.RpcError) as cm:
            self.echo(**kw)
        self.assert_code(cm.exception, RESOURCE_EXHAUSTED)


class DefaultLimitTest(LimitTestCase):
    """Default limit: 4 MiB."""

    def test_5mib_request_refused(self):
        self.assert_exhausted(payload=os.urandom(5 * MiB))

    def test_request_just_over_4mib_refused(self):
        self.assert_exhausted(payload=b"a" * (4 * MiB))  # 4 MiB + 5 encoded

    def test_3mib_request_accepted(self):
        payload = os.urandom(3 * MiB)
        self.assertTrue(self.echo(payload=payload).payload == payload)

    def test_5mib_response_refused(self):
        self.assert_exhausted(response_size=5 * MiB)

    def test_4mib_response_payload_refused(self):
        # 4 MiB of payload encodes to 4 MiB + 5 bytes: over the limit.
        self.assert_exhausted(response_size=4 * MiB)

    def test_refusals_do_not_break_the_connection(self):
        for _ in range(3):
            self.assert_exhausted(payload=b"b" * (5 * MiB))
            self.assertEqual(self.echo(payload=b"ok").payload, b"ok")


class ConfiguredLimitTest(LimitTestCase):
    """limits.max_message_bytes: 1 MiB from the config file."""

    daemon_config = {"limits": {"max_message_bytes": MiB}}

    def test_2mib_request_refused(self):
        self.assert_exhausted(payload=os.urandom(2 * MiB))

    def test_half_mib_request_accepted(self):
        payload = os.urandom(MiB // 2)
        self.assertTrue(self.echo(payload=payload).payload == payload)

    def test_response_over_limit_refused(self):
        self.assert_exhausted(response_size=2 * MiB)

    def test_exactly_the_limit_accepted_both_ways(self):
        # A message of exactly max_message_bytes is allowed (the limit is
        # inclusive, as in grpc-core and grpc-go); one byte more is not.
        n = MiB - 4
        self.assertEqual(echo_request_size(n), MiB)
        payload = os.urandom(n)
        self.assertTrue(self.echo(payload=payload).payload == payload)
        self.assertTrue(self.echo(response_size=n).payload == pattern(n))

    def test_one_byte_over_the_limit_refused_both_ways(self):
        n = MiB - 3
        self.assertEqual(echo_request_size(n), MiB + 1)
        self.assert_exhausted(payload=b"c" * n)
        self.assert_exhausted(response_size=n)

    def test_stream_message_over_limit_refused(self):
        stream = self.stub.Stream(
            echo_pb2.StreamRequest(count=3, size=2 * MiB), timeout=30)
        with self.assertRaises(grpc.RpcError) as cm:
            list(stream)
        self.assert_code(cm.exception, RESOURCE_EXHAUSTED)


if __name__ == "__main__":
    unittest.main()
