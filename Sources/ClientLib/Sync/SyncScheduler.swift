/// When an ``OfflineSync`` syncs: the rules of its debounce, its retries and
/// its online/offline switch.
///
/// - A change schedules a sync, never sooner than `interval` after the
///   previous sync started (so at most one sync per interval, however many
///   changes), and never sooner than a retry wait allows. Changes made while
///   a sync is in flight go into the next one.
/// - A failed sync is tried again after `interval × 2^(failures − 1)`, at most
///   `maxRetryDelay`, or later when the server asked for a longer wait
///   (the sync rate limit's `retry-after`).
/// - Offline, nothing is scheduled; going online schedules what is pending,
///   with the retry wait forgotten.
///
/// Pure: the caller passes the time, keeps the timer the actions ask for,
/// and runs the syncs.
struct SyncScheduler: Sendable {
    /// What to do with the caller's timer.
    enum Action: Sendable, Equatable {
        /// Nothing changes.
        case none
        /// Fire at this instant (replacing any timer set before).
        case schedule(at: ContinuousClock.Instant)
        /// Drop the timer.
        case cancel
    }

    private enum State: Sendable, Equatable {
        /// Nothing scheduled, no sync running.
        case idle
        /// A sync is due at this instant.
        case scheduled(ContinuousClock.Instant)
        /// A sync is running; `dirty` when changes arrived meanwhile.
        case syncing(dirty: Bool)
    }

    let interval: Duration
    let maxRetryDelay: Duration
    private var state = State.idle
    private(set) var isOnline = true
    private var lastStart: ContinuousClock.Instant?
    private(set) var failures = 0
    private var retryNotBefore: ContinuousClock.Instant?

    init(interval: Duration, maxRetryDelay: Duration) {
        self.interval = interval
        self.maxRetryDelay = max(interval, maxRetryDelay)
    }

    /// When a sync is scheduled for, if one is.
    var scheduledAt: ContinuousClock.Instant? {
        if case .scheduled(let at) = state { return at }
        return nil
    }

    /// Whether a sync is running.
    var isSyncing: Bool {
        if case .syncing = state { return true }
        return false
    }

    /// The earliest a sync may start at `now`.
    private func earliest(_ now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        var at = now
        if let lastStart { at = max(at, lastStart + interval) }
        if let retryNotBefore { at = max(at, retryNotBefore) }
        return at
    }

    private mutating func schedule(_ now: ContinuousClock.Instant) -> Action {
        let at = earliest(now)
        state = .scheduled(at)
        return .schedule(at: at)
    }

    /// A change was queued.
    mutating func changed(at now: ContinuousClock.Instant) -> Action {
        switch state {
        case .idle:
            return isOnline ? schedule(now) : .none
        case .scheduled:
            return .none
        case .syncing:
            state = .syncing(dirty: true)
            return .none
        }
    }

    /// The device went online or offline; `hasPending` says whether changes wait.
    mutating func setOnline(_ online: Bool, at now: ContinuousClock.Instant, hasPending: Bool) -> Action {
        guard online != isOnline else { return .none }
        isOnline = online
        switch state {
        case .scheduled where !online:
            state = .idle
            return .cancel
        case .idle where online:
            failures = 0
            retryNotBefore = nil
            return hasPending ? schedule(now) : .none
        default:
            if online {
                failures = 0
                retryNotBefore = nil
            }
            return .none
        }
    }

    /// The timer fired at `now`: whether the scheduled sync is due.
    func isDue(at now: ContinuousClock.Instant) -> Bool {
        guard isOnline, case .scheduled(let at) = state else { return false }
        return now >= at
    }

    /// A sync starts at `now` (scheduled, or asked for explicitly).
    mutating func started(at now: ContinuousClock.Instant) -> Action {
        let wasScheduled = scheduledAt != nil
        state = .syncing(dirty: false)
        lastStart = now
        return wasScheduled ? .cancel : .none
    }

    /// The sync succeeded; `hasPending` says whether changes still wait.
    mutating func succeeded(at now: ContinuousClock.Instant, hasPending: Bool) -> Action {
        failures = 0
        retryNotBefore = nil
        return finished(now, hasPending: hasPending)
    }

    /// The sync failed; `retryAfter` is the wait the server asked for.
    mutating func failed(at now: ContinuousClock.Instant, retryAfter: Duration?, hasPending: Bool) -> Action {
        failures += 1
        var wait = interval
        var step = 1
        while step < failures && wait < maxRetryDelay {
            wait = wait * 2
            step += 1
        }
        wait = min(wait, maxRetryDelay)
        if let retryAfter { wait = max(wait, retryAfter) }
        retryNotBefore = now + wait
        return finished(now, hasPending: hasPending)
    }

    private mutating func finished(_ now: ContinuousClock.Instant, hasPending: Bool) -> Action {
        guard case .syncing(let dirty) = state else { return .none }
        if isOnline && (dirty || hasPending) { return schedule(now) }
        state = .idle
        return .none
    }
}
