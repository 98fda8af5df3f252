import ClientLib
import Codec
import RPC
import Synchronization
import TimerctlCore

/// timerctl's way to timerd, and the only file that knows how calls travel:
/// the generated `TimerServiceClient` over one `GRPCChannel`, a bearer token
/// on every call, a deadline on unary calls, and a live event feed that
/// reconnects with backoff and resumes after the last event id. (ClientLib's
/// `TimerClient` will do the same; switching to it changes this file only.)
final class TimerConnection: Sendable {
    /// The server, `host:port`.
    let target: String
    private let channel: GRPCChannel
    private let client: TimerServiceClient
    private let unaryOptions: CallOptions
    private let streamOptions: CallOptions

    /// How long a unary call may take.
    static let callTimeout: Duration = .seconds(10)

    /// A connection to `target` as the holder of `token` (nothing is sent
    /// before the first call).
    init(target: String, token: String) throws(TimerctlError) {
        self.target = target
        do {
            channel = try GRPCChannel(configuration: .init(target: target))
        } catch {
            throw TimerctlError("cannot use \(target) as the server address: \(error.message)", exitStatus: ExitStatus.usage)
        }
        client = TimerServiceClient(channel: channel)
        var metadata = Metadata()
        metadata.add("authorization", "Bearer \(token)")
        unaryOptions = CallOptions(timeout: Self.callTimeout, metadata: metadata)
        streamOptions = CallOptions(timeout: nil, metadata: metadata)
    }

    /// Closes the connection; calls in flight fail.
    func close() {
        channel.close()
    }

    // MARK: Calls
    //
    // One method per call timerctl makes; a failure becomes a TimerctlError
    // that says what could not be done and why.

    func start(_ request: CreateTimerRequest) async throws(TimerctlError) -> CreateTimerResponse {
        try await call("start a timer") { (client, options) async throws(RPCError) in try await client.createTimer(request, options: options) }
    }

    func pause(_ request: PauseTimerRequest) async throws(TimerctlError) -> PauseTimerResponse {
        try await call("pause timer \(request.id)") { (client, options) async throws(RPCError) in try await client.pauseTimer(request, options: options) }
    }

    func resume(_ request: ResumeTimerRequest) async throws(TimerctlError) -> ResumeTimerResponse {
        try await call("resume timer \(request.id)") { (client, options) async throws(RPCError) in try await client.resumeTimer(request, options: options) }
    }

    func stop(_ request: StopTimerRequest) async throws(TimerctlError) -> StopTimerResponse {
        try await call("stop timer \(request.id)") { (client, options) async throws(RPCError) in try await client.stopTimer(request, options: options) }
    }

    func list(_ request: ListTimersRequest) async throws(TimerctlError) -> ListTimersResponse {
        try await call("list timers") { (client, options) async throws(RPCError) in try await client.listTimers(request, options: options) }
    }

    func active(_ request: GetActiveTimersRequest) async throws(TimerctlError) -> GetActiveTimersResponse {
        try await call("list active timers") { (client, options) async throws(RPCError) in try await client.getActiveTimers(request, options: options) }
    }

    func sessions(_ request: ListTimerSessionsRequest) async throws(TimerctlError) -> ListTimerSessionsResponse {
        try await call("list the sessions of timer \(request.id)") { (client, options) async throws(RPCError) in
            try await client.listTimerSessions(request, options: options)
        }
    }

    func sync(_ request: SyncTimersRequest) async throws(TimerctlError) -> SyncTimersResponse {
        try await call("sync") { (client, options) async throws(RPCError) in try await client.syncTimers(request, options: options) }
    }

    func health() async throws(TimerctlError) -> GetSystemHealthResponse {
        try await call("get the service's health") { (client, options) async throws(RPCError) in
            try await client.getSystemHealth(GetSystemHealthRequest(), options: options)
        }
    }

    private func call<Response>(
        _ action: String, _ body: (TimerServiceClient, CallOptions) async throws(RPCError) -> Response
    ) async throws(TimerctlError) -> Response {
        do {
            return try await body(client, unaryOptions)
        } catch {
            throw TimerctlError(cannot: action, error, target: target)
        }
    }

    // MARK: Live events

    /// What the live feed reports.
    enum LiveUpdate: Sendable {
        /// One message of the stream (SNAPSHOT, a change, HEARTBEAT).
        case event(TimerEvent)
        /// The stream ended for `reason`; the next attempt starts after `retryIn`.
        case connectionLost(reason: String, retryIn: Duration)
        /// The feed gave up: the server refused it (a bad token, say), or it
        /// could not be reached at all at first. The sequence ends after this.
        case failed(TimerctlError)
    }

