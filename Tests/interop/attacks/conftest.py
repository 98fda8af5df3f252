"""Fixtures of the HTTP/2 attack suite.

One server runs for the whole suite (the memory check compares its RSS
before and after all the attacks). Its command is $ATTACK_SERVER_CMD when set
(split like a shell would; nothing is appended, and it must print
`READY <port>`), else `interop-server` from `swift build --show-bin-path`
with short handshake and header-block timeouts.

$ATTACK_HANDSHAKE_TIMEOUT_MS and $ATTACK_HEADER_BLOCK_TIMEOUT_MS tell the
tests the timeouts the server enforces (defaults: those given to
interop-server below, or the library's 10 s for another command).
"""

import os
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import h2raw
from hyperframe.frame import HeadersFrame, SettingsFrame

REPO = Path(__file__).resolve().parents[3]
DEFAULT_TIMEOUT_MS = 1000


def _server_command():
    custom = os.environ.get("ATTACK_SERVER_CMD")
    if custom:
        return shlex.split(custom), 10_000
    bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout.strip()
    binary = Path(bin_path) / "interop-server"
    if not binary.exists():
        pytest.exit(f"{binary} is missing: build it (swift build --product interop-server) or set ATTACK_SERVER_CMD", 2)
    return [str(binary), "--port=0", f"--handshake_timeout_ms={DEFAULT_TIMEOUT_MS}",
            f"--header_block_timeout_ms={DEFAULT_TIMEOUT_MS}"], DEFAULT_TIMEOUT_MS


def rss_kib(pid):
    """VmRSS of `pid`, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_for(condition, timeout, interval=0.01):
    """Polls `condition` until it holds or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)  # A polling interval, bounded by the deadline.


class Server:
    """The server under test: its process, port and configured timeouts."""

    def __init__(self, command, timeout_ms):
        self.command = command
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.pid = self.process.pid
        self.stderr_lines = []
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            self.process.kill()
            err = self.process.stderr.read()
            raise RuntimeError(f"{command} did not print READY (got {line!r}); stderr: {err}")
        self.port = int(line.split()[1])
        self.target = f"127.0.0.1:{self.port}"
        self.handshake_timeout = int(os.environ.get("ATTACK_HANDSHAKE_TIMEOUT_MS", timeout_ms)) / 1000
        self.header_block_timeout = int(os.environ.get("ATTACK_HEADER_BLOCK_TIMEOUT_MS", timeout_ms)) / 1000
        # Drain both pipes so the server never blocks on a full one.
        threading.Thread(target=self._drain, args=(self.process.stdout, None), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.process.stderr, self.stderr_lines), daemon=True).start()
        self.rss_before = None
        self.supports_test_service = None

    @staticmethod
    def _drain(pipe, keep):
        for line in pipe:
            if keep is not None:
                keep.append(line.rstrip())

    def assert_alive(self):
        code = self.process.poll()
        assert code is None, f"the server exited with {code}; stderr tail: {self.stderr_lines[-20:]}"

    def rss(self):
        return rss_kib(self.pid)

    def fds(self):
        return fd_count(self.pid)

    def connect(self, **kwargs):
        return h2raw.RawH2(self.port, **kwargs)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class HealthMonitor:
    """A well-behaved grpcio client calling Health/Check in a loop on its own
    thread and channel, counting successes and failures."""

    def __init__(self, target):
        self.channel = grpc.insecure_channel(target)
        self.stub = health_pb2_grpc.HealthStub(self.channel)
        self.successes = 0
        self.failures = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="health", daemon=True)

    def _run(self):
        while not self.stop.is_set():
            try:
                reply = self.stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    self.successes += 1
                else:
                    self.failures.append(f"status {reply.status}")
            except grpc.RpcError as error:
                self.failures.append(f"{error.code()}: {error.details()}")

    def start(self):
        self.thread.start()
        assert wait_for(lambda: self.successes > 0 or self.failures, 10), "Health/Check never answered"
        assert not self.failures, f"Health/Check failed before the attack: {self.failures[:3]}"

    def close(self):
        self.stop.set()
        self.thread.join(10)
        self.channel.close()


