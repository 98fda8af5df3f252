"""Shared fixtures for the interop tests under Tests/interop.

- The generated grpc.testing Python code (Tests/interop/generated) is importable
  as `src.proto.grpc.testing`.
- `bin_dir`: where our executables are: $INTEROP_BIN_DIR, or what
  `swift build --show-bin-path` prints at the repository root.
- `certs_dir`: the test certificates (scripts/test-certs dir): ca.pem,
  server.pem (chain) and server.key, valid for localhost and 127.0.0.1.
- `spawn_server`: runs a server that prints "READY <port>" for the tests of a
  module: waits for that line (bounded), fails the test during which the
  server died (and starts a fresh one for the next), and at the end stops it
  with SIGTERM, failing when it crashed, hung or exited non-zero.
- `interop_server_argv`: the command of the server the grpcio client tests
  talk to: our interop-server, or $INTEROP_SERVER_CMD (shell words; "grpcio"
  means cases/grpcio_interop_server.py, to check the tests against grpcio).

Tests under cases/ get a default time limit (pytest-timeout) on top of the
deadlines every call and every wait carries.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

INTEROP_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEROP_DIR.parents[1]
GENERATED_DIR = INTEROP_DIR / "generated"
CASES_DIR = INTEROP_DIR / "cases"
GRPCIO_SERVER_SCRIPT = CASES_DIR / "grpcio_interop_server.py"

if str(GENERATED_DIR) not in sys.path:
    sys.path.insert(0, str(GENERATED_DIR))

# The generated modules are named test_pb2*.py; they hold no tests.
collect_ignore = ["generated"]

# How long a server may take to print READY, and to exit after SIGTERM.
READY_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15
# The default limit for one test under cases/.
CASE_TIMEOUT_SECONDS = 90

_READY = re.compile(r"READY (\d+)\s*$")


def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if CASES_DIR in Path(item.path).parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(CASE_TIMEOUT_SECONDS))


def _tail(text, lines=60):
    kept = text.splitlines()[-lines:]
    return "\n".join(kept) if kept else "(nothing)"


class ServerProcess:
    """A server subprocess that announces "READY <port>" on stdout.

    stdout is read line by line on a thread for the whole life of the process
    (a full pipe would stall the server); stderr goes to a temporary file.
    """

    def __init__(self, name, argv, env=None):
        self.name = name
        self.argv = [str(arg) for arg in argv]
        self.port = None
        self._stdout_lines = []
        self._lock = threading.Lock()
        self._announced = threading.Event()
        self._stderr = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
            )
        except OSError as error:
            self._stderr.close()
            pytest.fail(f"{name}: cannot start {shlex.join(self.argv)}: {error}", pytrace=False)
        self._reader = threading.Thread(target=self._read_stdout, name=f"{name} stdout", daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for raw in self._process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._lock:
                self._stdout_lines.append(line)
            match = _READY.match(line)
            if match and self.port is None:
                self.port = int(match.group(1))
                self._announced.set()
        # End of output: the process is gone (or closed stdout); stop any waiter.
        self._announced.set()

    def stdout(self):
        with self._lock:
            return "\n".join(self._stdout_lines)

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def transcript(self):
        return (
            f"command: {shlex.join(self.argv)}\n"
            f"--- {self.name} stdout (tail) ---\n{_tail(self.stdout())}\n"
            f"--- {self.name} stderr (tail) ---\n{_tail(self.stderr())}"
        )

    def wait_ready(self, timeout=READY_TIMEOUT_SECONDS):
        if not self._announced.wait(timeout):
            self._kill()
            pytest.fail(f"{self.name} printed no READY line within {timeout} s\n{self.transcript()}", pytrace=False)
        if self.port is None:
            code = self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            pytest.fail(f"{self.name} exited with status {code} before READY\n{self.transcript()}", pytrace=False)
        return self.port

    def running(self):
        return self._process.poll() is None

    def check_alive(self):
        """Fails the current test when the server is no longer running."""
        code = self._process.poll()
        if code is not None:
            pytest.fail(f"{self.name} died (exit status {code})\n{self.transcript()}", pytrace=False)

    def _kill(self):
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def stop(self):
        """SIGTERM, then a bounded wait; returns a complaint, or None when the
        server was running and exited 0."""
        code = self._process.poll()
        if code is not None:
            problem = f"{self.name} had already exited (status {code}) before it was stopped"
        else:
            self._process.send_signal(signal.SIGTERM)
            try:
                code = self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._kill()
                problem = f"{self.name} did not exit within {STOP_TIMEOUT_SECONDS} s of SIGTERM"
            else:
                problem = None if code == 0 else f"{self.name} exited with status {code} after SIGTERM"
        self._reader.join(timeout=STOP_TIMEOUT_SECONDS)
        transcript = self.transcript()
        self._stderr.close()
        return None if problem is None else f"{problem}\n{transcript}"


class ManagedServer:
    """A server shared by the tests of a module.

    Each test takes the port from `ready_port()` and checks `check_alive()`
    when it ends, so the test during which the server died fails with the
    server's transcript. The next test then gets a fresh server, so one crash
    does not turn every later test into a connection error.
    """

    def __init__(self, name, argv, env=None):
        self.name = name
        self._argv = argv
        self._env = env
        self._process = None

    def ready_port(self):
        if self._process is not None and not self._process.running():
            self._process.stop()  # its crash was reported by the test it happened in
            self._process = None
        if self._process is None:
            process = ServerProcess(self.name, self._argv, env=self._env)
            try:
                process.wait_ready()
            except BaseException:
                process.stop()
                raise
            self._process = process
        return self._process.port

    def check_alive(self):
        if self._process is not None:
            self._process.check_alive()

    def transcript(self):
        return self._process.transcript() if self._process is not None else "(no server running)"

    def close(self):
        """Stops the server; a complaint (crash, hang, non-zero exit) or None."""
        process, self._process = self._process, None
        return process.stop() if process is not None else None


@pytest.fixture(scope="session")
def spawn_server():
    """A context manager factory: `with spawn_server(name, argv) as server:`
    gives a ManagedServer (started by its first ready_port()), and on exit
    stops it with SIGTERM, failing if it crashed, hung or did not exit 0."""

    @contextmanager
    def spawn(name, argv, env=None):
        server = ManagedServer(name, argv, env=env)
        try:
            yield server
        finally:
            problem = server.close()
        if problem is not None:
            pytest.fail(problem, pytrace=False)

    return spawn


@pytest.fixture(scope="session")
def python_executable():
    """The interpreter running the tests (the project venv's)."""
    return sys.executable


@pytest.fixture(scope="session")
def bin_dir():
    """The directory holding our built executables."""
    configured = os.environ.get("INTEROP_BIN_DIR")
    if configured:
        return Path(configured)
    try:
        result = subprocess.run(
            ["swift", "build", "--show-bin-path"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"cannot run `swift build --show-bin-path` (set INTEROP_BIN_DIR instead): {error}", pytrace=False)
    if result.returncode != 0 or not result.stdout.strip():
        pytest.fail(
            f"`swift build --show-bin-path` failed with status {result.returncode}:\n{result.stderr}",
            pytrace=False,
        )
    return Path(result.stdout.strip().splitlines()[-1])


def _executable(bin_dir, name):
    path = bin_dir / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"{name} is not built: no executable {path}. Build it with `swift build --product {name}` "
            f"(or point INTEROP_BIN_DIR at the directory holding it).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def interop_server_path(bin_dir):
    return _executable(bin_dir, "interop-server")


@pytest.fixture(scope="session")
def interop_client_path(bin_dir):
    return _executable(bin_dir, "interop-client")


@pytest.fixture(scope="session")
def grpcio_server_argv(python_executable):
    """The command of the grpcio interop server (without flags)."""
    return [python_executable, str(GRPCIO_SERVER_SCRIPT)]


@pytest.fixture(scope="session")
def interop_server_argv(request, grpcio_server_argv):
    """The command (without flags) of the server the grpcio client tests run
    against: $INTEROP_SERVER_CMD when set ("grpcio" for our grpcio server),
    otherwise our interop-server."""
    override = os.environ.get("INTEROP_SERVER_CMD", "").strip()
    if override == "grpcio":
        return list(grpcio_server_argv)
    if override:
        return shlex.split(override)
    return [str(request.getfixturevalue("interop_server_path"))]


@pytest.fixture(scope="session")
def certs_dir():
    """The test certificates, made by scripts/test-certs when missing."""
    try:
        result = subprocess.run(
            [str(REPO_ROOT / "scripts" / "test-certs"), "dir"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"scripts/test-certs dir failed: {error}", pytrace=False)
    if result.returncode != 0:
        pytest.fail(f"scripts/test-certs dir failed with status {result.returncode}:\n{result.stderr}", pytrace=False)
    directory = Path(result.stdout.strip().splitlines()[-1])
    for name in ("ca.pem", "server.pem", "server.key"):
        if not (directory / name).is_file():
            pytest.fail(f"scripts/test-certs made no {directory / name}", pytrace=False)
    return directory


def server_flags(port=0, tls_certs=None):
    """The interop server flags: h2c, or TLS with the test server certificate
    when tls_certs (the certs directory) is given."""
    flags = [f"--port={port}"]
    if tls_certs is None:
        flags.append("--use_tls=false")
    else:
        flags += [
            "--use_tls=true",
            f"--tls_cert_file={Path(tls_certs) / 'server.pem'}",
            f"--tls_key_file={Path(tls_certs) / 'server.key'}",
        ]
    return flags


@pytest.fixture(scope="session")
def interop_server_flags():
    """server_flags, for test modules (they cannot import this conftest)."""
    return server_flags
