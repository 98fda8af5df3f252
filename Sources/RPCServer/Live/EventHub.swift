import Codec
import LiveState
import Storage
import Synchronization

/// The pub/sub side of Redis as the hub needs it: `RedisSubscriber` in the
/// server.
package protocol EventChannelSubscriber: Sendable {
    /// Starts receiving `channel` (idempotent; takes effect asynchronously).
    func subscribe(_ channel: String)
    /// Stops receiving `channel`.
    func unsubscribe(_ channel: String)
    /// Returns once every earlier subscribe and unsubscribe is in effect, or
    /// the subscriber is disconnected.
    func synchronize() async
    /// Whether the subscription connection is up.
    var isConnected: Bool { get }
}

/// This instance's watchers, by user, and the fan-out of each user's events
/// to them.
///
/// Events reach the hub from Redis pub/sub (`receive(channel:payload:)`) for
/// every change made through any instance, and directly (`deliverLocally`)
/// for changes made here while Redis is down. The hub subscribes to a user's
/// channel while it has a watcher for that user, and only then.
///
/// Each watcher has a bounded queue: a watcher that does not keep up loses
/// its oldest queued items and is told to start again from a snapshot, so a
/// slow reader costs only itself. HEARTBEATs are queued by one ticker for all
/// watchers.
package final class EventHub: Sendable {
    /// What a watcher's stream carries.
    package enum Item: Sendable {
        /// A change, with its id in the user's log (nil when Redis was down).
        case event(EventID?, TimerEvent)
        /// Events may have been missed (queue overflow, Redis reconnected):
        /// send a fresh snapshot.
        case resync
        /// Time for a HEARTBEAT.
        case heartbeat
    }

    /// One WatchTimers stream's queue.
    package final class Watcher: Sendable {
        package let user: Int64
        package let items: AsyncStream<Item>
        fileprivate let continuation: AsyncStream<Item>.Continuation
        fileprivate let heartbeat: Duration
        private let overflowed = Atomic<Bool>(false)
        private let metrics: LiveMetrics

        fileprivate init(user: Int64, capacity: Int, heartbeat: Duration, metrics: LiveMetrics) {
            self.user = user
            (items, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(capacity))
            self.heartbeat = heartbeat
            self.metrics = metrics
        }

        /// Whether items were dropped since the last call (then the reader
        /// must resync); clears the flag.
        package func takeOverflow() -> Bool {
            overflowed.exchange(false, ordering: .acquiringAndReleasing)
        }

        fileprivate func offer(_ item: Item) {
            if case .event = item { metrics.delivered.increment() }
            if case .dropped = continuation.yield(item) {
                metrics.overflows.increment()
                overflowed.store(true, ordering: .releasing)
            }
        }
    }

    private struct State {
        var watchers: [Int64: [ObjectIdentifier: Watcher]] = [:]
        var ticker: Task<Void, Never>?
        var closed = false
        /// Per watched user, the number of the last change that reached the
        /// hub (from `changeCounter`).
        var lastChange: [Int64: UInt64] = [:]
        var changeCounter: UInt64 = 0
        /// Per watched user, the active timers as read after that change.
        var known: [Int64: (change: UInt64, records: [TimerRecord])] = [:]

        mutating func changed(_ user: Int64) {
            changeCounter += 1
            if watchers[user] != nil { lastChange[user] = changeCounter }
            known[user] = nil
        }
    }

    private let state = Mutex(State())

    /// HEARTBEATs by the tick they fall due in (a timing wheel of
    /// ``tickLength`` slots): a tick touches the watchers due then, not all
    /// of them, and ticks are short, so that beats spread evenly instead of
    /// arriving in bursts that hold up events.
    private struct Wheel {
        var slots: [Int64: [ObjectIdentifier: Watcher]] = [:]
        var slotOf: [ObjectIdentifier: Int64] = [:]
        /// The last slot whose beats were sent.
        var done: Int64

        mutating func schedule(_ watcher: Watcher, at slot: Int64) {
            let id = ObjectIdentifier(watcher)
            slots[slot, default: [:]][id] = watcher
            slotOf[id] = slot
        }

        mutating func remove(_ watcher: Watcher) {
            let id = ObjectIdentifier(watcher)
            guard let slot = slotOf.removeValue(forKey: id) else { return }
            slots[slot]?[id] = nil
            if slots[slot]?.isEmpty == true { slots[slot] = nil }
        }
    }
    private static let tickLength = Duration.milliseconds(25)
    private let origin = ContinuousClock.now
    private let wheel: Mutex<Wheel>

    /// The wheel slot `instant` falls in.
    private func slot(_ instant: ContinuousClock.Instant) -> Int64 {
        Int64((instant - origin) / Self.tickLength)
    }
    private let subscriber: (any EventChannelSubscriber)?
    private let capacity: Int
    private let decode: @Sendable (Int64, [UInt8]) throws -> TimerEvent
    private let counts = Mutex((received: 0, undecodable: 0))
    /// For operators (`LiveMetrics`).
    let metrics: LiveMetrics

    /// A hub over `subscriber` (nil without Redis: local delivery only).
    ///
    /// - Parameters:
    ///   - capacity: items a watcher may have queued before it overflows.
    ///   - decode: opens and decodes the payload of a user's event (the
    ///     sealed, encoded `TimerEvent`).
    package init(subscriber: (any EventChannelSubscriber)?, capacity: Int = 256, metrics: LiveMetrics = LiveMetrics(),
                 decode: @escaping @Sendable (Int64, [UInt8]) throws -> TimerEvent) {
        self.subscriber = subscriber
        self.metrics = metrics
        self.capacity = max(1, capacity)
        self.decode = decode
        wheel = Mutex(Wheel(done: 0))
        subscriber?.subscribe(LiveKeys.resyncChannel)
    }

    /// Registers a watcher of `user`'s events with a HEARTBEAT every
    /// `heartbeat`; subscribes to the user's channel if it is the first.
    /// Call `synchronize()` before reading the log, so that no event
    /// published from then on is missed.
    package func register(user: Int64, heartbeat: Duration) -> Watcher {
        let watcher = Watcher(user: user, capacity: capacity, heartbeat: heartbeat, metrics: metrics)
        let (first, closed) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, true) }
            let first = state.watchers[user]?.isEmpty ?? true
            state.watchers[user, default: [:]][ObjectIdentifier(watcher)] = watcher
            if state.ticker == nil { state.ticker = Task { await self.tick() } }  // until close()
            return (first, false)
        }
        // Strong captures: the cycle watcher → stream → handler ends when the
        // stream terminates (unregister and close finish every stream).
        // (Weak references would give these objects side tables, which
        // LeakSanitizer cannot follow from a live object.)
        watcher.continuation.onTermination = { _ in
            self.unregister(watcher)
        }
        if closed {
            watcher.continuation.finish()
        } else {
            // The first beat falls anywhere in the second half of the
            // interval, so that streams opened together (a reconnecting
            // fleet) do not beat together ever after.
            let now = slot(.now)
            let first = slot(.now + heartbeat * Double.random(in: 0.5...1.0))
            wheel.withLock { wheel in
                // Nothing scheduled: the slots up to now need no visit.
                if wheel.slots.isEmpty { wheel.done = max(wheel.done, now) }
                wheel.schedule(watcher, at: max(first, wheel.done + 1))
            }
        }
        if !closed && first {
            subscriber?.subscribe(LiveKeys.channel(user: user))
        }
        return watcher
    }

    /// Waits until the subscriptions asked for so far are in effect.
    package func synchronize() async {
        await subscriber?.synchronize()
    }

    /// Removes a watcher (also done when its stream ends); unsubscribes from
    /// the user's channel when it was the last.
    package func unregister(_ watcher: Watcher) {
        let last = state.withLock { state -> Bool in
            guard state.watchers[watcher.user]?.removeValue(forKey: ObjectIdentifier(watcher)) != nil else { return false }
            if state.watchers[watcher.user]?.isEmpty == true {
                state.watchers[watcher.user] = nil
                state.lastChange[watcher.user] = nil
                state.known[watcher.user] = nil
                return true
            }
            return false
        }
        wheel.withLock { $0.remove(watcher) }
        if last { subscriber?.unsubscribe(LiveKeys.channel(user: watcher.user)) }
        watcher.continuation.finish()
    }

    /// Whether the pub/sub connection is up; nil without Redis.
    package var isSubscriberConnected: Bool? {
        subscriber?.isConnected
    }

    /// Watchers registered now.
    package var watcherCount: Int {
        state.withLock { $0.watchers.values.reduce(0) { $0 + $1.count } }
    }

    /// Events received from Redis so far, and how many could not be opened
    /// or decoded (a wrong state key on one instance, say).
    package var received: (total: Int, undecodable: Int) {
        counts.withLock { ($0.received, $0.undecodable) }
    }

    // MARK: - Input

    /// A message from Redis pub/sub: `<event id> <sealed event>` on a user's
    /// channel. Runs on the subscriber's thread.
    package func receive(channel: String, payload: [UInt8]) {
        if channel == LiveKeys.resyncChannel {
            resyncAll()
            return
        }
        guard let user = LiveKeys.user(ofChannel: channel) else {
            counts.withLock { $0.undecodable += 1 }
            metrics.undecodable.increment()
            return
        }
        // Whatever it says, something of the user's changed.
        let targets = changed(user)
        guard let space = payload.firstIndex(of: 0x20),
              let id = EventID(String(decoding: payload[..<space], as: UTF8.self)) else {
            counts.withLock { $0.undecodable += 1 }
            metrics.undecodable.increment()
            return
        }
        guard !targets.isEmpty else { return }
        let event: TimerEvent
        do {
            event = try decode(user, Array(payload[(space + 1)...]))
        } catch {
            counts.withLock { $0.received += 1; $0.undecodable += 1 }
            metrics.received.increment()
            metrics.undecodable.increment()
            return
        }
        counts.withLock { $0.received += 1 }
        metrics.received.increment()
        metrics.recordLag(occurredSeconds: event.occurredAt?.seconds ?? 0, nanos: event.occurredAt?.nanos ?? 0)
        var stamped = event
        stamped.eventID = id.description
        for watcher in targets { watcher.offer(.event(id, stamped)) }
    }

    /// A change made here while Redis could not carry it: delivered to this
    /// instance's watchers only, without an id.
    package func deliverLocally(user: Int64, event: TimerEvent) {
        for watcher in changed(user) { watcher.offer(.event(nil, event)) }
    }

    /// Every watcher may have missed events (Redis pub/sub reconnected, or
    /// an instance announced a resync): each gets a fresh snapshot.
    package func resyncAll() {
        let all = state.withLock { state in
            for user in state.watchers.keys { state.changed(user) }
            return state.watchers.values.flatMap(\.values)
        }
        for watcher in all { watcher.offer(.resync) }
    }

    /// Records a change of `user`'s; returns the user's watchers.
    private func changed(_ user: Int64) -> [Watcher] {
        state.withLock { state in
            state.changed(user)
            return state.watchers[user].map { Array($0.values) } ?? []
        }
    }

    // MARK: - The active timers of watched users

    /// The active timers of a watched `user` as last `remember`ed, when no
    /// change of the user's has reached the hub since and the hub is
    /// receiving them (so HEARTBEATs need not read Redis each); and the
    /// number of the user's last change, to give back to `remember`.
    package func knownActive(user: Int64) -> (records: [TimerRecord]?, change: UInt64) {
        let connected = subscriber?.isConnected ?? true
        return state.withLock { state in
            let change = state.lastChange[user] ?? 0
            guard connected, let known = state.known[user], known.change == change else { return (nil, change) }
            return (known.records, change)
        }
    }

    /// Keeps `records`, read after change number `change` of `user`, unless
    /// the user is not watched here or has changed again since.
    package func remember(active records: [TimerRecord], user: Int64, change: UInt64) {
        state.withLock { state in
            guard state.watchers[user] != nil, (state.lastChange[user] ?? 0) == change else { return }
            state.known[user] = (change, records)
        }
    }

    /// Ends every stream and stops the ticker; later registrations end at once.
    package func close() {
        let (all, ticker) = state.withLock { state -> ([Watcher], Task<Void, Never>?) in
            state.closed = true
            defer { state.watchers = [:]; state.ticker = nil }
            return (state.watchers.values.flatMap(\.values), state.ticker)
        }
        ticker?.cancel()
        wheel.withLock { $0 = Wheel(done: $0.done) }
        for watcher in all { watcher.continuation.finish() }
    }

    package var isClosed: Bool { state.withLock { $0.closed } }

    /// When `watcher`'s next HEARTBEAT is due (to the tick), if it is scheduled.
    func scheduledBeat(of watcher: Watcher) -> ContinuousClock.Instant? {
        wheel.withLock { $0.slotOf[ObjectIdentifier(watcher)] }.map { origin + Self.tickLength * Int($0) }
    }

    /// Queues HEARTBEATs as they fall due, every tick those of its slots.
    private func tick() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: Self.tickLength) } catch { return }
            let now = slot(.now)
            let due = wheel.withLock { wheel -> [Watcher] in
                var due: [Watcher] = []
                while wheel.done < now {
                    wheel.done += 1
                    guard let watchers = wheel.slots.removeValue(forKey: wheel.done) else { continue }
                    for watcher in watchers.values {
                        // From now, not from when it was due: a late tick
                        // (a busy machine) must not beat twice in a row.
                        wheel.schedule(watcher, at: now + max(1, Int64(watcher.heartbeat / Self.tickLength)))
                        due.append(watcher)
                    }
                }
                return due
            }
            for watcher in due { watcher.offer(.heartbeat) }
        }
    }
}
