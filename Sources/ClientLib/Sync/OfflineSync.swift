/// A device's timers that keep working offline: changes are queued on the
/// device and reconciled with the server by `SyncTimers`, at most once per
/// interval (5 s), with the server's verdicts and conflicts reported.
///
/// ```swift
/// let device = OfflineSync(client: client, configuration: .init(deviceID: "laptop"))
/// let timer = await device.start(accountID: 1, description: "Train ride notes")
/// try await device.pause(timer.key)
/// for await event in device.events {
///     if case .synced(let report) = event { print(report.conflicts) }
/// }
/// ```
///
/// - ``start(accountID:description:projectID:billingRateID:at:)``,
///   ``pause(_:at:)``, ``resume(_:at:)`` and ``stop(_:at:)`` change the
///   device's timers at once, by the device's clock, and never wait for the
///   network; the transitions they allow are the server's.
/// - With `automatic` on, a change schedules a sync no sooner than
///   `interval` after the previous one started; changes made meanwhile go
///   together. A failed sync is tried again with a growing wait (5 s doubling
///   to 60 s, or the server's `retry-after`). ``setOnline(_:)`` stops and
///   restarts the attempts; ``syncNow()`` syncs at once.
/// - Each sync sends the timers with pending changes, up to 500 (created
///   offline by their `client_ref`, known ones with the `sync_version` their
///   changes are based on), and adopts what the server answers: its timer for each, its
///   conflicts (the server wins), and the server timers the device did not
///   know. Re-sending a sync whose answer was lost changes nothing twice.
/// - ``events`` reports every sync, successful or not.
///
/// Stopped timers with nothing left to send are dropped from ``timers``
/// after a sync.
public actor OfflineSync {
    /// How an ``OfflineSync`` works.
    public struct Configuration: Sendable {
        /// The device's name, sent as `device_id` (1 to 200 characters).
        public var deviceID: String
        /// The least time between two syncs (5 s).
        public var interval: Duration
        /// The longest wait before a failed sync is tried again (60 s).
        public var maxRetryDelay: Duration
        /// Whether changes are synced by themselves; false: only
        /// ``OfflineSync/syncNow()`` syncs.
        public var automatic: Bool

        /// A configuration for the device `deviceID`.
        public init(deviceID: String, interval: Duration = .seconds(5), maxRetryDelay: Duration = .seconds(60),
                    automatic: Bool = true) {
            self.deviceID = deviceID
            self.interval = interval
            self.maxRetryDelay = maxRetryDelay
            self.automatic = automatic
        }
    }

    /// The client syncs go through.
    public nonisolated let client: TimerClient
    /// How this instance works.
    public nonisolated let configuration: Configuration
    /// Every sync's outcome, in order (the newest 100 are kept when nobody
    /// reads). Finishes when the instance is closed.
    public nonisolated let events: AsyncStream<SyncEvent>

    private let continuation: AsyncStream<SyncEvent>.Continuation
    private var store: [LocalTimer] = []
    private var scheduler: SyncScheduler
    private var timerTask: Task<Void, Never>?
    private var syncing = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var closed = false

    /// The most timers one SyncTimers request may carry.
    static let maximumTimersPerSync = 500

    /// The server's `sync_timestamp` of the last successful sync: the next
    /// one asks for server changes since then.
    public private(set) var lastSync: Timestamp?

    /// A device with no timers yet; call ``syncNow()`` to learn the server's
    /// active timers.
    public init(client: TimerClient, configuration: Configuration) {
        self.client = client
        self.configuration = configuration
        (events, continuation) = AsyncStream.makeStream(of: SyncEvent.self, bufferingPolicy: .bufferingNewest(100))
        scheduler = SyncScheduler(interval: configuration.interval, maxRetryDelay: configuration.maxRetryDelay)
    }

    deinit {
        timerTask?.cancel()
        continuation.finish()
    }

    // MARK: The device's timers

    /// The device's timers: active ones and any with changes still to send.
    public var timers: [LocalTimer] { store }

    /// The device's timer named `key`, if it has it.
    public func timer(_ key: LocalTimer.Key) -> LocalTimer? {
        store.first { $0.key == key }
    }

    /// How many timers have changes the server has not seen.
    public var pendingCount: Int { store.count { $0.hasPendingChanges } }

    /// Whether syncs are attempted (see ``setOnline(_:)``).
    public var isOnline: Bool { scheduler.isOnline }

    /// Starts a new timer on the device, running since `at` (now by the
    /// device's clock when nil); it gets a fresh `client_ref` and is created
    /// on the server by the next sync.
    @discardableResult
    public func start(accountID: Int64, description: String, projectID: Int64? = nil, billingRateID: Int64? = nil,
                      at: Timestamp? = nil) -> LocalTimer {
        let timer = LocalTimer(creating: TimerClient.newClientRef(), accountID: accountID, description: description,
                               projectID: projectID, billingRateID: billingRateID, startedAt: at ?? .now)
        store.append(timer)
        changed()
        return timer
    }

    /// Pauses a running timer on the device at `at` (now when nil).
    ///
    /// - Throws: ``TimerClientError`` `NOT_FOUND` for a timer the device does
    ///   not have, `FAILED_PRECONDITION` when it is not running.
    @discardableResult
    public func pause(_ key: LocalTimer.Key, at: Timestamp? = nil) throws(TimerClientError) -> LocalTimer {
        try transition(key, .pause, at: at)
    }

    /// Resumes a paused timer on the device; errors as ``pause(_:at:)``.
    @discardableResult
    public func resume(_ key: LocalTimer.Key, at: Timestamp? = nil) throws(TimerClientError) -> LocalTimer {
        try transition(key, .resume, at: at)
    }

    /// Stops a running or paused timer on the device; errors as ``pause(_:at:)``.
    @discardableResult
    public func stop(_ key: LocalTimer.Key, at: Timestamp? = nil) throws(TimerClientError) -> LocalTimer {
        try transition(key, .stop, at: at)
    }

    /// Tracks a timer the device got from the server some other way (e.g. a
    /// response of ``TimerClient``), so it can be changed offline.
    @discardableResult
    public func track(_ timer: VaultTimer) -> LocalTimer {
        learn(timer)
        return store.first { $0.matches(timer) } ?? LocalTimer(learning: timer)
    }

    private func transition(_ key: LocalTimer.Key, _ action: TimerAction, at: Timestamp?) throws(TimerClientError) -> LocalTimer {
        guard let index = store.firstIndex(where: { $0.key == key }) else {
            throw TimerClientError(code: .notFound, message: "this device has no \(key)")
        }
        var timer = store[index]
        let next: TimerStatus
        switch (action, timer.status) {
        case (.pause, .running): next = .paused
        case (.resume, .paused): next = .running
        case (.stop, .running), (.stop, .paused): next = .stopped
        default:
            throw TimerClientError(code: .failedPrecondition, message: "cannot \(action) a \(timer.status) timer")
        }
        // Device times go forward: a transition is never before the last change.
        var instant = at ?? .now
        if let last = timer.lastUpdated, instant < last { instant = last }
        var transition = DeviceTransition()
        transition.action = action
        transition.at = instant
        timer.pendingTransitions.append(transition)
        timer.status = next
        timer.lastUpdated = instant
        store[index] = timer
        changed()
        return timer
    }

    // MARK: Syncing

    /// Stops (false) or restarts (true) sync attempts, e.g. as the device's
    /// network comes and goes. Changes are queued either way; going online
    /// schedules a sync of them (within the interval).
    public func setOnline(_ online: Bool) {
        perform(scheduler.setOnline(online, at: .now, hasPending: configuration.automatic && pendingCount > 0))
    }

    /// Syncs now, without waiting for the interval (after a sync in flight,
    /// if any), and returns what it came to; the outcome is also sent to
    /// ``events``.
    ///
    /// - Throws: ``TimerClientError``: the call's error (the changes stay
    ///   queued), or `UNAVAILABLE` while offline or after ``close()``.
    @discardableResult
    public func syncNow() async throws(TimerClientError) -> SyncReport {
        guard !closed else { throw TimerClientError(code: .unavailable, message: "the offline sync is closed") }
        guard scheduler.isOnline else {
            throw TimerClientError(code: .unavailable, message: "the device is offline (setOnline(false))")
        }
        await acquire()
        defer { release() }
        return try await sync()
    }

    /// Stops syncing for good and finishes ``events``; queued changes are
    /// kept in ``timers``.
    public func close() {
        closed = true
        timerTask?.cancel()
        timerTask = nil
        continuation.finish()
    }

    private func changed() {
        guard configuration.automatic, !closed else { return }
        perform(scheduler.changed(at: .now))
    }

    private func perform(_ action: SyncScheduler.Action) {
        switch action {
        case .none:
            break
        case .cancel:
            timerTask?.cancel()
            timerTask = nil
        case .schedule(let at):
            timerTask?.cancel()
            guard !closed, configuration.automatic else { return }
            timerTask = Task { [self] in
                do { try await Task.sleep(until: at, clock: .continuous) } catch { return }
                await self.timerFired()
            }
        }
    }

    private func timerFired() async {
        guard !closed, scheduler.isDue(at: .now) else { return }
        timerTask = nil
        await acquire()
        defer { release() }
        guard !closed else { return }
        _ = try? await sync()
    }

    /// One sync (the caller holds the turn).
    private func sync() async throws(TimerClientError) -> SyncReport {
        perform(scheduler.started(at: .now))
        // SyncTimers takes 500 timers at most; the rest go in the next sync.
        let sent = Array(store.filter(\.hasPendingChanges).prefix(Self.maximumTimersPerSync))
        var request = SyncTimersRequest()
        request.deviceID = configuration.deviceID
        request.timers = sent.map(\.deviceTimer)
        request.deviceTime = .now
        request.lastSync = lastSync
        do {
            let response = try await client.sync(request)
            let report = adopt(response, sent: sent)
            if let stamp = response.meta?.syncTimestamp { lastSync = stamp }
            continuation.yield(.synced(report))
            perform(scheduler.succeeded(at: .now, hasPending: configuration.automatic && pendingCount > 0))
            return report
        } catch {
            continuation.yield(.failed(error))
            perform(scheduler.failed(at: .now, retryAfter: error.retryAfter, hasPending: configuration.automatic && pendingCount > 0))
            throw error
        }
    }

    /// Applies a sync's answer to the device's timers. `sent` are the timers
    /// as they were sent; changes made since stay pending.
    private func adopt(_ response: SyncTimersResponse, sent: [LocalTimer]) -> SyncReport {
        var items: [SyncReport.Item] = []
        for result in response.results {
            let index = Int(result.index)
            guard sent.indices.contains(index) else { continue }
            let mine = sent[index]
            let conflict = response.conflicts.first { conflict in
                if let timer = result.timer, conflict.timerID == timer.id { return true }
                return !mine.clientRef.isEmpty && conflict.clientRef == mine.clientRef
            }
            items.append(SyncReport.Item(key: mine.key, description: mine.description, resolution: result.resolution,
                                         timer: result.timer, status: result.status, conflict: conflict))
            guard let position = store.firstIndex(where: { $0.key == mine.key }) else { continue }
            var local = store[position]
            local.pendingTransitions.removeFirst(min(mine.pendingTransitions.count, local.pendingTransitions.count))
            if let timer = result.timer {
                local.adopt(timer)
                store[position] = local
            } else if local.serverID == nil && local.pendingTransitions.isEmpty {
                store.remove(at: position)  // Rejected, and the server never had it.
            } else {
                store[position] = local
            }
        }
        for timer in response.serverTimers { learn(timer) }
        store.removeAll(where: \.isSettled)
        return SyncReport(items: items, conflicts: response.conflicts, learned: response.serverTimers, meta: response.meta,
                          clockSkewSeconds: response.clockSkewSeconds, response: response)
    }

    /// Takes a server timer the device did not send.
    private func learn(_ timer: VaultTimer) {
        if let index = store.firstIndex(where: { $0.matches(timer) }) {
            guard !store[index].hasPendingChanges else { return }  // Its changes go in the next sync.
            store[index].adopt(timer)
        } else if timer.deletedAt == nil, timer.status == .running || timer.status == .paused {
            store.append(LocalTimer(learning: timer))
        }
    }

    // MARK: One sync at a time

    private func acquire() async {
        while syncing {
            await withCheckedContinuation { waiters.append($0) }
        }
        syncing = true
    }

    private func release() {
        syncing = false
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.resume() }
    }
}
