/// The rules of the Redis connection pool, without any I/O: which call gets
/// which connection slot, when a slot connects, when calls fail, and whether
/// Redis looks healthy.
///
/// `RedisPool` calls one `mutating func` per event (a call asks for a
/// connection, a connect attempt ends, a call ends, a deadline passes, a call
/// is cancelled, a backoff ends, shutdown) and performs the returned
/// `Actions`: resume calls, start connecting, close slots, schedule a wake-up.
/// Nothing here reads a clock; the current time is a parameter.
///
/// Rules:
/// - At most `connections` slots; a slot holds at most one connection.
/// - Calls are served in the order they asked (FIFO); a call that finds an
///   idle connection and nobody waiting is served at once.
/// - A slot connects only when a call waits for it: connections open lazily,
///   one per waiting call, up to the maximum.
/// - A failed connect puts its slot in backoff (growing with consecutive
///   failures, capped); a call that ends with a broken or abandoned
///   connection frees its slot to reconnect at once.
/// - While no connection is live and none is being opened, a call fails at
///   once with `unavailable` instead of waiting for a server that just
///   refused us; calls already waiting fail the same way when the last
///   connect attempt fails.
/// - A call whose deadline passes while it waits fails: `timedOut` when the
///   pool is merely busy, `unavailable` when it has no live connection.
/// - Redis counts as healthy after a successful connect or call, and as
///   unhealthy after a failed connect or a lost connection; a call that ran
///   out of time does not change that.
struct RedisPoolStateMachine {
    typealias Instant = ContinuousClock.Instant
    typealias CallID = UInt64

    /// The state of one connection slot.
    enum SlotState: Hashable {
        /// No connection; may connect now.
        case closed
        /// A connect attempt is under way.
        case connecting
        /// Connected, free.
        case idle
        /// Connected, serving a call.
        case leased
        /// The last connect attempt failed; no new one before `until`.
        case backingOff(until: Instant)
        /// Closed for good by shutdown.
        case shutDown
    }

    /// How a call left its slot's connection.
    enum ReleaseOutcome: Hashable {
        /// Every reply was read (or nothing was sent): ready for the next call.
        case reusable
        /// Closed by the pool with replies still pending (the deadline
        /// passed); says nothing about Redis's health.
        case abandoned
        /// The connection broke during the call and was closed.
        case broken(LiveStateError)
        /// The connection was found dead before the call and a new one could
        /// not be opened.
        case connectFailed(LiveStateError)
    }

    /// A call gets a slot.
    struct Grant: Hashable {
        var call: CallID
        var slot: Int
    }

    /// A call fails.
    struct Failure: Hashable {
        var call: CallID
        var error: LiveStateError
    }

    /// What the pool must do after an event, in this order: resume the
    /// granted and failed calls, start the connects, close the slots, and
    /// schedule a wake-up call (`wakeUp(now:)`) at `wakeUp` if set.
    struct Actions: Hashable {
        var grants: [Grant] = []
        var failures: [Failure] = []
        var connect: [Int] = []
        var close: [Int] = []
        var wakeUp: Instant? = nil
        /// Shutdown has finished: every slot is closed for good.
        var shutdownCompleted = false
    }

    /// Counts, for tests and health reporting.
    struct Statistics: Hashable {
        var idle = 0
        var leased = 0
        var connecting = 0
        var backingOff = 0
        var waiting = 0
    }

    private enum Lifecycle: Hashable {
        case running
        case shuttingDown
        case shutDown
    }

    private struct Waiter: Hashable {
        var id: CallID
        var deadline: Instant
    }

    private var slots: [SlotState]
    /// FIFO; removal from the middle (deadline, cancellation) is rare.
    private var waiters: [Waiter] = []
    private var lifecycle = Lifecycle.running
    private var consecutiveFailures = 0
    private var lastFailure: LiveStateError?
    private let backoff: Backoff

    /// Whether the last connect or call succeeded; true until a failure is
    /// seen.
    private(set) var isHealthy = true
    /// Failed connects and lost connections so far.
    private(set) var failureCount = 0

    init(connections: Int, backoff: Backoff) {
        precondition(connections > 0, "a pool needs at least one connection")
        self.slots = Array(repeating: .closed, count: connections)
        self.backoff = backoff
    }

