"""Attacks through message bodies: a gRPC length prefix announcing 4 GiB, and
a reader that never opens its flow-control window while asking for big
responses."""

import pytest
from hyperframe.frame import DataFrame, GoAwayFrame, HeadersFrame, RstStreamFrame, SettingsFrame

import h2raw
from conftest import wait_for
from h2raw import REFUSED_STREAM

RESOURCE_EXHAUSTED = "8"
# The slow reader's load: kept small enough that what the allocator keeps
# after it does not blur the suite's memory check.
CONNECTIONS = 2
RESPONSE_SIZE = 32 << 10


@pytest.mark.parametrize("declared", [0xFFFFFFFF, (4 << 20) + 1])
def test_huge_grpc_length_prefix(attack, server, declared):
    """A 5-byte message prefix announcing more than the 4 MiB limit: the call
    ends with RESOURCE_EXHAUSTED as soon as the prefix is read, nothing is
    allocated for it, and the body the client goes on sending is dropped."""
    with server.connect() as conn:
        conn.handshake()
        rss_before = server.rss()
        stream = conn.new_stream()
        conn.send_frames(conn.headers_frame(stream, h2raw.grpc_request_headers()),
                         conn.data_frame(stream, h2raw.grpc_message(b"x" * 100, length=declared)))
        kind, headers = conn.response_end(stream)
        assert kind == "headers", (kind, headers)
        assert h2raw.header_value(headers, "grpc-status") == RESOURCE_EXHAUSTED, headers
        assert str(declared) in h2raw.header_value(headers, "grpc-message"), headers
        # The client keeps sending the "message" (2 MiB more): dropped, and
        # its flow-control credit returned (or the second request would stall).
        chunk = conn.data_frame(stream, b"y" * 16384).serialize()
        conn.send(chunk * 128)
        conn.send_frames(conn.data_frame(stream, b"", end_stream=True))
        grew = server.rss() - rss_before
        print(f"  declared {declared} bytes: RSS grew {grew} KiB")
        assert grew < 16 << 10, f"RSS grew by {grew} KiB"
        second = conn.request()
        kind, headers = conn.response_end(second)
        assert kind == "headers" and h2raw.header_value(headers, "grpc-status") == "0", headers
        assert not any(isinstance(f, GoAwayFrame) for f in conn.received), conn.summary()
    attack.assert_recovered()


