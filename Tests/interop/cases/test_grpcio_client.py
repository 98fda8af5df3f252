"""gRPC's interop test cases with grpcio, the official implementation, as the
client and our interop-server as the server.

Each case follows doc/interop-test-descriptions.md of grpc/grpc and asserts
what the client asserts there. Project-specific adaptations:

- custom_metadata and status_code_and_message use UnaryCall only;
- timeout_on_sleeping_server and cancel_after_first_response use
  StreamingOutputCall with ResponseParameters.interval_us instead of
  FullDuplexCall;
- concurrent_large_unary is 1,000 large_unary calls in flight at once on one
  channel;
- rpc_soak is bounded by the standard soak flags (200 iterations here).

grpcio gives an application neither the compressed flag of a received message
nor the grpc-encoding header, so the compression cases also read the responses
through a channel whose decompression is off (grpc.per_message_decompression
= 0): a message that came with the compressed flag then arrives exactly as it
was on the wire, and its bytes show whether it was compressed.

INTEROP_SERVER_CMD=grpcio runs these cases against cases/grpcio_interop_server.py
instead, which is how the cases themselves are checked.

The module also runs as an interop client with the standard flags
(--server_host, --server_port, --test_case, --use_tls, ...), so that
test_our_client.py can be checked against grpcio in the same way
(INTEROP_CLIENT_CMD=grpcio).
"""

import argparse
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grpcio_interop_server import compression_of  # noqa: E402
from src.proto.grpc.testing import empty_pb2  # noqa: E402
from src.proto.grpc.testing import messages_pb2  # noqa: E402
from src.proto.grpc.testing import test_pb2_grpc  # noqa: E402

# The deadline of every call that is not about deadlines.
CALL_TIMEOUT_SECONDS = 10
CONCURRENT_CALLS = 1000
CONCURRENT_TIMEOUT_SECONDS = 60

UNARY_METHOD = "/grpc.testing.TestService/UnaryCall"
STREAMING_OUTPUT_METHOD = "/grpc.testing.TestService/StreamingOutputCall"
ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")
SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"


@dataclass
class Soak:
    """The standard soak flags."""

    iterations: int = 200
    max_failures: int = 0
    per_iteration_max_acceptable_latency_ms: int = 1000
    overall_timeout_seconds: int = 60


@dataclass
class Target:
    """Where the server is and how to reach it."""

    host: str
    port: int
    ca_pem: bytes = None  # TLS trusting these roots; h2c when None
    host_override: str = None  # the name the TLS certificate must carry

    def channel(self, raw_messages=False):
        """A channel to the server. raw_messages: received messages are not
        decompressed (the application sees them as they were on the wire)."""
        options = []
        if raw_messages:
            options.append(("grpc.per_message_decompression", 0))
        address = f"{self.host}:{self.port}"
        if self.ca_pem is None:
            return grpc.insecure_channel(address, options=options)
        if self.host_override:
            options.append(("grpc.ssl_target_name_override", self.host_override))
        credentials = grpc.ssl_channel_credentials(root_certificates=self.ca_pem)
        return grpc.secure_channel(address, credentials, options=options)


def zeros(size):
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=bytes(size))


def large_unary_request(**fields):
    return messages_pb2.SimpleRequest(response_size=314159, payload=zeros(271828), **fields)


def expect_zeros(payload, size, what="response payload"):
    assert len(payload.body) == size, f"{what}: {len(payload.body)} bytes, expected {size}"
    assert payload.body == bytes(size), f"{what}: {size} bytes but not all zero"


def expect_status(error, code, details=None):
    assert isinstance(error, grpc.RpcError), f"expected a failed call, got {error!r}"
    assert error.code() == code, f"status {error.code()} ({error.details()!r}), expected {code}"
    if details is not None:
        assert error.details() == details, f"status message {error.details()!r}, expected {details!r}"


def call_failure(call_function):
    """Runs a call that must fail; returns its RpcError."""
    try:
        result = call_function()
    except grpc.RpcError as error:
        return error
    pytest.fail(f"the call succeeded ({result!r:.200}); it should have failed", pytrace=False)


