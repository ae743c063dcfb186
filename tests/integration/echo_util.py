"""Helpers for calls to the gitspace.testing.v1.Echo test service."""

from daemon import BIG_CLIENT_OPTIONS

from gitspace.testing.v1 import echo_pb2
from gitspace.testing.v1 import echo_pb2_grpc

__all__ = ["BIG_CLIENT_OPTIONS", "MiB", "echo_pb2", "echo_request_size",
           "pattern", "stub"]

MiB = 1 << 20
_PERIOD = bytes(range(251))


def pattern(size, index=0):
    """The payload the service generates: byte i is (index + i) % 251."""
    start = index % 251
    reps = (start + size) // 251 + 1
    return (_PERIOD * reps)[start:start + size]


def echo_request_size(payload_len):
    """Encoded size of an EchoRequest holding only a payload."""
    n = payload_len
    varint = 1
    while n >= 0x80:
        n >>= 7
        varint += 1
    return (1 + varint + payload_len) if payload_len else 0


def stub(channel):
    return echo_pb2_grpc.EchoStub(channel)
