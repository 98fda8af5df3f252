"""A raw HTTP/2 peer for the attack suite: frames built with hyperframe and
header blocks with hpack, written to a plain socket exactly as given, so a
test can send what no well-behaved client would.

Reading is always bounded: every wait has a deadline, and a test waits for
the frame it expects (or for the server to close) rather than for a fixed
time.
"""

import socket
import struct
import time

import hpack
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)
from hyperframe.exceptions import InvalidFrameError

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# HTTP/2 error codes (RFC 9113 section 7).
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xB

ERROR_NAMES = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR", 0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED", 0x6: "FRAME_SIZE_ERROR", 0x7: "REFUSED_STREAM",
    0x8: "CANCEL", 0x9: "COMPRESSION_ERROR", 0xA: "CONNECT_ERROR", 0xB: "ENHANCE_YOUR_CALM",
    0xC: "INADEQUATE_SECURITY", 0xD: "HTTP_1_1_REQUIRED",
}

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
UNARY_CALL = "/grpc.testing.TestService/UnaryCall"


def describe(frame):
    """A short, readable line for a frame (for failure messages)."""
    name = type(frame).__name__.replace("Frame", "").upper()
    extra = ""
    if isinstance(frame, (RstStreamFrame, GoAwayFrame)):
        extra = " " + ERROR_NAMES.get(frame.error_code, hex(frame.error_code))
    if isinstance(frame, GoAwayFrame):
        extra += f" last={frame.last_stream_id} debug={bytes(frame.additional_data)[:60]!r}"
    if isinstance(frame, DataFrame):
        extra = f" {len(frame.data)} bytes"
    flags = ",".join(sorted(frame.flags))
    return f"{name}[{frame.stream_id}]{extra}{' ' + flags if flags else ''}"


def grpc_request_headers(path=HEALTH_CHECK, authority="localhost", extra=()):
    """The header list of a gRPC request on `path`."""
    return [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        *extra,
    ]


def grpc_message(payload=b"", length=None, compressed=False):
    """A gRPC length-prefixed message; `length` overrides the declared size."""
    declared = len(payload) if length is None else length
    return struct.pack(">BI", 1 if compressed else 0, declared) + payload


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def simple_request(response_size):
    """grpc.testing.SimpleRequest{response_size}, encoded by hand (field 2)."""
    return b"\x10" + varint(response_size)


class ServerClosed(AssertionError):
    """The server closed the connection while a frame was still expected."""