    /// The caller's live timer events, across reconnections: each stream is
    /// resumed after the last event id received (the server replays what was
    /// missed, or sends a fresh snapshot). A stream silent for three
    /// heartbeat intervals counts as lost. Ends after `.failed`, or when the
    /// iterating task is cancelled.
    func events(heartbeatSeconds: Int32) -> AsyncStream<LiveUpdate> {
        let (stream, continuation) = AsyncStream.makeStream(of: LiveUpdate.self)
        let task = Task { [self] in
            await feed(heartbeatSeconds: heartbeatSeconds, continuation)
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func feed(heartbeatSeconds: Int32, _ continuation: AsyncStream<LiveUpdate>.Continuation) async {
        var lastEventID = ""
        var backoff = Backoff()
        var connectedOnce = false
        let silenceLimit = Duration.seconds(Int64(heartbeatSeconds) * 3)
        while !Task.isCancelled {
            var request = WatchTimersRequest()
            request.lastEventID = lastEventID
            request.heartbeatIntervalSeconds = heartbeatSeconds
            let outcome = await watchOnce(request, silenceLimit: silenceLimit, continuation)
            if Task.isCancelled { return }
            if let last = outcome.lastEventID { lastEventID = last }
            if outcome.received {
                connectedOnce = true
                backoff.reset()
            }
            let error = outcome.error
            if let error {
                switch error.code {
                case .invalidArgument where !lastEventID.isEmpty:
                    lastEventID = ""  // The server does not take that id: start over from a snapshot.
                    continue
                case .unauthenticated, .permissionDenied, .unimplemented, .invalidArgument:
                    continuation.yield(.failed(TimerctlError(cannot: "watch timers", error, target: target)))
                    return
                case .unavailable where !connectedOnce:
                    // Never reached: a wrong address or a server that is down.
                    continuation.yield(.failed(TimerctlError(cannot: "watch timers", error, target: target)))
                    return
                default:
                    break
                }
            }
            let reason: String
            if outcome.silent {
                reason = "no word from the server for \(silenceLimit.components.seconds)s"
            } else if let error {
                reason = "\(error.message.isEmpty ? "the stream failed" : error.message) (\(error.code))"
            } else {
                reason = "the server ended the stream"
            }
            let delay = backoff.nextDelay(random: Double.random(in: 0..<1))
            continuation.yield(.connectionLost(reason: reason, retryIn: delay))
            try? await Task.sleep(for: delay)
        }
    }

    /// How one stream went.
    private struct StreamOutcome: Sendable {
        var received = false
        var lastEventID: String?
        var error: RPCError?
        var silent = false
    }

    /// Runs one WatchTimers stream to its end, passing its messages on; a
    /// watchdog ends it when nothing arrives for `silenceLimit`.
    private func watchOnce(
        _ request: WatchTimersRequest, silenceLimit: Duration, _ continuation: AsyncStream<LiveUpdate>.Continuation
    ) async -> StreamOutcome {
        let stream = client.watchTimers(request, options: streamOptions)
        let watch = Silence()
        let outcome = await withTaskGroup(of: StreamOutcome?.self) { group in
            group.addTask {
                var outcome = StreamOutcome()
                do {
                    for try await event in stream {
                        watch.heard()
                        outcome.received = true
                        if !event.eventID.isEmpty { outcome.lastEventID = event.eventID }
                        continuation.yield(.event(event))
                    }
                } catch let error as RPCError {
                    outcome.error = error
                } catch {
                    outcome.error = RPCError(code: .unknown, message: "\(error)")
                }
                return outcome
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if watch.exceeds(silenceLimit) {
                        stream.cancel()
                        return nil
                    }
                }
                return nil
            }
            var result = StreamOutcome()
            for await finished in group {
                if let finished {
                    result = finished
                    group.cancelAll()
                }
            }
            return result
        }
        stream.cancel()
        var result = outcome
        result.silent = watch.wasExceeded
        return result
    }

    /// When a stream last said something, and whether its watchdog gave up on it.
    private final class Silence: Sendable {
        private let state = Mutex((last: ContinuousClock.now, exceeded: false))

        func heard() {
            state.withLock { $0.last = .now }
        }

        /// Whether nothing was heard for longer than `limit` (and remembers it).
        func exceeds(_ limit: Duration) -> Bool {
            state.withLock { state in
                if ContinuousClock.now - state.last > limit { state.exceeded = true }
                return state.exceeded
            }
        }

        var wasExceeded: Bool { state.withLock { $0.exceeded } }
    }
}
