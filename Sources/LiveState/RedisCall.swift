import Synchronization

/// One `RedisPool` call: its commands, its deadline, and the continuation of
/// the caller waiting for its replies.
///
/// The caller is answered exactly once, by whichever comes first: the slot's
/// thread with the replies, the deadline timer, cancellation, a pool failure
/// (Redis unreachable, shutdown). Later answers are ignored.
final class RedisCall: Sendable {
    typealias Outcome = Result<[RedisReply], LiveStateError>
    typealias Continuation = CheckedContinuation<Outcome, Never>

    private struct State {
        var continuation: Continuation?
        /// The answer given before the continuation was installed.
        var early: Outcome?
        var answered = false
        /// Fails the call at its deadline; cancelled once it is answered.
        var timer: Task<Void, Never>?
    }

    /// Tells calls apart in the pool's queue.
    let id: UInt64
    /// The pipeline to send.
    let commands: [[[UInt8]]]
    /// When the caller is answered at the latest.
    let deadline: ContinuousClock.Instant
    private let state = Mutex(State())

    init(id: UInt64, commands: [[[UInt8]]], deadline: ContinuousClock.Instant) {
        self.id = id
        self.commands = commands
        self.deadline = deadline
    }

    /// Whether the caller has been answered.
    var isAnswered: Bool {
        state.withLock { $0.answered }
    }

    /// Gives the call the caller's continuation; resumes it at once when the
    /// call was answered before (cancelled early). Called exactly once.
    func install(_ continuation: Continuation) {
        let early = state.withLock { state -> Outcome? in
            guard let early = state.early else {
                state.continuation = continuation
                return nil
            }
            state.early = nil
            return early
        }
        if let early { continuation.resume(returning: early) }
    }

    /// Keeps the deadline timer so that answering cancels it; cancels it at
    /// once when the call is already answered.
    func setTimer(_ timer: Task<Void, Never>) {
        let answered = state.withLock { state -> Bool in
            if !state.answered { state.timer = timer }
            return state.answered
        }
        if answered { timer.cancel() }
    }

    /// Answers the caller unless it was answered before; returns whether this
    /// answer was the one given.
    @discardableResult
    func answer(_ outcome: Outcome) -> Bool {
        let (given, continuation, timer) = state.withLock { state -> (Bool, Continuation?, Task<Void, Never>?) in
            guard !state.answered else { return (false, nil, nil) }
            state.answered = true
            defer {
                state.continuation = nil
                state.timer = nil
            }
            if state.continuation == nil { state.early = outcome }
            return (true, state.continuation, state.timer)
        }
        timer?.cancel()
        continuation?.resume(returning: outcome)
        return given
    }
}
