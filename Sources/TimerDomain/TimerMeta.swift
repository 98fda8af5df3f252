/// The figures over a user's active (running and paused, not deleted) timers
/// that travel with every response returning timers: the API's `Meta`.
package struct TimerMeta: Sendable, Hashable {
    /// One timer as the figures need it: its state and, if it has a billing
    /// rate, that rate.
    package struct Item: Sendable, Hashable {
        /// The timer's state.
        package var state: TimerState
        /// The timer's billing rate; nil when it has none (no money value).
        package var rate: HourlyRate?

        /// An item.
        package init(state: TimerState, rate: HourlyRate?) {
            self.state = state
            self.rate = rate
        }
    }

    /// Timers that are running or paused.
    package var activeCount: Int64
    /// Timers that are running.
    package var runningCount: Int64
    /// Timers that are paused.
    package var pausedCount: Int64
    /// Seconds tracked by all active timers at `syncTimestamp`, open sessions
    /// included: the sum of each timer's `totalSeconds(at:)`.
    package var totalActiveDuration: Int64
    /// Money value of all active timers, one amount per currency, ordered by
    /// currency code. Each timer's value is rounded on its own (it is the
    /// `current_value` the timer carries) and those are summed, so the total
    /// equals the sum of what clients display. A currency appears when any
    /// active timer has a rate in it; empty when none has a rate.
    package var totalActiveValue: [MoneyAmount]
    /// The instant the figures are exact at.
    package var syncTimestamp: Instant

    /// The figures over `items` at `now`; stopped and deleted timers are
    /// skipped. Throws OUT_OF_RANGE only when a value exceeds 64 bits.
    package init(items: some Sequence<Item>, at now: Instant) throws(TimerDomainError) {
        var active: Int64 = 0
        var running: Int64 = 0
        var paused: Int64 = 0
        var duration: Int64 = 0
        var values: [Currency: MoneyAmount] = [:]
        for item in items where item.state.isActive {
            active += 1
            if item.state.status == .running { running += 1 } else { paused += 1 }
            let seconds = item.state.totalSeconds(at: now)
            duration = duration.saturatingAdding(seconds)
            if let rate = item.rate {
                let value = try rate.value(ofSeconds: seconds)
                values[rate.currency] = try (values[rate.currency] ?? .zero(rate.currency)).adding(value)
            }
        }
        activeCount = active
        runningCount = running
        pausedCount = paused
        totalActiveDuration = duration
        totalActiveValue = values.values.sorted { $0.currency < $1.currency }
        syncTimestamp = now
    }
}

extension TimerState {
    /// The timer's `current_value` at `now`: its whole tracked time (closed
    /// sessions plus the open one) at `rate`.
    package func value(at now: Instant, rate: HourlyRate) throws(TimerDomainError) -> MoneyAmount {
        try rate.value(ofSeconds: totalSeconds(at: now))
    }
}