def expect_server_usable(channel):
    """After a call ended abnormally, the server still answers on the same channel."""
    response = test_pb2_grpc.TestServiceStub(channel).EmptyCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS)
    assert response == empty_pb2.Empty()


def single_value(metadata, key):
    values = [value for k, value in (metadata or ()) if k == key]
    assert len(values) == 1, f"{key}: {len(values)} values in {metadata!r}, expected one"
    return values[0]


def wire_compression(raw):
    """Whether a raw message (read with raw_messages=True) arrived compressed,
    and its decompressed bytes."""
    algorithm, data = compression_of(raw)
    return algorithm is not None, data


CASES = {}


def case(function):
    CASES[function.__name__] = function
    return function


@case
def empty_unary(target, soak):
    with target.channel() as channel:
        response = test_pb2_grpc.TestServiceStub(channel).EmptyCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS)
    assert response is not None
    assert response == empty_pb2.Empty()
    assert response.ByteSize() == 0


@case
def large_unary(target, soak):
    with target.channel() as channel:
        response = test_pb2_grpc.TestServiceStub(channel).UnaryCall(
            large_unary_request(), timeout=CALL_TIMEOUT_SECONDS
        )
    expect_zeros(response.payload, 314159)


@case
def server_streaming(target, soak):
    sizes = [31415, 9, 2653, 58979]
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=size) for size in sizes]
    )
    with target.channel() as channel:
        call = test_pb2_grpc.TestServiceStub(channel).StreamingOutputCall(request, timeout=CALL_TIMEOUT_SECONDS)
        responses = list(call)
        assert call.code() == grpc.StatusCode.OK
    assert [len(r.payload.body) for r in responses] == sizes
    for index, (response, size) in enumerate(zip(responses, sizes)):
        expect_zeros(response.payload, size, f"response {index}")


@case
def client_compressed_unary(target, soak):
    with target.channel() as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        # The feature probe: an uncompressed request that says it is compressed.
        probe = large_unary_request(expect_compressed=messages_pb2.BoolValue(value=True))
        error = call_failure(
            lambda: stub.UnaryCall(probe, compression=grpc.Compression.NoCompression, timeout=CALL_TIMEOUT_SECONDS)
        )
        expect_status(error, grpc.StatusCode.INVALID_ARGUMENT)

        compressed = stub.UnaryCall(
            large_unary_request(expect_compressed=messages_pb2.BoolValue(value=True)),
            compression=grpc.Compression.Gzip,
            timeout=CALL_TIMEOUT_SECONDS,
        )
        expect_zeros(compressed.payload, 314159, "response to the compressed request")

        uncompressed = stub.UnaryCall(
            large_unary_request(expect_compressed=messages_pb2.BoolValue(value=False)),
            compression=grpc.Compression.NoCompression,
            timeout=CALL_TIMEOUT_SECONDS,
        )
        expect_zeros(uncompressed.payload, 314159, "response to the uncompressed request")


@case
def server_compressed_unary(target, soak):
    with target.channel() as channel, target.channel(raw_messages=True) as raw_channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        raw_unary = raw_channel.unary_unary(
            UNARY_METHOD, request_serializer=messages_pb2.SimpleRequest.SerializeToString, response_deserializer=None
        )
        for want_compressed in (True, False):
            request = large_unary_request(response_compressed=messages_pb2.BoolValue(value=want_compressed))
            response = stub.UnaryCall(request, timeout=CALL_TIMEOUT_SECONDS)
            expect_zeros(response.payload, 314159, f"response_compressed={want_compressed}")

            compressed, data = wire_compression(raw_unary(request, timeout=CALL_TIMEOUT_SECONDS))
            assert compressed == want_compressed, (
                f"response_compressed={want_compressed}: the response came "
                f"{'compressed' if compressed else 'uncompressed'}"
            )
            expect_zeros(messages_pb2.SimpleResponse.FromString(data).payload, 314159)


