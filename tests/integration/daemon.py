"""Starts and stops gitspace-orchestratord for the integration tests.

The binary comes from GS_DAEMON (the test daemon, with the Echo service) or
GS_REAL_DAEMON (the production daemon); the Python stubs from GS_PY_STUBS.
Each daemon gets a fresh directory holding its socket, its config and its
stderr log. stop() asserts a clean exit: code 0 (a sanitizer report makes it
non-zero) and the socket file removed; on failure the log is printed.

Temporary directories (the daemons', and temp_dir()'s) are removed when the
test that made them passes, and kept, with their paths printed, when it
fails, so that the logs can be read afterwards.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

STUBS = os.environ.get("GS_PY_STUBS")
if STUBS and STUBS not in sys.path:
    sys.path.insert(0, STUBS)

import grpc  # noqa: E402

import health_pb2  # noqa: E402
import health_pb2_grpc  # noqa: E402

START_TIMEOUT = 15.0
STOP_TIMEOUT = 30.0

# Large enough for every message the tests send or expect back, so that the
# client's own limits never decide a test about the server's.
BIG_CLIENT_OPTIONS = [
    ("grpc.max_receive_message_length", 64 << 20),
    ("grpc.max_send_message_length", 64 << 20),
]


class DaemonError(AssertionError):
    pass


# ---- temporary directories ---------------------------------------------------
#
# A directory made during a test belongs to that test: removed when the test
# passes, kept when it fails. unittest has no hook for "this test is over,
# with this outcome", so TestCase.run is wrapped (every integration test
# module imports this one). A directory made outside a test (a class's shared
# daemon, in setUpClass) is removed after the daemon's clean exit unless a
# test has failed by then.

_test_dirs = None   # the running test's directories; None between tests
_failed = False     # a test of this process has failed


def _adopt(path):
    """Hands `path` to the running test; returns False between tests."""
    if _test_dirs is None:
        return False
    if path not in _test_dirs:
        _test_dirs.append(path)
    return True


def _keep(path, why):
    sys.stderr.write("\nkept %s (%s)\n" % (path, why))
    sys.stderr.flush()


def temp_dir(prefix):
    """A new directory under the system's temp dir, removed when the running
    test passes and kept (its path printed) when it fails. Between tests the
    caller removes it."""
    path = tempfile.mkdtemp(prefix=prefix)
    _adopt(path)
    return path


def _problems(result):
    return (len(result.failures) + len(result.errors)
            + len(getattr(result, "unexpectedSuccesses", ())))


_unittest_run = unittest.TestCase.run


def _run_and_tidy(test, result=None):
    global _test_dirs, _failed
    if result is None:
        return _unittest_run(test, result)
    outer, _test_dirs = _test_dirs, []
    before = _problems(result)
    passed = False
    try:
        ret = _unittest_run(test, result)
        passed = _problems(result) == before
        return ret
    finally:
        dirs, _test_dirs = _test_dirs, outer
        _failed = _failed or not passed
        for path in dirs:
            if passed:
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.isdir(path):
                _keep(path, "%s failed" % test.id())


unittest.TestCase.run = _run_and_tidy


def _yaml(config):
    """Writes a dict of dicts of scalars as YAML (no PyYAML needed)."""
    lines = []
    for section, values in config.items():
        lines.append("%s:" % section)
        for key, value in values.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            lines.append("  %s: %s" % (key, value))
    return "\n".join(lines) + "\n"


class Daemon:
    """One daemon process. `config` is a dict of sections merged over
    {"log": {"level": "debug"}}; `real` picks GS_REAL_DAEMON."""

    def __init__(self, config=None, real=False, args=()):
        var = "GS_REAL_DAEMON" if real else "GS_DAEMON"
        self.binary = os.environ.get(var)
        if not self.binary:
            raise unittest.SkipTest("%s is not set (run through ctest)" % var)
        merged = {"log": {"level": "debug"}}
        for section, values in (config or {}).items():
            merged.setdefault(section, {}).update(values)
        self.config = merged
        self.args = list(args)
        self.dir = None
        self.socket_path = None
        self.log_path = None
        self.proc = None
        self.returncode = None
        self.final_log = None

    # ---- lifecycle -------------------------------------------------------

    def start(self):
        self.dir = temp_dir("gs-itest-")
        self.socket_path = os.path.join(self.dir, "orchestrator.sock")
        self.log_path = os.path.join(self.dir, "daemon.log")
        config_path = os.path.join(self.dir, "config.yaml")
        with open(config_path, "w") as f:
            f.write(_yaml(self.config))

        # Keep the environment from changing the config under test.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GITSPACE_")}
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        argv = [self.binary, "--socket", self.socket_path,
                "--config", config_path] + self.args
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=env)
        self._wait_listening()
        return self

    def _wait_listening(self):
        # Subclasses that make their own directory in start() call this too.
        _adopt(self.dir)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                raise DaemonError(
                    "daemon exited with %d before listening\n%s"
                    % (rc, self.describe()))
            if os.path.exists(self.socket_path):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.socket_path)
                    return
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.02)
        self.kill()
        raise DaemonError("daemon did not listen within %.0f s\n%s"
                          % (START_TIMEOUT, self.describe()))

    def terminate(self):
        """Sends SIGTERM and returns at once."""
        self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for the process; returns its exit code, or raises (after
        killing it) when it does not exit in time."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise DaemonError("daemon did not exit within %.1f s\n%s"
                              % (timeout, self.describe()))
        return self.returncode

    def assert_clean_exit(self, timeout=STOP_TIMEOUT):
        """After a SIGTERM: exit code 0 and no socket file left behind."""
        rc = self.wait_exit(timeout)
        if rc != 0:
            raise DaemonError("daemon exited with %d (want 0)\n%s"
                              % (rc, self.describe()))
        if os.path.exists(self.socket_path):
            raise DaemonError("socket %s still exists after exit\n%s"
                              % (self.socket_path, self.describe()))
        for word in ("AddressSanitizer", "runtime error:",
                     "LeakSanitizer"):
            if word in self.log():
                raise DaemonError("sanitizer report in the log\n%s"
                                  % self.describe())
        # Inside a test, the directory goes when the test passes. Outside
        # one, a clean exit removes it (the log stays readable through
        # log()) unless a test has failed.
        if self.dir in (_test_dirs or ()):
            return
        if _failed:
            _keep(self.dir, "a test failed")
            return
        self.final_log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then assert a clean exit."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.terminate()
        self.assert_clean_exit(timeout)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.kill()
            return False
        self.stop()
        return False

    # ---- observation -----------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid

    @property
    def target(self):
        return "unix:" + self.socket_path

    def log(self):
        if self.final_log is not None:
            return self.final_log
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, text, timeout=5.0):
        """Waits until `text` appears in the daemon's log; returns the time it
        took, or raises with the log."""
        start = time.monotonic()
        while True:
            if text in self.log():
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError("%r not in the daemon log within %.1f s"
                                     "\n%s" % (text, timeout, self.describe()))
            time.sleep(0.02)

    def describe(self):
        return ("---- %s (pid %s, exit %s) log %s ----\n%s---- end of log ----"
                % (self.binary, self.proc.pid if self.proc else "-",
                   self.returncode, self.log_path, self.log()))

    def open_sockets(self):
        """Socket file descriptors the daemon holds (listener included)."""
        fd_dir = "/proc/%d/fd" % self.pid
        count = 0
        for name in os.listdir(fd_dir):
            try:
                if os.readlink(os.path.join(fd_dir, name)).startswith(
                        "socket:"):
                    count += 1
            except OSError:
                pass
        return count

    # ---- clients ---------------------------------------------------------

    def channel(self, options=()):
        return grpc.insecure_channel(self.target, options=list(options))

    def raw_socket(self, timeout=5.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.socket_path)
        return s

    def check(self, service="", timeout=5.0):
        """One health Check on a fresh channel; returns the status enum."""
        with self.channel() as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            resp = stub.Check(health_pb2.HealthCheckRequest(service=service),
                              timeout=timeout)
            return resp.status


class DaemonTestCase(unittest.TestCase):
    """One daemon for the whole class, stopped (and checked) at the end; with
    daemon_per_test, one per test, so that a crash or a sanitizer report
    names the test that caused it. Each test ends by checking that the
    daemon still answers."""

    daemon_config = None
    real_daemon = False
    daemon_per_test = False

    @classmethod
    def _new_daemon(cls):
        return Daemon(cls.daemon_config, real=cls.real_daemon).start()

    @classmethod
    def setUpClass(cls):
        cls.daemon = None if cls.daemon_per_test else cls._new_daemon()

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None and not cls.daemon_per_test:
            cls.daemon.stop()

    def setUp(self):
        if self.daemon_per_test:
            self.daemon = self._new_daemon()

    def tearDown(self):
        if not self.daemon_per_test:
            self.assert_serving(self.daemon)
            return
        try:
            self.assert_serving(self.daemon)
            self.daemon.stop()
        finally:
            self.daemon.kill()

    def assert_serving(self, daemon):
        if daemon.proc.poll() is not None:
            daemon.returncode = daemon.proc.returncode
            self.fail("daemon died\n" + daemon.describe())
        try:
            status = daemon.check()
        except grpc.RpcError as e:
            self.fail("health Check failed: %s %s\n%s"
                      % (e.code(), e.details(), daemon.describe()))
        self.assertEqual(status, health_pb2.HealthCheckResponse.SERVING,
                         daemon.describe())

    def assert_code(self, err, code, *words):
        """`err` is a grpc.RpcError with `code`, its details naming `words`."""
        self.assertEqual(err.code(), code,
                         "got %s %r\n%s" % (err.code(), err.details(),
                                            self.daemon.describe()))
        for word in words:
            self.assertIn(word, err.details() or "")
