import CLinux
import Glibc
import CNGHTTP2

/// One header field, as sent.
package struct HTTP2Header: Sendable, Hashable {
    package var name: String
    package var value: String
    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A header list encoded once into nghttp2's form, for headers sent on every
/// call alike (a successful unary response's headers and trailers): sending
/// it copies no strings, allocates nothing and counts no reference.
///
/// Its memory is allocated once and never freed: make these once for the
/// life of the process (static constants), never per call.
package struct HTTP2FixedHeaders: @unchecked Sendable {
    fileprivate let pairs: UnsafePointer<nghttp2_nv>
    /// The number of headers.
    package let count: Int

    package init(_ headers: [HTTP2Header]) {
        let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: encodedLength(headers))
        let pairs = UnsafeMutableBufferPointer<nghttp2_nv>.allocate(capacity: max(1, headers.count))
        encode(headers, into: bytes, pairs: pairs)
        self.pairs = UnsafePointer(pairs.baseAddress!)
        count = headers.count
    }
}

/// Headers to send: encoded as they go, or encoded once.
package enum HTTP2HeaderList: Sendable {
    case list([HTTP2Header])
    case fixed(HTTP2FixedHeaders)

    /// Calls `body` with the headers as nghttp2 name-value pairs, valid for the call.
    fileprivate func withNameValues<R>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        switch self {
        case .list(let headers): HTTP2.withNameValues(headers, body)
        case .fixed(let fixed): body(fixed.pairs, fixed.count)
        }
    }
}

/// What a HEADERS block is, from the receiver's view.
package enum HeadersCategory: Sendable {
    /// A request's headers (server).
    case request
    /// A response's headers (client).
    case response
    /// Trailers, or another HEADERS after the first.
    case trailers
}

/// A received header block (HEADERS and its CONTINUATIONs), as nghttp2
/// decoded it, in arrival order. It points into the connection's buffer and
/// is valid only during the delegate call that hands it over.
package struct HTTP2HeaderBlock {
    fileprivate struct Field {
        var offset: Int32
        var nameLength: Int32
        var valueLength: Int32
    }
    private let bytes: UnsafeRawPointer?
    private let fields: UnsafePointer<Field>?
    /// The number of header fields.
    package let count: Int

    fileprivate init(bytes: UnsafeRawPointer?, fields: UnsafePointer<Field>?, count: Int) {
        self.bytes = bytes
        self.fields = fields
        self.count = count
    }

    /// The name and value of field `index` (0 ..< ``count``).
    @inline(__always)
    package subscript(index: Int) -> (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        precondition(index >= 0 && index < count, "header field index out of range")
        let field = fields![index]
        let name = bytes! + Int(field.offset)
        return (UnsafeRawBufferPointer(start: name, count: Int(field.nameLength)),
                UnsafeRawBufferPointer(start: name + Int(field.nameLength), count: Int(field.valueLength)))
    }
}

/// Receives a connection's stream events. Every call happens on the
/// connection's event loop, inside or right after nghttp2's processing of the
/// input; a delegate may call back into the connection (submit, send, reset).
package protocol HTTP2ConnectionDelegate: AnyObject {
    /// A whole header block arrived on `stream` (within the connection's
    /// header list limit); `endStream` when the peer sends nothing more.
    /// Delivered once per block, not per field: one call, whatever the
    /// number of headers.
    func headersReceived(_ connection: HTTP2Connection, stream: Int32, category: HeadersCategory, headers: HTTP2HeaderBlock, endStream: Bool)
    /// Body bytes arrived on `stream`.
    func data(_ connection: HTTP2Connection, stream: Int32, bytes: UnsafeRawBufferPointer)
    /// The peer finished sending on `stream` with a DATA frame (END_STREAM).
    func peerFinished(_ connection: HTTP2Connection, stream: Int32)
    /// `stream` is closed; `errorCode` is 0 for a normal close, else the
    /// RST_STREAM (or GOAWAY) code.
    func streamClosed(_ connection: HTTP2Connection, stream: Int32, errorCode: UInt32)
    /// The bytes queued on `stream` fell below the low-water mark.
    func streamWritable(_ connection: HTTP2Connection, stream: Int32)
    /// The peer sent GOAWAY: streams above `lastStreamID` were not processed.
    func goAwayReceived(_ connection: HTTP2Connection, lastStreamID: Int32, errorCode: UInt32)
    /// The connection is ready for requests (client, after connect and TLS).
    func connectionActive(_ connection: HTTP2Connection)
    /// The connection is closed; `error` says why when it was not orderly.
    func connectionClosed(_ connection: HTTP2Connection, error: HTTP2Error?)
}

/// Limits and settings of a connection.
package struct HTTP2Configuration: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise.
    package var maxConcurrentStreams: UInt32 = 100
    /// SETTINGS_INITIAL_WINDOW_SIZE we advertise (per stream receive window).
    package var initialWindowSize: UInt32 = 1 << 20
    /// Our connection-level receive window.
    package var connectionWindowSize: Int32 = 16 << 20
    /// SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce.
    package var maxHeaderListSize: UInt32 = 8 << 10
    /// Bytes of serialized output we buffer for the socket; beyond it frames
    /// wait inside nghttp2 until the socket drains.
    package var maxOutboundBytes: Int = 4 << 20
    /// Bytes queued on one stream above which `streamWritable` waits.
    package var streamHighWater: Int = 256 << 10
    /// Below this, queued bytes make the stream writable again.
    package var streamLowWater: Int = 64 << 10
    /// Received DATA counts against the flow-control windows until the
    /// application calls ``HTTP2Connection/consume(_:on:)``, so a peer cannot
    /// send faster than we read.
    package var manualFlowControl = true
    /// Send a PING after this long without reading anything; close when it is
    /// not answered within ``keepaliveTimeout``. nil: no keepalive.
    package var keepaliveInterval: Duration? = .seconds(7_200)
    /// How long a keepalive PING may go unanswered.
    package var keepaliveTimeout: Duration = .seconds(20)
    /// PINGs closer together than this are strikes (the peer's keepalive is
    /// too aggressive).
    package var minPeerPingInterval: Duration = .seconds(300)
    /// Strikes tolerated before GOAWAY(ENHANCE_YOUR_CALM, "too_many_pings").
    package var maxPingStrikes = 2
    /// Close (GOAWAY, then when idle) after this long without an open stream. nil: never.
    package var maxIdle: Duration? = nil
    /// Close gracefully after this long in all. nil: never.
    package var maxAge: Duration? = nil
    /// The peer must complete the connection preface and SETTINGS, and
    /// acknowledge ours, within this.
    package var handshakeTimeout: Duration = .seconds(10)
    /// A header block (HEADERS and its CONTINUATIONs) must arrive within this.
    package var headerBlockTimeout: Duration = .seconds(10)
    /// Invalid frames, or streams we had to reset, tolerated before
    /// GOAWAY(ENHANCE_YOUR_CALM).
    package var maxProtocolViolations = 100
    /// RST_STREAM frames a peer may send in a burst, then per second
    /// (CVE-2023-44487, rapid reset); past them, GOAWAY(ENHANCE_YOUR_CALM).
    package var maxStreamResetBurst = 1000
    package var streamResetsPerSecond = 33
    /// Told of a server connection's opening, streams, GOAWAYs, failures
    /// and close (client connections ignore it). nil: nobody listens.
    package var observer: (any HTTP2ServerObserver)? = nil

    package init() {}
}

