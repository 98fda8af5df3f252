/// Hears what a server's connections do, for metrics: connections opened and
/// closed, how many streams are open, each GOAWAY sent and each connection
/// that failed. Set as ``HTTP2Configuration/observer``; client connections
/// never call it.
///
/// Every call comes from a connection's event loop, and the loops call at
/// the same time: an observer counts with atomics (metrics handles do). No
/// call is made per frame: streams are reported as a change of their number
/// at most once per loop round of a connection, and only when it changed.
package protocol HTTP2ServerObserver: AnyObject, Sendable {
    /// A connection was accepted and started. Called once per connection,
    /// before any other call about it.
    func connectionOpened()
    /// A connection that ``connectionOpened()`` announced is closed; the
    /// `openStreams` streams reported open on it closed with it. Called
    /// exactly once per connection, last.
    func connectionClosed(openStreams: Int)
    /// The number of open request streams of a connection changed by `delta`
    /// since it was last reported.
    func streamsChanged(by delta: Int)
    /// A GOAWAY frame went out, for `reason`. Each reason is reported at
    /// most once per connection (a burst of GOAWAYs for one cause is one).
    func goAwaySent(_ reason: HTTP2GoAwayReason)
    /// A connection is being closed for `failure` (without a GOAWAY, or
    /// after one that could not be sent).
    func connectionFailed(_ failure: HTTP2ConnectionFailure)
}

/// Why a server sent GOAWAY: a fixed set, named as metrics label them.
package enum HTTP2GoAwayReason: String, CaseIterable, Sendable {
    /// The server is shutting down: the shutdown notice (GOAWAY with the
    /// largest stream id) and the GOAWAY that follows it, once.
    case shutdown
    /// No stream for ``HTTP2Configuration/maxIdle``.
    case idle
    /// The connection reached ``HTTP2Configuration/maxAge``.
    case maxAge = "max_age"
    /// PINGs too close together, past ``HTTP2Configuration/maxPingStrikes``.
    case tooManyPings = "too_many_pings"
    /// RST_STREAMs faster than the rapid-reset limit allows.
    case resetFlood = "reset_flood"
    /// A header block took longer than ``HTTP2Configuration/headerBlockTimeout``.
    case headerTimeout = "header_timeout"
    /// The peer did not acknowledge our SETTINGS within
    /// ``HTTP2Configuration/handshakeTimeout``.
    case handshakeTimeout = "handshake_timeout"
    /// Invalid frames, refused streams or oversized header lists past
    /// ``HTTP2Configuration/maxProtocolViolations``.
    case tooManyViolations = "too_many_violations"
    /// Frames nghttp2 refuses to queue more of (SETTINGS, PING or RST_STREAM
    /// acknowledgements it owes, CONTINUATIONs, SETTINGS entries).
    case frameFlood = "frame_flood"
    /// A connection error by the peer: a wrong preface, or a frame HTTP/2
    /// forbids (nghttp2's own GOAWAY).
    case protocolError = "protocol_error"
    /// The connection could not go on for a reason of ours.
    case internalError = "internal_error"
}

/// Why a server connection failed without going away in order: a fixed set,
/// named as metrics label them.
package enum HTTP2ConnectionFailure: String, CaseIterable, Sendable {
    /// The TLS handshake failed.
    case tlsHandshake = "tls_handshake"
    /// No HTTP/2 preface and SETTINGS within ``HTTP2Configuration/handshakeTimeout``.
    case handshakeTimeout = "handshake_timeout"
    /// A keepalive PING went unanswered for ``HTTP2Configuration/keepaliveTimeout``.
    case keepaliveTimeout = "keepalive_timeout"
    /// Reading or writing the socket failed (a reset by the peer, for one).
    case ioError = "io_error"
}
