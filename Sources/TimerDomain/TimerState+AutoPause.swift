// Forgotten timers. An account may set a maximum running time; it limits one
// uninterrupted RUNNING span (the open session), not the timer's total: a
// timer worked on a little every day for a month is fine, a timer left running
// overnight is not. A timer whose open session reaches the limit is paused at
// exactly `session start + limit` — not at the moment the server notices — so
// the session holds exactly `limit` seconds and nothing beyond it is billed.
// Resuming starts a new session with the full limit again.

extension TimerState {
    /// When the open session reaches `maxRunningSeconds`: the instant at which
    /// auto-pause takes effect. Nil when the timer is not running or the limit
    /// is below 1 second (no limit). Servers use it to schedule the pause.
    package func autoPauseDeadline(maxRunningSeconds: Int64) -> Instant? {
        guard maxRunningSeconds >= 1, !isDeleted, let start = currentSessionStartedAt else { return nil }
        return start.advanced(bySeconds: maxRunningSeconds)
    }

    /// The auto-pause due at `now`, or nil when none is (not running, no
    /// limit, or the deadline not reached). The pause takes effect at the
    /// deadline and is recorded at `now` (`lastUpdated`); it is an ordinary
    /// `paused` change, published with cause AUTO_PAUSE. `deviceID` names the
    /// server as the changer.
    package func autoPause(maxRunningSeconds: Int64, now: Instant, deviceID: String) -> TimerTransition? {
        guard let deadline = autoPauseDeadline(maxRunningSeconds: maxRunningSeconds), now >= deadline else {
            return nil
        }
        return try? applying(.pause, at: deadline, recordedAt: now, deviceID: deviceID)
    }
}