class RawH2:
    """One HTTP/2 connection to the server under test, frame by frame."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Before connect, so the advertised TCP window stays small.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buffer = bytearray()
        self.received = []  # Every frame read, in order.
        self.closed = False
        self.next_stream = 1
        self.server_settings = {}

    # MARK: sending

    def send(self, data):
        self.sock.sendall(data)

    def send_frames(self, *frames):
        self.sock.sendall(b"".join(f.serialize() for f in frames))

    def handshake(self, settings=None, ack=True, wait=True):
        """Preface and SETTINGS; with `wait`, reads the server's SETTINGS and
        (with `ack`) acknowledges them, then waits for the ACK of ours."""
        frame = SettingsFrame(0)
        frame.settings = dict(settings or {})
        self.send(PREFACE + frame.serialize())
        if not wait:
            return
        server = self.expect(lambda f: isinstance(f, SettingsFrame) and "ACK" not in f.flags, what="server SETTINGS")
        self.server_settings = dict(server.settings)
        if ack:
            self.send_frames(SettingsFrame(0, flags=["ACK"]))
        self.expect(lambda f: isinstance(f, SettingsFrame) and "ACK" in f.flags, what="SETTINGS ACK")

    def new_stream(self):
        stream = self.next_stream
        self.next_stream += 2
        return stream

    def headers_frame(self, stream, headers, end_stream=False, end_headers=True):
        frame = HeadersFrame(stream)
        frame.data = self.encoder.encode(headers)
        if end_stream:
            frame.flags.add("END_STREAM")
        if end_headers:
            frame.flags.add("END_HEADERS")
        return frame

    def data_frame(self, stream, data, end_stream=False):
        frame = DataFrame(stream)
        frame.data = data
        if end_stream:
            frame.flags.add("END_STREAM")
        return frame

    def rst_frame(self, stream, code=CANCEL):
        return RstStreamFrame(stream, error_code=code)

    def request(self, path=HEALTH_CHECK, message=b"", stream=None, extra=()):
        """Sends a whole unary gRPC request; returns its stream id."""
        stream = stream or self.new_stream()
        self.send_frames(
            self.headers_frame(stream, grpc_request_headers(path, extra=extra)),
            self.data_frame(stream, grpc_message(message), end_stream=True),
        )
        return stream

    # MARK: receiving

    def _read_frame(self, deadline):
        """The next frame, or None when the server closed the connection.
        Raises socket.timeout at the deadline."""
        while True:
            if len(self.buffer) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
                if len(self.buffer) >= 9 + length:
                    body = memoryview(bytes(self.buffer[9 : 9 + length]))
                    del self.buffer[: 9 + length]
                    try:
                        frame.parse_body(body)
                    except InvalidFrameError as error:
                        raise AssertionError(f"the server sent an invalid frame: {error}") from error
                    if isinstance(frame, HeadersFrame):
                        # Decoded at once, in order, so the HPACK state stays right.
                        frame.decoded = self._decode(frame)
                    self.received.append(frame)
                    return frame
            if self.closed:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("deadline")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
            else:
                self.buffer += chunk

    def frames(self, timeout=5.0):
        """Yields frames as they arrive until the server closes or `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self._read_frame(deadline)
            except socket.timeout:
                return
            if frame is None:
                return
            yield frame

    def expect(self, predicate, timeout=5.0, what="the expected frame"):
        """Reads until a frame satisfies `predicate` and returns it; fails on
        timeout or close, listing what came instead."""
        start = len(self.received)
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self._read_frame(deadline)
            except socket.timeout:
                raise AssertionError(f"no {what} within {timeout}s; got {self.summary(start)}") from None
            if frame is None:
                raise ServerClosed(f"the server closed the connection before {what}; got {self.summary(start)}")
            if predicate(frame):
                return frame

    def expect_goaway(self, timeout=5.0):
        return self.expect(lambda f: isinstance(f, GoAwayFrame), timeout, "GOAWAY")

    def expect_rst(self, stream, timeout=5.0):
        return self.expect(lambda f: isinstance(f, RstStreamFrame) and f.stream_id == stream, timeout,
                           f"RST_STREAM on stream {stream}")

    def expect_closed(self, timeout=5.0):
        """Reads (and keeps) frames until the server closes the connection;
        fails if it is still open at the timeout. Returns the seconds waited."""
        start = time.monotonic()
        for _ in self.frames(timeout):
            pass
        if not self.closed:
            raise AssertionError(f"the server did not close the connection within {timeout}s; got {self.summary(0)}")
        return time.monotonic() - start

    def _decode(self, frame):
        if "END_HEADERS" not in frame.flags:
            raise AssertionError("the server sent a header block split into CONTINUATION frames")
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self.decoder.decode(bytes(frame.data), raw=True)]

    def decode_headers(self, frame):
        """The header list of a HEADERS frame."""
        return frame.decoded

    def response_end(self, stream, timeout=5.0):
        """Waits for the end of `stream`'s response: returns ("headers", list)
        for the HEADERS that ended it, or ("rst", code) for a reset. Every
        HEADERS frame is decoded in order, keeping the HPACK state right."""
        start = len(self.received)
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self._read_frame(deadline)
            except socket.timeout:
                raise AssertionError(f"stream {stream} did not end within {timeout}s; got {self.summary(start)}") from None
            if frame is None:
                raise ServerClosed(f"the server closed before stream {stream} ended; got {self.summary(start)}")
            if isinstance(frame, HeadersFrame):
                headers = self.decode_headers(frame)
                if frame.stream_id == stream and "END_STREAM" in frame.flags:
                    return "headers", headers
            elif isinstance(frame, RstStreamFrame) and frame.stream_id == stream:
                return "rst", frame.error_code
            elif isinstance(frame, GoAwayFrame) and frame.error_code != NO_ERROR:
                raise AssertionError(f"GOAWAY before stream {stream} ended: {describe(frame)}")

    def summary(self, start=0, limit=12):
        frames = self.received[start:]
        text = ", ".join(describe(f) for f in frames[-limit:])
        more = f"{len(frames) - limit} more, then " if len(frames) > limit else ""
        return f"[{more}{text}]" + (" (closed)" if self.closed else "")

    def ping(self, opaque=b"\0" * 8):
        self.send_frames(PingFrame(0, opaque_data=opaque))

    def window_update(self, stream, increment):
        self.send_frames(WindowUpdateFrame(stream, window_increment=increment))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def header_value(headers, name):
    for key, value in headers:
        if key == name:
            return value
    return None