@case
def server_compressed_streaming(target, soak):
    parameters = [(True, 31415), (False, 92653)]
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[
            messages_pb2.ResponseParameters(size=size, compressed=messages_pb2.BoolValue(value=compressed))
            for compressed, size in parameters
        ]
    )
    with target.channel() as channel, target.channel(raw_messages=True) as raw_channel:
        call = test_pb2_grpc.TestServiceStub(channel).StreamingOutputCall(request, timeout=CALL_TIMEOUT_SECONDS)
        responses = list(call)
        assert call.code() == grpc.StatusCode.OK
        assert [len(r.payload.body) for r in responses] == [size for _, size in parameters]
        for index, (response, (_, size)) in enumerate(zip(responses, parameters)):
            expect_zeros(response.payload, size, f"response {index}")

        raw_call = raw_channel.unary_stream(
            STREAMING_OUTPUT_METHOD,
            request_serializer=messages_pb2.StreamingOutputCallRequest.SerializeToString,
            response_deserializer=None,
        )(request, timeout=CALL_TIMEOUT_SECONDS)
        raw_responses = list(raw_call)
        assert raw_call.code() == grpc.StatusCode.OK
    assert len(raw_responses) == len(parameters)
    for index, (raw, (want_compressed, size)) in enumerate(zip(raw_responses, parameters)):
        compressed, data = wire_compression(raw)
        assert compressed == want_compressed, (
            f"response {index} (compressed={want_compressed}) came {'compressed' if compressed else 'uncompressed'}"
        )
        expect_zeros(messages_pb2.StreamingOutputCallResponse.FromString(data).payload, size, f"response {index}")


@case
def custom_metadata(target, soak):
    with target.channel() as channel:
        response, call = test_pb2_grpc.TestServiceStub(channel).UnaryCall.with_call(
            large_unary_request(), metadata=(ECHO_INITIAL, ECHO_TRAILING), timeout=CALL_TIMEOUT_SECONDS
        )
    expect_zeros(response.payload, 314159)
    assert single_value(call.initial_metadata(), ECHO_INITIAL[0]) == ECHO_INITIAL[1]
    assert single_value(call.trailing_metadata(), ECHO_TRAILING[0]) == ECHO_TRAILING[1]


def _echo_status_case(target, message):
    request = messages_pb2.SimpleRequest(response_status=messages_pb2.EchoStatus(code=2, message=message))
    with target.channel() as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        error = call_failure(lambda: stub.UnaryCall(request, timeout=CALL_TIMEOUT_SECONDS))
    expect_status(error, grpc.StatusCode.UNKNOWN, message)


@case
def status_code_and_message(target, soak):
    _echo_status_case(target, "test status message")


@case
def special_status_message(target, soak):
    _echo_status_case(target, SPECIAL_STATUS_MESSAGE)


@case
def unimplemented_method(target, soak):
    with target.channel() as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        error = call_failure(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS))
    expect_status(error, grpc.StatusCode.UNIMPLEMENTED)


@case
def unimplemented_service(target, soak):
    with target.channel() as channel:
        stub = test_pb2_grpc.UnimplementedServiceStub(channel)
        error = call_failure(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS))
    expect_status(error, grpc.StatusCode.UNIMPLEMENTED)


@case
def cancel_after_first_response(target, soak):
    # Four responses 100 ms apart; the call is cancelled after the first, long
    # before the server would send the second.
    sizes = [31415, 9, 2653, 58979]
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=size, interval_us=100_000) for size in sizes],
        payload=zeros(27182),
    )
    with target.channel() as channel:
        call = test_pb2_grpc.TestServiceStub(channel).StreamingOutputCall(request, timeout=CALL_TIMEOUT_SECONDS)
        first = next(call)
        expect_zeros(first.payload, sizes[0], "first response")
        call.cancel()
        error = call_failure(lambda: next(call))
        expect_status(error, grpc.StatusCode.CANCELLED)
        assert call.code() == grpc.StatusCode.CANCELLED
        expect_server_usable(channel)


@case
def timeout_on_sleeping_server(target, soak):
    # The server waits 5 s before its only response; the deadline is 500 ms.
    interval_us = 5_000_000
    deadline_seconds = 0.5
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=31415, interval_us=interval_us)],
        payload=zeros(27182),
    )
    with target.channel() as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        started = time.monotonic()
        received = []
        error = call_failure(lambda: received.extend(stub.StreamingOutputCall(request, timeout=deadline_seconds)))
        elapsed = time.monotonic() - started
        expect_status(error, grpc.StatusCode.DEADLINE_EXCEEDED)
        assert received == [], f"{len(received)} responses before the deadline, expected none"
        assert elapsed < interval_us / 1_000_000, f"the call took {elapsed:.2f} s, past the server's interval"
        expect_server_usable(channel)


