import Synchronization

/// The channel under a ``TimerClient``'s generated client: one HTTP/2
/// connection (``GRPCChannel``, which opens it again on the next call after
/// it is lost) with the client's credentials, default deadline, retries and
/// reconnection pacing added to every call.
///
/// - Each call gets `authorization: Bearer <token>` unless its metadata has
///   an `authorization` already, and the default timeout unless it sets one
///   (streaming calls get no default deadline).
/// - A unary call that fails with `UNAVAILABLE` is made again when its
///   request is safe to repeat (``RetrySafeRequest``), up to the policy's
///   attempts and within the call's deadline, after the wait the shared
///   ``ConnectionBackoff`` sets. Cancelling the calling task resets the
///   stream in flight, or ends a wait at once, with `CANCELLED`.
final class ClientRuntime: RPCChannel {
    let channel: GRPCChannel
    let token: String?
    let defaultTimeout: Duration
    let policy: RetryPolicy
    private let backoff = Mutex(ConnectionBackoff())
    private let closed = Atomic<Bool>(false)
    private let retryCount = Atomic<Int>(0)
    private let reconnectCount = Atomic<Int>(0)

    init(channel: GRPCChannel, token: String?, defaultTimeout: Duration, policy: RetryPolicy) {
        self.channel = channel
        self.token = token
        self.defaultTimeout = defaultTimeout
        self.policy = policy
    }

    // MARK: Lifecycle and figures

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Refuses new calls and closes the connection (calls in flight fail
    /// with `UNAVAILABLE`).
    func close() {
        closed.store(true, ordering: .releasing)
        channel.close()
    }

    var retries: Int { retryCount.load(ordering: .relaxed) }
    var watchReconnects: Int { reconnectCount.load(ordering: .relaxed) }
    func countWatchReconnect() { reconnectCount.add(1, ordering: .relaxed) }

    // MARK: Backoff shared by calls and watches

    var ticket: Int { backoff.withLock { $0.ticket } }

    /// The server answered.
    func reachable() { backoff.withLock { $0.succeeded() } }

    /// An attempt of epoch `ticket` found the server unreachable; returns
    /// when to try again.
    func unreachable(ticket: Int) -> ContinuousClock.Instant {
        let random = Double.random(in: 0...1)
        let now = ContinuousClock.now
        return backoff.withLock { $0.failed(ticket: ticket, at: now, policy: policy, random: random) }
    }

    /// Records what an ended call says about the connection.
    func record(_ error: RPCError, ticket: Int) {
        switch error.code {
        case .unavailable: _ = unreachable(ticket: ticket)
        case .cancelled, .deadlineExceeded: break  // Said nothing about the server.
        default: reachable()
        }
    }

    /// Waits until `instant`; throws `CANCELLED` if the task is cancelled first.
    static func wait(until instant: ContinuousClock.Instant) async throws(RPCError) {
        do {
            try await Task.sleep(until: instant, clock: .continuous)
        } catch {
            throw RPCError(code: .cancelled, message: "the call was cancelled by the client")
        }
    }

    // MARK: Options

    /// `options` with the token and, when `defaultDeadline`, the default timeout.
    func prepared(_ options: CallOptions, defaultDeadline: Bool) -> CallOptions {
        var options = options
        if let token, options.metadata["authorization"] == nil {
            options.metadata.add("authorization", "Bearer \(token)")
        }
        if defaultDeadline, options.timeout == nil { options.timeout = defaultTimeout }
        return options
    }

    private static let closedError = RPCError(code: .unavailable, message: "the client is closed")

    // MARK: RPCChannel

    func unary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, request: Request, options: CallOptions
    ) async throws(RPCError) -> Response {
        guard !isClosed else { throw Self.closedError }
        var options = prepared(options, defaultDeadline: true)
        let safe = (request as? any RetrySafeRequest)?.isSafeToRetry ?? false
        let deadline = options.timeout.map { ContinuousClock.now + $0 }
        var attempt = 1
        while true {
            if Task.isCancelled { throw RPCError(code: .cancelled, message: "the call was cancelled by the client") }
            if let deadline {
                let remaining = deadline - .now
                guard remaining > .zero else {
                    throw RPCError(code: .deadlineExceeded, message: "deadline exceeded before attempt \(attempt)")
                }
                options.timeout = remaining
            }
            let ticket = self.ticket
            do {
                let response: Response = try await channel.unary(method, request: request, options: options)
                reachable()
                return response
            } catch {
                guard error.code == .unavailable else {
                    record(error, ticket: ticket)
                    throw Self.annotated(error, attempts: attempt)
                }
                let retryAt = unreachable(ticket: ticket)
                guard safe, attempt < policy.maxAttempts, !isClosed else { throw Self.annotated(error, attempts: attempt) }
                if let deadline, retryAt >= deadline { throw Self.annotated(error, attempts: attempt) }
                try await Self.wait(until: retryAt)
                guard !isClosed else { throw Self.closedError }
                attempt += 1
                retryCount.add(1, ordering: .relaxed)
            }
        }
    }

    /// `error`, saying how many attempts were made when there were several.
    private static func annotated(_ error: RPCError, attempts: Int) -> RPCError {
        guard attempts > 1 else { return error }
        var error = error
        error.message += " (after \(attempts) attempts)"
        return error
    }

    func serverStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, request: Request, options: CallOptions
    ) -> ResponseStream<Response> {
        guard !isClosed else { return ResponseStream(failed: Self.closedError) }
        return channel.serverStreaming(method, request: request, options: prepared(options, defaultDeadline: false))
    }

    func clientStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, requests: [Request], options: CallOptions
    ) async throws(RPCError) -> Response {
        guard !isClosed else { throw Self.closedError }
        return try await channel.clientStreaming(method, requests: requests, options: prepared(options, defaultDeadline: true))
    }

    func bidirectionalStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, options: CallOptions
    ) -> BidirectionalCall<Request, Response> {
        channel.bidirectionalStreaming(method, options: prepared(options, defaultDeadline: false))
    }
}