def test_zero_window_slow_reader(attack, server):
    """INITIAL_WINDOW_SIZE 0 and never a WINDOW_UPDATE, while asking for big
    responses on every stream the server allows: the server sends no DATA,
    holds at most the concurrent streams' responses (the streams over the
    limit are refused), and frees all of it when the reader goes away."""
    concurrent = 100
    if server.supports_test_service:
        path, message, response_size = h2raw.UNARY_CALL, h2raw.simple_request(RESPONSE_SIZE), RESPONSE_SIZE
    else:
        # Health is all there is (a development server): small responses.
        path, message, response_size = h2raw.HEALTH_CHECK, b"", 10
    rss_before = server.rss()
    fds_before = server.fds()
    conns = []
    try:
        for _ in range(CONNECTIONS):
            conn = server.connect()
            conns.append(conn)
            conn.handshake(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
            streams = [conn.new_stream() for _ in range(concurrent + 5)]
            conn.send(b"".join(
                conn.headers_frame(s, h2raw.grpc_request_headers(path)).serialize()
                + conn.data_frame(s, h2raw.grpc_message(message), end_stream=True).serialize()
                for s in streams))
            # Every stream within the limit gets its response headers; the rest are refused.
            answered, refused = set(), set()
            while len(answered) + len(refused) < len(streams):
                frame = conn.expect(lambda f: isinstance(f, (HeadersFrame, RstStreamFrame, DataFrame, GoAwayFrame)),
                                    what="response headers or refusals")
                assert not isinstance(frame, (DataFrame, GoAwayFrame)), h2raw.describe(frame)
                if isinstance(frame, RstStreamFrame):
                    assert frame.error_code == REFUSED_STREAM, h2raw.describe(frame)
                    refused.add(frame.stream_id)
                else:
                    assert "END_STREAM" not in frame.flags, "a response ended without its message"
                    answered.add(frame.stream_id)
            assert answered == set(streams[:concurrent]) and refused == set(streams[concurrent:])
        held = server.rss() - rss_before
        buffered = len(conns) * concurrent * response_size
        print(f"  {len(conns)} connections x {concurrent} stalled responses of {response_size} bytes "
              f"({buffered >> 10} KiB): server RSS grew {held} KiB")
        # Bounded by what the streams hold (each response is built, framed and queued once or twice).
        assert held < 3 * buffered / 1024 + (32 << 10), f"RSS grew by {held} KiB"
        # The connection's own window: a stream's window opened by 1 MiB lets
        # through only what the connection window (65535) allows.
        first = conns[0]
        first.window_update(1, 1 << 20)
        received = 0
        for frame in first.frames(timeout=1.0):
            if isinstance(frame, DataFrame):
                received += len(frame.data)
                if received >= min(65535, response_size):
                    break
        assert 0 < received <= 65535, f"{received} bytes of DATA through a 65535-byte connection window"
    finally:
        for conn in conns:
            conn.close()
    # Gone: descriptors and memory come back.
    assert wait_for(lambda: server.fds() <= fds_before, 5), f"{server.fds()} descriptors, {fds_before} before"
    released = wait_for(lambda: server.rss() - rss_before < (held + 1) / 2 + (8 << 10), 5)
    print(f"  after the readers left: RSS {server.rss() - rss_before:+} KiB")
    assert released, f"RSS still {server.rss() - rss_before} KiB above the level before"
    attack.assert_recovered()


# The health check is answered on the event loop without a handler task: the
# same rules hold for it as for any call.

def test_health_check_held_open_ends_at_its_deadline(attack, server):
    """A request whose client never ends it is answered DEADLINE_EXCEEDED by
    the server at its grpc-timeout (the client here has no timer of its own)."""
    with server.connect() as conn:
        conn.handshake()
        stream = conn.new_stream()
        conn.send_frames(
            conn.headers_frame(stream, h2raw.grpc_request_headers(extra=[("grpc-timeout", "200m")])),
            conn.data_frame(stream, h2raw.grpc_message(b"")),
        )
        kind, value = conn.response_end(stream, timeout=5.0)
        assert kind == "headers", f"stream {stream}: {kind} {value}"
        assert h2raw.header_value(value, "grpc-status") == "4", value
        # The connection serves on.
        kind, value = conn.response_end(conn.request())
        assert kind == "headers" and h2raw.header_value(value, "grpc-status") == "0", value
    attack.assert_recovered()


def test_health_check_split_into_byte_frames(attack, server):
    """The message arrives one byte per DATA frame and the stream ends with an
    empty DATA frame: one message, answered SERVING."""
    with server.connect() as conn:
        conn.handshake()
        stream = conn.new_stream()
        message = h2raw.grpc_message(b"")
        frames = [conn.headers_frame(stream, h2raw.grpc_request_headers())]
        frames += [conn.data_frame(stream, message[i:i + 1]) for i in range(len(message))]
        frames.append(conn.data_frame(stream, b"", end_stream=True))
        conn.send_frames(*frames)
        kind, value = conn.response_end(stream)
        assert kind == "headers" and h2raw.header_value(value, "grpc-status") == "0", f"{kind} {value}"
        response = b"".join(bytes(f.data) for f in conn.received if isinstance(f, DataFrame) and f.stream_id == stream)
        assert response == h2raw.grpc_message(b"\x08\x01"), response
    attack.assert_recovered()


def test_health_check_cut_message_is_internal(attack, server):
    """The stream ends inside a message: INTERNAL, and nothing else breaks."""
    with server.connect() as conn:
        conn.handshake()
        stream = conn.new_stream()
        conn.send_frames(
            conn.headers_frame(stream, h2raw.grpc_request_headers()),
            conn.data_frame(stream, h2raw.grpc_message(b"\x0a\x05abcde")[:7], end_stream=True),
        )
        kind, value = conn.response_end(stream)
        assert kind == "headers" and h2raw.header_value(value, "grpc-status") == "13", f"{kind} {value}"
    attack.assert_recovered()


def test_health_check_ended_by_trailers(attack, server):
    """A request may end with a trailers HEADERS frame instead of END_STREAM
    on its DATA: it is answered as usual."""
    with server.connect() as conn:
        conn.handshake()
        stream = conn.new_stream()
        conn.send_frames(
            conn.headers_frame(stream, h2raw.grpc_request_headers()),
            conn.data_frame(stream, h2raw.grpc_message(b"")),
            conn.headers_frame(stream, [("x-trailer", "1")], end_stream=True),
        )
        kind, value = conn.response_end(stream)
        assert kind == "headers" and h2raw.header_value(value, "grpc-status") == "0", f"{kind} {value}"
    attack.assert_recovered()