@case
def concurrent_large_unary(target, soak):
    request = large_unary_request()
    lock = threading.Lock()
    all_done = threading.Event()
    problems = []
    remaining = [CONCURRENT_CALLS]

    def done(future):
        try:
            response = future.result()
            problem = None
            if response.payload.body != bytes(314159):
                problem = f"response payload of {len(response.payload.body)} bytes, expected 314159 zeros"
        except grpc.RpcError as error:
            problem = f"{error.code()}: {error.details()}"
        with lock:
            if problem is not None:
                problems.append(problem)
            remaining[0] -= 1
            if remaining[0] == 0:
                all_done.set()

    with target.channel() as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        calls = [stub.UnaryCall.future(request, timeout=CONCURRENT_TIMEOUT_SECONDS) for _ in range(CONCURRENT_CALLS)]
        for call in calls:
            call.add_done_callback(done)
        finished = all_done.wait(CONCURRENT_TIMEOUT_SECONDS + 10)
        if not finished:
            for call in calls:
                call.cancel()
        calls.clear()
    assert finished, f"{remaining[0]} of {CONCURRENT_CALLS} calls still unfinished past their deadline"
    assert not problems, f"{len(problems)} of {CONCURRENT_CALLS} calls failed; first: {problems[:5]}"


@case
def rpc_soak(target, soak):
    request = large_unary_request()
    failures = []
    started = time.monotonic()
    with target.channel() as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        for iteration in range(soak.iterations):
            if time.monotonic() - started > soak.overall_timeout_seconds:
                pytest.fail(
                    f"rpc_soak: {iteration} of {soak.iterations} iterations done when the overall "
                    f"timeout of {soak.overall_timeout_seconds} s passed; failures: {failures[:5]}",
                    pytrace=False,
                )
            call_started = time.monotonic()
            try:
                response = stub.UnaryCall(request, timeout=CALL_TIMEOUT_SECONDS)
            except grpc.RpcError as error:
                failures.append(f"iteration {iteration}: {error.code()}: {error.details()}")
                continue
            latency_ms = (time.monotonic() - call_started) * 1000
            if response.payload.body != bytes(314159):
                failures.append(f"iteration {iteration}: payload of {len(response.payload.body)} bytes")
            elif latency_ms > soak.per_iteration_max_acceptable_latency_ms:
                failures.append(
                    f"iteration {iteration}: {latency_ms:.0f} ms, over "
                    f"{soak.per_iteration_max_acceptable_latency_ms} ms"
                )
    assert len(failures) <= soak.max_failures, (
        f"rpc_soak: {len(failures)} of {soak.iterations} iterations failed "
        f"(at most {soak.max_failures} allowed): {failures[:10]}"
    )