/// One HTTP/2 connection over a non-blocking socket, driven by one event loop:
/// an nghttp2 session, batched reads (one `read` feeds one
/// `nghttp2_session_mem_recv`) and batched writes (everything nghttp2 has to
/// send gathered into one buffer, one `write`).
///
/// Confined to its loop: every method must be called on ``loop``; other
/// threads reach it through `loop.execute`. It stays alive while it is
/// registered with the loop, and deregisters itself when closed.
package final class HTTP2Connection: EventLoopSource, @unchecked Sendable {
    /// Whether this end accepted or opened the connection.
    package enum Role: Sendable { case server, client }

    /// The loop the connection runs on.
    package let loop: EventLoop
    /// Server or client.
    package let role: Role
    /// The peer, `host:port`.
    package let peer: String
    /// Receives the stream events. Set before the connection starts.
    package var delegate: HTTP2ConnectionDelegate?

    private let fd: Int32
    private let configuration: HTTP2Configuration
    private var transport: Transport
    private var session: OpaquePointer?
    /// nghttp2's allocations for the session; released after it.
    private let memory = SessionMemory()
    private var outbound: [StreamKey: OutboundStream] = [:]
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var watchingWrite = false
    private var flushScheduled = false
    private var closed = false
    private var connecting: Bool
    private var pendingWritable: [Int32] = []
    /// Header bytes of the block being received, per HTTP/2's size rule
    /// (blocks never interleave, so one counter serves all streams).
    private var headerListBytes = 0
    /// The fields of the block being received: their bytes (each name
    /// followed by its value) and where each one is. Grown as blocks need,
    /// up to what the header list limit lets through; kept between blocks.
    private var blockBytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var blockBytesUsed = 0
    private var blockFields = UnsafeMutableBufferPointer<HTTP2HeaderBlock.Field>(start: nil, count: 0)
    private var blockFieldCount = 0
    /// Open streams (for idleness).
    private var openStreams = 0
    private var lastPeerPing: UInt64 = 0
    private var pingStrikes = 0
    private var violations = 0
    /// Token bucket of the peer's RST_STREAMs: tokens left, and when it was refilled.
    private var resetTokens = -1
    private var resetRefilled: UInt64 = 0
    /// Request streams refused for exceeding SETTINGS_MAX_CONCURRENT_STREAMS,
    /// reset but not closed yet (they never count as open).
    private var refusedStreams = Set<StreamKey>()
    /// Whether our first SETTINGS has gone out (see ``advertiseStreamLimit``).
    private var settingsAdvertised = false
    private var peerSettingsReceived = false
    private var ourSettingsAcknowledged = false
    /// When the header block being received began (0: none in progress).
    private var headerBlockStarted: UInt64 = 0
    private var headerTimer: EventLoop.Timer?
    private var awaitingPingAck = false
    private var lastRead: UInt64 = EventLoop.now()
    private var timers: [EventLoop.Timer] = []
    private var idleTimer: EventLoop.Timer?
    /// Why the connection is going away, when it is.
    package private(set) var goingAway = false
    /// The configuration's observer while the connection is counted as open
    /// (a server connection, from ``start()`` to ``close(error:)``).
    private var observer: (any HTTP2ServerObserver)?
    /// The open streams the observer was last told of.
    private var reportedStreams = 0
    /// The GOAWAYs submitted and not yet seen going out, with why, oldest first.
    private var submittedGoAways: [(code: UInt32, reason: HTTP2GoAwayReason)] = []
    /// The reasons the observer was told of, one bit each by their order.
    private var reportedGoAways: UInt32 = 0

    /// Queued DATA for one stream, read by nghttp2 through the data provider.
    private struct OutboundStream {
        var bytes: [UInt8] = []
        var offset = 0
        var finished = false
        var trailers: HTTP2HeaderList?
        var deferred = false
        var pending: Int { bytes.count - offset }

        /// How a read of the body left it.
        enum End {
            /// More to send, now or later.
            case more
            /// Nothing queued and not finished: nghttp2 waits until resumed.
            case deferred
            /// All sent: END_STREAM on this DATA.
            case endStream
            /// All sent: the trailers end the stream.
            case trailers(HTTP2HeaderList)
        }

        /// Copies up to `length` queued bytes into `buffer` for a DATA frame.
        mutating func read(into buffer: UnsafeMutablePointer<UInt8>, length: Int, lowWater: Int)
            -> (count: Int, becameWritable: Bool, end: End) {
            let count = min(length, pending)
            var becameWritable = false
            if count > 0 {
                let start = offset
                bytes.withUnsafeBufferPointer { source in
                    buffer.update(from: source.baseAddress! + start, count: count)
                }
                offset += count
                becameWritable = pending + count >= lowWater && pending < lowWater
            }
            guard pending == 0 else { return (count, becameWritable, .more) }
            bytes.removeAll(keepingCapacity: bytes.capacity <= 64 << 10)
            offset = 0
            if finished {
                if let trailers { return (count, becameWritable, .trailers(trailers)) }
                return (count, becameWritable, .endStream)
            }
            if count == 0 {
                deferred = true
                return (count, becameWritable, .deferred)
            }
            return (count, becameWritable, .more)
        }
    }

    /// Wraps an accepted (server) or connecting (client) socket. Call
    /// ``start()`` on the loop afterwards.
    package init(fd: Int32, role: Role, loop: EventLoop, configuration: HTTP2Configuration, tls: TLSContext?, serverName: String? = nil) throws(HTTP2Error) {
        self.fd = fd
        self.role = role
        self.loop = loop
        self.configuration = configuration
        self.connecting = role == .client
        self.peer = role == .server ? Socket.peerName(fd) : "server"
        if let tls {
            transport = .tls(try TLSConnection(context: tls, fd: fd, role: role, serverName: serverName))
        } else {
            transport = .plain
        }
        try makeSession()
    }

    deinit {
        if let session { nghttp2_session_del(session) }
        memory.release()
        blockBytes.deallocate()
        blockFields.deallocate()
    }

    /// Registers with the loop and sends our SETTINGS. Loop thread only.
    package func start() throws(HTTP2Error) {
        Socket.setNoDelay(fd)
        let events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (connecting ? EPOLLOUT.rawValue : 0)
        watchingWrite = connecting
        try loop.register(fd, events: events, source: self)
        if role == .server, let observer = configuration.observer {
            self.observer = observer
            observer.connectionOpened()
        }
        if !connecting { handshakeAndFlush() }
        startTimers()
    }

    private func startTimers() {
        timers.append(loop.schedule(after: configuration.handshakeTimeout) { [self] in
            if peerSettingsReceived && !ourSettingsAcknowledged {
                // An HTTP/2 peer that does not acknowledge our SETTINGS (RFC 9113 section 6.5.3).
                goAway(code: UInt32(NGHTTP2_SETTINGS_TIMEOUT.rawValue), debug: "SETTINGS not acknowledged", reason: .handshakeTimeout)
                closeAfterFlush = true
                flush()
            } else if !peerSettingsReceived {
                fail(.handshakeTimeout, HTTP2Error(code: .protocolError, message: "the peer did not complete the HTTP/2 handshake (SETTINGS and its ACK) in time"))
            }
        })
        if let maxAge = configuration.maxAge {
            timers.append(loop.schedule(after: maxAge) { [self] in
                goAway(code: 0, debug: "max_age", reason: .maxAge)
            })
        }
        if let interval = configuration.keepaliveInterval { scheduleKeepalive(interval) }
        resetIdleTimer()
    }

    private func scheduleKeepalive(_ interval: Duration) {
        timers.removeAll { $0.isDone }
        timers.append(loop.schedule(after: interval) { [self] in
            guard !closed else { return }
            let quiet = EventLoop.now() &- lastRead
            let (seconds, attoseconds) = interval.components
            let intervalNanos = UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
            if quiet >= intervalNanos && !awaitingPingAck {
                awaitingPingAck = true
                ping()
                timers.append(loop.schedule(after: configuration.keepaliveTimeout) { [self] in
                    if awaitingPingAck {
                        fail(.keepaliveTimeout, HTTP2Error(code: .closed, message: "keepalive PING not answered"))
                    }
                })
            }
            scheduleKeepalive(interval)
        })
    }

    /// Checks, one timeout after it is armed, that no header block has been
    /// dragging on that long (a slow-header attack); re-arms while blocks come.
    private func armHeaderTimer() {
        headerTimer = loop.schedule(after: configuration.headerBlockTimeout) { [self] in
            headerTimer = nil
            guard !closed, headerBlockStarted != 0 else { return }
            let (seconds, attoseconds) = configuration.headerBlockTimeout.components
            let limit = UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
            if EventLoop.now() &- headerBlockStarted >= limit {
                goAway(code: UInt32(NGHTTP2_ENHANCE_YOUR_CALM.rawValue), debug: "header block timeout", reason: .headerTimeout)
                closeAfterFlush = true
                flush()
            } else {
                armHeaderTimer()
            }
        }
    }

    private func resetIdleTimer() {
        idleTimer?.cancel()
        idleTimer = nil
        guard let maxIdle = configuration.maxIdle, openStreams == 0, !closed else { return }
        idleTimer = loop.schedule(after: maxIdle) { [self] in
            if openStreams == 0 { goAway(code: 0, debug: "max_idle", reason: .idle) }
        }
    }

    /// Counts a protocol violation by the peer; past the limit the connection
    /// is told to calm down and closed.
    private func violation(_ what: String) {
        violations += 1
        if violations > configuration.maxProtocolViolations {
            goAway(code: UInt32(NGHTTP2_ENHANCE_YOUR_CALM.rawValue), debug: what, reason: .tooManyViolations)
            closeAfterFlush = true
        }
    }
    private var closeAfterFlush = false

    /// Tells nghttp2 that `count` bytes of `stream`'s DATA have been taken by
    /// the application, reopening the flow-control windows by as much.
    package func consume(_ count: Int, on stream: Int32) {
        guard configuration.manualFlowControl, count > 0, let session, !closed else { return }
        if nghttp2_session_consume(session, stream, count) != 0 {
            // The stream is gone: its bytes still count against the connection.
            nghttp2_session_consume_connection(session, count)
        }
        scheduleFlush()
    }

    // MARK: Submitting (loop thread only)

    /// Sends response headers on `stream` (server). With `endStream`, the
    /// headers end the stream (a trailers-only response); otherwise DATA and
    /// trailers follow through ``send(_:on:)`` and ``finish(_:trailers:)``.
    package func respond(_ stream: Int32, headers: [HTTP2Header], endStream: Bool) {
        guard let session, !closed else { return }
        let rc: Int32 = withNameValues(headers) { nva, count in
            if endStream {
                return nghttp2_submit_response(session, stream, nva, count, nil)
            }
            outbound[StreamKey(stream)] = OutboundStream()
            var provider = nghttp2_data_provider()
            provider.read_callback = dataReadCallback
            return nghttp2_submit_response(session, stream, nva, count, &provider)
        }
        if rc != 0 { reset(stream, code: UInt32(NGHTTP2_INTERNAL_ERROR.rawValue)) }
        scheduleFlush()
    }

    /// Sends a whole response on `stream` (server) in one submission: the
    /// headers, `body` as its DATA, then `trailers`.
    package func respond(_ stream: Int32, headers: HTTP2HeaderList, body: [UInt8], trailers: HTTP2HeaderList) {
        guard let session, !closed else { return }
        outbound[StreamKey(stream)] = OutboundStream(bytes: body, finished: true, trailers: trailers)
        let rc: Int32 = headers.withNameValues { nva, count in
            var provider = nghttp2_data_provider()
            provider.read_callback = dataReadCallback
            return nghttp2_submit_response(session, stream, nva, count, &provider)
        }
        if rc != 0 { reset(stream, code: UInt32(NGHTTP2_INTERNAL_ERROR.rawValue)) }
        scheduleFlush()
    }

    /// Opens a stream with request headers (client); the body follows through
    /// ``send(_:on:)`` and ``finish(_:trailers:)`` unless `endStream`.
    /// Returns the stream id, or nil when the session refuses (GOAWAY, closed).
    package func request(headers: [HTTP2Header], endStream: Bool) -> Int32? {
        guard let session, !closed else { return nil }
        var hasBody = false
        let id: Int32 = withNameValues(headers) { nva, count in
            if endStream {
                return nghttp2_submit_request(session, nil, nva, count, nil, nil)
            }
            hasBody = true
            var provider = nghttp2_data_provider()
            provider.read_callback = dataReadCallback
            return nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        guard id > 0 else { return nil }
        if hasBody { outbound[StreamKey(id)] = OutboundStream() }
        scheduleFlush()
        return id
    }

    /// Queues body bytes on `stream`. Returns the bytes now queued on the
    /// stream, so the caller can wait for ``HTTP2ConnectionDelegate/streamWritable``
    /// above the high-water mark.
    @discardableResult
    package func send(_ bytes: [UInt8], on stream: Int32) -> Int {
        guard var out = outbound[StreamKey(stream)], !out.finished, let session else { return 0 }
        outbound[StreamKey(stream)] = nil  // Avoid a copy of the buffer while appending.
        if out.offset > 0 && out.offset >= out.bytes.count / 2 {
            out.bytes.removeFirst(out.offset)
            out.offset = 0
        }
        out.bytes.append(contentsOf: bytes)
        let wasDeferred = out.deferred
        out.deferred = false
        let pending = out.pending
        outbound[StreamKey(stream)] = out
        if wasDeferred { nghttp2_session_resume_data(session, stream) }
        scheduleFlush()
        return pending
    }

    /// Ends the body of `stream`, with trailers if given.
    package func finish(_ stream: Int32, trailers: [HTTP2Header]?) {
        guard var out = outbound[StreamKey(stream)], !out.finished, let session else { return }
        out.finished = true
        out.trailers = trailers.map { .list($0) }
        let wasDeferred = out.deferred
        out.deferred = false
        outbound[StreamKey(stream)] = out
        if wasDeferred { nghttp2_session_resume_data(session, stream) }
        scheduleFlush()
    }

    /// Bytes queued on `stream` and not yet taken by nghttp2.
    package func pendingBytes(on stream: Int32) -> Int { outbound[StreamKey(stream)]?.pending ?? 0 }

    /// Whether the stream is above its high-water mark.
    package func isCongested(_ stream: Int32) -> Bool { pendingBytes(on: stream) >= configuration.streamHighWater }

    /// Resets `stream` with an HTTP/2 error code (CANCEL is 8).
    package func reset(_ stream: Int32, code: UInt32) {
        guard let session, !closed else { return }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, code)
        outbound[StreamKey(stream)] = nil
        scheduleFlush()
    }

    /// Sends GOAWAY with the last stream processed; with `code` 0 (NO_ERROR)
    /// the streams in flight finish and the connection closes when idle.
    /// The observer hears of it, for `reason`, when the frame goes out.
    package func goAway(code: UInt32, debug: String = "", reason: HTTP2GoAwayReason) {
        guard let session, !closed else { return }
        goingAway = true
        let last = nghttp2_session_get_last_proc_stream_id(session)
        var bytes = Array(debug.utf8)
        if nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, code, &bytes, bytes.count) == 0, observer != nil {
            submittedGoAways.append((code, reason))
        }
        scheduleFlush()
    }

    /// A GOAWAY frame (`frame`, its 9-byte header and 8 bytes of payload at
    /// least) is going out: tells the observer why. The graceful shutdown
    /// notice has the largest stream id and NO_ERROR; a GOAWAY we submitted
    /// is matched, in order, by its error code (older ones nghttp2 dropped
    /// are forgotten); any other is nghttp2's own, for a connection error of
    /// the peer's. Each reason is told once per connection: the shutdown
    /// notice and the GOAWAY after it (if the client has not left in
    /// between) once, a burst of violations once.
    private func goAwayWritten(_ frame: UnsafePointer<UInt8>) {
        guard let observer else { return }
        func word(at offset: Int) -> UInt32 {
            UInt32(frame[offset]) << 24 | UInt32(frame[offset + 1]) << 16 | UInt32(frame[offset + 2]) << 8 | UInt32(frame[offset + 3])
        }
        let lastStream = word(at: 9) & 0x7fff_ffff
        let code = word(at: 13)
        let reason: HTTP2GoAwayReason
        if lastStream == 0x7fff_ffff && code == NGHTTP2_NO_ERROR.rawValue {
            reason = .shutdown
        } else if let index = submittedGoAways.firstIndex(where: { $0.code == code }) {
            reason = submittedGoAways[index].reason
            submittedGoAways.removeSubrange(...index)
        } else {
            switch code {
            case NGHTTP2_ENHANCE_YOUR_CALM.rawValue: reason = .frameFlood
            case NGHTTP2_INTERNAL_ERROR.rawValue: reason = .internalError
            default: reason = .protocolError
            }
        }
        let bit: UInt32 = 1 << HTTP2GoAwayReason.allCases.firstIndex(of: reason)!
        guard reportedGoAways & bit == 0 else { return }
        reportedGoAways |= bit
        observer.goAwaySent(reason)
    }

    /// Closes the connection for `failure`, which the observer hears of.
    private func fail(_ failure: HTTP2ConnectionFailure, _ error: HTTP2Error) {
        if !closed { observer?.connectionFailed(failure) }
        close(error: error)
    }

    /// Tells the observer how the number of open streams changed since it
    /// was last told, if it did.
    @inline(__always)
    private func reportStreams() {
        guard openStreams != reportedStreams, let observer else { return }
        observer.streamsChanged(by: openStreams - reportedStreams)
        reportedStreams = openStreams
    }

    /// Sends the graceful-shutdown notice (GOAWAY with the maximum stream id),
    /// so the client stops opening streams while we finish the last ones.
    package func shutdownNotice() {
        guard let session, !closed, role == .server else { return }
        nghttp2_submit_shutdown_notice(session)
        scheduleFlush()
    }

    /// Sends a PING (keepalive).
    package func ping() {
        guard let session, !closed else { return }
        nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
        scheduleFlush()
    }

    /// Closes the connection now: every open stream is closed with an error.
    package func close(error: HTTP2Error? = nil) {
        guard !closed else { return }
        closed = true
        for timer in timers { timer.cancel() }
        timers.removeAll()
        headerTimer?.cancel()
        idleTimer?.cancel()
        loop.deregister(fd)
        transport.shutdown()
        CLinux.close(fd)
        // The delegate ends the streams it knows when it hears of the close.
        let delegate = self.delegate
        outbound.removeAll()
        if let session {
            nghttp2_session_del(session)
            self.session = nil
        }
        delegate?.connectionClosed(self, error: error)
        self.delegate = nil
        if let observer {
            self.observer = nil
            submittedGoAways.removeAll()
            observer.connectionClosed(openStreams: reportedStreams)
        }
    }

    // MARK: I/O

    package func loopStopped() {
        close(error: HTTP2Error(code: .closed, message: "the event loop stopped"))
    }

    package func handleEvents(_ events: UInt32) {
        if closed { return }
        if connecting {
            guard events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) == 0 else {
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                close(error: .system("connect", code == 0 ? ECONNREFUSED : code))
                return
            }
            if events & EPOLLOUT.rawValue != 0 {
                connecting = false
                handshakeAndFlush()
            }
            return
        }
        var justHandshaked = false
        if !transport.handshakeDone {
            // TLS first: no HTTP/2 byte moves before the handshake is done.
            handshakeAndFlush()
            if closed || !transport.handshakeDone { return }
            justHandshaked = true  // TLS may already hold the peer's first bytes.
        }
        if justHandshaked || events & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0 {
            readAvailable()
            if closed { return }
        }
        flush()
    }

    private func handshakeAndFlush() {
        if !transport.handshakeDone {
            switch transport.handshake() {
            case .done:
                if role == .client { delegate?.connectionActive(self) }
            case .wantRead:
                setWatchWrite(false)
                return
            case .wantWrite:
                setWatchWrite(true)
                return
            case .failed(let error):
                fail(.tlsHandshake, error)
                return
            }
        } else if role == .client && transport.isPlain && !activeSignalled {
            activeSignalled = true
            delegate?.connectionActive(self)
        }
        flush()
    }
    private var activeSignalled = false

    private func readAvailable() {
        guard let session else { return }
        let buffer = loop.readBuffer
        var rounds = 0
        while rounds < 8 && !closed {
            rounds += 1
            let n = transport.read(fd: fd, into: buffer)
            if n > 0 {
                lastRead = EventLoop.now()
                let consumed = nghttp2_session_mem_recv(session, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), n)
                if consumed < 0 {
                    // A fatal error (nghttp2 queues GOAWAY itself for protocol
                    // errors, which it returns as consumed input): say why, then close.
                    fatalGoAway(Int32(consumed))
                    flush()
                    close(error: HTTP2Error(code: .protocolError, message: String(cString: nghttp2_strerror(Int32(consumed)))))
                    return
                }
                deliverWritable()
                if n < buffer.count && !transport.hasBufferedInput { break }
            } else if n == 0 {
                close(error: nil)
                return
            } else if n == -Int(EAGAIN) {
                break
            } else {
                fail(.ioError, transport.lastError ?? .system("read", Int32(-n)))
                return
            }
        }
        if transport.hasBufferedInput && !closed {
            // Decrypted bytes wait inside TLS, where epoll cannot see them.
            loop.atEndOfRound { [self] in
                readAvailable()
                flush()
            }
        }
    }

    /// A server's SETTINGS_MAX_CONCURRENT_STREAMS goes to the peer but not to
    /// nghttp2: past an acknowledged limit nghttp2 fails the whole connection
    /// (GOAWAY PROTOCOL_ERROR), where RFC 9113 section 5.1.2 asks for a stream
    /// error. So the limit is enforced in ``beginHeaders(_:)`` (RST_STREAM
    /// REFUSED_STREAM), and its entry is added here to the first frame nghttp2
    /// sends, the SETTINGS submitted in ``makeSession()``.
    private func advertiseStreamLimit(at start: Int) {
        settingsAdvertised = true
        guard role == .server else { return }
        precondition(output.count - start >= 9 && output[start + 3] == UInt8(NGHTTP2_SETTINGS.rawValue) && output[start + 4] == 0,
                     "the first frame sent is not our SETTINGS")
        let length = (Int(output[start]) << 16 | Int(output[start + 1]) << 8 | Int(output[start + 2])) + 6
        output[start] = UInt8(truncatingIfNeeded: length >> 16)
        output[start + 1] = UInt8(truncatingIfNeeded: length >> 8)
        output[start + 2] = UInt8(truncatingIfNeeded: length)
        let limit = configuration.maxConcurrentStreams
        let entry: [UInt8] = [0, UInt8(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                              UInt8(truncatingIfNeeded: limit >> 24), UInt8(truncatingIfNeeded: limit >> 16),
                              UInt8(truncatingIfNeeded: limit >> 8), UInt8(truncatingIfNeeded: limit)]
        output.insert(contentsOf: entry, at: start + 9)
    }

    /// The GOAWAY for a fatal error of `nghttp2_session_mem_recv`: floods
    /// (queued ACKs, CONTINUATIONs) are ENHANCE_YOUR_CALM, a wrong preface
    /// PROTOCOL_ERROR, the rest INTERNAL_ERROR.
    private func fatalGoAway(_ error: Int32) {
        let code: nghttp2_error_code
        let reason: HTTP2GoAwayReason
        switch error {
        case NGHTTP2_ERR_FLOODED.rawValue, NGHTTP2_ERR_TOO_MANY_CONTINUATIONS.rawValue:
            (code, reason) = (NGHTTP2_ENHANCE_YOUR_CALM, .frameFlood)
        case NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue:
            (code, reason) = (NGHTTP2_PROTOCOL_ERROR, .protocolError)
        default:
            (code, reason) = (NGHTTP2_INTERNAL_ERROR, .internalError)
        }
        goAway(code: code.rawValue, debug: String(cString: nghttp2_strerror(error)), reason: reason)
    }

    private func scheduleFlush() {
        if flushScheduled || closed { return }
        flushScheduled = true
        loop.atEndOfRound { [self] in
            flushScheduled = false
            flush()
        }
    }

    /// Gathers what nghttp2 wants to send into one buffer and writes it.
    private func flush() {
        guard let session, !closed, transport.handshakeDone else { return }
        // Fill the buffer from nghttp2 and write it, again while the socket
        // takes all of it and nghttp2 has more: what stays inside nghttp2 when
        // the buffer is full would otherwise wait for the next event, which
        // may never come (the peer waiting for exactly those bytes).
        var socketFull = false
        while !socketFull {
            var moreInSession = false
            while true {
                guard output.count - outputOffset < configuration.maxOutboundBytes else {
                    moreInSession = true
                    break
                }
                var chunk: UnsafePointer<UInt8>?
                let n = nghttp2_session_mem_send(session, &chunk)
                if n < 0 {
                    close(error: HTTP2Error(code: .protocolError, message: String(cString: nghttp2_strerror(Int32(n)))))
                    return
                }
                if n == 0 { break }
                // Each chunk is one frame, or one CONTINUATION of a header
                // block: it begins with a frame header (type at byte 3).
                if n >= 17 && chunk![3] == UInt8(NGHTTP2_GOAWAY.rawValue) { goAwayWritten(chunk!) }
                let start = output.count
                output.append(contentsOf: UnsafeBufferPointer(start: chunk, count: n))
                if !settingsAdvertised { advertiseStreamLimit(at: start) }
            }
            deliverWritable()
            if closed { return }
            while outputOffset < output.count {
                let n = output.withUnsafeBytes { raw in
                    transport.write(fd: fd, UnsafeRawBufferPointer(rebasing: raw[outputOffset...]))
                }
                if n > 0 {
                    outputOffset += n
                } else if n == -Int(EAGAIN) {
                    socketFull = true
                    break
                } else {
                    fail(.ioError, .system("write", Int32(-n)))
                    return
                }
            }
            if outputOffset == output.count {
                output.removeAll(keepingCapacity: output.capacity <= 256 << 10)
                outputOffset = 0
            }
            if !moreInSession { break }
        }
        reportStreams()
        let backlog = output.count - outputOffset
        // Reading goes on while the peer is slow to take what we send: both
        // sides waiting for the other to read would deadlock (two peers each
        // sending large bodies). What we hold is bounded all the same: this
        // buffer by maxOutboundBytes; DATA by the peer's flow-control windows
        // and each stream's high-water mark; control frames (PING and
        // SETTINGS acknowledgements, RST_STREAM) by nghttp2, which ends a
        // session whose queue of them floods.
        setWatchWrite(backlog > 0)
        if backlog == 0 && (closeAfterFlush || (nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0)) {
            close(error: closeAfterFlush ? HTTP2Error(code: .protocolError, message: "closed after too many protocol violations") : nil)
        }
    }

    private func setWatchWrite(_ watch: Bool) {
        if watch == watchingWrite { return }
        watchingWrite = watch
        updateEvents()
    }

    private func updateEvents() {
        var events = EPOLLRDHUP.rawValue | EPOLLIN.rawValue
        if watchingWrite { events |= EPOLLOUT.rawValue }
        loop.modify(fd, events: events)
    }

    private func deliverWritable() {
        while !pendingWritable.isEmpty {
            let streams = pendingWritable
            pendingWritable.removeAll()
            for stream in streams { delegate?.streamWritable(self, stream: stream) }
        }
    }

    // MARK: nghttp2 glue

    private func makeSession() throws(HTTP2Error) {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw HTTP2Error(code: .protocolError, message: "nghttp2_session_callbacks_new failed")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecv)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
        nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, onInvalidFrame)

        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else {
            throw HTTP2Error(code: .protocolError, message: "nghttp2_option_new failed")
        }
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_closed_streams(option, 1)
        if configuration.manualFlowControl { nghttp2_option_set_no_auto_window_update(option, 1) }
        // PINGs are acknowledged by us, so a flood past the strike limit is not.
        nghttp2_option_set_no_auto_ping_ack(option, 1)
        nghttp2_option_set_max_outbound_ack(option, 1000)
        nghttp2_option_set_max_settings(option, 32)
        nghttp2_option_set_max_continuations(option, 8)
        nghttp2_option_set_stream_reset_rate_limit(option, UInt64(configuration.maxStreamResetBurst), UInt64(configuration.streamResetsPerSecond))
        nghttp2_option_set_max_send_header_block_length(option, 64 << 10)

        let context = Unmanaged.passUnretained(self).toOpaque()
        var session: OpaquePointer?
        var allocator = memory.allocator
        let rc = role == .server
            ? nghttp2_session_server_new3(&session, callbacks, context, option, &allocator)
            : nghttp2_session_client_new3(&session, callbacks, context, option, &allocator)
        guard rc == 0, let session else {
            throw HTTP2Error(code: .protocolError, message: "nghttp2 session: \(String(cString: nghttp2_strerror(rc)))")
        }
        self.session = session

        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: configuration.initialWindowSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: configuration.maxHeaderListSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES.rawValue), value: 1),
        ]
        if role == .client {
            // A server's limit goes out through advertiseStreamLimit(at:).
            settings.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: configuration.maxConcurrentStreams))
            settings.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        guard nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count) == 0 else {
            throw HTTP2Error(code: .protocolError, message: "nghttp2_submit_settings failed")
        }
        nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, configuration.connectionWindowSize)
    }

    /// Runs `body` with the connection behind nghttp2's user data, without
    /// retaining it: the connection owns the session, so it is alive for as
    /// long as the session calls back.
    @inline(__always)
    fileprivate static func with<R>(_ userData: UnsafeMutableRawPointer?, _ body: (HTTP2Connection) -> R) -> R {
        Unmanaged<HTTP2Connection>.fromOpaque(userData!)._withUnsafeGuaranteedRef(body)
    }

    fileprivate func category(of frame: UnsafePointer<nghttp2_frame>) -> HeadersCategory {
        // Read in place: the union's member accessors copy the whole frame.
        let offset = MemoryLayout<nghttp2_headers>.offset(of: \.cat)!
        let category = UnsafeRawPointer(frame).load(fromByteOffset: offset, as: nghttp2_headers_category.self)
        switch category {
        case NGHTTP2_HCAT_REQUEST: return .request
        case NGHTTP2_HCAT_RESPONSE: return .response
        default: return .trailers
        }
    }

    fileprivate func beginHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let stream = frameHeader(frame).stream_id
        headerListBytes = 0
        blockBytesUsed = 0
        blockFieldCount = 0
        // The time of the read that brought the block's first bytes.
        headerBlockStarted = lastRead
        if headerTimer == nil { armHeaderTimer() }
        let category = category(of: frame)
        if category == .request {
            if role == .server && openStreams >= Int(configuration.maxConcurrentStreams) {
                // Over our limit: refused once the block is read (the delegate never sees it).
                violation("too many concurrent streams")
                refusedStreams.insert(StreamKey(stream))
                rejectedBlock = (stream, NGHTTP2_REFUSED_STREAM.rawValue)
                return 0
            }
            openStreams += 1
            idleTimer?.cancel()
            idleTimer = nil
        }
        return 0
    }

    fileprivate func header(_ frame: UnsafePointer<nghttp2_frame>, _ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Int32 {
        // A rejected block is still read to its end (HPACK state, and the
        // header-block timer ends with it), then the stream is reset.
        if let rejectedBlock, rejectedBlock.stream == frameHeader(frame).stream_id { return 0 }
        // nghttp2 1.52 does not enforce MAX_HEADER_LIST_SIZE on input: count it here.
        headerListBytes += name.count + value.count + 32
        if headerListBytes > Int(configuration.maxHeaderListSize) {
            violation("header list too large")
            // gRPC reads ENHANCE_YOUR_CALM as RESOURCE_EXHAUSTED.
            rejectedBlock = (frameHeader(frame).stream_id, NGHTTP2_ENHANCE_YOUR_CALM.rawValue)
            return 0
        }
        keep(name, value)
        return 0
    }

    /// Appends a field to the block being received. Within the header list
    /// limit, so the buffers never outgrow it.
    private func keep(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        let length = name.count + value.count
        if blockBytesUsed + length > blockBytes.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(512, (blockBytesUsed + length) * 2), alignment: 1)
            if blockBytesUsed > 0 { grown.baseAddress!.copyMemory(from: blockBytes.baseAddress!, byteCount: blockBytesUsed) }
            blockBytes.deallocate()
            blockBytes = grown
        }
        if blockFieldCount == blockFields.count {
            let grown = UnsafeMutableBufferPointer<HTTP2HeaderBlock.Field>.allocate(capacity: max(16, blockFieldCount * 2))
            if blockFieldCount > 0 { _ = grown.initialize(fromContentsOf: blockFields[..<blockFieldCount]) }
            blockFields.deallocate()
            blockFields = grown
        }
        let start = blockBytes.baseAddress! + blockBytesUsed
        if name.count > 0 { start.copyMemory(from: name.baseAddress!, byteCount: name.count) }
        if value.count > 0 { (start + name.count).copyMemory(from: value.baseAddress!, byteCount: value.count) }
        (blockFields.baseAddress! + blockFieldCount).initialize(to: HTTP2HeaderBlock.Field(
            offset: Int32(blockBytesUsed), nameLength: Int32(name.count), valueLength: Int32(value.count)))
        blockBytesUsed += length
        blockFieldCount += 1
    }
    /// The header block being read belongs to a stream that is reset with
    /// `code` once the block ends.
    private var rejectedBlock: (stream: Int32, code: UInt32)?

    fileprivate func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let hd = frameHeader(frame)
        let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(hd.type) {
        case NGHTTP2_HEADERS.rawValue:
            headerListBytes = 0
            headerBlockStarted = 0
            if let rejected = rejectedBlock, rejected.stream == hd.stream_id {
                rejectedBlock = nil
                reset(hd.stream_id, code: rejected.code)
                break
            }
            let block = HTTP2HeaderBlock(bytes: UnsafeRawPointer(blockBytes.baseAddress), fields: UnsafePointer(blockFields.baseAddress),
                                         count: blockFieldCount)
            delegate?.headersReceived(self, stream: hd.stream_id, category: category(of: frame), headers: block, endStream: endStream)
        case NGHTTP2_DATA.rawValue:
            if endStream { delegate?.peerFinished(self, stream: hd.stream_id) }
        case NGHTTP2_RST_STREAM.rawValue:
            resetReceived()
        case NGHTTP2_GOAWAY.rawValue:
            delegate?.goAwayReceived(self, lastStreamID: frame.pointee.goaway.last_stream_id, errorCode: frame.pointee.goaway.error_code)
        case NGHTTP2_SETTINGS.rawValue:
            if hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 {
                ourSettingsAcknowledged = true
            } else {
                peerSettingsReceived = true
            }
        case NGHTTP2_PING.rawValue:
            if hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 {
                awaitingPingAck = false
            } else if role == .client || pingReceived() {
                var opaque = frame.pointee.ping.opaque_data
                withUnsafeBytes(of: &opaque) { raw in
                    _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_ACK.rawValue), raw.baseAddress?.assumingMemoryBound(to: UInt8.self))
                }
            }
        default:
            break
        }
        return 0
    }

    fileprivate func dataChunk(_ stream: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        delegate?.data(self, stream: stream, bytes: bytes)
        return 0
    }

    fileprivate func streamClosed(_ stream: Int32, _ errorCode: UInt32) -> Int32 {
        outbound[StreamKey(stream)] = nil
        if role == .server && stream % 2 == 1 && (refusedStreams.isEmpty || refusedStreams.remove(StreamKey(stream)) == nil) {
            openStreams = max(0, openStreams - 1)
            if openStreams == 0 { resetIdleTimer() }
        }
        delegate?.streamClosed(self, stream: stream, errorCode: errorCode)
        return 0
    }

    /// Rapid reset (CVE-2023-44487): the peer's RST_STREAMs draw on a token
    /// bucket; once it is empty the peer is told to calm down and the
    /// connection closes. (nghttp2's own limit, checked after this with the
    /// same numbers, would say INTERNAL_ERROR.)
    private func resetReceived() {
        guard role == .server, !goingAway else { return }
        let now = EventLoop.now()
        if resetTokens < 0 {
            resetTokens = configuration.maxStreamResetBurst
            resetRefilled = now
        }
        let seconds = (now &- resetRefilled) / 1_000_000_000
        if seconds > 0 {
            resetTokens = min(configuration.maxStreamResetBurst, resetTokens + Int(seconds) * configuration.streamResetsPerSecond)
            resetRefilled &+= seconds &* 1_000_000_000
        }
        if resetTokens > 0 {
            resetTokens -= 1
        } else {
            goAway(code: UInt32(NGHTTP2_ENHANCE_YOUR_CALM.rawValue), debug: "too many stream resets", reason: .resetFlood)
            closeAfterFlush = true
        }
    }

    /// A PING from the peer: too many too close together are strikes
    /// (gRPC's keepalive enforcement).
    private func pingReceived() -> Bool {
        if goingAway { return false }
        let now = EventLoop.now()
        let (seconds, attoseconds) = configuration.minPeerPingInterval.components
        let minimum = UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
        if lastPeerPing != 0 && now &- lastPeerPing < minimum {
            pingStrikes += 1
            if pingStrikes > configuration.maxPingStrikes {
                goAway(code: UInt32(NGHTTP2_ENHANCE_YOUR_CALM.rawValue), debug: "too_many_pings", reason: .tooManyPings)
                closeAfterFlush = true
                return false
            }
        }
        lastPeerPing = now
        return true
    }

    /// Data or headers went out: pings since are expected (gRPC resets
    /// strikes when the server sends).
    private func resetPingStrikes() {
        pingStrikes = 0
        lastPeerPing = 0
    }

    fileprivate func invalidFrame(_ frame: UnsafePointer<nghttp2_frame>?) -> Int32 {
        // nghttp2 skips the rest of a HEADERS block it rejected: it has ended for us.
        if let frame, UInt32(frameHeader(frame).type) == NGHTTP2_HEADERS.rawValue {
            headerListBytes = 0
            headerBlockStarted = 0
            if rejectedBlock?.stream == frameHeader(frame).stream_id { rejectedBlock = nil }
        }
        violation("invalid frames")
        return 0
    }

    /// nghttp2 asks for up to `length` bytes of `stream`'s body.
    fileprivate func readData(_ stream: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ length: Int, _ flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let session, let index = outbound.index(forKey: StreamKey(stream)) else {
            return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        // Changed in place: no copy of the entry, nor of its buffer.
        let read = outbound.values[index].read(into: buffer, length: length, lowWater: configuration.streamLowWater)
        if read.count > 0 { resetPingStrikes() }
        if read.becameWritable { pendingWritable.append(stream) }
        switch read.end {
        case .more:
            return read.count
        case .deferred:
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        case .endStream:
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
        case .trailers(let trailers):
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
            _ = trailers.withNameValues { nva, n in nghttp2_submit_trailer(session, stream, nva, n) }
        }
        return read.count
    }
}