    /// The state of each slot.
    var slotStates: [SlotState] { slots }

    var statistics: Statistics {
        var statistics = Statistics(waiting: waiters.count)
        for slot in slots {
            switch slot {
            case .idle: statistics.idle += 1
            case .leased: statistics.leased += 1
            case .connecting: statistics.connecting += 1
            case .backingOff: statistics.backingOff += 1
            case .closed, .shutDown: break
            }
        }
        return statistics
    }

    // MARK: - Events

    /// A call asks for a connection and nobody waits: the slot of an idle
    /// connection, or nil when the call must `enqueue`.
    mutating func leaseImmediately() -> Int? {
        guard lifecycle == .running, waiters.isEmpty, let slot = slots.firstIndex(of: .idle) else {
            return nil
        }
        slots[slot] = .leased
        return slot
    }

    /// A call asks for a connection and waits until `deadline` at most.
    mutating func enqueue(_ id: CallID, deadline: Instant, now: Instant) -> Actions {
        guard lifecycle == .running else {
            return Actions(failures: [Failure(call: id, error: Self.shutDownError)])
        }
        guard deadline > now else {
            // Spent before the call got here: neither the pool's load nor
            // Redis's health is the reason.
            return Actions(failures: [Failure(call: id, error: LiveStateError(
                code: .timedOut, message: "the deadline had passed before the call reached the Redis pool"))])
        }
        waiters.append(Waiter(id: id, deadline: deadline))
        var actions = dispatch(now: now)
        if waiters.contains(where: { $0.id == id }), liveCount == 0, connectingCount == 0, let lastFailure {
            // Every slot is backing off after failed connects: Redis is down
            // as far as we know, so say so now.
            waiters.removeAll { $0.id == id }
            actions.failures.append(Failure(call: id, error: Self.unavailable(lastFailure)))
            if waiters.isEmpty { actions.wakeUp = nil }
        }
        return actions
    }

    /// A connect attempt on `slot` succeeded.
    mutating func connectSucceeded(slot: Int, now: Instant) -> Actions {
        precondition(slots[slot] == .connecting, "connectSucceeded for a slot that was not connecting")
        consecutiveFailures = 0
        lastFailure = nil
        isHealthy = true
        slots[slot] = .idle
        if lifecycle != .running {
            return closeForShutdown(slot)
        }
        return dispatch(now: now)
    }

    /// A connect attempt on `slot` failed with `error`.
    mutating func connectFailed(slot: Int, error: LiveStateError, now: Instant) -> Actions {
        precondition(slots[slot] == .connecting, "connectFailed for a slot that was not connecting")
        return failed(slot: slot, error: error, now: now)
    }

    /// The call on `slot` ended. `foundDead` says that the slot's connection
    /// had been closed by the server while idle and was replaced (or not,
    /// see `outcome`) before the call: a lost connection, counted as a
    /// failure even when the call then succeeded.
    mutating func released(slot: Int, outcome: ReleaseOutcome, foundDead: Bool = false, now: Instant) -> Actions {
        precondition(slots[slot] == .leased, "released a slot that was not leased")
        if foundDead {
            failureCount += 1
        }
        switch outcome {
        case .reusable:
            slots[slot] = .idle
            isHealthy = true
            consecutiveFailures = 0
            lastFailure = nil
        case .abandoned:
            slots[slot] = .closed
        case .broken(let error):
            slots[slot] = .closed
            isHealthy = false
            failureCount += 1
            lastFailure = error
        case .connectFailed(let error):
            return failed(slot: slot, error: error, now: now)
        }
        if lifecycle != .running {
            return closeForShutdown(slot)
        }
        return dispatch(now: now)
    }

