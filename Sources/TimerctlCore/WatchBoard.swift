import Codec

/// What `timerctl watch` shows, as a value: the user's active timers as the
/// event stream last described them, ticked forward on the client between
/// events (durations from each running timer's session start, values at its
/// hourly rate), and the latest changes. Events go in (`apply`); nothing here
/// reads a clock: the caller says when (`local`, its monotonic clock).
package struct WatchBoard: Sendable {
    /// A change the board shows under the table.
    package struct Change: Sendable, Hashable {
        /// When the server committed it.
        package var occurredAt: Timestamp?
        /// What happened.
        package var type: TimerEventType
        /// The timer as it was after the change.
        package var timer: VaultTimer
        /// Who made it (`laptop`, `laptop, sync`), possibly empty.
        package var source: String
    }

    /// One row of the table: a timer with its figures at some moment.
    package struct Row: Sendable, Hashable {
        package var timer: VaultTimer
        package var seconds: Int64
        package var value: Money?
    }

    /// The totals over the active timers at some moment.
    package struct Totals: Sendable, Hashable {
        package var active: Int64 = 0
        package var running: Int64 = 0
        package var paused: Int64 = 0
        package var seconds: Int64 = 0
        package var values: [Money] = []
    }

    /// How many changes the board keeps.
    package static let recentLimit = 5

    /// Active timers by id.
    package private(set) var timers: [Int64: VaultTimer] = [:]
    /// Latest changes, newest first.
    package private(set) var recent: [Change] = []
    /// Whether a snapshot has arrived (before it the board knows nothing).
    package private(set) var hasSnapshot = false
    /// The server's clock, from the events' times.
    package private(set) var clock = ServerClock()

    package init() {}

    /// Takes one event of the stream, received at `local`.
    package mutating func apply(_ event: TimerEvent, at local: Duration) {
        switch event.type {
        case .snapshot:
            timers = [:]
            for timer in event.timers where timer.isActive { timers[timer.id] = timer }
            hasSnapshot = true
            observeTime(of: event, at: local, current: true)
        case .heartbeat:
            observeTime(of: event, at: local, current: true)
        default:
            observeTime(of: event, at: local, current: false)
            guard let timer = event.timer else { return }
            // Not newer than what is shown: a change the last snapshot already
            // had, or one replayed twice (a resume may repeat a few).
            if let held = timers[timer.id], held.syncVersion >= timer.syncVersion { return }
            if recent.contains(where: { $0.timer.id == timer.id && $0.timer.syncVersion >= timer.syncVersion }) { return }
            timers[timer.id] = timer.isActive && event.type != .deleted ? timer : nil
            recent.insert(Change(occurredAt: event.occurredAt, type: event.type, timer: timer,
                                 source: TimerText.changeSource(event, timer: timer)), at: 0)
            if recent.count > Self.recentLimit { recent.removeLast(recent.count - Self.recentLimit) }
        }
    }

    private mutating func observeTime(of event: TimerEvent, at local: Duration, current: Bool) {
        if let time = event.meta?.syncTimestamp ?? event.occurredAt {
            clock.observe(time, at: local, current: current)
        }
    }

    /// The timers with their figures at `local`, by id.
    package func rows(at local: Duration) -> [Row] {
        let now = clock.now(at: local)
        return timers.values.sorted { $0.id < $1.id }.map { timer in
            let seconds = now.map { timer.seconds(atMicroseconds: $0) } ?? timer.reportedSeconds
            return Row(timer: timer, seconds: seconds, value: timer.value(ofSeconds: seconds))
        }
    }

    /// The totals at `local` (as the server's `meta` would give them: each
    /// timer's value rounded on its own, then summed per currency).
    package func totals(at local: Duration) -> Totals {
        totals(of: rows(at: local))
    }

    /// The totals of `rows`.
    package func totals(of rows: [Row]) -> Totals {
        var totals = Totals()
        for row in rows {
            totals.active += 1
            if row.timer.status == .running { totals.running += 1 } else { totals.paused += 1 }
            totals.seconds = totals.seconds.addingReportingOverflow(row.seconds).overflow ? .max : totals.seconds + row.seconds
        }
        totals.values = MoneyMath.totals(rows.compactMap(\.value)) ?? []
        return totals
    }
}
