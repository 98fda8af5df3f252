"""grpc.testing.TestService on grpcio, the peer for our interop-client.

    grpcio_interop_server.py --port=N [--use_tls=false|true
                             --tls_cert_file=PATH --tls_key_file=PATH]

Implements the server features of gRPC's doc/interop-test-descriptions.md:
EmptyCall, UnaryCall, CacheableUnaryCall, StreamingOutputCall,
StreamingInputCall, FullDuplexCall and HalfDuplexCall, with Echo Status,
Echo Metadata, CompressedResponse, CompressedRequest and
ResponseParameters.interval_us. UnimplementedCall is left unimplemented, and
grpc.testing.UnimplementedService is not served at all.

Listens on 127.0.0.1:N (0 lets the system choose), h2c or TLS with the PEM
chain and key given. Prints "READY <port>" once listening and serves until
SIGTERM or SIGINT, then exits 0.

--fault=NAME breaks one feature on purpose, so a test can check that a client
notices (see FAULTS).

Compressed requests. grpcio never tells a handler whether a request message
carried the compressed flag: `grpc-encoding` is consumed by the core's
compression filter and is not part of invocation_metadata(), and the message
arrives already decompressed. So this server turns the core's decompression
off (channel argument grpc.per_message_decompression = 0): a message sent
with the compressed flag then reaches the handler exactly as it was on the
wire, still compressed, and the handler decompresses it itself (see
decode_message). A request counts as compressed when its bytes are a
complete gzip or zlib ("deflate") stream whose checksum verifies; no
protobuf encoding of these requests can look like that. What this cannot
catch: a client that sets the flag on bytes it did not compress, or
compresses without setting the flag.
"""

import argparse
import signal
import sys
import threading
import time
import zlib
from concurrent import futures
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated"))

from src.proto.grpc.testing import empty_pb2  # noqa: E402
from src.proto.grpc.testing import messages_pb2  # noqa: E402

SERVICE = "grpc.testing.TestService"
ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"

# Channel argument: hand messages to the application as they came off the wire.
SERVER_OPTIONS = [("grpc.per_message_decompression", 0)]

# Deliberate deviations from the spec, chosen with --fault.
FAULTS = {
    "uncompressed_responses": "never compress a response, whatever it asks for",
    "compressed_responses": "compress every response, whatever it asks for",
    "accept_any_compression": "ignore expect_compressed",
    "no_metadata_echo": "echo no metadata",
    "status_message_stripped": "echo status messages without leading and trailing whitespace",
    "short_payloads": "make every response payload one byte short",
}
fault = None

_GZIP_MAGIC = b"\x1f\x8b\x08"
_STATUS_BY_CODE = {status.value[0]: status for status in grpc.StatusCode}


class CompressionError(ValueError):
    """A message that claims a compression format but does not decode as one."""


def compression_of(raw):
    """The compression of a message as it came off the wire: "gzip", "deflate"
    or None, with the decompressed bytes.

    A gzip stream starts 1f 8b 08; 0x1f is no valid protobuf tag (wire type 7),
    so that prefix is never an uncompressed message, and one that then fails to
    decompress is an error. A zlib stream starts with a header whose 16-bit
    value is a multiple of 31 and whose method is 8; that prefix can be a
    protobuf tag, so it counts as deflate only when the whole message
    decompresses with a matching Adler-32, and as an uncompressed message
    otherwise.
    """
    if raw.startswith(_GZIP_MAGIC):
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            data = decompressor.decompress(raw) + decompressor.flush()
        except zlib.error as error:
            raise CompressionError(f"message starts like gzip but does not decompress: {error}") from None
        if not decompressor.eof or decompressor.unused_data:
            raise CompressionError("message starts like gzip but is not one complete gzip stream")
        return "gzip", data
    if len(raw) >= 2 and raw[0] & 0x0F == 8 and (raw[0] << 8 | raw[1]) % 31 == 0:
        decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS)
        try:
            data = decompressor.decompress(raw) + decompressor.flush()
        except zlib.error:
            return None, raw
        if decompressor.eof and not decompressor.unused_data:
            return "deflate", data
    return None, raw


