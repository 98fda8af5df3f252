import Codec
import LiveState
import RPC
import Storage
import Synchronization
import TimerDomain

/// The live half of the service on one instance: what happens after a change
/// commits in PostgreSQL (its state and event go to Redis, and from there to
/// every instance's watchers), reads of live state, the shared sync rate
/// limit, and the repair of Redis after an outage.
///
/// **Redis is never the only copy.** A change is committed in PostgreSQL
/// before it is published. When a publish fails, the change is delivered to
/// this instance's watchers directly, the live state counts as untrusted
/// (reads go to PostgreSQL), and a rebuild from PostgreSQL runs until it
/// succeeds; only then is Redis trusted again. The same happens when the
/// health probe or the pub/sub connection notices Redis went away.
package final class LiveTimers: Sendable {
    /// What the live half is configured with.
    package struct Configuration: Sendable {
        /// SyncTimers calls allowed per user per `syncWindowSeconds`.
        package var syncLimit: Int = 120
        package var syncWindowSeconds: Int64 = 60
        /// How long a publish may wait for Redis before it counts as failed
        /// (the call that made the change does not wait longer than this).
        package var publishTimeout: Duration = .seconds(1)
        /// How long a read of live state may take before PostgreSQL is asked
        /// instead.
        package var readTimeout: Duration = .milliseconds(500)

        package init() {}
    }

    /// Decoded live states kept, at most (then the cache starts over).
    static let decodedCapacity = 100_000

    /// How long publishes skip Redis after one failed.
    static let retryPause = Duration.seconds(1)

    private struct State {
        /// Whether Redis holds every committed change (no failure since the
        /// last successful rebuild).
        var trusted = false
        /// Bumped by every failure; a rebuild that began before the last
        /// bump must run again.
        var generation = 0
        /// Changes that could not be written to Redis since the last rebuild.
        var failedChanges = 0
        /// Publishes waiting for Redis now.
        var inFlight = 0
        var rebuilding: Task<Void, Never>?
        var lastError: String?
        var closed = false
        var subscriberLost = false
        /// When a publish last failed; cleared by a success or a rebuild.
        /// Within `retryPause` of it, publishes do not wait on Redis again.
        var lastPublishFailure: ContinuousClock.Instant?
        var fallbackLimit: SlidingWindowLimit
    }

    /// The Redis side; nil when the server runs without Redis.
    package let store: LiveStore?
    /// This instance's watchers.
    package let hub: EventHub
    private let timers: TimerRepository
    private let clock: any WallClock
    private let configuration: Configuration
    private let report: @Sendable (String) -> Void
    private let state: Mutex<State>
    /// Live states already opened and decoded, by timer id.
    private let decoded = Mutex<[Int64: TimerRecord]>([:])

    /// The live half over `store` (nil: no Redis; events reach this
    /// instance's watchers only) and `subscriber` (Redis pub/sub).
    package init(
        store: LiveStore?, subscriber: (any EventChannelSubscriber)?, timers: TimerRepository, clock: any WallClock,
        configuration: Configuration = Configuration(), watcherQueueCapacity: Int = 256,
        metrics: LiveMetrics = LiveMetrics(),
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.timers = timers
        self.clock = clock
        self.configuration = configuration
        self.report = report
        self.state = Mutex(State(fallbackLimit: SlidingWindowLimit(limit: configuration.syncLimit, windowSeconds: configuration.syncWindowSeconds)))
        self.hub = EventHub(subscriber: subscriber, capacity: watcherQueueCapacity, metrics: metrics) { user, sealed in
            guard let store else { throw LiveStateError(code: .invalidArgument, message: "no Redis is configured") }
            return try TimerEvent(serializedBytes: store.openEvent(sealed, user: user))
        }
    }

    /// Starts the first rebuild of Redis from PostgreSQL; until it is done,
    /// reads go to PostgreSQL.
    package func start() {
        guard store != nil else { return }
        markUntrusted(nil)
    }

    /// Stops the rebuild and ends every watcher's stream.
    package func close() async {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.closed = true
            defer { state.rebuilding = nil }
            return state.rebuilding
        }
        task?.cancel()
        await task?.value
        hub.close()
    }

    // MARK: - Changes

    /// Publishes a committed change: the live state and the event with
    /// `meta`. Never throws (PostgreSQL holds the change); a failure only
    /// delays the live half.
    package func publish(
        _ record: TimerRecord, change: TimerChange, cause: ChangeCause, meta: Meta, session: SessionChange, at now: Instant
    ) async {
        var event = TimerEvent()
        event.type = TimerEventType(change)
        event.meta = meta
        event.occurredAt = Timestamp(record.state.lastUpdated)
        event.syncVersion = record.state.syncVersion
        event.cause = cause
        do {
            event.timer = try VaultTimer(record, at: now)
        } catch {
            report("timer \(record.id) could not be published: \(LoggableError.summary(error))")
            return
        }
        guard let store else {
            hub.metrics.publishedLocally.increment()
            hub.deliverLocally(user: record.userID, event: event)
            return
        }
        // While Redis is failing, one publish a second tries it; the others
        // do not make their calls wait for a timeout again.
        let skip = state.withLock { state in
            state.lastPublishFailure.map { ContinuousClock.now - $0 < Self.retryPause } ?? false
        }
        if skip {
            hub.metrics.publishedLocally.increment()
            hub.deliverLocally(user: record.userID, event: event)
            markUntrusted(nil, failedChange: true)
            return
        }
        state.withLock { $0.inFlight += 1 }
        defer { state.withLock { $0.inFlight -= 1 } }
        do {
            let closed: (start: Int64, end: Int64)? = switch session {
            case .close(let start, let end, _): (start.microsecondsSinceEpoch, end.microsecondsSinceEpoch)
            default: nil
            }
            let live = LiveTimerState(record)
            let published = try await store.publish(
                live, event: try event.serializedBytes(), closedSession: closed,
                deadline: .now + configuration.publishTimeout)
            state.withLock { $0.lastPublishFailure = nil }
            if published != nil { hub.metrics.publishedViaRedis.increment() }
            // The state just written need not be opened again by the next read.
            if published != nil { rememberPublished(live) }
        } catch {
            state.withLock { $0.lastPublishFailure = .now }
            hub.metrics.publishFailures.increment()
            hub.metrics.publishedLocally.increment()
            hub.deliverLocally(user: record.userID, event: event)
            markUntrusted(error, failedChange: true)
        }
    }

    // MARK: - Reads

    /// The user's active timers from Redis, when Redis is trusted and holds
    /// all of them; nil means: ask PostgreSQL.
    package func activeRecords(user: Int64) async -> [TimerRecord]? {
        guard let store, isTrusted else { return nil }
        do {
            guard let entries = try await store.activeEntries(user: user, deadline: .now + configuration.readTimeout) else { return nil }
            var records: [TimerRecord] = []
            records.reserveCapacity(entries.count)
            for entry in entries {
                records.append(try decodedRecord(entry, user: user, store: store))
            }
            return records
        } catch {
            markUntrusted(error)
            return nil
        }
    }

    /// Keeps a state just published, as a read of it would decode it.
    private func rememberPublished(_ live: LiveTimerState) {
        do {
            remember(try TimerRecord(live))
        } catch {
            // Not kept: the next read opens it.
        }
    }

    /// The timer of a stored entry: the one decoded before when it is at the
    /// same version (opening and decoding cost more than the round trip),
    /// else opened, decoded and kept.
    private func decodedRecord(_ entry: LiveStore.ActiveEntry, user: Int64, store: LiveStore) throws -> TimerRecord {
        if let known = decoded.withLock({ $0[entry.timerID] }), known.state.syncVersion == entry.syncVersion, known.userID == user {
            return known
        }
        let record = try TimerRecord(store.open(entry, user: user))
        remember(record)
        return record
    }

    /// Keeps a decoded state for reads of the same version.
    private func remember(_ record: TimerRecord) {
        decoded.withLock { cache in
            if cache.count >= Self.decodedCapacity, cache[record.id] == nil { cache.removeAll(keepingCapacity: true) }
            cache[record.id] = record
        }
    }

    /// One of the user's timers from Redis, when Redis is trusted and holds
    /// it and it is not deleted; nil means: ask PostgreSQL.
    package func record(user: Int64, timer: Int64) async -> TimerRecord? {
        guard let store, isTrusted else { return nil }
        do {
            guard let entry = try await store.entry(user: user, timer: timer, deadline: .now + configuration.readTimeout) else { return nil }
            let record = try decodedRecord(entry, user: user, store: store)
            return record.deletedAt == nil ? record : nil
        } catch {
            markUntrusted(error)
            return nil
        }
    }

    /// The newest id of the user's event log (nil: no log, or Redis down).
    package func lastEventID(user: Int64) async -> EventID? {
        guard let store else { return nil }
        return try? await store.lastEventID(user: user, deadline: .now + configuration.readTimeout)
    }

    /// The user's events after `id`, or nil when they cannot all be replayed
    /// (too old, the log lost, Redis down): send a snapshot.
    package func replay(user: Int64, after id: EventID, limit: Int) async -> [(EventID, TimerEvent)]? {
        guard let store else { return nil }
        do {
            guard case .events(let events) = try await store.events(user: user, after: id, limit: limit,
                                                                    deadline: .now + configuration.readTimeout) else { return nil }
            return try events.map { entry in
                var event = try TimerEvent(serializedBytes: entry.event)
                event.eventID = entry.id.description
                return (entry.id, event)
            }
        } catch {
            report("replaying events of user \(user) failed: \(LoggableError.summary(error))")
            return nil
        }
    }

    // MARK: - Sync bookkeeping

    /// Admits one SyncTimers call of `user` or throws RESOURCE_EXHAUSTED
    /// with `retry-after` (seconds) and `grpc-retry-pushback-ms` metadata.
    /// Counted in Redis, shared by every instance; while Redis is down each
    /// instance counts on its own.
    package func admitSync(user: Int64) async throws(RPCError) {
        var waitMilliseconds: Int64 = 0
        var counted = false
        if let store {
            do {
                if case .refused(let wait) = try await store.admit(
                    user: user, limit: configuration.syncLimit, window: .seconds(configuration.syncWindowSeconds),
                    deadline: .now + configuration.readTimeout) {
                    waitMilliseconds = wait
                }
                counted = true
            } catch {
                markUntrusted(error)
            }
        }
        if !counted {
            let now = clock.now
            let (admitted, wait) = state.withLock { state in
                state.fallbackLimit.prune(at: now)
                return state.fallbackLimit.admit(user, at: now)
            }
            if !admitted { waitMilliseconds = max(1, wait / 1_000) }
        }
        guard waitMilliseconds > 0 else { return }
        let seconds = (waitMilliseconds + 999) / 1_000
        var metadata = Metadata()
        metadata.add("retry-after", String(seconds))
        metadata.add("grpc-retry-pushback-ms", String(waitMilliseconds))
        throw RPCError(
            code: .resourceExhausted,
            message: "SyncTimers is limited to \(configuration.syncLimit) calls per \(configuration.syncWindowSeconds) s per user; retry in \(seconds) s",
            metadata: metadata)
    }

    /// Records the user's last sync in Redis (`user:{id}:last_sync`).
    package func recordSync(user: Int64, at now: Instant) async {
        guard let store else { return }
        do {
            try await store.recordSync(user: user, atMicroseconds: now.microsecondsSinceEpoch, deadline: .now + configuration.publishTimeout)
        } catch {
            markUntrusted(error)
        }
    }

    // MARK: - Health

    /// What GetSystemHealth reports of the live half.
    package struct Health: Sendable {
        /// Redis configured and answering.
        package var redisReachable: Bool
        package var redisConfigured: Bool
        /// Changes waiting to reach Redis: publishes under way plus changes
        /// that failed and wait for the rebuild.
        package var queueSize: Int
        /// Whether the live state is trusted (rebuilt, no failure since).
        package var trusted: Bool
        package var lastError: String?
    }

    /// Pings Redis (within `timeout`) and reports.
    package func health(timeout: Duration) async -> Health {
        var reachable = false
        if let store {
            do {
                try await store.ping(deadline: .now + timeout)
                reachable = true
            } catch {
                markUntrusted(error)
            }
        }
        return state.withLock { state in
            Health(redisReachable: reachable, redisConfigured: store != nil,
                   queueSize: state.inFlight + (state.trusted ? 0 : state.failedChanges),
                   trusted: state.trusted, lastError: state.lastError)
        }
    }

    /// Whether reads may use Redis.
    package var isTrusted: Bool {
        state.withLock { $0.trusted }
    }

    /// The pub/sub connection went away: events published meanwhile will not
    /// reach this instance.
    package func subscriberDisconnected() {
        state.withLock { $0.subscriberLost = true }
    }

    /// The pub/sub connection is (again) subscribed. After a loss, watchers
    /// may have missed events: each gets a fresh snapshot, and the live state
    /// is checked by a rebuild (Redis may have restarted empty).
    package func subscriberConnected() {
        let wasLost = state.withLock { state in
            defer { state.subscriberLost = false }
            return state.subscriberLost
        }
        guard wasLost else { return }
        markUntrusted(nil)
        hub.resyncAll()
    }

    // MARK: - Rebuild

    /// Redis missed a change or may have lost its data: stop trusting it and
    /// rebuild it from PostgreSQL (in the background, retried until done).
    private func markUntrusted(_ error: (any Error)?, failedChange: Bool = false) {
        guard store != nil else { return }
        let start = state.withLock { state -> Bool in
            state.trusted = false
            state.generation += 1
            if failedChange { state.failedChanges += 1 }
            if let error { state.lastError = String(describing: error) }
            guard state.rebuilding == nil, !state.closed else { return false }
            state.rebuilding = Task { [self] in await self.rebuildUntilDone() }
            return true
        }
        if start, let error { report("live state in Redis is untrusted until rebuilt: \(LoggableError.summary(error))") }
    }

    private func rebuildUntilDone() async {
        var backoff = Duration.milliseconds(100)
        var repaired = false
        while !Task.isCancelled {
            let generation = state.withLock { $0.generation }
            do {
                if try await rebuildAll() { repaired = true }
                let (done, failedChanges) = state.withLock { state -> (Bool, Bool) in
                    guard state.generation == generation else { return (false, false) }
                    defer { state.failedChanges = 0 }
                    state.trusted = true
                    state.lastError = nil
                    state.lastPublishFailure = nil
                    state.rebuilding = nil
                    return (true, state.failedChanges > 0)
                }
                if done {
                    // Changes that failed to reach Redis, or that Redis lacked
                    // (an instance died between a commit and its publish):
                    // watchers anywhere may have missed them.
                    if repaired || failedChanges { await announceResync() }
                    return
                }
                backoff = .milliseconds(100)
            } catch {
                state.withLock { $0.lastError = String(describing: error) }
                do { try await Task.sleep(for: backoff) } catch { break }
                backoff = min(backoff * 2, .seconds(5))
            }
        }
        state.withLock { $0.rebuilding = nil }
    }

    /// Redis is whole again: every instance's watchers get a fresh snapshot,
    /// since some may have missed changes (this instance's changes that
    /// failed to reach Redis, or, after a start, those of a crash between a
    /// commit and its publish). Without Redis, this instance's own watchers.
    private func announceResync() async {
        do {
            guard let store else { return }
            try await store.announceResync(deadline: .now + .seconds(2))
        } catch {
            hub.resyncAll()
        }
    }

    /// Writes every active timer of PostgreSQL to Redis, user by user, and
    /// clears users Redis lists as active that have no active timer.
    /// Returns whether Redis was missing anything.
    private func rebuildAll() async throws -> Bool {
        guard let store else { return false }
        var repaired = false
        let readAt = try await store.redisTime(deadline: .now + .seconds(2))
        var listed = Set(try await store.activeUsers(deadline: .now + .seconds(2)))
        var position: (userID: Int64, timerID: Int64)?
        var pending: [TimerRecord] = []
        func flush() async throws {
            guard let user = pending.first?.userID else { return }
            if try await store.rebuild(user: user, states: pending.map(LiveTimerState.init), readAt: readAt, deadline: .now + .seconds(2)) {
                repaired = true
            }
            listed.remove(user)
            pending.removeAll(keepingCapacity: true)
        }
        while true {
            try Task.checkCancellation()
            let page = try await timers.allActive(after: position, limit: 1_000, deadline: .now + .seconds(10))
            for record in page {
                if let user = pending.first?.userID, user != record.userID { try await flush() }
                pending.append(record)
            }
            guard let last = page.last, page.count == 1_000 else { break }
            position = (last.userID, last.id)
        }
        try await flush()
        for user in listed {
            if try await store.rebuild(user: user, states: [], readAt: readAt, deadline: .now + .seconds(2)) { repaired = true }
        }
        return repaired
    }
}

extension TimerEventType {
    /// The event type of a change.
    init(_ change: TimerChange) {
        self = switch change {
        case .started: .started
        case .updated: .updated
        case .paused: .paused
        case .resumed: .resumed
        case .stopped: .stopped
        case .deleted: .deleted
        }
    }
}

extension LiveTimerState {
    /// The live state of a stored timer.
    init(_ record: TimerRecord) {
        self.init(id: record.id, userID: record.userID, accountID: record.accountID, projectID: record.projectID,
                  billingRateID: record.billingRateID, description: record.description, clientRef: record.clientRef,
                  createdAt: record.createdAt, state: record.state, rate: record.rate)
    }
}

extension TimerRecord {
    /// A timer as its live state describes it.
    init(_ live: LiveTimerState) throws(LiveStateError) {
        let state = try live.timerState()
        self.init(id: live.id, userID: live.userID, accountID: live.accountID, projectID: live.projectID,
                  billingRateID: live.billingRateID, description: live.description, clientRef: live.clientRef,
                  createdAt: Instant(microsecondsSinceEpoch: live.createdAt), deletedAt: state.deletedAt,
                  state: state, rate: try live.hourlyRate())
    }
}
