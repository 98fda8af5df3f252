"""Floods and header attacks: CONTINUATION floods and slow header blocks,
SETTINGS and PING floods, the HPACK bomb, oversized header lists."""

import time

import pytest
from hyperframe.frame import ContinuationFrame, GoAwayFrame, HeadersFrame, PingFrame, SettingsFrame

import h2raw
from h2raw import ENHANCE_YOUR_CALM

# The server's limits (HTTP2Configuration defaults, GRPCServer's gRPC limit).
MAX_CONTINUATIONS = 8
MAX_OUTBOUND_ACKS = 1000
MAX_PING_STRIKES = 2
GRPC_HEADER_LIMIT = 8 << 10


def assert_goaway(conn, code, debug, timeout=5.0):
    goaway = conn.expect_goaway(timeout)
    assert goaway.error_code == code, f"{h2raw.describe(goaway)}, expected {h2raw.ERROR_NAMES[code]}"
    assert debug in bytes(goaway.additional_data), h2raw.describe(goaway)
    return goaway


def assert_request_succeeds(conn):
    stream = conn.request()
    kind, value = conn.response_end(stream)
    assert kind == "headers" and h2raw.header_value(value, "grpc-status") == "0", f"stream {stream}: {kind} {value}"


def send_ignoring_close(conn, data):
    """Sends what the server may stop reading halfway (it has closed)."""
    try:
        conn.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


@pytest.mark.parametrize("payload", ["empty", "headers"])
def test_continuation_flood(attack, server, payload):
    """CVE-2024-27316 style: CONTINUATION frames without END_HEADERS, on and on."""
    with server.connect() as conn:
        conn.handshake()
        stream = conn.new_stream()
        frames = [conn.headers_frame(stream, h2raw.grpc_request_headers(), end_headers=False)]
        for index in range(64):
            frame = ContinuationFrame(stream)
            # A new literal header field (never indexed) per frame, or nothing.
            frame.data = b"" if payload == "empty" else conn.encoder.encode([(f"x-flood-{index}", "v" * 1000)])
            frames.append(frame)
        send_ignoring_close(conn, b"".join(f.serialize() for f in frames))
        goaway = assert_goaway(conn, ENHANCE_YOUR_CALM, b"CONTINUATION")
        assert goaway.last_stream_id == stream
        conn.expect_closed()
        assert not any(isinstance(f, HeadersFrame) for f in conn.received), "the flooded request was answered"
    attack.assert_recovered()


def test_header_block_never_finished(attack, server):
    """Slowloris on a header block: HEADERS without END_HEADERS, then silence.
    The server gives up after its header-block timeout (checked once per
    timeout, so within twice it)."""
    timeout = server.header_block_timeout
    with server.connect() as conn:
        conn.handshake()
        stream = conn.new_stream()
        conn.send_frames(conn.headers_frame(stream, h2raw.grpc_request_headers(), end_headers=False))
        started = time.monotonic()
        assert_goaway(conn, ENHANCE_YOUR_CALM, b"header block timeout", timeout=2 * timeout + 2)
        waited = time.monotonic() - started
        conn.expect_closed()
        assert timeout * 0.9 <= waited <= 2 * timeout + 1.5, f"closed after {waited:.2f}s, timeout {timeout}s"
        print(f"  header block abandoned after {waited:.2f}s (timeout {timeout}s)")
    attack.assert_recovered()


def test_settings_within_limits_are_acknowledged(attack, server):
    """The control: a few SETTINGS in a row are all acknowledged."""
    with server.connect() as conn:
        conn.handshake()
        frame = SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 1 << 20})
        conn.send(frame.serialize() * 50)
        for _ in range(50):
            conn.expect(lambda f: isinstance(f, SettingsFrame) and "ACK" in f.flags, what="SETTINGS ACK")
        assert_request_succeeds(conn)
    attack.assert_recovered()


def test_settings_flood(attack, server):
    """Thousands of SETTINGS at once: more ACKs queued than the server allows."""
    with server.connect() as conn:
        conn.handshake()
        frame = SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 1 << 20})
        send_ignoring_close(conn, frame.serialize() * 5000)
        assert_goaway(conn, ENHANCE_YOUR_CALM, b"Flooding")
        conn.expect_closed()
        acks = sum(1 for f in conn.received if isinstance(f, SettingsFrame) and "ACK" in f.flags)
        assert acks <= MAX_OUTBOUND_ACKS + 2, f"{acks} SETTINGS ACKs"
        print(f"  SETTINGS ACKs before the GOAWAY: {acks}")
    attack.assert_recovered()


