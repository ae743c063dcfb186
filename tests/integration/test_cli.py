"""The daemon's command line, exit codes and socket handling, against the
production binary."""

import json
import os
import socket
import subprocess
import time
import unittest

from daemon import Daemon, temp_dir

import health_pb2


def binary():
    path = os.environ.get("GS_REAL_DAEMON")
    if not path:
        raise unittest.SkipTest("GS_REAL_DAEMON is not set")
    return path


def run(*args, timeout=10):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GITSPACE_")}
    return subprocess.run([binary()] + list(args), capture_output=True,
                          text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


class CommandLineTest(unittest.TestCase):

    def setUp(self):
        self.dir = temp_dir("gs-cli-")  # removed when the test passes
        self.socket_path = os.path.join(self.dir, "s.sock")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout + r.stderr, r"\d+\.\d+\.\d+")

    def test_help(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--socket", r.stdout + r.stderr)

    def test_unknown_option_is_a_usage_error(self):
        r = run("--no-such-option")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)

    def test_missing_config_file(self):
        missing = os.path.join(self.dir, "missing.yaml")
        r = run("--config", missing, "--socket", self.socket_path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(missing, r.stderr)
        self.assertFalse(os.path.exists(self.socket_path))

    def test_invalid_yaml(self):
        path = self.write("bad.yaml", "limits: [1, 2\n  log: {\n")
        r = run("--config", path, "--socket", self.socket_path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("bad.yaml", r.stderr)
        self.assertFalse(os.path.exists(self.socket_path))

    def test_check_config_valid(self):
        path = self.write("ok.yaml", "log:\n  level: debug\n")
        r = run("--check-config", "--config", path,
                "--socket", self.socket_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(self.socket_path),
                         "--check-config must not listen")

    def test_check_config_invalid(self):
        path = self.write("bad.yaml", "limits:\n  max_message_bytes: lots\n")
        r = run("--check-config", "--config", path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("max_message_bytes", r.stderr)

    def test_fifo_config_is_refused_at_once(self):
        fifo = os.path.join(self.dir, "fifo.yaml")
        os.mkfifo(fifo)
        r = run("--check-config", "--config", fifo, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(fifo + ": not a regular file", r.stderr)

    def test_dev_null_config_is_empty(self):
        r = run("--check-config", "--config", "/dev/null")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_log_format(self):
        r = run("--log-format", "xml", "--socket", self.socket_path)
        self.assertEqual(r.returncode, 2, r.stderr)


class RunningDaemonTest(unittest.TestCase):

    def test_logs_serving_on_the_socket(self):
        with Daemon(real=True) as d:
            d.wait_log("serving on " + d.socket_path, timeout=3)

    def test_json_log_lines(self):
        d = Daemon(real=True, args=["--log-format", "json"]).start()
        try:
            self.assertEqual(d.check(), health_pb2.HealthCheckResponse.SERVING)
        finally:
            d.stop()
        lines = [ln for ln in d.log().splitlines() if ln.strip()]
        self.assertTrue(lines)
        for ln in lines:
            json.loads(ln)  # every line is one JSON object
        self.assertTrue(any(d.socket_path in ln for ln in lines))

    def test_second_daemon_on_a_live_socket_refuses(self):
        with Daemon(real=True) as first:
            r = run("--socket", first.socket_path)
            self.assertNotEqual(r.returncode, 0,
                                "second daemon started: " + r.stderr)
            # The first one's socket is untouched and still answers.
            self.assertEqual(first.check(),
                             health_pb2.HealthCheckResponse.SERVING)

    def test_stale_socket_file_is_replaced(self):
        d = Daemon(real=True)
        d.dir = temp_dir("gs-itest-")
        stale = os.path.join(d.dir, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)
        s.close()  # a socket file nobody listens on, as after a crash
        self.assertTrue(os.path.exists(stale))
        r = subprocess.Popen([d.binary, "--socket", stale],
                             stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(200):
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    probe.connect(stale)
                    break
                except OSError:
                    if r.poll() is not None:
                        break
                    time.sleep(0.025)
                finally:
                    probe.close()
            if r.poll() is not None:
                self.fail("daemon exited with %d: %s"
                          % (r.returncode, r.stderr.read()))
        finally:
            r.terminate()
            _, err = r.communicate(timeout=15)
        self.assertEqual(r.returncode, 0, err)
        self.assertFalse(os.path.exists(stale))

    def test_regular_file_at_socket_path_is_kept(self):
        d = temp_dir("gs-cli-")
        path = os.path.join(d, "not-a-socket")
        with open(path, "w") as f:
            f.write("precious\n")
        r = run("--socket", path)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), "precious\n")


if __name__ == "__main__":
    unittest.main()
