/// The rules of the connection pool, without any I/O: which caller gets which
/// connection slot, when a slot connects, when callers fail.
///
/// The pool calls one `mutating func` per event (a caller asks for a
/// connection, a connect attempt ends, a lease ends, a deadline passes, a
/// caller is cancelled, a backoff ends, shutdown) and performs the returned
/// `Actions`: resume callers, start connecting, close slots, schedule a wake-up.
/// Nothing here reads a clock; the current time is a parameter.
///
/// Rules:
/// - At most `maximumConnections` slots; a slot holds at most one connection.
/// - Callers are served in the order they asked (FIFO); a caller that finds an
///   idle connection and nobody waiting is served at once.
/// - A slot connects only when a caller waits for it: connections open lazily,
///   one per waiting caller, up to the maximum.
/// - A failed connect puts its slot in backoff (growing, capped); a lease that
///   ends with a broken connection frees its slot to reconnect at once.
/// - While no connection is live and none is being opened, a caller fails at
///   once with `unavailable` instead of waiting for a database that just
///   refused us; callers already waiting fail the same way when the last
///   connect attempt fails.
/// - A caller whose deadline passes fails: `timedOut` when the pool is merely
///   busy, `unavailable` when it has no live connection.
struct PoolStateMachine {
    typealias Instant = ContinuousClock.Instant
    typealias WaiterID = UInt64

    /// The state of one connection slot.
    enum SlotState: Hashable {
        /// No connection; may connect now.
        case closed
        /// A connect attempt is under way.
        case connecting
        /// Connected, free.
        case idle
        /// Connected, lent to a caller.
        case leased
        /// The last connect attempt failed; no new one before `until`.
        case backingOff(until: Instant)
        /// Closed for good by shutdown.
        case shutDown
    }

    /// How a lease ended, as the slot's thread found the connection.
    enum ReleaseOutcome: Hashable {
        /// Connected, outside any transaction: ready for the next caller.
        case reusable
        /// The connection was closed (broken, or unsafe to reuse).
        case closed
        /// The connection was found dead and an immediate reconnect failed.
        case connectFailed(StorageError)
    }

    /// A caller gets a slot.
    struct Grant: Hashable {
        var waiter: WaiterID
        var slot: Int
    }

    /// A caller fails.
    struct Failure: Hashable {
        var waiter: WaiterID
        var error: StorageError
    }

    /// What the pool must do after an event, in this order: resume the
    /// granted and failed callers, start the connects, close the slots, and
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

    /// How long a slot waits after its n-th consecutive failed connect.
    struct Backoff: Hashable {
        /// The wait after the first failure.
        var initial: Duration
        /// The cap of the doubling waits.
        var maximum: Duration

        func delay(afterFailures failures: Int) -> Duration {
            var delay = initial
            for _ in 1..<max(failures, 1) {
                delay *= 2
                if delay >= maximum { return maximum }
            }
            return min(delay, maximum)
        }
    }

    /// Counts, for tests and health reporting.
    struct Statistics: Hashable {
        var idle = 0
        var leased = 0
        var connecting = 0
        var backingOff = 0
        var waiting = 0
        /// Since the start: callers that had to queue for a connection.
        var waited = 0
        /// Since the start: failed connects and connections lost in use.
        var failures = 0
        /// Since the start: callers failed without a connection (deadline
        /// passed in the queue, or the database known to be down).
        var refused = 0
    }

    private enum Lifecycle: Hashable {
        case running
        case shuttingDown
        case shutDown
    }

    private struct Waiter: Hashable {
        var id: WaiterID
        var deadline: Instant
    }

    private var slots: [SlotState]
    /// FIFO; removal from the middle (deadline, cancellation) is rare.
    private var waiters: [Waiter] = []
    private var lifecycle = Lifecycle.running
    private var consecutiveFailures = 0
    private var lastFailure: StorageError?
    private var waited = 0
    private var failures = 0
    private var refused = 0
    private let backoff: Backoff

    init(maximumConnections: Int, backoff: Backoff) {
        precondition(maximumConnections > 0, "a pool needs at least one connection")
        self.slots = Array(repeating: .closed, count: maximumConnections)
        self.backoff = backoff
    }

    /// The state of each slot.
    var slotStates: [SlotState] { slots }

