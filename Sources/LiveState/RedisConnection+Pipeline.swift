import CHiredis
import Glibc

extension RedisConnection {
    /// Sends several commands at once and then reads their replies, in
    /// order: one round trip instead of one per command. Each command is its
    /// arguments as raw bytes (binary-safe), such as
    /// `[Array("SET".utf8), key, value]`.
    ///
    /// Blocks like every call on a connection; see `RedisConnection`. Every
    /// socket read and write is bounded by the connection's timeout.
    ///
    /// Redis runs the commands one after the other, but other clients' commands
    /// may run in between: use `MULTI`/`EXEC` inside the pipeline when they
    /// must not. A Redis error reply to one command is that command's reply
    /// (`RedisReply.error`); the others still run.
    ///
    /// - Returns: one reply per command, in the order of `commands`; an empty
    ///   array for no commands, without touching the socket.
    /// - Throws: `invalidArgument` when a command is empty (nothing was sent;
    ///   the connection stays usable); `connectionUnusable` after an earlier
    ///   failure; `connectionClosed`, `ioFailed` (including a timeout),
    ///   `protocolError` or `outOfMemory` when not every reply arrived, after
    ///   which the connection is unusable and some commands may have run.
    package func pipeline(_ commands: [[[UInt8]]]) throws(LiveStateError) -> [RedisReply] {
        try pipeline(commands, deadline: nil)
    }

    /// `pipeline(_:)` bounded by `deadline`: before each read the socket
    /// timeout is set to the time left, so the calling thread comes back by
    /// the deadline even when Redis stops answering.
    ///
    /// - Throws: as `pipeline(_:)`; `timedOut` when the deadline passes before
    ///   every reply arrived, after which the connection is unusable (its
    ///   replies are still pending).
    func pipeline(_ commands: [[[UInt8]]], deadline: ContinuousClock.Instant?) throws(LiveStateError) -> [RedisReply] {
        let arguments = try commands.map { (command) throws(LiveStateError) in try CommandArguments(command) }
        guard !arguments.isEmpty else { return [] }
        try checkUsable()
        if let deadline {
            try limitTimeout(to: deadline, pending: false)
        }
        for argv in arguments {
            let appended = argv.withArgv { pointers, lengths in
                redisAppendCommandArgv(context, argv.count, pointers, lengths)
            }
            guard appended == REDIS_OK else {
                // Part of the pipeline may sit in the output buffer.
                abandonment = "a pipeline could not be queued"
                throw Self.failure(of: context, doing: "queueing a command")
            }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(arguments.count)
        for index in arguments.indices {
            if let deadline, index > 0 {
                try limitTimeout(to: deadline, pending: true)
            }
            var raw: UnsafeMutableRawPointer? = nil
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                let error = Self.failure(of: context, doing: "reading a reply")
                if let deadline, error.code == .ioFailed, ContinuousClock.now >= deadline {
                    throw Self.deadlinePassed(afterReplies: index, of: arguments.count)
                }
                throw error
            }
            defer { freeReplyObject(raw) }
            do throws(LiveStateError) {
                replies.append(try RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self)))
            } catch {
                abandonment = "a reply could not be read: \(error.message)"
                throw error
            }
        }
        return replies
    }

    /// Whether the connection is open with nothing unread on its socket,
    /// checked without blocking. An idle RESP2 connection receives nothing,
    /// so a readable socket means the server closed it (or broke protocol).
    func isAliveWithoutBlocking() -> Bool {
        guard isUsable else { return false }
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 0)
        return ready == 0
    }

    /// Sets the socket timeout to the time left before `deadline`.
    ///
    /// - Throws: `timedOut` when no time is left (the connection is abandoned
    ///   when replies are `pending`), `ioFailed` when the option cannot be set.
    private func limitTimeout(to deadline: ContinuousClock.Instant, pending: Bool) throws(LiveStateError) {
        let remaining = deadline - .now
        guard remaining > .zero else {
            if pending {
                abandonment = "the deadline passed with replies pending"
            }
            throw Self.deadlinePassed(afterReplies: nil, of: nil)
        }
        try setTimeout(remaining)
    }

    private static func deadlinePassed(afterReplies received: Int?, of total: Int?) -> LiveStateError {
        var message = "the deadline passed before Redis answered"
        if let received, let total {
            message += " (\(received) of \(total) replies received)"
        }
        return LiveStateError(code: .timedOut, message: message)
    }
}
