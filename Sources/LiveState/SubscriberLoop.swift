import Foundation
import Glibc
import Synchronization

/// The thread of a `RedisSubscriber` and the state it shares with the
/// subscriber's callers.
///
/// The thread owns the pub/sub connection and sleeps in `poll(2)` on its
/// socket and on a wake-up pipe that callers signal when the wanted channels
/// change or on shutdown. One `SubscriptionStateMachine` per connection
/// decides what to send and what replies mean; this type performs its
/// actions and handles the connection's life: connect without blocking,
/// reconnect with capped backoff, announce `.connected` and `.disconnected`.
///
/// Kept apart from `RedisSubscriber` so that the thread, which references
/// this object, does not keep the subscriber alive: a subscriber dropped
/// without `shutdown()` still stops its thread.
final class SubscriberLoop: Sendable {
    typealias Instant = ContinuousClock.Instant
    typealias Handler = @Sendable (RedisSubscriber.Event) -> Void

    /// Where the subscriber stands.
    enum Phase: Hashable {
        /// Before the first connection became live or failed.
        case starting
        /// Live: subscribed to every wanted channel as of the connect.
        case connected
        /// Between a failure and the next live connection.
        case disconnected
        /// The thread has ended.
        case shutDown
    }

    private struct Shared {
        /// The channels callers want, and the number of their last change.
        var wanted: Set<String> = []
        var generation: UInt64 = 0
        /// Every change up to this number is confirmed by Redis.
        var confirmed: UInt64 = 0
        var phase = Phase.starting
        /// `synchronize()` callers, with the change each waits for.
        var waiters: [(generation: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var stopping = false
        /// The loop's thread, once it runs.
        var thread: pthread_t?
    }

    /// Where to connect: the first, then after each failure the next.
    private let urls: [RedisURL]
    private let connectTimeout: Duration
    private let backoff: Backoff
    private let pingInterval: Duration
    private let handler: Handler
    private let shared = Mutex(Shared())
    private let wakeUp = WakeUpPipe()
    /// Left when the thread ends.
    private let running = DispatchGroup()

    /// Starts the thread, which connects at once.
    ///
    /// - Precondition: `urls` is not empty.
    init(urls: [RedisURL], connectTimeout: Duration, backoff: Backoff, pingInterval: Duration, handler: @escaping Handler) {
        precondition(!urls.isEmpty, "a subscriber needs somewhere to connect")
        self.urls = urls
        self.connectTimeout = connectTimeout
        self.backoff = backoff
        self.pingInterval = pingInterval
        self.handler = handler
        running.enter()
        let thread = Thread { [self] in
            self.run()
            self.running.leave()
        }
        thread.name = "redis-subscriber"
        thread.start()
    }

    // MARK: - Callers' side

    /// Adds `channel` to (or removes it from) the wanted set; wakes the thread
    /// when that changes the set.
    func want(_ channel: String, _ wanted: Bool) {
        let changed = shared.withLock { shared -> Bool in
            guard !shared.stopping else { return false }
            let changed = wanted ? shared.wanted.insert(channel).inserted : shared.wanted.remove(channel) != nil
            if changed { shared.generation += 1 }
            return changed
        }
        if changed { wakeUp.signal() }
    }

    /// Waits until every change so far is confirmed, or the subscriber is
    /// disconnected or stopping.
    func synchronize() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = shared.withLock { shared -> Bool in
                switch shared.phase {
                case .disconnected, .shutDown:
                    return true
                case .starting, .connected:
                    if shared.stopping || shared.confirmed >= shared.generation { return true }
                    shared.waiters.append((shared.generation, continuation))
                    return false
                }
            }
            if ready { continuation.resume() }
        }
    }

    var phase: Phase {
        shared.withLock { $0.phase }
    }

    /// Asks the thread to end; returns at once.
    func stop() {
        shared.withLock { $0.stopping = true }
        wakeUp.signal()
    }

    /// Waits until the thread has ended; returns at once when called on the
    /// thread itself (from the handler), which ends after the handler returns.
    func join() {
        let onLoopThread = shared.withLock { shared in
            shared.thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        }
        guard !onLoopThread else { return }
        running.wait()
    }

    // MARK: - The thread

    private var isStopping: Bool {
        shared.withLock { $0.stopping }
    }