    var statistics: Statistics {
        var statistics = Statistics(waiting: waiters.count, waited: waited, failures: failures, refused: refused)
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

    /// A caller asks for a connection and nobody waits: the slot of an idle
    /// connection, or nil when the caller must `enqueue`.
    mutating func leaseImmediately() -> Int? {
        guard lifecycle == .running, waiters.isEmpty, let slot = slots.firstIndex(of: .idle) else {
            return nil
        }
        slots[slot] = .leased
        return slot
    }

    /// A caller asks for a connection and waits until `deadline` at most.
    mutating func enqueue(_ id: WaiterID, deadline: Instant, now: Instant) -> Actions {
        guard lifecycle == .running else {
            return Actions(failures: [Failure(waiter: id, error: Self.shutDownError)])
        }
        guard deadline > now else {
            // Spent before the call got here: neither the pool's load nor
            // the database's health is the reason.
            refused += 1
            return Actions(failures: [Failure(waiter: id, error: StorageError(
                code: .timedOut, message: "the deadline had passed before the call reached the database pool"))])
        }
        waited += 1
        waiters.append(Waiter(id: id, deadline: deadline))
        var actions = dispatch(now: now)
        if waiters.contains(where: { $0.id == id }), liveCount == 0, connectingCount == 0, let lastFailure {
            // Every slot is backing off after failed connects: the database is
            // down as far as we know, so say so now.
            waiters.removeAll { $0.id == id }
            refused += 1
            actions.failures.append(Failure(waiter: id, error: Self.unavailable(lastFailure)))
            if waiters.isEmpty { actions.wakeUp = nil }
        }
        return actions
    }

    /// A connect attempt on `slot` succeeded.
    mutating func connectSucceeded(slot: Int, now: Instant) -> Actions {
        precondition(slots[slot] == .connecting, "connectSucceeded for a slot that was not connecting")
        consecutiveFailures = 0
        lastFailure = nil
        slots[slot] = .idle
        if lifecycle != .running {
            return closeForShutdown(slot)
        }
        return dispatch(now: now)
    }

    /// A connect attempt on `slot` failed with `error`.
    mutating func connectFailed(slot: Int, error: StorageError, now: Instant) -> Actions {
        precondition(slots[slot] == .connecting, "connectFailed for a slot that was not connecting")
        return failed(slot: slot, error: error, now: now)
    }

    /// The lease on `slot` ended.
    mutating func released(slot: Int, outcome: ReleaseOutcome, now: Instant) -> Actions {
        precondition(slots[slot] == .leased, "released a slot that was not leased")
        switch outcome {
        case .reusable:
            slots[slot] = .idle
        case .closed:
            slots[slot] = .closed
        case .connectFailed(let error):
            return failed(slot: slot, error: error, now: now)
        }
        if lifecycle != .running {
            return closeForShutdown(slot)
        }
        return dispatch(now: now)
    }

    /// The deadline of a waiting caller passed. Nothing happens when the
    /// caller was served or failed meanwhile.
    mutating func deadlinePassed(_ id: WaiterID, now: Instant) -> Actions {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return Actions() }
        waiters.remove(at: index)
        refused += 1
        return Actions(failures: [Failure(waiter: id, error: deadlineError())])
    }

    /// A waiting caller was cancelled. Nothing happens when the caller was
    /// served or failed meanwhile.
    mutating func cancelled(_ id: WaiterID) -> Actions {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return Actions() }
        waiters.remove(at: index)
        return Actions(failures: [
            Failure(
                waiter: id,
                error: StorageError(code: .cancelled, message: "the call was cancelled while it waited for a database connection")
            )
        ])
    }

    /// A wake-up asked for by an earlier `Actions.wakeUp` came due.
    mutating func wakeUp(now: Instant) -> Actions {
        guard lifecycle == .running else { return Actions() }
        return dispatch(now: now)
    }

    /// Shutdown begins: waiting callers fail, free slots close; leased and
    /// connecting slots close when they come back. `shutdownCompleted` is set
    /// (once) when the last slot has closed.
    mutating func shutDown() -> Actions {
        guard lifecycle == .running else { return Actions() }
        lifecycle = .shuttingDown
        var actions = Actions()
        actions.failures = waiters.map { Failure(waiter: $0.id, error: Self.shutDownError) }
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
            actions.grants.append(Grant(waiter: waiter.id, slot: slot))
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

    private mutating func failed(slot: Int, error: StorageError, now: Instant) -> Actions {
        failures += 1
        consecutiveFailures += 1
        lastFailure = error
        slots[slot] = .backingOff(until: now + backoff.delay(afterFailures: consecutiveFailures))
        if lifecycle != .running {
            return closeForShutdown(slot)
        }
        if liveCount == 0 && connectingCount == 0 {
            let failures = waiters.map { Failure(waiter: $0.id, error: Self.unavailable(error)) }
            refused += waiters.count
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

    /// The error for a caller whose deadline passed while it waited.
    private func deadlineError() -> StorageError {
        if liveCount == 0 {
            let reason = lastFailure.map { ": \($0.message)" } ?? ""
            return StorageError(
                code: .unavailable,
                message: "the database could not be reached before the deadline\(reason)"
            )
        }
        return StorageError(
            code: .timedOut,
            message: "no database connection became free before the deadline (all \(slots.count) in use)"
        )
    }

    private static func unavailable(_ cause: StorageError) -> StorageError {
        StorageError(
            code: .unavailable,
            sqlState: cause.sqlState,
            message: "the database is unavailable: \(cause.message)",
            detail: cause.detail
        )
    }

    private static let shutDownError = StorageError(
        code: .unavailable,
        message: "the database connection pool is shut down"
    )
}
