/// One RUNNING span of a timer (a `timer_sessions` row): from `startedAt` to
/// `endedAt`, or still open.
package struct SessionInterval: Sendable, Hashable, CustomStringConvertible {
    /// When the span began.
    package var startedAt: Instant
    /// When the span ended; nil while the session is open.
    package var endedAt: Instant?

    /// A span; `endedAt` nil for an open session.
    package init(startedAt: Instant, endedAt: Instant?) {
        self.startedAt = startedAt
        self.endedAt = endedAt
    }

    /// Whether the session is still running.
    package var isOpen: Bool {
        endedAt == nil
    }

    /// The session's `duration`: whole seconds from start to end, or to `now`
    /// while open; never negative.
    package func seconds(at now: Instant) -> Int64 {
        Instant.wholeSeconds(from: startedAt, to: endedAt ?? now)
    }

    /// `[start, end)` or `[start, …)`.
    package var description: String {
        "[\(startedAt), \(endedAt.map(\.description) ?? "…"))"
    }
}

/// A broken rule between a timer and its sessions. The rules: sessions do not
/// overlap (one may begin at the instant the previous ended); none ends before
/// it begins; at most one is open, the latest, exactly when the timer is
/// running and starting at its `currentSessionStartedAt`; and the timer's
/// `total_duration` is the sum of the closed sessions' whole seconds.
package enum SessionInvariantViolation: Sendable, Hashable, CustomStringConvertible {
    /// The session at `index` ends before it begins.
    case endsBeforeStart(index: Int)
    /// The session at `index` begins before the previous one (in start order)
    /// has ended.
    case overlapsPrevious(index: Int)
    /// The session at `index` is open but a later one exists.
    case openSessionNotLatest(index: Int)
    /// The open session (or its absence) does not match the timer's status:
    /// `expected` is the timer's `currentSessionStartedAt`.
    case openSessionMismatch(expected: Instant?, found: Instant?)
    /// The timer's `total_duration` differs from the sum of closed sessions.
    case totalMismatch(totalDuration: Int64, sumOfClosedSessions: Int64)

    /// One sentence describing the violation.
    package var description: String {
        switch self {
        case .endsBeforeStart(let index):
            "session \(index) ends before it begins"
        case .overlapsPrevious(let index):
            "session \(index) begins before the previous session ends"
        case .openSessionNotLatest(let index):
            "session \(index) is open but is not the latest"
        case .openSessionMismatch(let expected, let found):
            "the timer's open session starts at \(expected.map(\.description) ?? "none"), "
                + "the sessions' at \(found.map(\.description) ?? "none")"
        case .totalMismatch(let total, let sum):
            "total_duration is \(total) but the closed sessions sum to \(sum)"
        }
    }
}

extension SessionInterval {
    /// The sum of the whole seconds of the closed sessions in `sessions`
    /// (open ones are not counted): what `total_duration` must equal.
    package static func sumOfClosedSeconds(_ sessions: some Sequence<SessionInterval>) -> Int64 {
        var sum: Int64 = 0
        for session in sessions {
            guard let end = session.endedAt else { continue }
            sum = sum.saturatingAdding(Instant.wholeSeconds(from: session.startedAt, to: end))
        }
        return sum
    }

    /// The broken interval rules among `sessions`, in any order (they are
    /// examined by start time; indexes refer to the array as given). Empty
    /// when the sessions are sound.
    package static func violations(in sessions: [SessionInterval]) -> [SessionInvariantViolation] {
        var problems: [SessionInvariantViolation] = []
        let order = sessions.indices.sorted { sessions[$0].startedAt < sessions[$1].startedAt }
        var previousEnd: Instant?
        var previousOpen = false
        for (position, index) in order.enumerated() {
            let session = sessions[index]
            if let end = session.endedAt, end < session.startedAt {
                problems.append(.endsBeforeStart(index: index))
            }
            if position > 0 {
                if previousOpen {
                    problems.append(.openSessionNotLatest(index: order[position - 1]))
                } else if let previousEnd, session.startedAt < previousEnd {
                    problems.append(.overlapsPrevious(index: index))
                }
            }
            previousEnd = session.endedAt
            previousOpen = session.isOpen
        }
        return problems
    }

    /// Everything wrong between a timer and its complete list of sessions:
    /// the interval rules plus the open session and the total. Empty when
    /// they agree.
    package static func violations(of state: TimerState, sessions: [SessionInterval]) -> [SessionInvariantViolation] {
        var problems = violations(in: sessions)
        let open = sessions.filter(\.isOpen).map(\.startedAt).max()
        if open != state.currentSessionStartedAt {
            problems.append(.openSessionMismatch(expected: state.currentSessionStartedAt, found: open))
        }
        let sum = sumOfClosedSeconds(sessions)
        if sum != state.closedSeconds {
            problems.append(.totalMismatch(totalDuration: state.closedSeconds, sumOfClosedSessions: sum))
        }
        return problems
    }
}
