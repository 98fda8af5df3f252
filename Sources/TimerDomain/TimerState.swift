/// The lifecycle state of one timer: everything the rules need, nothing else
/// (ids, account, description and rate live with the caller).
///
/// Only the transitions in `TimerState+Transitions.swift` change a state; each
/// returns the new state together with the one session row change it implies.
/// The phase enum makes the invalid combinations unrepresentable: a running
/// timer always has an open session, a paused one a `pausedAt`, a stopped one
/// a `stoppedAt`, and never more than one of them.
///
/// Times: `startedAt`, the phase instants and session boundaries are the
/// timer's own timeline (when work started and stopped, which is what gets
/// billed); `lastUpdated` is the server time a change was recorded. They
/// differ only for auto-pause and offline changes applied by sync, which
/// happened before they were recorded. Both only ever move forward.
package struct TimerState: Sendable, Hashable {
    /// The three states of the API's `TimerStatus`.
    ///
    /// Nested here because the `Codec` module already has a top-level
    /// `TimerStatus` (the wire enum); a module that imports both stays
    /// unambiguous.
    package enum Status: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Counting: exactly one open session.
        case running
        /// Interrupted: no open session, can be resumed.
        case paused
        /// Finished: no open session, never runs again.
        case stopped

        /// The lowercase name used in messages: `running`, `paused`, `stopped`.
        package var description: String { rawValue }
    }

    /// The status with the instant it began.
    package enum Phase: Sendable, Hashable {
        /// Running since `sessionStartedAt`, when the open session began.
        case running(sessionStartedAt: Instant)
        /// Paused since the instant given (for a timer created with
        /// `start=false`, its creation).
        case paused(since: Instant)
        /// Stopped at the instant given.
        case stopped(at: Instant)
    }

    /// The status and when it began.
    package internal(set) var phase: Phase
    /// When the timer first ran; nil for a timer created with `start=false`
    /// that has never been resumed.
    package internal(set) var startedAt: Instant?
    /// Seconds in all closed sessions: the API's `total_duration`. Always the
    /// sum of the whole seconds of each closed session.
    package internal(set) var closedSeconds: Int64
    /// When the last change was recorded (server clock): the API's
    /// `last_updated`.
    package internal(set) var lastUpdated: Instant
    /// Starts at 1 and grows by exactly 1 with every change.
    package internal(set) var syncVersion: Int64
    /// The device that made the last change, as it named itself (may be empty).
    package internal(set) var deviceID: String
    /// When the timer was soft-deleted; a deleted timer is always stopped.
    package internal(set) var deletedAt: Instant?

    /// A state from its parts, checked against the invariants; for loading
    /// from storage. Throws `inconsistentState` when the parts contradict
    /// each other (see `invariantViolations`).
    package init(
        phase: Phase,
        startedAt: Instant?,
        closedSeconds: Int64,
        lastUpdated: Instant,
        syncVersion: Int64,
        deviceID: String,
        deletedAt: Instant? = nil
    ) throws(TimerDomainError) {
        self.init(
            unchecked: phase, startedAt: startedAt, closedSeconds: closedSeconds,
            lastUpdated: lastUpdated, syncVersion: syncVersion, deviceID: deviceID, deletedAt: deletedAt
        )
        let problems = invariantViolations
        guard problems.isEmpty else {
            throw TimerDomainError(code: .inconsistentState, message: "inconsistent timer state: " + problems.joined(separator: "; "))
        }
    }

    /// A state from the columns of a `timers` row, as the API names them:
    /// `pausedAt` must be present exactly when paused, `stoppedAt` exactly when
    /// stopped, `currentSessionStartedAt` exactly when running.
    package init(
        status: Status,
        startedAt: Instant?,
        pausedAt: Instant?,
        stoppedAt: Instant?,
        currentSessionStartedAt: Instant?,
        closedSeconds: Int64,
        lastUpdated: Instant,
        syncVersion: Int64,
        deviceID: String,
        deletedAt: Instant? = nil
    ) throws(TimerDomainError) {
        let phase: Phase
        switch (status, pausedAt, stoppedAt, currentSessionStartedAt) {
        case (.running, nil, nil, let session?): phase = .running(sessionStartedAt: session)
        case (.paused, let paused?, nil, nil): phase = .paused(since: paused)
        case (.stopped, nil, let stopped?, nil): phase = .stopped(at: stopped)
        default:
            throw TimerDomainError(
                code: .inconsistentState,
                message: "inconsistent timer state: a \(status) timer with paused_at \(Self.text(pausedAt)), "
                    + "stopped_at \(Self.text(stoppedAt)), current session start \(Self.text(currentSessionStartedAt))"
            )
        }
        try self.init(
            phase: phase, startedAt: startedAt, closedSeconds: closedSeconds,
            lastUpdated: lastUpdated, syncVersion: syncVersion, deviceID: deviceID, deletedAt: deletedAt
        )
    }

    init(
        unchecked phase: Phase, startedAt: Instant?, closedSeconds: Int64,
        lastUpdated: Instant, syncVersion: Int64, deviceID: String, deletedAt: Instant?
    ) {
        self.phase = phase
        self.startedAt = startedAt
        self.closedSeconds = closedSeconds
        self.lastUpdated = lastUpdated
        self.syncVersion = syncVersion
        self.deviceID = deviceID
        self.deletedAt = deletedAt
    }

    /// Running, paused or stopped.
    package var status: Status {
        switch phase {
        case .running: .running
        case .paused: .paused
        case .stopped: .stopped
        }
    }

    /// When the timer was paused; present only while paused.
    package var pausedAt: Instant? {
        if case .paused(let since) = phase { since } else { nil }
    }

    /// When the timer was stopped; present only once stopped.
    package var stoppedAt: Instant? {
        if case .stopped(let at) = phase { at } else { nil }
    }

    /// When the open session began; present only while running.
    package var currentSessionStartedAt: Instant? {
        if case .running(let start) = phase { start } else { nil }
    }

    /// When the timer entered its current status: the earliest instant the
    /// next transition may take effect, so sessions never overlap and never
    /// end before they start.
    package var phaseStartedAt: Instant {
        switch phase {
        case .running(let start): start
        case .paused(let since): since
        case .stopped(let at): at
        }
    }

    /// Running or paused, and not deleted: counted in `meta`, listed by
    /// GetActiveTimers.
    package var isActive: Bool {
        deletedAt == nil && status != .stopped
    }

    /// Whether the timer has been soft-deleted.
    package var isDeleted: Bool {
        deletedAt != nil
    }

    /// Seconds in the open session at `now` (the API's
    /// `current_session_duration`): 0 unless running, and 0 rather than
    /// negative when `now` is before the session's start.
    package func currentSessionSeconds(at now: Instant) -> Int64 {
        guard case .running(let start) = phase else { return 0 }
        return Instant.wholeSeconds(from: start, to: now)
    }

    /// The timer's whole tracked time at `now`: closed sessions plus the open
    /// one. Never negative.
    package func totalSeconds(at now: Instant) -> Int64 {
        closedSeconds.saturatingAdding(currentSessionSeconds(at: now))
    }

    /// What is wrong with this state, one sentence per broken rule; empty for
    /// a consistent state.
    package var invariantViolations: [String] {
        var problems: [String] = []
        if closedSeconds < 0 { problems.append("total_duration is negative (\(closedSeconds))") }
        if syncVersion < 1 { problems.append("sync_version is \(syncVersion), it starts at 1") }
        if case .running = phase, startedAt == nil { problems.append("a running timer has no started_at") }
        if let startedAt, case .running(let session) = phase, session < startedAt {
            problems.append("the open session starts at \(session), before started_at \(startedAt)")
        }
        if startedAt == nil, closedSeconds != 0 {
            problems.append("a timer that never started has total_duration \(closedSeconds)")
        }
        if deletedAt != nil, status != .stopped { problems.append("a deleted timer is \(status)") }
        return problems
    }

    private static func text(_ instant: Instant?) -> String {
        instant.map(\.description) ?? "absent"
    }
}
