"""The Orchestrator calls not implemented yet, ResolveImage's answers that
need no registry, and unknown paths, against the production daemon."""

import unittest

from daemon import DaemonTestCase

import grpc
from gitspace.orchestrator.v1 import orchestrator_pb2 as pb
from gitspace.orchestrator.v1 import orchestrator_pb2_grpc as pb_grpc

UNIMPLEMENTED = grpc.StatusCode.UNIMPLEMENTED


class OrchestratorUnimplementedTest(DaemonTestCase):
    real_daemon = True

    def setUp(self):
        self.channel = self.daemon.channel()
        self.stub = pb_grpc.OrchestratorStub(self.channel)

    def tearDown(self):
        self.channel.close()
        super().tearDown()

    def assert_unimplemented(self, method, call):
        with self.assertRaises(grpc.RpcError) as cm:
            call()
        self.assert_code(cm.exception, UNIMPLEMENTED, method)

    def test_resolve_image_needs_ide_type(self):
        req = pb.ResolveImageRequest(gitspace_id="gs1")
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.ResolveImage(req, timeout=5)
        self.assert_code(cm.exception, grpc.StatusCode.INVALID_ARGUMENT,
                         "ide_type")

    def test_resolve_image_catalog_without_registry(self):
        req = pb.ResolveImageRequest(
            gitspace_id="gs1", ide_type="vs_code_web",
            verify=pb.VERIFY_MODE_NEVER)
        resp = self.stub.ResolveImage(req, timeout=5)
        self.assertEqual(
            resp.image, "ghcr.io/ysicing/gitspace-runtime:vscode-web-latest")
        self.assertTrue(resp.prebuilt)
        self.assertEqual(resp.source, pb.IMAGE_SOURCE_PREBUILT)
        self.assertEqual(resp.verification, pb.VERIFICATION_SKIPPED)
        self.assertEqual(resp.ide_port, 8089)
        self.assertEqual(resp.ide_family, "code-server")
        self.assertEqual(resp.reference.domain, "ghcr.io")
        self.assertEqual(resp.reference.path, "ysicing/gitspace-runtime")
        self.assertEqual(resp.reference.tag, "vscode-web-latest")

    def resolve_raw(self, body):
        call = self.channel.unary_unary(
            "/gitspace.orchestrator.v1.Orchestrator/ResolveImage",
            request_serializer=lambda b: b,
            response_deserializer=pb.ResolveImageResponse.FromString)
        return call(body, timeout=5)

    def test_resolve_image_refuses_bad_strings(self):
        # Field 2, ide_type: invalid UTF-8, then a NUL that would cut it.
        for value, problem in ((b"vs_code\xff", "not valid UTF-8"),
                               (b"vs_code\x00evil", "NUL")):
            with self.subTest(value=value):
                body = bytes([2 << 3 | 2, len(value)]) + value
                with self.assertRaises(grpc.RpcError) as cm:
                    self.resolve_raw(body)
                self.assert_code(cm.exception,
                                 grpc.StatusCode.INVALID_ARGUMENT,
                                 "ide_type", problem)

    def test_resolve_image_bad_devcontainer_image(self):
        req = pb.ResolveImageRequest(
            gitspace_id="gs1", ide_type="vs_code",
            devcontainer_image="ghcr.io/Evil/x:$(touch /tmp/owned)")
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.ResolveImage(req, timeout=5)
        self.assert_code(cm.exception, grpc.StatusCode.INVALID_ARGUMENT,
                         "devcontainer_image")

    def test_build_steps(self):
        req = pb.BuildStepsRequest(spec=pb.GitspaceSpec(gitspace_id="gs1"))
        self.assert_unimplemented(
            "BuildSteps", lambda: self.stub.BuildSteps(req, timeout=5))

    def test_create_deployment(self):
        req = pb.CreateDeploymentRequest(
            spec=pb.GitspaceSpec(gitspace_id="gs1"), dry_run=True)
        self.assert_unimplemented(
            "CreateDeployment",
            lambda: self.stub.CreateDeployment(req, timeout=5))

    def test_wait_ready(self):
        req = pb.WaitReadyRequest(instance_id="gs1-abcdef")
        self.assert_unimplemented(
            "WaitReady", lambda: list(self.stub.WaitReady(req, timeout=5)))

    def test_stop_gitspace(self):
        req = pb.StopGitspaceRequest(instance_id="gs1-abcdef")
        self.assert_unimplemented(
            "StopGitspace", lambda: self.stub.StopGitspace(req, timeout=5))

    def test_delete_gitspace(self):
        req = pb.DeleteGitspaceRequest(instance_id="gs1-abcdef")
        self.assert_unimplemented(
            "DeleteGitspace",
            lambda: self.stub.DeleteGitspace(req, timeout=5))


class UnknownPathTest(DaemonTestCase):
    real_daemon = True

    def call(self, path, body=b""):
        with self.daemon.channel() as ch:
            return ch.unary_unary(path)(body, timeout=5)

    def test_unknown_method(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("/gitspace.orchestrator.v1.Orchestrator/Nope")
        self.assert_code(cm.exception, UNIMPLEMENTED)

    def test_unknown_service(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("/no.such.Service/Check")
        self.assert_code(cm.exception, UNIMPLEMENTED)

    def test_method_case_matters(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("/grpc.health.v1.Health/check")
        self.assert_code(cm.exception, UNIMPLEMENTED)

    def test_echo_absent_from_production(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("/gitspace.testing.v1.Echo/Echo")
        self.assert_code(cm.exception, UNIMPLEMENTED)

    def test_unknown_streaming_method(self):
        with self.daemon.channel() as ch:
            stream = ch.unary_stream("/no.such.Service/Watch")(b"", timeout=5)
            with self.assertRaises(grpc.RpcError) as cm:
                list(stream)
        self.assert_code(cm.exception, UNIMPLEMENTED)

    def test_malformed_request_message(self):
        # Field 1 (string) announces 100 bytes and the message ends: the
        # request cannot be decoded.
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("/grpc.health.v1.Health/Check", b"\x0a\x64abc")
        self.assertIn(cm.exception.code(),
                      (grpc.StatusCode.INVALID_ARGUMENT,
                       grpc.StatusCode.INTERNAL),
                      "%s %r" % (cm.exception.code(),
                                 cm.exception.details()))


if __name__ == "__main__":
    unittest.main()
