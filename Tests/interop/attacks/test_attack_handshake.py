"""Attacks on the connection's start: garbage instead of the preface, a
preface never finished (slowloris), SETTINGS never acknowledged."""

import time

from hyperframe.frame import GoAwayFrame, PingFrame, SettingsFrame

import h2raw
from h2raw import PROTOCOL_ERROR, SETTINGS_TIMEOUT


def assert_only_connection_setup(conn):
    """Nothing but the server's own SETTINGS, WINDOW_UPDATE and a GOAWAY came."""
    kinds = {type(f).__name__ for f in conn.received}
    assert kinds <= {"SettingsFrame", "WindowUpdateFrame", "GoAwayFrame"}, conn.summary()


def test_garbage_instead_of_preface(attack, server):
    """An HTTP/1.1 request where the preface belongs: GOAWAY PROTOCOL_ERROR, closed."""
    with server.connect() as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        conn.expect_closed(timeout=3)
        goaways = [f for f in conn.received if isinstance(f, GoAwayFrame)]
        assert len(goaways) == 1 and goaways[0].error_code == PROTOCOL_ERROR, conn.summary()
        assert b"magic" in bytes(goaways[0].additional_data)
        assert_only_connection_setup(conn)
    attack.assert_recovered()


def test_binary_garbage_instead_of_preface(attack, server):
    with server.connect() as conn:
        conn.send(bytes(range(256)) * 64)
        conn.expect_closed(timeout=3)
        goaways = [f for f in conn.received if isinstance(f, GoAwayFrame)]
        assert len(goaways) == 1 and goaways[0].error_code == PROTOCOL_ERROR, conn.summary()
    attack.assert_recovered()


def test_no_settings_after_preface(attack, server):
    """The preface, then a PING instead of SETTINGS (RFC 9113 3.4): PROTOCOL_ERROR."""
    with server.connect() as conn:
        conn.send(h2raw.PREFACE + PingFrame(0).serialize())
        goaway = conn.expect_goaway()
        assert goaway.error_code == PROTOCOL_ERROR, h2raw.describe(goaway)
        conn.expect_closed()
        assert_only_connection_setup(conn)
    attack.assert_recovered()


def test_preface_never_finished(attack, server):
    """Slowloris: half a preface, then silence. Closed at the handshake timeout."""
    timeout = server.handshake_timeout
    with server.connect() as conn:
        conn.send(h2raw.PREFACE[:10])
        started = time.monotonic()
        conn.expect_closed(timeout=timeout + 3)
        waited = time.monotonic() - started
        assert timeout * 0.9 <= waited <= timeout + 2, f"closed after {waited:.2f}s, timeout {timeout}s"
        assert_only_connection_setup(conn)
        print(f"  half a preface: closed after {waited:.2f}s (timeout {timeout}s)")
    attack.assert_recovered()


def test_settings_never_acknowledged(attack, server):
    """Preface and SETTINGS, but no ACK of the server's: GOAWAY SETTINGS_TIMEOUT
    (RFC 9113 6.5.3) at the handshake timeout, then closed."""
    timeout = server.handshake_timeout
    with server.connect() as conn:
        conn.handshake(ack=False)
        started = time.monotonic()
        goaway = conn.expect_goaway(timeout=timeout + 3)
        waited = time.monotonic() - started
        assert goaway.error_code == SETTINGS_TIMEOUT, h2raw.describe(goaway)
        conn.expect_closed()
        assert timeout * 0.8 <= waited <= timeout + 2, f"GOAWAY after {waited:.2f}s, timeout {timeout}s"
    attack.assert_recovered()


def test_many_half_open_connections(attack, server):
    """Many slowloris connections at once are all closed, and their
    descriptors released, by the handshake timeout."""
    timeout = server.handshake_timeout
    conns = [server.connect() for _ in range(50)]
    try:
        for conn in conns:
            conn.send(h2raw.PREFACE[:5])
        deadline = time.monotonic() + timeout + 3
        for conn in conns:
            conn.expect_closed(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        for conn in conns:
            conn.close()
    attack.assert_recovered()
