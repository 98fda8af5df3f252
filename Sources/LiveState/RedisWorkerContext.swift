/// The state a `RedisPool` slot's thread keeps between jobs: its connection
/// and how to open a new one. Lives on that thread only.
struct RedisWorkerContext: ~Copyable {
    typealias Instant = ContinuousClock.Instant

    /// What one call did with the slot's connection.
    struct CallOutcome {
        /// What the caller gets.
        var result: Result<[RedisReply], LiveStateError>
        /// The connection was found dead before the call (closed by the server
        /// while idle) and had to be replaced.
        var foundDead: Bool
        /// What the slot's connection is fit for now.
        var release: RedisPoolStateMachine.ReleaseOutcome
    }

    /// Where to connect.
    let url: RedisURL
    /// The bound on connecting.
    let connectTimeout: Duration
    /// The live connection, if any.
    private(set) var connection: RedisConnection?

    init(url: RedisURL, connectTimeout: Duration) {
        self.url = url
        self.connectTimeout = connectTimeout
    }

    /// Opens a new connection, replacing the current one. The attempt ends
    /// by `deadline` when one is given.
    ///
    /// - Throws: `timedOut` when `deadline` has passed; what
    ///   `RedisConnection.init(redisURL:timeout:)` throws.
    mutating func connect(deadline: Instant? = nil) throws(LiveStateError) {
        close()
        var timeout = connectTimeout
        if let deadline {
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw LiveStateError(code: .timedOut, message: "the deadline passed before a connection to Redis was opened")
            }
            timeout = min(timeout, remaining)
        }
        connection = try RedisConnection(redisURL: url, timeout: timeout)
    }

    /// Closes the connection, if any.
    mutating func close() {
        connection = nil
    }

    /// Runs one call's pipeline, bounded by `deadline`.
    ///
    /// A connection that died while idle is replaced before anything is sent,
    /// so the caller never sees it; one that breaks during the call fails the
    /// call and is closed (the commands are not sent again: they may have
    /// run). A call whose deadline passed with replies pending closes the
    /// connection, whose next reply would belong to this call.
    mutating func run(_ commands: [[[UInt8]]], deadline: Instant) -> CallOutcome {
        var foundDead = false
        if connection?.isAliveWithoutBlocking() != true {
            foundDead = connection != nil
            do throws(LiveStateError) {
                try connect(deadline: deadline)
            } catch {
                close()
                if error.code == .timedOut || ContinuousClock.now >= deadline {
                    let timedOut = LiveStateError(
                        code: .timedOut,
                        message: "the deadline passed while a connection to Redis was opened"
                    )
                    return CallOutcome(result: .failure(timedOut), foundDead: foundDead, release: .abandoned)
                }
                return CallOutcome(
                    result: .failure(RedisPoolStateMachine.unavailable(error)),
                    foundDead: foundDead,
                    release: .connectFailed(error)
                )
            }
        }
        guard let connection else {
            preconditionFailure("connect() returned without a connection")
        }
        do throws(LiveStateError) {
            let replies = try connection.pipeline(commands, deadline: deadline)
            return CallOutcome(result: .success(replies), foundDead: foundDead, release: .reusable)
        } catch {
            if connection.isUsable {
                // Nothing was sent (deadline already passed, or a command
                // was rejected before sending).
                return CallOutcome(result: .failure(error), foundDead: foundDead, release: .reusable)
            }
            close()
            if error.code == .timedOut {
                return CallOutcome(result: .failure(error), foundDead: foundDead, release: .abandoned)
            }
            return CallOutcome(result: .failure(error), foundDead: foundDead, release: .broken(error))
        }
    }
}