// MARK: C callbacks (no captures: the connection comes back through user_data)

/// A frame's common header, read in place (every frame type begins with it;
/// the union's member accessors copy the whole frame).
@inline(__always)
private func frameHeader(_ frame: UnsafePointer<nghttp2_frame>) -> nghttp2_frame_hd {
    UnsafeRawPointer(frame).load(as: nghttp2_frame_hd.self)
}

private let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, userData in
    guard let frame, UInt32(frameHeader(frame).type) == NGHTTP2_HEADERS.rawValue else { return 0 }
    return HTTP2Connection.with(userData) { $0.beginHeaders(frame) }
}

private let onHeader: nghttp2_on_header_callback = { _, frame, name, nameLength, value, valueLength, _, userData in
    guard let frame else { return 0 }
    return HTTP2Connection.with(userData) {
        $0.header(frame, UnsafeRawBufferPointer(start: name, count: nameLength), UnsafeRawBufferPointer(start: value, count: valueLength))
    }
}

private let onFrameRecv: nghttp2_on_frame_recv_callback = { _, frame, userData in
    guard let frame else { return 0 }
    return HTTP2Connection.with(userData) { $0.frameReceived(frame) }
}

private let onDataChunk: nghttp2_on_data_chunk_recv_callback = { _, _, stream, data, length, userData in
    HTTP2Connection.with(userData) { $0.dataChunk(stream, UnsafeRawBufferPointer(start: data, count: length)) }
}

