"""gRPC's interop test cases with our interop-client as the client and grpcio,
the official implementation, as the server (cases/grpcio_interop_server.py).

Each test runs

    interop-client --server_host=127.0.0.1 --server_port=P --test_case=NAME --use_tls=false

(or, for the TLS variants, --use_tls=true --use_test_ca=true --ca_file=ca.pem
--server_host_override=localhost) and requires exit status 0; on failure it
shows the client's output and the tail of the server's.

A client that passes whatever the server does checks nothing, so the
test_notices_fault cases run a case against a server that breaks exactly what
that case is about (grpcio_interop_server.py --fault=...) and require the
client to fail it, cleanly (a non-zero exit status, not a crash or a hang).

The client is the interop-client in the build directory (see conftest.py); a
missing one fails every test. INTEROP_CLIENT_CMD overrides it (shell words;
"grpcio" runs the grpcio cases of test_grpcio_client.py as the client, which
is how this module is checked against grpcio alone).
"""

import os
import shlex
import subprocess
from pathlib import Path

import pytest

# Bounds one client run; every case finishes in seconds when things work.
CLIENT_TIMEOUT_SECONDS = 75

CASES = [
    "empty_unary",
    "large_unary",
    "server_streaming",
    "client_compressed_unary",
    "server_compressed_unary",
    "server_compressed_streaming",
    "custom_metadata",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
    "cancel_after_first_response",
    "timeout_on_sleeping_server",
    "concurrent_large_unary",
    "rpc_soak",
    "ping_pong",
    "empty_stream",
]
TLS_CASES = [
    "empty_unary",
    "large_unary",
    "server_compressed_unary",
    "custom_metadata",
    "ping_pong",
]
# The standard soak flags, bounded: 200 sequential large_unary calls.
CASE_FLAGS = {
    "rpc_soak": [
        "--soak_iterations=200",
        "--soak_max_failures=0",
        "--soak_per_iteration_max_acceptable_latency_ms=1000",
        "--soak_overall_timeout_seconds=60",
    ],
}

# (fault of the server, case the client must then fail)
FAULT_CASES = [
    ("uncompressed_responses", "server_compressed_unary"),
    ("uncompressed_responses", "server_compressed_streaming"),
    ("compressed_responses", "server_compressed_unary"),
    ("compressed_responses", "server_compressed_streaming"),
    ("accept_any_compression", "client_compressed_unary"),
    ("no_metadata_echo", "custom_metadata"),
    ("status_message_stripped", "special_status_message"),
    ("short_payloads", "large_unary"),
    ("short_payloads", "server_streaming"),
    ("short_payloads", "rpc_soak"),
    ("short_payloads", "ping_pong"),
]


@pytest.fixture(scope="module")
def interop_client_argv(request, python_executable):
    override = os.environ.get("INTEROP_CLIENT_CMD", "").strip()
    if override == "grpcio":
        return [python_executable, str(Path(__file__).resolve().parent / "test_grpcio_client.py")]
    if override:
        return shlex.split(override)
    return [str(request.getfixturevalue("interop_client_path"))]


@pytest.fixture(scope="module")
def grpcio_plaintext_server(spawn_server, grpcio_server_argv, interop_server_flags):
    with spawn_server("grpcio interop server (h2c)", grpcio_server_argv + interop_server_flags()) as server:
        yield server


@pytest.fixture(scope="module")
def grpcio_tls_server(spawn_server, grpcio_server_argv, interop_server_flags, certs_dir):
    with spawn_server(
        "grpcio interop server (TLS)", grpcio_server_argv + interop_server_flags(tls_certs=certs_dir)
    ) as server:
        yield server


@pytest.fixture(scope="module")
def faulty_grpcio_server(request, spawn_server, grpcio_server_argv, interop_server_flags):
    fault = request.param
    argv = grpcio_server_argv + interop_server_flags() + [f"--fault={fault}"]
    with spawn_server(f"grpcio interop server (h2c, --fault={fault})", argv) as server:
        yield server


def run_client(argv, server, name, transport_flags, expect_pass=True):
    port = server.ready_port()
    command = (
        list(argv)
        + ["--server_host=127.0.0.1", f"--server_port={port}", f"--test_case={name}"]
        + transport_flags
        + CASE_FLAGS.get(name, [])
    )
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(
            f"{name}: the client did not finish within {CLIENT_TIMEOUT_SECONDS} s\n"
            f"command: {shlex.join(command)}\n"
            f"--- client stdout ---\n{_text(error.stdout)}\n--- client stderr ---\n{_text(error.stderr)}\n"
            f"{server.transcript()}",
            pytrace=False,
        )
    if expect_pass:
        problem = None if result.returncode == 0 else f"the client exited with status {result.returncode}"
    elif result.returncode == 0:
        problem = "the client passed against a server that breaks this case"
    elif result.returncode < 0:
        problem = f"the client was killed by signal {-result.returncode} instead of failing the case"
    else:
        problem = None
    if problem is not None:
        pytest.fail(
            f"{name}: {problem}\n"
            f"command: {shlex.join(command)}\n"
            f"--- client stderr ---\n{result.stderr or '(nothing)'}\n"
            f"--- client stdout ---\n{result.stdout or '(nothing)'}\n"
            f"{server.transcript()}",
            pytrace=False,
        )
    server.check_alive()


def _text(output):
    if output is None:
        return "(nothing)"
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output


@pytest.mark.parametrize("name", CASES)
def test_plaintext(name, interop_client_argv, grpcio_plaintext_server):
    run_client(interop_client_argv, grpcio_plaintext_server, name, ["--use_tls=false"])


@pytest.mark.parametrize("name", TLS_CASES)
def test_tls(name, interop_client_argv, grpcio_tls_server, certs_dir):
    run_client(
        interop_client_argv,
        grpcio_tls_server,
        name,
        [
            "--use_tls=true",
            "--use_test_ca=true",
            f"--ca_file={certs_dir / 'ca.pem'}",
            "--server_host_override=localhost",
        ],
    )


@pytest.mark.parametrize(("faulty_grpcio_server", "name"), FAULT_CASES, indirect=["faulty_grpcio_server"])
def test_notices_fault(faulty_grpcio_server, name, interop_client_argv):
    run_client(interop_client_argv, faulty_grpcio_server, name, ["--use_tls=false"], expect_pass=False)