class Received:
    """A request message and whether it arrived compressed."""

    __slots__ = ("message", "compressed")

    def __init__(self, message, compressed):
        self.message = message
        self.compressed = compressed


def decode_message(message_class, raw):
    algorithm, data = compression_of(raw)
    return Received(message_class.FromString(data), algorithm is not None)


def _decoder(message_class):
    return lambda raw: decode_message(message_class, raw)


def _zeros(size):
    if fault == "short_payloads" and size > 0:
        size -= 1
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=bytes(size))


def _compress_call(context, wanted):
    """Chooses gzip for the call's responses when wanted (each message may
    still opt out, see _stream_responses)."""
    if fault == "uncompressed_responses":
        return
    if wanted or fault == "compressed_responses":
        context.set_compression(grpc.Compression.Gzip)


def _echo_metadata(context):
    """Echo Metadata: the initial value back in the headers, the trailing one in
    the trailers. Must run before the first response (it sends the headers)."""
    if fault == "no_metadata_echo":
        return
    initial = []
    trailing = []
    for key, value in context.invocation_metadata():
        if key == ECHO_INITIAL_KEY:
            initial.append((key, value))
        elif key == ECHO_TRAILING_KEY:
            trailing.append((key, value))
    if trailing:
        context.set_trailing_metadata(tuple(trailing))
    if initial:
        context.send_initial_metadata(tuple(initial))


def _echo_status(message, context):
    """Echo Status: end the call with the requested code and message."""
    if message.HasField("response_status") and message.response_status.code != 0:
        status = _STATUS_BY_CODE.get(message.response_status.code, grpc.StatusCode.UNKNOWN)
        details = message.response_status.message
        if fault == "status_message_stripped":
            details = details.strip()
        context.abort(status, details)


def _check_compression(received, context):
    """CompressedRequest: expect_compressed must match what arrived."""
    message = received.message
    if fault == "accept_any_compression" or not message.HasField("expect_compressed"):
        return
    if message.expect_compressed.value and not received.compressed:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected a compressed request, got an uncompressed one")
    if not message.expect_compressed.value and received.compressed:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected an uncompressed request, got a compressed one")


class CallEnd:
    """Waits that stop early when the call ends (cancelled, deadline, done), so a
    handler sleeping through interval_us gives its thread back at once."""

    def __init__(self, context):
        self._ended = threading.Event()
        if not context.add_callback(self._ended.set):
            self._ended.set()

    def wait(self, interval_us):
        """False when the call ended before the interval was over."""
        if interval_us <= 0:
            return not self._ended.is_set()
        return not self._ended.wait(interval_us / 1_000_000)


def _stream_responses(parameters, context, call_end):
    """StreamingOutputCallResponses for the ResponseParameters, observing
    interval_us and the per-message compressed flag (the call must already
    have chosen gzip for any to be compressed)."""
    for parameter in parameters:
        if not call_end.wait(parameter.interval_us):
            return
        if not parameter.compressed.value and fault != "compressed_responses":
            context.disable_next_message_compression()
        yield messages_pb2.StreamingOutputCallResponse(payload=_zeros(parameter.size))


def empty_call(received, context):
    _echo_metadata(context)
    return empty_pb2.Empty()


def unary_call(received, context):
    request = received.message
    _check_compression(received, context)
    _compress_call(context, request.response_compressed.value)
    _echo_metadata(context)
    _echo_status(request, context)
    return messages_pb2.SimpleResponse(payload=_zeros(request.response_size))


def cacheable_unary_call(received, context):
    context.send_initial_metadata((("cache-control", "max-age=60, public"),))
    body = str(time.time_ns()).encode()
    return messages_pb2.SimpleResponse(payload=messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=body))


def streaming_output_call(received, context):
    request = received.message
    call_end = CallEnd(context)
    _compress_call(context, any(parameter.compressed.value for parameter in request.response_parameters))
    _echo_metadata(context)
    _echo_status(request, context)
    yield from _stream_responses(request.response_parameters, context, call_end)


def streaming_input_call(received_iterator, context):
    _echo_metadata(context)
    total = 0
    for received in received_iterator:
        _check_compression(received, context)
        total += len(received.message.payload.body)
    return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)