    private func run() {
        SignalMask.blockBrokenPipeOnThisThread()
        shared.withLock { $0.thread = pthread_self() }
        var failures = 0
        while !isStopping {
            do throws(LiveStateError) {
                try session(failures: &failures)
            } catch {
                guard !isStopping else { break }
                disconnected(error)
                failures += 1
                pause(until: .now + backoff.delay(afterFailures: failures))
            }
        }
        let waiters = shared.withLock { shared in
            shared.phase = .shutDown
            defer { shared.waiters.removeAll() }
            return shared.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// One connection, from connect to failure; returns only when stopping.
    private func session(failures: inout Int) throws(LiveStateError) {
        let url = urls[failures % urls.count]
        let address = "\(url.host):\(url.port)"
        let connection = try RedisConnection.startConnecting(host: url.host, port: url.port)
        let connectDeadline = ContinuousClock.now + connectTimeout
        while true {
            let ready = try poll(connection.fileDescriptor, for: Int16(POLLOUT), until: connectDeadline)
            if isStopping { return }
            if ready != 0 { break }
            if ContinuousClock.now >= connectDeadline {
                throw LiveStateError(code: .connectionFailed, message: "\(address): no connection within \(connectTimeout)")
            }
        }
        try connection.finishConnecting(to: address)

        var machine = SubscriptionStateMachine(pingInterval: pingInterval, replyTimeout: connectTimeout, now: .now)
        let (wanted, generation) = shared.withLock { ($0.wanted, $0.generation) }
        var applied = generation
        let credentials = url.password.map { password in (url.username.map { [$0] } ?? []) + [password] }
        try perform(
            machine.opened(credentials: credentials, wanted: wanted, generation: generation, now: .now),
            on: connection,
            failures: &failures
        )
        var writing = try !connection.writeBuffered()
        while true {
            let events = Int16(POLLIN) | (writing ? Int16(POLLOUT) : 0)
            let ready = try poll(connection.fileDescriptor, for: events, until: machine.nextTick)
            if isStopping { return }
            let (wanted, generation) = shared.withLock { ($0.wanted, $0.generation) }
            if generation != applied {
                applied = generation
                try perform(machine.wantedChanged(wanted, generation: generation, now: .now), on: connection, failures: &failures)
            }
            if ready & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                try connection.readAvailable()
                while let reply = try connection.bufferedReply() {
                    try perform(machine.received(reply, now: .now), on: connection, failures: &failures)
                }
            }
            try perform(machine.tick(now: .now), on: connection, failures: &failures)
            writing = try !connection.writeBuffered()
        }
    }

    /// Performs a state machine's actions on the thread.
    private func perform(
        _ actions: SubscriptionStateMachine.Actions,
        on connection: RedisConnection,
        failures: inout Int
    ) throws(LiveStateError) {
        for command in actions.send {
            try connection.append(command)
        }
        for message in actions.messages {
            // A channel unsubscribed a moment ago may still deliver; nothing
            // is delivered once stopping.
            let deliver = shared.withLock { !$0.stopping && $0.wanted.contains(message.channel) }
            guard deliver else { continue }
            handler(.message(channel: message.channel, payload: message.payload))
        }
        guard actions.connected || actions.confirmed != nil else { return }
        let ready = shared.withLock { shared -> [CheckedContinuation<Void, Never>] in
            if let confirmed = actions.confirmed {
                shared.confirmed = max(shared.confirmed, confirmed)
            }
            if actions.connected {
                shared.phase = .connected
            }
            let confirmed = shared.confirmed
            let ready = shared.waiters.filter { $0.generation <= confirmed }.map(\.continuation)
            shared.waiters.removeAll { $0.generation <= confirmed }
            return ready
        }
        for waiter in ready { waiter.resume() }
        if actions.connected {
            failures = 0
            if !isStopping { handler(.connected) }
        }
    }

    /// The connection failed (or could not be opened): announces it once
    /// per outage and releases `synchronize()` callers.
    private func disconnected(_ error: LiveStateError) {
        let (announce, waiters) = shared.withLock { shared -> (Bool, [CheckedContinuation<Void, Never>]) in
            guard shared.phase == .starting || shared.phase == .connected else { return (false, []) }
            shared.phase = .disconnected
            defer { shared.waiters.removeAll() }
            return (true, shared.waiters.map(\.continuation))
        }
        for waiter in waiters { waiter.resume() }
        if announce { handler(.disconnected(error)) }
    }

    /// Sleeps until `deadline` or until stopping.
    private func pause(until deadline: Instant) {
        while !isStopping, ContinuousClock.now < deadline {
            _ = try? poll(-1, for: 0, until: deadline)
        }
    }

    /// Polls `descriptor` for `events` and the wake-up pipe until `deadline`;
    /// returns the descriptor's events (0 on a timeout or a wake-up).
    ///
    /// - Throws: `ioFailed` when `poll(2)` fails.
    private func poll(_ descriptor: Int32, for events: Int16, until deadline: Instant) throws(LiveStateError) -> Int16 {
        var descriptors = [
            pollfd(fd: descriptor, events: events, revents: 0),
            pollfd(fd: wakeUp.readDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let remaining = deadline - .now
        let milliseconds =
            remaining <= .zero ? 0 : Int32(min((remaining / .milliseconds(1)).rounded(.up), Double(Int32.max)))
        let result = Glibc.poll(&descriptors, 2, milliseconds)
        if result < 0 {
            guard errno == EINTR else {
                throw LiveStateError(code: .ioFailed, message: "poll: \(String(cString: strerror(errno)))")
            }
            return 0
        }
        if descriptors[1].revents != 0 {
            wakeUp.drain()
        }
        return descriptors[0].revents
    }
}
