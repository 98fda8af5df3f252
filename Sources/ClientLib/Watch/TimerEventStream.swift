import Synchronization

/// The caller's timer events, as an `AsyncSequence` that outlives
/// connections: made by ``TimerClient/watchTimers(heartbeatSeconds:resumingFrom:metadata:)``.
///
/// It yields what `WatchTimers` sends — a SNAPSHOT first, then one event per
/// change (STARTED, UPDATED, PAUSED, RESUMED, STOPPED, DELETED) and
/// HEARTBEATs — and when the stream ends (the server restarts, the
/// connection drops) it opens a new one with the last event id it yielded,
/// after the client's backoff: the server replays what was missed, so no
/// event is lost or repeated, or sends a fresh SNAPSHOT when it no longer
/// holds them.
///
/// Iteration throws ``TimerClientError`` only when the watch cannot go on:
/// `UNAUTHENTICATED`, `PERMISSION_DENIED`, `INVALID_ARGUMENT` (e.g. a
/// malformed `resumingFrom`) and other statuses that a new stream would get
/// again, or `CANCELLED` when the iterating task is cancelled. It returns
/// nil once the client is closed. Cancelling the task, or dropping the
/// iterator, resets the stream.
///
/// Iterate it once at a time; a later iteration resumes after the last event
/// the previous one returned.
public struct TimerEventStream: AsyncSequence, Sendable {
    /// Each message of the watch.
    public typealias Element = TimerEvent
    /// Why the watch could not go on.
    public typealias Failure = TimerClientError

    let runtime: ClientRuntime
    let heartbeatSeconds: Int32
    let metadata: Metadata
    let progress: WatchProgress

    init(runtime: ClientRuntime, heartbeatSeconds: Int32, resumingFrom: String?, metadata: Metadata) {
        self.runtime = runtime
        self.heartbeatSeconds = heartbeatSeconds
        self.metadata = metadata
        self.progress = WatchProgress(lastEventID: resumingFrom.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The id of the last event yielded that carried one (or the id the
    /// watch was asked to resume from): keep it to resume a later watch from
    /// there, e.g. after the process restarts.
    public var lastEventID: String? { progress.lastEventID }

    /// Starts iterating; the first stream opens at the first `next()`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(driver: WatchDriver(stream: self))
    }

    /// Yields the watch's events; see ``TimerEventStream``.
    public struct Iterator: AsyncIteratorProtocol {
        let driver: WatchDriver

        /// The next event; nil once the client is closed.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(TimerClientError) -> TimerEvent? {
            try await driver.next(isolation: actor)
        }

        /// The next event; nil once the client is closed.
        public mutating func next() async throws(TimerClientError) -> TimerEvent? {
            try await driver.next(isolation: nil)
        }
    }
}

/// The resume point of a watch, shared by the stream and its iterator.
final class WatchProgress: Sendable {
    private let state: Mutex<String?>

    init(lastEventID: String?) { state = Mutex(lastEventID) }

    var lastEventID: String? { state.withLock { $0 } }

    func update(_ id: String?) { state.withLock { $0 = id } }
}

/// One iteration of a watch: opens streams, reads them, and opens them again
/// by the rules of ``WatchStateMachine``. Not Sendable: it belongs to the one
/// iterator that drives it. Dropping it resets the stream in flight.
final class WatchDriver {
    private let runtime: ClientRuntime
    private let heartbeatSeconds: Int32
    private let metadata: Metadata
    private let progress: WatchProgress
    private var machine: WatchStateMachine
    private var attempt: WatchAttempt?
    private var iterator: ResponseStream<TimerEvent>.Iterator?
    private var ticket = 0
    private var retryAt: ContinuousClock.Instant?

    init(stream: TimerEventStream) {
        runtime = stream.runtime
        heartbeatSeconds = stream.heartbeatSeconds
        metadata = stream.metadata
        progress = stream.progress
        machine = WatchStateMachine(resumingFrom: stream.progress.lastEventID)
    }

    deinit {
        attempt?.finish(cancellingStream: true)
    }