class Attack:
    """What a test checks around one attack: the server's descriptors before
    it, the health client's successes during it, and afterwards that the
    server is up, has closed what the attacker held, and served everyone else."""

    def __init__(self, server, monitor):
        self.server = server
        self.monitor = monitor
        self.fds_before = server.fds()
        self.successes_at_start = monitor.successes

    def healthy_during(self):
        """Health checks that succeeded since the attack began."""
        return self.monitor.successes - self.successes_at_start

    def assert_recovered(self, timeout=5.0):
        """The server is up, its descriptors are back to the level before the
        attack (the attacker's sockets are closed by now), and the health
        client succeeded during the attack with no failure."""
        self.server.assert_alive()
        during = self.healthy_during()
        if during == 0:
            # The attack may have been shorter than one check: the call in
            # flight when it ended must still succeed.
            wait_for(lambda: self.healthy_during() > 0, 5)
            during = self.healthy_during()
        assert during > 0, "no Health/Check succeeded during the attack"
        assert not self.monitor.failures, f"Health/Check failed during the attack: {self.monitor.failures[:3]}"
        fds = wait_for(lambda: self.server.fds() <= self.fds_before and self.server.fds(), timeout)
        assert fds, (f"the server holds {self.server.fds()} descriptors {timeout}s after the attack, "
                     f"{self.fds_before} before it")
        print(f"  health checks during the attack: {during}")
        return during


@pytest.fixture(scope="session")
def server():
    command, timeout_ms = _server_command()
    srv = Server(command, timeout_ms)
    try:
        idle_fds = srv.fds()
        # Warm up before the baseline: connections, calls, raw frames.
        warm = HealthMonitor(srv.target)
        warm.start()
        wait_for(lambda: warm.successes >= 200, 10)
        warm.close()
        for _ in range(3):
            with srv.connect() as conn:
                conn.handshake()
                streams = [conn.request(h2raw.HEALTH_CHECK, b"") for _ in range(20)]
                for stream in streams:
                    conn.response_end(stream)
                probe = conn.request(h2raw.UNARY_CALL, h2raw.simple_request(1024))
                kind, headers = conn.response_end(probe)
                srv.supports_test_service = kind == "headers" and h2raw.header_value(headers, "grpc-status") == "0"
        # Responses held back by a closed flow-control window, as the slow
        # reader attack does: the allocator grows to its working size here.
        path, message = ((h2raw.UNARY_CALL, h2raw.simple_request(32 << 10)) if srv.supports_test_service
                         else (h2raw.HEALTH_CHECK, b""))
        for _ in range(2):
            with srv.connect() as conn:
                conn.handshake(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
                pending = {conn.request(path, message) for _ in range(100)}
                while pending:
                    pending.discard(conn.expect(lambda f: isinstance(f, HeadersFrame), what="response HEADERS").stream_id)
        wait_for(lambda: srv.fds() <= idle_fds, 5)
        srv.fds_idle = idle_fds
        srv.rss_before = srv.rss()
        print(f"\nserver: {' '.join(command)} (pid {srv.pid}, port {srv.port}); "
              f"RSS after warm-up: {srv.rss_before} KiB; descriptors: {srv.fds()}")
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def monitor(server):
    health = HealthMonitor(server.target)
    health.start()
    yield health
    health.close()


@pytest.fixture
def attack(server, monitor):
    """Begins an attack: descriptors and health successes are counted from here."""
    server.assert_alive()
    return Attack(server, monitor)


def pytest_collection_modifyitems(session, config, items):
    """The memory check runs after every attack."""
    last = [item for item in items if item.get_closest_marker("after_all_attacks")]
    others = [item for item in items if not item.get_closest_marker("after_all_attacks")]
    items[:] = others + last


def pytest_configure(config):
    config.addinivalue_line("markers", "after_all_attacks: runs once every attack has run")
