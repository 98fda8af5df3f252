import Synchronization

/// A fixed-size pool of PostgreSQL connections for async code.
///
/// ```swift
/// let pool = PostgresPool(configuration: .init(url: url, maximumConnections: 8))
/// let timer = try await pool.transaction(deadline: context.deadline) { tx in
///     let row = try await tx.execute(Statements.lockTimer, [userID, timerID])  // … FOR UPDATE
///     …
/// }
/// await pool.shutdown()
/// ```
///
/// **Threads.** Each slot of the pool has a dedicated thread that owns its
/// connection and makes every blocking libpq call (connect, statement,
/// rollback); callers suspend on a continuation until the thread hands the
/// result back, so neither the I/O event loops nor Swift's cooperative pool
/// (two threads here) ever wait on the database. One thread per connection
/// was chosen over libpq's non-blocking API driven by a poll thread because
/// PostgreSQL itself wants few connections (tens, not thousands, so the
/// threads cost little), and because the blocking API covers connecting
/// (DNS, TLS, authentication), COPY refusal and error recovery with libpq's
/// own well-tested code, where the non-blocking one needs a hand-written state
/// machine for each. A statement costs two thread hand-offs, small next to a
/// database round trip.
///
/// **Rules** (the state machine is `PoolStateMachine`):
/// - At most `maximumConnections` connections, opened lazily when callers
///   wait. Callers queue in FIFO order, each until its deadline.
/// - Every call has a deadline (the `deadline` argument, or
///   `defaultTimeout` from now). It bounds the wait for a connection and every
///   statement: when it passes, the call fails at once with `timedOut` — or
///   `unavailable` when the pool has no live connection — a running statement
///   is cancelled on the server, and its connection is closed.
/// - While the database is down (connects fail), calls fail at once with
///   `unavailable`; connect attempts are spaced by a capped exponential
///   backoff.
/// - A connection found dead at the start of a lease (terminated backend,
///   restarted server) is replaced before the first statement; one that
///   breaks during a lease fails that statement with `connectionLost` and is
///   replaced for the next caller. A transaction whose `BEGIN` meets a broken
///   connection is retried once on a new one.
/// - Cancelling the calling task removes it from the queue (`cancelled`), or
///   abandons its lease like a deadline.
///
/// Errors map to gRPC codes as: `unavailable`, `connectionFailed`,
/// `connectionLost` → UNAVAILABLE; `timedOut` → DEADLINE_EXCEEDED;
/// `cancelled` → CANCELLED.
///
/// Call `shutdown()` before dropping the pool.
package final class PostgresPool: Sendable {
    /// How a pool connects and how it behaves.
    package struct Configuration: Sendable {
        /// A libpq connection URI or `key=value` string.
        package var url: String
        /// The most connections open at once; at least 1.
        package var maximumConnections: Int
        /// The deadline of calls that give none, from the start of the call.
        package var defaultTimeout: Duration
        /// The pause after a first failed connect; it doubles with each further
        /// consecutive failure, up to `maximumBackoff`.
        package var initialBackoff: Duration
        /// The longest pause between connect attempts.
        package var maximumBackoff: Duration

        /// A configuration with defaults suited to one server instance.
        package init(
            url: String,
            maximumConnections: Int = 10,
            defaultTimeout: Duration = .seconds(10),
            initialBackoff: Duration = .milliseconds(50),
            maximumBackoff: Duration = .seconds(2)
        ) {
            self.url = url
            self.maximumConnections = maximumConnections
            self.defaultTimeout = defaultTimeout
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
        }
    }

    /// The isolation level of a transaction.
    package enum IsolationLevel: Sendable, Hashable {
        /// PostgreSQL's default: each statement sees what was committed before
        /// it began. Combine with `SELECT … FOR UPDATE` to serialize writers of
        /// a row.
        case readCommitted
        /// One snapshot for the whole transaction; a write that conflicts with
        /// a concurrent one fails with SQLSTATE 40001.
        case repeatableRead
        /// As if transactions ran one at a time; conflicts fail with SQLSTATE
        /// 40001, and the caller retries.
        case serializable

        var beginStatement: String {
            switch self {
            case .readCommitted: "BEGIN ISOLATION LEVEL READ COMMITTED"
            case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
            case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
            }
        }
    }

    /// Counts of slots and waiting callers, for tests and health reports.
    package struct Statistics: Sendable, Hashable {
        /// Connections open and free.
        package var idle: Int
        /// Connections lent to callers.
        package var leased: Int
        /// Connect attempts under way.
        package var connecting: Int
        /// Slots waiting out a backoff after a failed connect.
        package var backingOff: Int
        /// Callers queued for a connection.
        package var waiting: Int
        /// Since the pool was made: callers that had to queue for a connection.
        package var waited: Int = 0
        /// Since the pool was made: failed connects, and connections found
        /// broken when given back.
        package var failures: Int = 0
        /// Since the pool was made: callers failed without a connection (the
        /// deadline passed in the queue, or the database was known down).
        package var refused: Int = 0
    }

    /// A slot granted to a queued caller.
    private struct Granted: Sendable {
        var slot: Int
        var worker: ConnectionWorker
    }

    private typealias WaiterContinuation = CheckedContinuation<Result<Granted, StorageError>, Never>

    private struct Waiter {
        var continuation: WaiterContinuation
        /// Fails the caller at its deadline; cancelled when it is served.
        var timer: Task<Void, Never>?
    }

    private struct State {
        var machine: PoolStateMachine
        /// The thread of each slot, started at its first connect.
        var workers: [ConnectionWorker?]
        /// Queued callers, by id.
        var waiters: [UInt64: Waiter] = [:]
        /// Callers given an id but not queued yet: a cancellation may come
        /// first.
        var announced: Set<UInt64> = []
        /// Announced callers cancelled before they queued.
        var cancelledEarly: Set<UInt64> = []
        var nextID: UInt64 = 0
        /// The earliest wake-up scheduled for the state machine.
        var scheduledWakeUp: ContinuousClock.Instant?
        var shutdownStarted = false
        var shutdownCompleted = false
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// What to do once the lock is released.
    private struct Effects {
        var resume: [(WaiterContinuation, Result<Granted, StorageError>, Task<Void, Never>?)] = []
        var connect: [(slot: Int, worker: ConnectionWorker)] = []
        var stop: [ConnectionWorker] = []
        var wakeUp: ContinuousClock.Instant?
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The configuration the pool was made with.
    package let configuration: Configuration
    private let state: Mutex<State>

    /// Creates a pool. No connection opens and no thread starts until the
    /// first call.
    package init(configuration: Configuration) {
        precondition(configuration.maximumConnections > 0, "a pool needs at least one connection")
        self.configuration = configuration
        let machine = PoolStateMachine(
            maximumConnections: configuration.maximumConnections,
            backoff: .init(initial: configuration.initialBackoff, maximum: configuration.maximumBackoff)
        )
        self.state = Mutex(State(
            machine: machine,
            workers: Array(repeating: nil, count: configuration.maximumConnections)
        ))
    }

    deinit {
        // Safety net for a pool dropped without shutdown: let its threads end.
        let workers = state.withLock { state in state.shutdownStarted ? [] : state.workers.compactMap { $0 } }
        for worker in workers { worker.stop() }
    }

    /// The current counts of slots and callers.
    package var statistics: Statistics {
        let counts = state.withLock { $0.machine.statistics }
        return Statistics(
            idle: counts.idle,
            leased: counts.leased,
            connecting: counts.connecting,
            backingOff: counts.backingOff,
            waiting: counts.waiting,
            waited: counts.waited,
            failures: counts.failures,
            refused: counts.refused
        )
    }

    // MARK: - Calls

    /// Lends a connection to `body` and takes it back when `body` returns or
    /// throws.
    ///
    /// Statements in `body` run in autocommit mode unless `body` opens a
    /// transaction itself (prefer `transaction`); a transaction left open is
    /// rolled back when the lease ends.
    ///
    /// - Parameters:
    ///   - deadline: bounds the wait for a connection and every statement;
    ///     nil means `configuration.defaultTimeout` from now.
    ///   - body: runs in the caller's isolation; the connection must not
    ///     escape it.
    /// - Throws: `StorageError` (`unavailable`, `timedOut`, `cancelled`, and
    ///   whatever a statement throws), or what `body` throws.
    package func withConnection<Value>(
        deadline: ContinuousClock.Instant? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PooledConnection) async throws -> Value
    ) async throws -> Value {
        let lease = try await acquire(deadline: resolve(deadline))
        let watchdog = watch(lease)
        defer {
            watchdog.cancel()
            release(lease)
        }
        return try await body(lease)
    }

    /// Runs `body` in a transaction: `BEGIN` before, `COMMIT` after, and
    /// `ROLLBACK` when `body` throws (the error is rethrown).
    ///
    /// `SELECT … FOR UPDATE` inside `body` locks rows until the commit. When
    /// `BEGIN` meets a connection that broke while idle, the transaction
    /// starts again on a new one (nothing had run yet); failures after that
    /// are the caller's to retry, including serialization failures (SQLSTATE
    /// 40001) under the stricter isolation levels.
    ///
    /// - Parameters:
    ///   - deadline: as for `withConnection`; a commit cut short by the
    ///     deadline may or may not have taken effect.
    ///   - isolationLevel: the transaction's isolation level.
    ///   - body: runs in the caller's isolation.
    /// - Throws: as `withConnection`; `queryFailed` with SQLSTATE 25P02 when
    ///   `body` swallowed a failed statement, so that the commit became a
    ///   rollback.
    package func transaction<Value>(
        deadline: ContinuousClock.Instant? = nil,
        isolationLevel: IsolationLevel = .readCommitted,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PooledConnection) async throws -> Value
    ) async throws -> Value {
        let deadline = resolve(deadline)
        var retried = false
        while true {
            let lease = try await acquire(deadline: deadline)
            let watchdog = watch(lease)
            defer {
                watchdog.cancel()
                release(lease)
            }
            do throws(StorageError) {
                _ = try await lease.query(isolationLevel.beginStatement)
            } catch {
                guard error.code == .connectionLost, !retried else { throw error }
                retried = true
                continue
            }
            let value: Value
            do {
                value = try await body(lease)
            } catch {
                if !lease.isAbandoned {
                    // Best effort: the end of the lease rolls back on the
                    // slot's thread when this fails.
                    _ = try? await lease.query("ROLLBACK")
                }
                throw error
            }
            let commit = try await lease.query("COMMIT")
            if commit.commandTag == "ROLLBACK" {
                throw StorageError(
                    code: .queryFailed,
                    sqlState: "25P02",
                    message: "the transaction was rolled back because a statement in it failed"
                )
            }
            return value
        }
    }

    /// Closes the pool: queued callers fail with `unavailable`, free
    /// connections close at once, lent ones when their bodies return; returns
    /// when every connection is closed and every thread has ended. Later
    /// calls fail with `unavailable`. Safe to call more than once.
    package func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let effects = state.withLock { state -> Effects in
                if state.shutdownCompleted {
                    return Effects(shutdownWaiters: [continuation])
                }
                state.shutdownWaiters.append(continuation)
                state.shutdownStarted = true
                return apply(state.machine.shutDown(), to: &state)
            }
            perform(effects)
        }
        let workers = state.withLock { $0.workers.compactMap { $0 } }
        for worker in workers {
            await worker.join()
        }
    }

    // MARK: - Leases

    private func resolve(_ deadline: ContinuousClock.Instant?) -> ContinuousClock.Instant {
        deadline ?? .now + configuration.defaultTimeout
    }

    /// Gets a connection: at once when one is free and nobody waits,
    /// otherwise after queueing.
    private func acquire(deadline: ContinuousClock.Instant) async throws(StorageError) -> PooledConnection {
        let immediate = state.withLock { state -> (id: UInt64, granted: Granted?) in
            state.nextID += 1
            let id = state.nextID
            if let slot = state.machine.leaseImmediately() {
                guard let worker = state.workers[slot] else {
                    preconditionFailure("slot \(slot) is idle without a thread")
                }
                return (id, Granted(slot: slot, worker: worker))
            }
            state.announced.insert(id)
            return (id, nil)
        }
        let id = immediate.id
        if let granted = immediate.granted {
            return PooledConnection(slot: granted.slot, id: id, deadline: deadline, worker: granted.worker)
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: WaiterContinuation) in
                enqueue(id, deadline: deadline, continuation: continuation)
            }
        } onCancel: {
            cancelWaiter(id)
        }
        let granted = try result.get()
        return PooledConnection(slot: granted.slot, id: id, deadline: deadline, worker: granted.worker)
    }

    private func enqueue(_ id: UInt64, deadline: ContinuousClock.Instant, continuation: WaiterContinuation) {
        let effects = state.withLock { state -> Effects in
            state.announced.remove(id)
            if state.cancelledEarly.remove(id) != nil {
                let error = StorageError(code: .cancelled, message: "the call was cancelled while it waited for a database connection")
                return Effects(resume: [(continuation, .failure(error), nil)])
            }
            state.waiters[id] = Waiter(continuation: continuation)
            return apply(state.machine.enqueue(id, deadline: deadline, now: .now), to: &state)
        }
        perform(effects)

        // Still queued: fail it at its deadline unless served before.
        let isWaiting = state.withLock { $0.waiters[id] != nil }
        guard isWaiting else { return }
        let timer = Task.detached { [self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            guard !Task.isCancelled else { return }
            self.handle { $0.deadlinePassed(id, now: .now) }
        }
        let kept = state.withLock { state -> Bool in
            guard state.waiters[id] != nil else { return false }
            state.waiters[id]?.timer = timer
            return true
        }
        if !kept { timer.cancel() }
    }

    private func cancelWaiter(_ id: UInt64) {
        let effects = state.withLock { state -> Effects in
            if state.announced.remove(id) != nil {
                state.cancelledEarly.insert(id)
                return Effects()
            }
            guard state.waiters[id] != nil else { return Effects() }
            return apply(state.machine.cancelled(id), to: &state)
        }
        perform(effects)
    }

    /// Abandons `lease` at its deadline unless it ends before.
    private func watch(_ lease: PooledConnection) -> Task<Void, Never> {
        Task.detached {
            try? await Task.sleep(until: lease.deadline, clock: .continuous)
            guard !Task.isCancelled else { return }
            lease.abandon(StorageError(code: .timedOut, message: "the deadline passed while the call used its database connection"))
        }
    }

    /// Ends `lease`; its slot's thread settles the connection after the
    /// lease's last statement, then the slot serves the next caller.
    private func release(_ lease: PooledConnection) {
        lease.end()
        lease.slotWorker.submit { [self] context in
            let outcome = context.finishLease(discard: lease.mustDiscard)
            self.handle { $0.released(slot: lease.slot, outcome: outcome, now: .now) }
        }
    }

    // MARK: - State machine plumbing

    /// Feeds one event to the state machine and performs its actions.
    private func handle(_ event: (inout PoolStateMachine) -> PoolStateMachine.Actions) {
        let effects = state.withLock { state in
            apply(event(&state.machine), to: &state)
        }
        perform(effects)
    }

    /// Turns the state machine's actions into effects, under the lock.
    private func apply(_ actions: PoolStateMachine.Actions, to state: inout State) -> Effects {
        var effects = Effects()
        for grant in actions.grants {
            guard let waiter = state.waiters.removeValue(forKey: grant.waiter), let worker = state.workers[grant.slot] else {
                preconditionFailure("the pool granted slot \(grant.slot) to an unknown caller")
            }
            effects.resume.append((waiter.continuation, .success(Granted(slot: grant.slot, worker: worker)), waiter.timer))
        }
        for failure in actions.failures {
            guard let waiter = state.waiters.removeValue(forKey: failure.waiter) else { continue }
            effects.resume.append((waiter.continuation, .failure(failure.error), waiter.timer))
        }
        for slot in actions.connect {
            let worker = state.workers[slot] ?? ConnectionWorker(slot: slot, url: configuration.url)
            state.workers[slot] = worker
            effects.connect.append((slot, worker))
        }
        for slot in actions.close {
            if let worker = state.workers[slot] {
                effects.stop.append(worker)
            }
        }
        if let wakeUp = actions.wakeUp, state.scheduledWakeUp.map({ wakeUp < $0 }) ?? true {
            state.scheduledWakeUp = wakeUp
            effects.wakeUp = wakeUp
        }
        if actions.shutdownCompleted {
            state.shutdownCompleted = true
            effects.shutdownWaiters = state.shutdownWaiters
            state.shutdownWaiters.removeAll()
        }
        return effects
    }

    /// Performs effects, outside the lock.
    private func perform(_ effects: Effects) {
        for (continuation, result, timer) in effects.resume {
            timer?.cancel()
            continuation.resume(returning: result)
        }
        for (slot, worker) in effects.connect {
            worker.submit { [self] context in
                do throws(StorageError) {
                    try context.connect()
                    self.handle { $0.connectSucceeded(slot: slot, now: .now) }
                } catch {
                    self.handle { $0.connectFailed(slot: slot, error: error, now: .now) }
                }
            }
        }
        for worker in effects.stop {
            worker.stop()
        }
        if let wakeUp = effects.wakeUp {
            Task.detached { [self] in
                try? await Task.sleep(until: wakeUp, clock: .continuous)
                self.state.withLock { state in
                    if state.scheduledWakeUp == wakeUp { state.scheduledWakeUp = nil }
                }
                self.handle { $0.wakeUp(now: .now) }
            }
        }
        for waiter in effects.shutdownWaiters {
            waiter.resume()
        }
    }
}
