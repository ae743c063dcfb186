#!/usr/bin/python3
"""Asks a gitspace-orchestratord for its health with a stock grpcio client.

Usage: health-check.py [SOCKET] [SERVICE]
Prints the serving status and exits 0 when it is SERVING, 1 otherwise.
The stubs are generated from proto/ with protoc into a temporary folder.
"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SOCKET = "/run/gitspace-orchestrator/orchestrator.sock"


def generate_stubs(out):
    # grpcio owns the Python package "grpc", so the health proto goes
    # under grpc_health/, as grpcio-health-checking ships it.
    src = os.path.join(out, "proto", "grpc_health", "v1")
    os.makedirs(src)
    shutil.copy(os.path.join(ROOT, "proto/grpc/health/v1/health.proto"), src)
    subprocess.run(
        ["protoc", "-I" + os.path.join(out, "proto"), "--python_out=" + out,
         "--grpc_python_out=" + out,
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
         "grpc_health/v1/health.proto"],
        check=True)
    sys.path.insert(0, out)


def main():
    sock = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SOCKET
    service = sys.argv[2] if len(sys.argv) > 2 else ""
    with tempfile.TemporaryDirectory() as tmp:
        generate_stubs(tmp)
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel("unix://" + os.path.abspath(sock)) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            try:
                resp = stub.Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=5)
            except grpc.RpcError as e:
                print("%s: %s" % (e.code().name, e.details()))
                return 1
        name = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
        print(name)
        return 0 if name == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