    /// The deadline of a waiting call passed. Nothing happens when the call
    /// was served or failed meanwhile.
    mutating func deadlinePassed(_ id: CallID, now: Instant) -> Actions {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return Actions() }
        waiters.remove(at: index)
        return Actions(failures: [Failure(call: id, error: deadlineError())])
    }

    /// A waiting call was cancelled. Nothing happens when the call was
    /// served or failed meanwhile.
    mutating func cancelled(_ id: CallID) -> Actions {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return Actions() }
        waiters.remove(at: index)
        return Actions(failures: [Failure(call: id, error: Self.cancelledError)])
    }

    /// A wake-up asked for by an earlier `Actions.wakeUp` came due.
    mutating func wakeUp(now: Instant) -> Actions {
        guard lifecycle == .running else { return Actions() }
        return dispatch(now: now)
    }

    /// Shutdown begins: waiting calls fail with `shutdown`, free slots close;
    /// leased and connecting slots close when they come back.
    /// `shutdownCompleted` is set (once) when the last slot has closed.
    mutating func shutDown() -> Actions {
        guard lifecycle == .running else { return Actions() }
        lifecycle = .shuttingDown
        var actions = Actions()
        actions.failures = waiters.map { Failure(call: $0.id, error: Self.shutDownError) }
        waiters.removeAll()
        for slot in slots.indices {
            switch slots[slot] {
            case .idle, .closed, .backingOff:
                slots[slot] = .shutDown
                actions.close.append(slot)
            case .leased, .connecting, .shutDown:
                break
            }
        }
        actions.shutdownCompleted = finishShutdownIfDone()
        return actions
    }

    // MARK: - Internals

    private var liveCount: Int {
        slots.count { $0 == .idle || $0 == .leased }
    }

    private var connectingCount: Int {
        slots.count { $0 == .connecting }
    }

    /// Serves waiters from idle slots, ends due backoffs, and starts as many
    /// connects as there are waiters without a connection on its way.
    private mutating func dispatch(now: Instant) -> Actions {
        var actions = Actions()
        for slot in slots.indices {
            if case .backingOff(let until) = slots[slot], until <= now {
                slots[slot] = .closed
            }
        }
        while !waiters.isEmpty, let slot = slots.firstIndex(of: .idle) {
            let waiter = waiters.removeFirst()
            slots[slot] = .leased
            actions.grants.append(Grant(call: waiter.id, slot: slot))
        }
        var needed = waiters.count - connectingCount
        for slot in slots.indices where needed > 0 && slots[slot] == .closed {
            slots[slot] = .connecting
            actions.connect.append(slot)
            needed -= 1
        }
        if needed > 0 {
            actions.wakeUp = slots.compactMap { slot -> Instant? in
                if case .backingOff(let until) = slot { return until }
                return nil
            }.min()
        }
        return actions
    }

    private mutating func failed(slot: Int, error: LiveStateError, now: Instant) -> Actions {
        consecutiveFailures += 1
        failureCount += 1
        isHealthy = false
        lastFailure = error
        slots[slot] = .backingOff(until: now + backoff.delay(afterFailures: consecutiveFailures))
        if lifecycle != .running {
            return closeForShutdown(slot)
        }
        if liveCount == 0 && connectingCount == 0 {
            let failures = waiters.map { Failure(call: $0.id, error: Self.unavailable(error)) }
            waiters.removeAll()
            return Actions(failures: failures)
        }
        return dispatch(now: now)
    }

    private mutating func closeForShutdown(_ slot: Int) -> Actions {
        slots[slot] = .shutDown
        var actions = Actions(close: [slot])
        actions.shutdownCompleted = finishShutdownIfDone()
        return actions
    }

    private mutating func finishShutdownIfDone() -> Bool {
        guard lifecycle == .shuttingDown, slots.allSatisfy({ $0 == .shutDown }) else { return false }
        lifecycle = .shutDown
        return true
    }

    /// The error for a call whose deadline passed while it waited.
    private func deadlineError() -> LiveStateError {
        if liveCount == 0 {
            let reason = lastFailure.map { ": \($0.message)" } ?? ""
            return LiveStateError(
                code: .unavailable,
                message: "Redis could not be reached before the deadline\(reason)"
            )
        }
        return LiveStateError(
            code: .timedOut,
            message: "no Redis connection became free before the deadline (all \(slots.count) in use)"
        )
    }

    /// The error for calls failed because Redis is unreachable.
    static func unavailable(_ cause: LiveStateError) -> LiveStateError {
        LiveStateError(code: .unavailable, message: "Redis is unreachable: \(cause.message)")
    }

    static let shutDownError = LiveStateError(
        code: .shutdown,
        message: "the Redis connection pool is shut down"
    )

    static let cancelledError = LiveStateError(
        code: .cancelled,
        message: "the call was cancelled before Redis answered"
    )
}
