import CHiredis
import Glibc

/// Non-blocking use of a connection, for a thread that polls its socket
/// (`RedisSubscriber`): commands are appended to an output buffer and
/// written as the socket accepts them; replies are read as they arrive and
/// taken out one by one. No call here waits.
extension RedisConnection {
    /// Starts connecting to `host`:`port` without waiting. The connection is
    /// usable once its socket polls writable and `finishConnecting()`
    /// succeeds.
    ///
    /// - Throws: `invalidArgument` for a port outside 1...65535 or a NUL byte
    ///   in `host`; `connectionFailed` when the attempt fails at once
    ///   (unknown host, no route); `outOfMemory`.
    static func startConnecting(host: String, port: Int) throws(LiveStateError) -> RedisConnection {
        guard (1...65_535).contains(port) else {
            throw LiveStateError(code: .invalidArgument, message: "port \(port) is outside 1...65535")
        }
        guard !host.isEmpty, !host.utf8.contains(0) else {
            throw LiveStateError(code: .invalidArgument, message: "the host name is empty or contains a NUL byte")
        }
        guard let context = redisConnectNonBlock(host, Int32(port)) else {
            throw LiveStateError(code: .outOfMemory, message: "hiredis could not allocate a connection")
        }
        guard context.pointee.err == 0 else {
            let message = errorText(of: context)
            redisFree(context)
            throw LiveStateError(code: .connectionFailed, message: "\(host):\(port): \(message)")
        }
        return RedisConnection(context: context)
    }

    /// The socket, for `poll(2)`. Owned by the connection: never close it.
    var fileDescriptor: Int32 {
        context.pointee.fd
    }

    /// Checks the outcome of a non-blocking connect once the socket polled
    /// writable.
    ///
    /// - Throws: `connectionFailed` with the reason (refused, unreachable).
    func finishConnecting(to description: String) throws(LiveStateError) {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fileDescriptor, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
            throw LiveStateError(code: .connectionFailed, message: "\(description): \(String(cString: strerror(errno)))")
        }
        guard error == 0 else {
            abandonment = "the connect failed"
            throw LiveStateError(code: .connectionFailed, message: "\(description): \(String(cString: strerror(error)))")
        }
    }

    /// Appends one command to the output buffer; nothing is written yet.
    ///
    /// - Throws: `invalidArgument` for an empty command; `connectionUnusable`
    ///   after an earlier failure; `outOfMemory`.
    func append(_ arguments: [[UInt8]]) throws(LiveStateError) {
        let argv = try CommandArguments(arguments)
        try checkUsable()
        let appended = argv.withArgv { pointers, lengths in
            redisAppendCommandArgv(context, argv.count, pointers, lengths)
        }
        guard appended == REDIS_OK else {
            throw Self.failure(of: context, doing: "queueing a command")
        }
    }

    /// Writes as much of the output buffer as the socket takes now.
    ///
    /// - Returns: whether the buffer is empty (otherwise poll for writable and
    ///   call again).
    /// - Throws: `ioFailed` or `connectionClosed` when the write fails.
    func writeBuffered() throws(LiveStateError) -> Bool {
        var done: Int32 = 0
        guard redisBufferWrite(context, &done) == REDIS_OK else {
            throw Self.failure(of: context, doing: "writing")
        }
        return done != 0
    }

    /// Reads what the socket holds now into the reply parser; call after the
    /// socket polled readable, then take the replies with `bufferedReply()`.
    ///
    /// - Throws: `connectionClosed` when the server closed the connection,
    ///   `ioFailed` when the read failed, `protocolError` for bytes that are
    ///   not RESP.
    func readAvailable() throws(LiveStateError) {
        guard redisBufferRead(context) == REDIS_OK else {
            throw Self.failure(of: context, doing: "reading")
        }
    }

    /// The next complete reply already read, if any.
    ///
    /// - Throws: `protocolError` or `outOfMemory` when the parser fails.
    func bufferedReply() throws(LiveStateError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer? = nil
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else {
            throw Self.failure(of: context, doing: "parsing a reply")
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return try RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
    }
}
