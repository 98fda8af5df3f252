/// A command that moves a timer between states: PauseTimer, ResumeTimer,
/// StopTimer and DeleteTimer, the same actions of BulkTimers, and the offline
/// transitions SyncTimers applies.
///
/// Allowed transitions (anything else is FAILED_PRECONDITION and changes
/// nothing):
///
/// | command | from running | from paused | from stopped |
/// |---|---|---|---|
/// | pause | → paused, closes the session | refused | refused |
/// | resume | refused | → running, opens a session | refused |
/// | stop | → stopped, closes the session | → stopped | refused |
/// | delete | → stopped + deleted, closes the session | → stopped + deleted | → deleted |
///
/// A deleted timer accepts nothing (NOT_FOUND).
package enum TimerCommand: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// RUNNING → PAUSED.
    case pause
    /// PAUSED → RUNNING.
    case resume
    /// RUNNING or PAUSED → STOPPED.
    case stop
    /// Soft delete; a running timer is stopped first.
    case delete

    /// The verb used in messages: `pause`, `resume`, `stop`, `delete`.
    package var description: String { rawValue }
}

/// What a change did, in the vocabulary of `TimerEventType` (the event to
/// publish and the audit row's action).
package enum TimerChange: String, Sendable, Hashable, CaseIterable {
    /// Created running (`TIMER_EVENT_TYPE_STARTED`).
    case started
    /// Fields changed without a state change, or created with `start=false`
    /// (`TIMER_EVENT_TYPE_UPDATED`).
    case updated
    /// Running → paused, by the owner, an admin, sync or auto-pause.
    case paused
    /// Paused → running.
    case resumed
    /// Stopped.
    case stopped
    /// Soft-deleted (stopped first if it was running or paused).
    case deleted
}

/// The one `timer_sessions` row change a transition implies.
package enum SessionChange: Sendable, Hashable {
    /// No session row changes.
    case none
    /// Insert an open session starting at the instant given.
    case open(startedAt: Instant)
    /// Close the open session (the one starting at `startedAt`) at `endedAt`,
    /// with `seconds` as its duration; the same seconds were added to the
    /// timer's `total_duration`.
    case close(startedAt: Instant, endedAt: Instant, seconds: Int64)
}

/// The result of a transition: the state to store, the session row change to
/// write with it (in the same transaction), and the event it publishes.
package struct TimerTransition: Sendable, Hashable {
    /// The timer after the change; its `syncVersion` is one more than before.
    package var state: TimerState
    /// The session row change to write.
    package var session: SessionChange
    /// What happened, for the event and the audit row.
    package var change: TimerChange
}

extension TimerState {
    /// A new timer at `at`, version 1.
    ///
    /// With `start`, it runs: `startedAt` and an open session at `at`, change
    /// `started`. Without, it is created PAUSED (not STOPPED: a stopped timer
    /// never runs again, and a timer created for later must be resumable):
    /// `pausedAt` is the creation instant, `startedAt` stays absent until the
    /// first resume, no session is opened, and the change is `updated`.
    package static func created(start: Bool, at: Instant, deviceID: String) -> TimerTransition {
        let state = TimerState(
            unchecked: start ? .running(sessionStartedAt: at) : .paused(since: at),
            startedAt: start ? at : nil,
            closedSeconds: 0,
            lastUpdated: at,
            syncVersion: 1,
            deviceID: deviceID,
            deletedAt: nil
        )
        return TimerTransition(
            state: state,
            session: start ? .open(startedAt: at) : .none,
            change: start ? .started : .updated
        )
    }

    /// Whether `command` is allowed from the current state (see `TimerCommand`).
    package func allows(_ command: TimerCommand) -> Bool {
        guard !isDeleted else { return false }
        switch (command, status) {
        case (.pause, .running), (.resume, .paused), (.stop, .running), (.stop, .paused), (.delete, _):
            return true
        default:
            return false
        }
    }

    /// Applies a command at the server's `now`. See
    /// `applying(_:at:recordedAt:deviceID:)`; here both instants are `now`.
    package func applying(_ command: TimerCommand, at now: Instant, deviceID: String) throws(TimerDomainError) -> TimerTransition {
        try applying(command, at: now, recordedAt: now, deviceID: deviceID)
    }

