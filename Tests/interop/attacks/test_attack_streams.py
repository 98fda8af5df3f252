"""Stream-level attacks: rapid reset, RST_STREAM floods, too many concurrent
streams, and frames on streams that are already closed."""

import pytest
from hyperframe.frame import DataFrame, GoAwayFrame, HeadersFrame, RstStreamFrame, SettingsFrame

import h2raw
from h2raw import CANCEL, ENHANCE_YOUR_CALM, PROTOCOL_ERROR, REFUSED_STREAM, STREAM_CLOSED

# The server's rapid-reset budget (HTTP2Configuration.maxStreamResetBurst).
RESET_BURST = 1000


def assert_goaway(conn, code, debug=None):
    goaway = conn.expect_goaway()
    assert goaway.error_code == code, f"GOAWAY {h2raw.describe(goaway)}, expected {h2raw.ERROR_NAMES[code]}"
    if debug is not None:
        assert debug in bytes(goaway.additional_data), h2raw.describe(goaway)
    return goaway


def assert_request_succeeds(conn):
    stream = conn.request()
    kind, value = conn.response_end(stream)
    assert kind == "headers" and h2raw.header_value(value, "grpc-status") == "0", f"stream {stream}: {kind} {value}"


def test_resets_within_budget_are_served(attack, server):
    """The control: a client cancelling some calls is not an attacker."""
    with server.connect() as conn:
        conn.handshake()
        burst = []
        for _ in range(RESET_BURST // 2):
            stream = conn.new_stream()
            burst.append(conn.headers_frame(stream, h2raw.grpc_request_headers()).serialize())
            burst.append(conn.rst_frame(stream, CANCEL).serialize())
        conn.send(b"".join(burst))
        assert_request_succeeds(conn)
        assert not any(isinstance(f, GoAwayFrame) for f in conn.received), conn.summary()
    attack.assert_recovered()


def test_rapid_reset(attack, server):
    """CVE-2023-44487: HEADERS then RST_STREAM, thousands of times."""
    with server.connect() as conn:
        conn.handshake()
        burst = []
        for _ in range(3 * RESET_BURST):
            stream = conn.new_stream()
            burst.append(conn.headers_frame(stream, h2raw.grpc_request_headers()).serialize())
            burst.append(conn.rst_frame(stream, CANCEL).serialize())
        last_sent = conn.next_stream - 2
        try:
            conn.send(b"".join(burst))
        except (BrokenPipeError, ConnectionResetError):
            pass  # It may close before reading everything: the GOAWAY is already on its way.
        goaway = assert_goaway(conn, ENHANCE_YOUR_CALM, b"too many stream resets")
        # The budget ran out around stream 2 * RESET_BURST + 1.
        assert goaway.last_stream_id <= last_sent
        assert goaway.last_stream_id >= 2 * RESET_BURST - 1, h2raw.describe(goaway)
        conn.expect_closed()
    attack.assert_recovered()


def test_rst_stream_flood_on_closed_stream(attack, server):
    """RST_STREAM frames on a stream that is long closed still count as resets."""
    with server.connect() as conn:
        conn.handshake()
        stream = conn.request()
        assert conn.response_end(stream)[0] == "headers"
        try:
            conn.send(conn.rst_frame(stream, CANCEL).serialize() * (3 * RESET_BURST))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert_goaway(conn, ENHANCE_YOUR_CALM, b"too many stream resets")
        conn.expect_closed()
    attack.assert_recovered()


def test_rst_stream_on_idle_stream(attack, server):
    """RST_STREAM on a stream never opened: a connection error (RFC 9113 5.1)."""
    with server.connect() as conn:
        conn.handshake()
        conn.send(b"".join(conn.rst_frame(stream, CANCEL).serialize() for stream in range(101, 2101, 2)))
        goaway = assert_goaway(conn, PROTOCOL_ERROR, b"idle")
        assert goaway.last_stream_id == 0
        conn.expect_closed()
    attack.assert_recovered()


def test_more_streams_than_max_concurrent_streams(attack, server):
    """Streams over SETTINGS_MAX_CONCURRENT_STREAMS are refused one by one
    (a stream error, RFC 9113 5.1.2); the connection and its streams go on."""
    with server.connect() as conn:
        conn.handshake()
        limit = conn.server_settings.get(SettingsFrame.MAX_CONCURRENT_STREAMS)
        assert limit == 100, f"advertised MAX_CONCURRENT_STREAMS: {limit}"
        # Requests without their body stay open.
        opened = [conn.new_stream() for _ in range(limit)]
        excess = [conn.new_stream() for _ in range(10)]
        conn.send(b"".join(conn.headers_frame(s, h2raw.grpc_request_headers()).serialize() for s in opened + excess))
        refused = set()
        while refused != set(excess):
            frame = conn.expect(lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)), what="the refusals")
            assert isinstance(frame, RstStreamFrame), f"{h2raw.describe(frame)}; {conn.summary()}"
            assert frame.stream_id in excess, f"stream {frame.stream_id} (within the limit) was reset"
            assert frame.error_code == REFUSED_STREAM, h2raw.describe(frame)
            refused.add(frame.stream_id)
        # The open streams are still served, and once one ends a new one fits.
        conn.send_frames(conn.data_frame(opened[0], h2raw.grpc_message(b""), end_stream=True))
        kind, headers = conn.response_end(opened[0])
        assert kind == "headers" and h2raw.header_value(headers, "grpc-status") == "0"
        assert_request_succeeds(conn)
        # Back at the limit, one more is refused again.
        refill, over = conn.new_stream(), conn.new_stream()
        conn.send_frames(conn.headers_frame(refill, h2raw.grpc_request_headers()),
                         conn.headers_frame(over, h2raw.grpc_request_headers()))
        assert conn.expect_rst(over).error_code == REFUSED_STREAM
        assert not any(isinstance(f, GoAwayFrame) for f in conn.received), conn.summary()
    attack.assert_recovered()