private let onStreamClose: nghttp2_on_stream_close_callback = { _, stream, errorCode, userData in
    HTTP2Connection.with(userData) { $0.streamClosed(stream, errorCode) }
}

private let onInvalidFrame: nghttp2_on_invalid_frame_recv_callback = { _, frame, _, userData in
    HTTP2Connection.with(userData) { $0.invalidFrame(frame) }
}

private let dataReadCallback: nghttp2_data_source_read_callback = { _, stream, buffer, length, flags, _, userData in
    HTTP2Connection.with(userData) { $0.readData(stream, buffer!, length, flags!) }
}

/// Calls `body` with nghttp2 name-value pairs pointing into one buffer that
/// lives for the call (nghttp2 copies them). Both the bytes and the pairs live
/// in temporary (stack) storage: no allocation per header block.
func withNameValues<R>(_ headers: [HTTP2Header], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: encodedLength(headers)) { bytes in
        withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: max(1, headers.count)) { pairs in
            encode(headers, into: bytes, pairs: pairs)
            defer { pairs.baseAddress!.deinitialize(count: headers.count) }
            return body(pairs.baseAddress!, headers.count)
        }
    }
}

/// The bytes `encode` needs for `headers` (at least 1).
private func encodedLength(_ headers: [HTTP2Header]) -> Int {
    var total = 1
    for header in headers { total += header.name.utf8.count + header.value.utf8.count }
    return total
}

