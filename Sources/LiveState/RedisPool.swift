import Synchronization

/// A fixed-size pool of Redis connections for async code.
///
/// ```swift
/// let pool = RedisPool(configuration: .init(url: try RedisURL(url)))
/// let replies = try await pool.pipeline([
///     [Array("INCR".utf8), key],
///     [Array("EXPIRE".utf8), key, Array("60".utf8)],
/// ], deadline: context.deadline)
/// await pool.shutdown()
/// ```
///
/// **Threads.** Each slot of the pool has a dedicated thread that owns its
/// connection and makes every blocking hiredis call (connect, write, read);
/// callers suspend on a continuation until the thread hands the replies
/// back, so neither the I/O event loops nor Swift's cooperative pool ever
/// wait on Redis. The threads block `SIGPIPE`, so a write to a connection the
/// server closed fails instead of killing the process. A call costs two
/// thread hand-offs, small next to a round trip; `pipeline` sends many
/// commands for the price of one.
///
/// **Rules** (the state machine is `RedisPoolStateMachine`):
/// - At most `connections` connections, opened lazily when calls wait.
///   Calls queue in FIFO order, each until its deadline.
/// - Every call has a deadline (the `deadline` argument, or `defaultTimeout`
///   from now). When it passes, the call fails at once with `timedOut` — or
///   `unavailable` when the pool has no live connection. A call whose
///   commands were sent may still take effect; its connection is closed,
///   since its replies are still on their way (the socket timeout is set to
///   the time left before each read, so the slot's thread comes back by the
///   deadline too).
/// - While Redis is down (connects fail), calls fail at once with
///   `unavailable`; connect attempts are spaced by a capped exponential
///   backoff.
/// - A connection the server closed while it was idle (a restart,
///   `CLIENT KILL`, an idle timeout) is replaced before anything is sent on
///   it. One that breaks during a call fails that call (`connectionClosed`,
///   `ioFailed`) and is replaced for the next one; commands are never sent
///   twice, since they may have run.
/// - Cancelling the calling task answers it at once with `cancelled` and
///   removes it from the queue; commands already sent run to the end.
///
/// Errors map to gRPC codes as: `unavailable`, `connectionFailed`,
/// `connectionClosed`, `ioFailed` → UNAVAILABLE; `timedOut` →
/// DEADLINE_EXCEEDED; `cancelled` → CANCELLED.
///
/// Call `shutdown()` before dropping the pool.
package final class RedisPool: Sendable {
    /// How a pool connects and how it behaves.
    package struct Configuration: Sendable {
        /// Where Redis is; its password and database apply to every connection.
        package var url: RedisURL
        /// The most connections open at once; at least 1.
        package var connections: Int
        /// The bound on opening one connection.
        package var connectTimeout: Duration
        /// The deadline of calls that give none, from the start of the call.
        package var defaultTimeout: Duration
        /// The pause after a first failed connect; it doubles with each further
        /// consecutive failure, up to `maximumBackoff`.
        package var initialBackoff: Duration
        /// The longest pause between connect attempts.
        package var maximumBackoff: Duration

        /// A configuration with defaults suited to one server instance.
        package init(
            url: RedisURL,
            connections: Int = 4,
            connectTimeout: Duration = .seconds(2),
            defaultTimeout: Duration = .seconds(2),
            initialBackoff: Duration = .milliseconds(50),
            maximumBackoff: Duration = .seconds(2)
        ) {
            self.url = url
            self.connections = connections
            self.connectTimeout = connectTimeout
            self.defaultTimeout = defaultTimeout
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
        }
    }

    /// Counts of slots and waiting calls, for tests and operators.
    package struct Statistics: Sendable, Hashable {
        package var idle: Int
        package var leased: Int
        package var connecting: Int
        package var backingOff: Int
        package var waiting: Int
    }

    private struct State {
        var machine: RedisPoolStateMachine
        /// The thread of each slot, started at its first connect.
        var workers: [RedisWorker?]
        /// Queued calls, by id.
        var queued: [UInt64: RedisCall] = [:]
        var nextID: UInt64 = 0
        /// The earliest wake-up scheduled for the state machine.
        var scheduledWakeUp: ContinuousClock.Instant?
        var shutdownStarted = false
        var shutdownCompleted = false
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// What to do once the lock is released.
    private struct Effects {
        var run: [(call: RedisCall, slot: Int, worker: RedisWorker)] = []
        var fail: [(call: RedisCall, error: LiveStateError)] = []
        var connect: [(slot: Int, worker: RedisWorker)] = []
        var stop: [RedisWorker] = []
        var wakeUp: ContinuousClock.Instant?
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The configuration the pool was made with.
    package let configuration: Configuration
    private let state: Mutex<State>

    /// Creates a pool. No connection opens and no thread starts until the
    /// first call.
    ///
    /// - Precondition: `configuration.connections` is at least 1.
    package init(configuration: Configuration) {
        precondition(configuration.connections > 0, "a pool needs at least one connection")
        self.configuration = configuration
        let machine = RedisPoolStateMachine(
            connections: configuration.connections,
            backoff: Backoff(initial: configuration.initialBackoff, maximum: configuration.maximumBackoff)
        )
        self.state = Mutex(State(
            machine: machine,
            workers: Array(repeating: nil, count: configuration.connections)
        ))
    }

    deinit {
        // Safety net for a pool dropped without shutdown: let its threads end.
        let workers = state.withLock { state in state.shutdownStarted ? [] : state.workers.compactMap { $0 } }
        for worker in workers { worker.stop() }
    }

    /// True after the last connect or call succeeded, false after a connect
    /// failed or a connection was lost, until one succeeds again. True before
    /// the first call. A call that merely ran out of time changes nothing.
    package var isHealthy: Bool {
        state.withLock { $0.machine.isHealthy }
    }

    /// How many connects have failed and connections been lost so far
    /// (including idle connections found closed by the server and replaced
    /// without the caller noticing). It only grows: a caller that reads it
    /// before and after something learns whether Redis had an outage (or
    /// restarted, losing what it kept in memory) in between.
    package var failureCount: Int {
        state.withLock { $0.machine.failureCount }
    }

    /// The current counts of slots and calls.
    package var statistics: Statistics {
        let counts = state.withLock { $0.machine.statistics }
        return Statistics(
            idle: counts.idle,
            leased: counts.leased,
            connecting: counts.connecting,
            backingOff: counts.backingOff,
            waiting: counts.waiting
        )
    }

    // MARK: - Calls

    /// Sends the commands as one pipeline on one connection and returns their
    /// replies, in order. Each command is its arguments as raw bytes
    /// (binary-safe).
    ///
    /// The commands run one after the other on the server, but other clients'
    /// commands may run in between; wrap them in `MULTI`/`EXEC` when that
    /// matters. A Redis error reply (`RedisReply.error`) is one command's
    /// reply, not a thrown error.
    ///
    /// - Parameter deadline: bounds the wait for a connection and for the
    ///   replies; nil means `configuration.defaultTimeout` from now.
    /// - Returns: one reply per command; an empty array for no commands.
    /// - Throws: `invalidArgument` for an empty command (nothing is sent);
    ///   `unavailable` when Redis cannot be reached; `timedOut` when the
    ///   deadline passes; `cancelled` when the task is cancelled first;
    ///   `shutdown` after `shutdown()`; `connectionClosed`, `ioFailed` or
    ///   `protocolError` when the connection broke during the call (some
    ///   commands may have run).
    package func pipeline(
        _ commands: [[[UInt8]]],
        deadline: ContinuousClock.Instant? = nil
    ) async throws(LiveStateError) -> [RedisReply] {
        guard !commands.contains(where: \.isEmpty) else {
            throw LiveStateError(code: .invalidArgument, message: "a command needs at least its name")
        }
        guard !commands.isEmpty else { return [] }
        let deadline = deadline ?? .now + configuration.defaultTimeout
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let call = RedisCall(id: id, commands: commands, deadline: deadline)
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: RedisCall.Continuation) in
                call.install(continuation)
                start(call)
            }
        } onCancel: {
            cancel(call)
        }
        return try outcome.get()
    }

    /// Sends one command, such as `["SET", key, value]` (arguments as UTF-8),
    /// and returns its reply.
    ///
    /// - Throws: as `pipeline(_:deadline:)`.
    package func command(
        _ arguments: [String],
        deadline: ContinuousClock.Instant? = nil
    ) async throws(LiveStateError) -> RedisReply {
        try await command(arguments.map { Array($0.utf8) }, deadline: deadline)
    }

    /// Sends one command given as raw bytes and returns its reply.
    ///
    /// - Throws: as `pipeline(_:deadline:)`.
    package func command(
        _ arguments: [[UInt8]],
        deadline: ContinuousClock.Instant? = nil
    ) async throws(LiveStateError) -> RedisReply {
        let replies = try await pipeline([arguments], deadline: deadline)
        guard let reply = replies.first, replies.count == 1 else {
            preconditionFailure("a pipeline of one command returned \(replies.count) replies")
        }
        return reply
    }

    /// Closes the pool: queued calls fail with `shutdown`, idle connections
    /// close at once, busy ones when their calls end (by their deadlines at
    /// the latest); returns when every connection is closed and every thread
    /// has ended. Later calls fail with `shutdown`. Safe to call more than
    /// once.
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

    // MARK: - Call plumbing

    /// Runs `call` on an idle connection, or queues it, and arms its deadline.
    private func start(_ call: RedisCall) {
        let effects = state.withLock { state -> Effects in
            // Cancelled before it started: `cancel` has answered it.
            guard !call.isAnswered else { return Effects() }
            if let slot = state.machine.leaseImmediately() {
                guard let worker = state.workers[slot] else {
                    preconditionFailure("slot \(slot) is idle without a thread")
                }
                return Effects(run: [(call, slot, worker)])
            }
            state.queued[call.id] = call
            return apply(state.machine.enqueue(call.id, deadline: call.deadline, now: .now), to: &state)
        }
        perform(effects)
        guard !call.isAnswered else { return }
        let timer = Task.detached { [self] in
            try? await Task.sleep(until: call.deadline, clock: .continuous)
            guard !Task.isCancelled else { return }
            self.deadlinePassed(call)
        }
        call.setTimer(timer)
    }

    /// The deadline of `call` passed: fails it, queued or running.
    private func deadlinePassed(_ call: RedisCall) {
        let effects = state.withLock { state -> Effects in
            guard state.queued[call.id] != nil else { return Effects() }
            return apply(state.machine.deadlinePassed(call.id, now: .now), to: &state)
        }
        perform(effects)
        // Running: its slot's thread comes back by itself (the socket timeout
        // is the deadline) and closes the connection.
        call.answer(.failure(LiveStateError(code: .timedOut, message: "the deadline passed before Redis answered")))
    }

    /// The task of `call` was cancelled.
    private func cancel(_ call: RedisCall) {
        call.answer(.failure(RedisPoolStateMachine.cancelledError))
        let effects = state.withLock { state -> Effects in
            guard state.queued[call.id] != nil else { return Effects() }
            return apply(state.machine.cancelled(call.id), to: &state)
        }
        perform(effects)
    }

    /// Sends `call` to its slot's thread; the thread answers it and hands the
    /// slot back.
    private func run(_ call: RedisCall, slot: Int, worker: RedisWorker) {
        worker.submit { [self] context in
            guard !call.isAnswered else {
                // Answered while it waited for this thread (cancelled):
                // nothing was sent, the connection is as it was.
                self.handle { $0.released(slot: slot, outcome: .reusable, now: .now) }
                return
            }
            let outcome = context.run(call.commands, deadline: call.deadline)
            call.answer(outcome.result)
            self.handle {
                $0.released(slot: slot, outcome: outcome.release, foundDead: outcome.foundDead, now: .now)
            }
        }
    }

    // MARK: - State machine plumbing

    /// Feeds one event to the state machine and performs its actions.
    private func handle(_ event: (inout RedisPoolStateMachine) -> RedisPoolStateMachine.Actions) {
        let effects = state.withLock { state in
            apply(event(&state.machine), to: &state)
        }
        perform(effects)
    }

    /// Turns the state machine's actions into effects, under the lock.
    private func apply(_ actions: RedisPoolStateMachine.Actions, to state: inout State) -> Effects {
        var effects = Effects()
        for grant in actions.grants {
            guard let call = state.queued.removeValue(forKey: grant.call), let worker = state.workers[grant.slot] else {
                preconditionFailure("the pool granted slot \(grant.slot) to an unknown call")
            }
            effects.run.append((call, grant.slot, worker))
        }
        for failure in actions.failures {
            guard let call = state.queued.removeValue(forKey: failure.call) else { continue }
            effects.fail.append((call, failure.error))
        }
        for slot in actions.connect {
            let worker = state.workers[slot]
                ?? RedisWorker(slot: slot, url: configuration.url, connectTimeout: configuration.connectTimeout)
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
        for (call, error) in effects.fail {
            call.answer(.failure(error))
        }
        for (call, slot, worker) in effects.run {
            run(call, slot: slot, worker: worker)
        }
        for (slot, worker) in effects.connect {
            worker.submit { [self] context in
                do throws(LiveStateError) {
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