    /// Applies a command that took effect at `at` and is recorded at
    /// `recordedAt` (the server's now). They differ for auto-pause (the limit
    /// instant) and for offline transitions from sync (the clamped device time).
    ///
    /// The effective instant is `at` clamped into `[phaseStartedAt,
    /// recordedAt]` (`DeviceTime.clamp`): a clock that went backwards cannot
    /// end a session before it began or start one before the previous ended,
    /// and nothing takes effect after the server's now. `lastUpdated` becomes
    /// the latest of its old value, `recordedAt` and the effective instant, so
    /// it never moves backwards.
    /// `syncVersion` grows by one; `deviceID` becomes the caller's.
    ///
    /// Throws `failedPrecondition` (naming the current state and the command)
    /// when the transition is not allowed, `notFound` for a deleted timer.
    package func applying(
        _ command: TimerCommand, at: Instant, recordedAt: Instant, deviceID: String
    ) throws(TimerDomainError) -> TimerTransition {
        guard !isDeleted else { throw Self.deletedError }
        let effective = DeviceTime.clamp(at, notAfter: recordedAt, notBefore: phaseStartedAt)
        var next = self
        next.lastUpdated = max(lastUpdated, recordedAt, effective)
        next.syncVersion = syncVersion + 1
        next.deviceID = deviceID

        let session: SessionChange
        let change: TimerChange
        switch (command, phase) {
        case (.pause, .running(let start)):
            session = next.closeSession(startedAt: start, at: effective, into: .paused(since: effective))
            change = .paused
        case (.resume, .paused):
            next.phase = .running(sessionStartedAt: effective)
            next.startedAt = startedAt ?? effective
            session = .open(startedAt: effective)
            change = .resumed
        case (.stop, .running(let start)):
            session = next.closeSession(startedAt: start, at: effective, into: .stopped(at: effective))
            change = .stopped
        case (.stop, .paused):
            next.phase = .stopped(at: effective)
            session = .none
            change = .stopped
        case (.delete, .running(let start)):
            session = next.closeSession(startedAt: start, at: effective, into: .stopped(at: effective))
            next.deletedAt = next.lastUpdated
            change = .deleted
        case (.delete, .paused):
            next.phase = .stopped(at: effective)
            next.deletedAt = next.lastUpdated
            session = .none
            change = .deleted
        case (.delete, .stopped):
            next.deletedAt = next.lastUpdated
            session = .none
            change = .deleted
        default:
            throw refusal(of: command)
        }
        return TimerTransition(state: next, session: session, change: change)
    }

    /// Records a change of the timer's fields (description, project, billing
    /// rate) at `now`: no state or session change, but a new version, like
    /// every change. Throws `notFound` for a deleted timer.
    package func updated(at now: Instant, deviceID: String) throws(TimerDomainError) -> TimerTransition {
        guard !isDeleted else { throw Self.deletedError }
        var next = self
        next.lastUpdated = max(lastUpdated, now)
        next.syncVersion = syncVersion + 1
        next.deviceID = deviceID
        return TimerTransition(state: next, session: .none, change: .updated)
    }

    /// Ends the open session at `end` (not before its start), adds its whole
    /// seconds to the total and moves to `phase`.
    private mutating func closeSession(startedAt start: Instant, at end: Instant, into phase: Phase) -> SessionChange {
        let seconds = Instant.wholeSeconds(from: start, to: end)
        closedSeconds = closedSeconds.saturatingAdding(seconds)
        self.phase = phase
        return .close(startedAt: start, endedAt: end, seconds: seconds)
    }

    /// The FAILED_PRECONDITION error for a command the current state refuses.
    private func refusal(of command: TimerCommand) -> TimerDomainError {
        let needs = switch command {
        case .pause: "a running timer"
        case .resume: "a paused timer"
        case .stop: "a running or paused timer"
        case .delete: "a timer that is not deleted"
        }
        let hint = command == .resume && status == .stopped ? " (a stopped timer never runs again)" : ""
        return TimerDomainError(
            code: .failedPrecondition,
            message: "timer is \(status); \(command) needs \(needs)\(hint)"
        )
    }

    static let deletedError = TimerDomainError(code: .notFound, message: "timer has been deleted")
}