def full_duplex_call(received_iterator, context):
    # Which responses will be compressed is known only as requests arrive, and
    # the choice of algorithm goes out with the headers: choose gzip for the
    # call and send each message uncompressed unless it asks otherwise.
    call_end = CallEnd(context)
    _compress_call(context, True)
    _echo_metadata(context)
    for received in received_iterator:
        _echo_status(received.message, context)
        yield from _stream_responses(received.message.response_parameters, context, call_end)


def half_duplex_call(received_iterator, context):
    call_end = CallEnd(context)
    _compress_call(context, True)
    _echo_metadata(context)
    requests = [received.message for received in received_iterator]
    for request in requests:
        _echo_status(request, context)
        yield from _stream_responses(request.response_parameters, context, call_end)


def test_service_handler():
    simple = _decoder(messages_pb2.SimpleRequest)
    streaming = _decoder(messages_pb2.StreamingOutputCallRequest)
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "EmptyCall": grpc.unary_unary_rpc_method_handler(
                empty_call,
                request_deserializer=_decoder(empty_pb2.Empty),
                response_serializer=empty_pb2.Empty.SerializeToString,
            ),
            "UnaryCall": grpc.unary_unary_rpc_method_handler(
                unary_call,
                request_deserializer=simple,
                response_serializer=messages_pb2.SimpleResponse.SerializeToString,
            ),
            "CacheableUnaryCall": grpc.unary_unary_rpc_method_handler(
                cacheable_unary_call,
                request_deserializer=simple,
                response_serializer=messages_pb2.SimpleResponse.SerializeToString,
            ),
            "StreamingOutputCall": grpc.unary_stream_rpc_method_handler(
                streaming_output_call,
                request_deserializer=streaming,
                response_serializer=messages_pb2.StreamingOutputCallResponse.SerializeToString,
            ),
            "StreamingInputCall": grpc.stream_unary_rpc_method_handler(
                streaming_input_call,
                request_deserializer=_decoder(messages_pb2.StreamingInputCallRequest),
                response_serializer=messages_pb2.StreamingInputCallResponse.SerializeToString,
            ),
            "FullDuplexCall": grpc.stream_stream_rpc_method_handler(
                full_duplex_call,
                request_deserializer=streaming,
                response_serializer=messages_pb2.StreamingOutputCallResponse.SerializeToString,
            ),
            "HalfDuplexCall": grpc.stream_stream_rpc_method_handler(
                half_duplex_call,
                request_deserializer=streaming,
                response_serializer=messages_pb2.StreamingOutputCallResponse.SerializeToString,
            ),
        },
    )


def parse_bool(text):
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="the port to listen on; 0 lets the system choose")
    parser.add_argument("--use_tls", type=parse_bool, default=False, help="serve TLS instead of h2c")
    parser.add_argument("--tls_cert_file", help="PEM certificate chain (with --use_tls=true)")
    parser.add_argument("--tls_key_file", help="PEM private key (with --use_tls=true)")
    parser.add_argument("--fault", choices=sorted(FAULTS), help="break one feature on purpose")
    args = parser.parse_args()
    if args.use_tls and not (args.tls_cert_file and args.tls_key_file):
        parser.error("--use_tls=true needs --tls_cert_file and --tls_key_file")
    global fault
    fault = args.fault

    # Enough threads that calls parked in interval_us waits or on a slow peer
    # do not starve the rest; further calls queue for a thread.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=SERVER_OPTIONS)
    server.add_generic_rpc_handlers((test_service_handler(),))

    address = f"127.0.0.1:{args.port}"
    if args.use_tls:
        with open(args.tls_cert_file, "rb") as f:
            chain = f.read()
        with open(args.tls_key_file, "rb") as f:
            key = f.read()
        port = server.add_secure_port(address, grpc.ssl_server_credentials([(key, chain)]))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        print(f"cannot listen on {address}", file=sys.stderr, flush=True)
        sys.exit(1)
    server.start()

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopped.set())
    print(f"READY {port}", flush=True)
    # A bounded wait in a loop keeps the main thread able to run signal handlers.
    while not stopped.wait(1):
        pass
    server.stop(grace=None).wait(10)


if __name__ == "__main__":
    main()