    /// How long a stream may stay silent before its connection is taken as
    /// dead: twice the heartbeat interval plus 5 s; nil without heartbeats
    /// asked for.
    var silenceLimit: Duration? {
        heartbeatSeconds > 0 ? .seconds(2 * Int64(heartbeatSeconds) + 5) : nil
    }

    func next(isolation actor: isolated (any Actor)?) async throws(TimerClientError) -> TimerEvent? {
        while true {
            if machine.isFinished { return nil }
            if attempt == nil {
                if let retryAt {
                    do {
                        try await ClientRuntime.wait(until: retryAt)
                    } catch {
                        machine.abandon()
                        throw TimerClientError(code: .cancelled, message: "the watch was cancelled by the client")
                    }
                    self.retryAt = nil
                }
                if runtime.isClosed {
                    machine.abandon()
                    return nil
                }
                open()
            }
            let result: Result<TimerEvent?, RPCError>
            do {
                result = .success(try await iterator!.next(isolation: actor))
            } catch {
                result = .failure(error)
            }
            switch result {
            case .success(let event?):
                attempt?.touch()
                if machine.received(event) { runtime.reachable() }
                progress.update(machine.lastEventID)
                return event
            case .success(nil):
                try end(nil)
            case .failure(let error):
                try end(error)
            }
        }
    }

    private func open() {
        if machine.streamsOpened > 0 { runtime.countWatchReconnect() }
        ticket = runtime.ticket
        var request = WatchTimersRequest()
        request.lastEventID = machine.opening()
        request.heartbeatIntervalSeconds = heartbeatSeconds
        let stream: ResponseStream<TimerEvent> = runtime.serverStreaming(
            TimerServiceMethods.watchTimers, request: request, options: CallOptions(metadata: metadata))
        let attempt = WatchAttempt(stream: stream)
        if let silenceLimit { attempt.watch(silenceLimit: silenceLimit, runtime: runtime) }
        self.attempt = attempt
        iterator = stream.makeAsyncIterator()
    }

    /// The stream ended with `error` (nil: OK).
    private func end(_ error: RPCError?) throws(TimerClientError) {
        let silent = attempt?.wentSilent ?? false
        attempt?.finish(cancellingStream: false)
        attempt = nil
        iterator = nil
        let cause: WatchStateMachine.Cause =
            Task.isCancelled ? .cancelledByCaller : runtime.isClosed ? .clientClosed : silent ? .silent : .stream
        switch machine.ended(error, cause: cause) {
        case .reconnect:
            retryAt = runtime.unreachable(ticket: ticket)
        case .fail(let error):
            if error.code != .cancelled { runtime.reachable() }  // The server answered.
            throw error
        case .finish:
            break
        }
    }
}

/// One stream of a watch, with the watchdog that declares its connection
/// dead when nothing arrives for too long.
final class WatchAttempt: Sendable {
    let stream: ResponseStream<TimerEvent>
    private let lastActivity = Mutex(ContinuousClock.now)
    private let silent = Atomic<Bool>(false)
    private let watchdog = Mutex<Task<Void, Never>?>(nil)

    init(stream: ResponseStream<TimerEvent>) {
        self.stream = stream
    }

    /// Whether the watchdog gave up on the stream.
    var wentSilent: Bool { silent.load(ordering: .acquiring) }

    /// A message arrived.
    func touch() {
        lastActivity.withLock { $0 = .now }
    }

    /// Starts the watchdog: after `silenceLimit` without a message the
    /// connection is closed (a silent watch means a dead connection that
    /// would hold new streams too), which ends the stream with `UNAVAILABLE`.
    func watch(silenceLimit: Duration, runtime: ClientRuntime) {
        let task = Task { [self] in
            while !Task.isCancelled {
                let due = lastActivity.withLock { $0 } + silenceLimit
                if ContinuousClock.now >= due {
                    silent.store(true, ordering: .releasing)
                    runtime.channel.close()
                    return
                }
                do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
            }
        }
        watchdog.withLock { $0 = task }
    }

    /// The stream is done with: stops the watchdog and, if asked, resets the
    /// stream.
    func finish(cancellingStream: Bool) {
        watchdog.withLock { task in
            task?.cancel()
            task = nil
        }
        if cancellingStream { stream.cancel() }
    }
}
