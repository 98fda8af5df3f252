@testable import TimerDomain

/// 2024-12-01 at the given UTC time: the day every test works on.
func at(_ hour: Int64, _ minute: Int64 = 0, _ second: Int64 = 0, micro: Int64 = 0) -> Instant {
    Instant(2024, 12, 1, hour, minute, second, microsecond: micro)
}

/// The error `body` throws, or nil. Called outside `#expect`, whose closures
/// this compiler can miscompile.
func caught<T>(_ body: () throws(TimerDomainError) -> T) -> TimerDomainError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A timer driven through transitions the way storage drives it: each
/// transition's session change is applied to a list of session rows, so the
/// tests can check the rows against the state.
struct RecordedTimer {
    var state: TimerState
    var sessions: [SessionInterval] = []
    var changes: [TimerChange] = []

    init(start: Bool = true, at instant: Instant, device: String = "laptop") {
        let creation = TimerState.created(start: start, at: instant, deviceID: device)
        state = creation.state
        record(creation)
    }

    mutating func apply(_ command: TimerCommand, at instant: Instant, device: String = "laptop") throws(TimerDomainError) {
        let transition = try state.applying(command, at: instant, deviceID: device)
        state = transition.state
        record(transition)
    }

    mutating func record(_ transition: TimerTransition) {
        state = transition.state
        changes.append(transition.change)
        switch transition.session {
        case .none:
            break
        case .open(let start):
            sessions.append(SessionInterval(startedAt: start, endedAt: nil))
        case .close(let start, let end, _):
            let index = sessions.lastIndex(where: \.isOpen)!
            precondition(sessions[index].startedAt == start, "closing a session that is not the open one")
            sessions[index].endedAt = end
        }
    }

    var violations: [SessionInvariantViolation] {
        SessionInterval.violations(of: state, sessions: sessions)
    }
}

/// A running timer started at 09:00, version 1.
func runningTimer() -> TimerState {
    TimerState.created(start: true, at: at(9), deviceID: "laptop").state
}

/// A timer started at 09:00 and paused at 09:30, version 2.
func pausedTimer() throws(TimerDomainError) -> TimerState {
    try runningTimer().applying(.pause, at: at(9, 30), deviceID: "laptop").state
}

/// A timer started at 09:00 and stopped at 09:30, version 2.
func stoppedTimer() throws(TimerDomainError) -> TimerState {
    try runningTimer().applying(.stop, at: at(9, 30), deviceID: "laptop").state
}

/// A timer started at 09:00 and deleted at 09:30, version 2.
func deletedTimer() throws(TimerDomainError) -> TimerState {
    try runningTimer().applying(.delete, at: at(9, 30), deviceID: "laptop").state
}