def test_ping_flood(attack, server):
    """PINGs back to back: gRPC's ping strikes, then GOAWAY too_many_pings."""
    with server.connect() as conn:
        conn.handshake()
        send_ignoring_close(conn, PingFrame(0, opaque_data=b"floodpng").serialize() * 1000)
        assert_goaway(conn, ENHANCE_YOUR_CALM, b"too_many_pings")
        conn.expect_closed()
        acks = [f for f in conn.received if isinstance(f, PingFrame) and "ACK" in f.flags]
        # The first PING, then the strikes tolerated.
        assert len(acks) == 1 + MAX_PING_STRIKES, f"{len(acks)} PING ACKs"
        assert all(bytes(f.opaque_data) == b"floodpng" for f in acks)
    attack.assert_recovered()


def test_hpack_bomb(attack, server):
    """One 4000-byte header inserted into the HPACK dynamic table, then
    referenced thousands of times at one byte each: ~60 MB of headers in a
    16 KiB frame. The stream is reset (ENHANCE_YOUR_CALM) without the server
    growing, and the connection's HPACK state stays right."""
    with server.connect() as conn:
        conn.handshake()
        limit = conn.server_settings[SettingsFrame.MAX_HEADER_LIST_SIZE]
        bomb = ("x-bomb", "b" * 4000)
        headers = h2raw.grpc_request_headers() + [bomb] * 12_000
        block = conn.encoder.encode(headers)
        assert len(block) <= 16384, f"the bomb does not fit one frame: {len(block)} bytes"
        decoded = sum(len(n) + len(v) + 32 for n, v in headers)
        assert decoded > 1000 * limit
        rss_before = server.rss()
        stream = conn.new_stream()
        frame = HeadersFrame(stream, data=block, flags=["END_HEADERS", "END_STREAM"])
        conn.send_frames(frame)
        rst = conn.expect_rst(stream)
        assert rst.error_code == ENHANCE_YOUR_CALM, h2raw.describe(rst)
        grew = server.rss() - rss_before
        print(f"  {len(block)} bytes decoding to {decoded >> 20} MiB; server RSS grew {grew} KiB")
        assert grew < 16 << 10, f"RSS grew by {grew} KiB"
        # The table entry is still usable: the same header, referenced once, is fine.
        stream = conn.request(extra=[bomb])
        kind, value = conn.response_end(stream)
        assert kind == "headers" and h2raw.header_value(value, "grpc-status") == "0", (kind, value)
    attack.assert_recovered()


def test_header_list_over_the_grpc_limit(attack, server):
    """Between the gRPC limit (8 KiB) and the advertised HTTP/2 limit: a
    precise gRPC status, RESOURCE_EXHAUSTED, in a trailers-only response."""
    with server.connect() as conn:
        conn.handshake()
        limit = conn.server_settings[SettingsFrame.MAX_HEADER_LIST_SIZE]
        assert limit >= GRPC_HEADER_LIMIT, f"advertised MAX_HEADER_LIST_SIZE {limit}"
        size = min(limit, GRPC_HEADER_LIMIT * 2) - 1024
        stream = conn.new_stream()
        headers = h2raw.grpc_request_headers(extra=[("x-big", "a" * (size - 300))])
        conn.send_frames(conn.headers_frame(stream, headers, end_stream=True))
        kind, value = conn.response_end(stream)
        assert kind == "headers", (kind, value)
        assert h2raw.header_value(value, "grpc-status") == "8", value
        assert_request_succeeds(conn)
    attack.assert_recovered()


@pytest.mark.parametrize("shape", ["one large field", "many small fields"])
def test_header_list_over_the_advertised_limit(attack, server, shape):
    """Beyond SETTINGS_MAX_HEADER_LIST_SIZE (sent over HEADERS and
    CONTINUATION): RST_STREAM ENHANCE_YOUR_CALM, which gRPC reads as
    RESOURCE_EXHAUSTED. The connection goes on, and its header-block timer
    does not mistake the rejected block for one still being received."""
    with server.connect() as conn:
        conn.handshake()
        limit = conn.server_settings[SettingsFrame.MAX_HEADER_LIST_SIZE]
        if shape == "one large field":
            extra = [("x-big", "a" * (limit + 1000))]
        else:
            extra = [(f"x-small-{i}", "a" * 100) for i in range(limit // 100)]
        block = conn.encoder.encode(h2raw.grpc_request_headers(extra=extra), huffman=False)
        stream = conn.new_stream()
        frames = [HeadersFrame(stream, data=block[:16384], flags=["END_STREAM"])]
        for offset in range(16384, len(block), 16384):
            frames.append(ContinuationFrame(stream, data=block[offset:offset + 16384]))
        frames[-1].flags.add("END_HEADERS")
        conn.send_frames(*frames)
        rst = conn.expect_rst(stream)
        assert rst.error_code == ENHANCE_YOUR_CALM, h2raw.describe(rst)
        # Nothing else comes for longer than the header-block timer needs to fire.
        quiet = list(conn.frames(2 * server.header_block_timeout + 0.5))
        assert not any(isinstance(f, GoAwayFrame) for f in quiet), conn.summary()
        assert not conn.closed
        assert_request_succeeds(conn)
    attack.assert_recovered()