@pytest.mark.parametrize("frame_type", ["DATA", "HEADERS"])
def test_frames_on_half_closed_stream(attack, server, frame_type):
    """DATA or HEADERS after END_STREAM while the response is still pending
    (held back by a zero window): STREAM_CLOSED. RFC 9113 5.1 asks for a
    stream error; nghttp2 makes it a connection error (GOAWAY STREAM_CLOSED),
    which only ever hits a broken peer, and closes."""
    with server.connect() as conn:
        conn.handshake(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
        stream = conn.request()
        # Response headers go out; the message waits for window.
        conn.expect(lambda f: isinstance(f, HeadersFrame) and f.stream_id == stream, what="response HEADERS")
        if frame_type == "DATA":
            conn.send_frames(conn.data_frame(stream, h2raw.grpc_message(b"late")))
        else:
            conn.send_frames(conn.headers_frame(stream, [("x-trailer", "late")], end_stream=True))
        goaway = assert_goaway(conn, STREAM_CLOSED, b"closed")
        assert goaway.last_stream_id == stream
        assert not any(isinstance(f, DataFrame) for f in conn.received), "DATA sent into a zero window"
        conn.expect_closed()
    attack.assert_recovered()


def test_frames_on_closed_streams(attack, server):
    """DATA and HEADERS on a stream that is fully closed are ignored (the server
    keeps no state for closed streams), and such DATA does not eat the
    connection's flow-control window."""
    with server.connect() as conn:
        conn.handshake()
        stream = conn.request()
        assert conn.response_end(stream)[0] == "headers"
        mark = len(conn.received)
        conn.send_frames(conn.headers_frame(stream, h2raw.grpc_request_headers(), end_stream=True))
        # More than the server's 16 MiB connection window, all on the closed stream.
        chunk = conn.data_frame(stream, b"\0" * 16384).serialize()
        conn.send(chunk * (17 * 64))
        stream_after = conn.request()
        kind, headers = conn.response_end(stream_after, timeout=10)
        assert kind == "headers" and h2raw.header_value(headers, "grpc-status") == "0"
        late = [f for f in conn.received[mark:] if f.stream_id == stream]
        assert not late, f"frames for the closed stream: {[h2raw.describe(f) for f in late]}"
        assert not any(isinstance(f, GoAwayFrame) for f in conn.received), conn.summary()
    attack.assert_recovered()