/// Writes each header's name and value into `bytes` and a name-value pair
/// pointing at them into `pairs` (initialised here).
private func encode(_ headers: [HTTP2Header], into bytes: UnsafeMutableBufferPointer<UInt8>, pairs: UnsafeMutableBufferPointer<nghttp2_nv>) {
    var cursor = bytes.baseAddress!
    for (index, header) in headers.enumerated() {
        let name = cursor
        cursor = copyUTF8(header.name, to: cursor)
        let value = cursor
        cursor = copyUTF8(header.value, to: cursor)
        pairs.initializeElement(at: index, to: nghttp2_nv(name: name, value: value, namelen: value - name, valuelen: cursor - value,
                                                           flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
    }
}

/// Copies `text`'s UTF-8 to `destination`; returns the end of the copy.
@inline(__always)
private func copyUTF8(_ text: String, to destination: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
    let utf8 = text.utf8
    if let end = utf8.withContiguousStorageIfAvailable({ source -> UnsafeMutablePointer<UInt8> in
        if let start = source.baseAddress { destination.initialize(from: start, count: source.count) }
        return destination + source.count
    }) {
        return end
    }
    var cursor = destination
    for byte in utf8 {
        cursor.initialize(to: byte)
        cursor += 1
    }
    return cursor
}
