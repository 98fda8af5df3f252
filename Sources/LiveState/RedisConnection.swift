import CHiredis

/// One connection to Redis through hiredis, in blocking mode.
///
/// Every call blocks the calling thread until Redis answers or the timeout
/// passes (connecting included), so a connection lives on a dedicated thread:
/// never call it from an I/O event loop or from Swift's cooperative thread
/// pool, where a blocked thread stalls unrelated work. The connection pool
/// owns such threads and hands replies back through continuations.
///
/// A connection is owned by one thread at a time and is therefore not
/// `Sendable`; it may be handed to another thread as a whole (`sending`), never
/// shared. It closes itself when released.
///
/// hiredis writes with `write(2)`, so writing to a connection the server has
/// closed raises `SIGPIPE`. The process must ignore that signal
/// (`signal(SIGPIPE, SIG_IGN)`, as the server does at start) or block it on
/// the threads that own connections; the write then fails with `ioFailed`.
///
/// After any thrown error except `invalidArgument` the connection is unusable
/// (see `isUsable`) and should be dropped: hiredis does not recover a context
/// once it has failed. A Redis error reply does not count: it is returned as
/// `RedisReply.error`.
package final class RedisConnection {
    /// The hiredis context; freed once, by `deinit`. Used by this type's
    /// extensions (pipelining, the subscriber's non-blocking I/O) only.
    let context: UnsafeMutablePointer<redisContext>
    /// Set when the connection was given up with replies still pending (a
    /// pipeline whose deadline passed): hiredis itself sees nothing wrong.
    var abandonment: String?

    /// Connects to Redis at `host`:`port` over TCP.
    ///
    /// `timeout` bounds the connection attempt and then every socket read and
    /// write of later commands; a command that waits longer on purpose
    /// (`BLPOP`, `XREAD BLOCK`) needs `setTimeout(_:)` first. TCP keepalive is
    /// enabled so that a vanished peer is noticed.
    ///
    /// - Throws: `invalidArgument` for a port outside 1...65535, a NUL byte in
    ///   `host` or a non-positive timeout; `connectionFailed` when the
    ///   connection cannot be established in time.
    package init(host: String, port: Int, timeout: Duration) throws(LiveStateError) {
        guard (1...65_535).contains(port) else {
            throw LiveStateError(code: .invalidArgument, message: "port \(port) is outside 1...65535")
        }
        guard !host.isEmpty, !host.utf8.contains(0) else {
            throw LiveStateError(code: .invalidArgument, message: "the host name is empty or contains a NUL byte")
        }
        guard timeout > .zero else {
            throw LiveStateError(code: .invalidArgument, message: "the connection timeout must be positive")
        }
        let interval = Self.timeval(timeout)
        guard let context = redisConnectWithTimeout(host, Int32(port), interval) else {
            throw LiveStateError(code: .outOfMemory, message: "hiredis could not allocate a connection")
        }
        guard context.pointee.err == 0 else {
            let message = Self.errorText(of: context)
            redisFree(context)
            throw LiveStateError(code: .connectionFailed, message: "\(host):\(port): \(message)")
        }
        guard redisSetTimeout(context, interval) == REDIS_OK, redisEnableKeepAlive(context) == REDIS_OK else {
            let message = Self.errorText(of: context)
            redisFree(context)
            throw LiveStateError(code: .connectionFailed, message: "\(host):\(port): \(message)")
        }
        self.context = context
    }

    /// Takes over a context that is connected (or connecting, for a
    /// non-blocking one) and has no error.
    init(context: UnsafeMutablePointer<redisContext>) {
        self.context = context
    }

    deinit {
        redisFree(context)
    }

    /// Whether the connection can still carry commands. Once it cannot, it
    /// never will again; open a new one.
    package var isUsable: Bool {
        context.pointee.err == 0 && abandonment == nil
    }

    /// Changes the bound on each socket read and write; `nil` waits forever
    /// (for a connection dedicated to blocking commands).
    ///
    /// - Throws: `invalidArgument` for a non-positive timeout, `ioFailed` when
    ///   the socket option cannot be set.
    package func setTimeout(_ timeout: Duration?) throws(LiveStateError) {
        if let timeout, timeout <= .zero {
            throw LiveStateError(code: .invalidArgument, message: "a timeout must be positive; pass nil for none")
        }
        let interval = timeout.map(Self.timeval) ?? CHiredis.timeval(tv_sec: 0, tv_usec: 0)
        guard redisSetTimeout(context, interval) == REDIS_OK else {
            throw Self.failure(of: context, doing: "setting the timeout")
        }
    }

    /// Sends one command, such as `["SET", key, value]`, and waits for its
    /// reply. Arguments are sent as their UTF-8 bytes.
    ///
    /// - Throws: see `command(_:)` with byte arguments.
    package func command(_ arguments: [String]) throws(LiveStateError) -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends one command given as raw bytes and waits for its reply. Arguments
    /// are binary-safe: any byte, NUL included, arrives unchanged.
    ///
    /// A Redis error reply is returned as `RedisReply.error`, not thrown.
    ///
    /// - Throws: `invalidArgument` for an empty command (the connection stays
    ///   usable); `connectionUnusable` after an earlier failure;
    ///   `connectionClosed`, `ioFailed` (including a timeout), `protocolError`
    ///   or `outOfMemory` when no reply arrived, after which the connection is
    ///   unusable.
    package func command(_ arguments: [[UInt8]]) throws(LiveStateError) -> RedisReply {
        let argv = try CommandArguments(arguments)
        try checkUsable()
        let reply = argv.withArgv { pointers, lengths in
            redisCommandArgv(context, argv.count, pointers, lengths)
        }
        guard let reply else {
            throw Self.failure(of: context, doing: "sending a command")
        }
        defer { freeReplyObject(reply) }
        return try RedisReply(copying: reply.assumingMemoryBound(to: redisReply.self))
    }

    // MARK: - Errors

    /// Throws `connectionUnusable` when an earlier failure ended the
    /// connection.
    func checkUsable() throws(LiveStateError) {
        if let abandonment {
            throw LiveStateError(code: .connectionUnusable, message: abandonment)
        }
        guard context.pointee.err == 0 else {
            throw LiveStateError(code: .connectionUnusable, message: Self.errorText(of: context))
        }
    }

    /// The error hiredis recorded in `context`, classified.
    static func failure(
        of context: UnsafeMutablePointer<redisContext>,
        doing action: String
    ) -> LiveStateError {
        let code: LiveStateError.Code =
            switch context.pointee.err {
            case REDIS_ERR_EOF: .connectionClosed
            case REDIS_ERR_PROTOCOL: .protocolError
            case REDIS_ERR_OOM: .outOfMemory
            default: .ioFailed
            }
        return LiveStateError(code: code, message: "\(action): \(errorText(of: context))")
    }

    /// `context->errstr`, read within its 128 bytes.
    static func errorText(of context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "unknown hiredis error" : text
    }

    static func timeval(_ duration: Duration) -> CHiredis.timeval {
        let (seconds, attoseconds) = duration.components
        var microseconds = attoseconds / 1_000_000_000_000
        if microseconds == 0 && attoseconds > 0 && seconds == 0 {
            microseconds = 1  // never round a positive timeout down to "none"
        }
        return CHiredis.timeval(tv_sec: Int(seconds), tv_usec: Int(microseconds))
    }
}

/// A connection belongs to one thread at a time; it is never shared.
@available(*, unavailable)
extension RedisConnection: Sendable {}