class RequestStream:
    """The request side of a bidirectional call, fed one message at a time.
    grpcio reads the iterator on its own thread; each wait is bounded."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def send(self, message):
        self._queue.put(message)

    def close(self):
        self._queue.put(self._END)

    def __iter__(self):
        while True:
            item = self._queue.get(timeout=CALL_TIMEOUT_SECONDS)
            if item is self._END:
                return
            yield item


@case
def ping_pong(target, soak):
    exchanges = [(27182, 31415), (8, 9), (1828, 2653), (45904, 58979)]
    requests = RequestStream()
    with target.channel() as channel:
        call = test_pb2_grpc.TestServiceStub(channel).FullDuplexCall(iter(requests), timeout=CALL_TIMEOUT_SECONDS)
        try:
            for index, (request_size, response_size) in enumerate(exchanges):
                requests.send(
                    messages_pb2.StreamingOutputCallRequest(
                        response_parameters=[messages_pb2.ResponseParameters(size=response_size)],
                        payload=zeros(request_size),
                    )
                )
                response = next(call)
                expect_zeros(response.payload, response_size, f"response {index}")
            requests.close()
            rest = list(call)
            assert rest == [], f"{len(rest)} responses more than the four asked for"
            assert call.code() == grpc.StatusCode.OK
        finally:
            requests.close()
            call.cancel()


@case
def empty_stream(target, soak):
    with target.channel() as channel:
        call = test_pb2_grpc.TestServiceStub(channel).FullDuplexCall(iter(()), timeout=CALL_TIMEOUT_SECONDS)
        responses = list(call)
        assert call.code() == grpc.StatusCode.OK
    assert responses == [], f"{len(responses)} responses, expected none"


ALL_CASES = list(CASES)
TLS_CASES = [
    "empty_unary",
    "large_unary",
    "client_compressed_unary",
    "server_compressed_streaming",
    "cancel_after_first_response",
    "ping_pong",
]


@pytest.fixture(scope="module")
def plaintext_server(spawn_server, interop_server_argv, interop_server_flags):
    with spawn_server("interop server (h2c)", interop_server_argv + interop_server_flags()) as server:
        yield server


@pytest.fixture(scope="module")
def tls_server(spawn_server, interop_server_argv, interop_server_flags, certs_dir):
    with spawn_server("interop server (TLS)", interop_server_argv + interop_server_flags(tls_certs=certs_dir)) as server:
        yield server


@pytest.fixture
def plaintext_target(plaintext_server):
    yield Target("127.0.0.1", plaintext_server.ready_port())
    plaintext_server.check_alive()


@pytest.fixture
def tls_target(tls_server, certs_dir):
    yield Target("localhost", tls_server.ready_port(), ca_pem=(certs_dir / "ca.pem").read_bytes())
    tls_server.check_alive()


@pytest.mark.parametrize("name", ALL_CASES)
def test_plaintext(name, plaintext_target):
    CASES[name](plaintext_target, Soak())


@pytest.mark.parametrize("name", TLS_CASES)
def test_tls(name, tls_target):
    CASES[name](tls_target, Soak())


def _bool_flag(text):
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def main():
    """The cases as an interop client: exit 0 on pass, 1 with the reason on stderr."""
    parser = argparse.ArgumentParser(description="gRPC interop client (grpcio)")
    parser.add_argument("--server_host", default="127.0.0.1")
    parser.add_argument("--server_port", type=int, required=True)
    parser.add_argument("--server_host_override")
    parser.add_argument("--test_case", required=True, choices=sorted(CASES))
    parser.add_argument("--use_tls", type=_bool_flag, default=False)
    parser.add_argument("--use_test_ca", type=_bool_flag, default=False)
    parser.add_argument("--ca_file")
    parser.add_argument("--soak_iterations", type=int, default=Soak.iterations)
    parser.add_argument("--soak_max_failures", type=int, default=Soak.max_failures)
    parser.add_argument(
        "--soak_per_iteration_max_acceptable_latency_ms", type=int, default=Soak.per_iteration_max_acceptable_latency_ms
    )
    parser.add_argument("--soak_overall_timeout_seconds", type=int, default=Soak.overall_timeout_seconds)
    args = parser.parse_args()
    ca_pem = None
    if args.use_tls:
        if not (args.use_test_ca and args.ca_file):
            parser.error("this client trusts only a test CA: --use_tls=true needs --use_test_ca=true --ca_file=PATH")
        with open(args.ca_file, "rb") as f:
            ca_pem = f.read()
    target = Target(args.server_host, args.server_port, ca_pem=ca_pem, host_override=args.server_host_override)
    soak = Soak(
        args.soak_iterations,
        args.soak_max_failures,
        args.soak_per_iteration_max_acceptable_latency_ms,
        args.soak_overall_timeout_seconds,
    )
    try:
        CASES[args.test_case](target, soak)
    except (AssertionError, pytest.fail.Exception) as error:
        print(f"{args.test_case} failed: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    except grpc.RpcError as error:
        print(f"{args.test_case} failed: {error.code()}: {error.details()}", file=sys.stderr, flush=True)
        sys.exit(1)
    print(f"{args.test_case} passed", flush=True)


if __name__ == "__main__":
    main()
