/// What a request that may be a retry comes to.
package enum TransitionOutcome: Sendable, Hashable {
    /// The request changes the timer: store the transition, write its session
    /// change, audit row and event.
    case applied(TimerTransition)
    /// Nothing to write: the timer already is what the request asks for — a
    /// re-sent request whose first copy was applied, or an update that changes
    /// no field. Answer OK with the current timer; no version bump, no audit
    /// row, no event.
    case unchanged
}

/// What CreateTimer does with a `client_ref`.
package enum CreateResolution: Sendable, Hashable {
    /// The key is new (or absent): create the timer.
    case createNew
    /// The caller created a timer with this key before: return that timer as
    /// it is now, with `created = false`, whatever the other request fields
    /// say. Nothing is written.
    case returnExisting
}

// Retries are safe. The rules, per request:
//
// - CreateTimer with a `client_ref` the caller has used: `returnExisting`
//   (`resolveCreate`). The key is unique per user in storage, so two
//   concurrent creates with one key make one timer.
// - Pause/Resume/Stop/Delete with `expected_sync_version = e`:
//   - e == sync_version: the command applies (or is refused as usual);
//   - e == sync_version - 1 and the timer already is where the command leads
//     (paused, running, stopped, deleted): the request is a re-send of the
//     change that made the current version → `unchanged`, answered OK;
//   - otherwise ABORTED, naming both versions.
// - The same commands without `expected_sync_version` are not recognised as
//   retries: a re-sent Pause of a now paused timer is FAILED_PRECONDITION
//   and changes nothing. Either way no second session is opened or closed.
// - UpdateTimer: as above, where "already where it leads" means none of the
//   requested fields differs from the timer's; an update that changes nothing
//   is `unchanged` without a version bump.
extension TimerState {
    /// Decides a Pause/Resume/Stop/Delete request under the retry rules above.
    /// Throws INVALID_ARGUMENT for an `expected_sync_version` below 1,
    /// NOT_FOUND for a deleted timer (except a replayed delete), ABORTED for a
    /// stale version, FAILED_PRECONDITION for a refused transition.
    package func handling(
        _ command: TimerCommand, expectedSyncVersion: Int64?, at now: Instant, deviceID: String
    ) throws(TimerDomainError) -> TransitionOutcome {
        try Self.checkPositive(expectedSyncVersion)
        if isDeleted && command != .delete { throw Self.deletedError }
        if let expected = expectedSyncVersion, expected != syncVersion {
            if expected == syncVersion - 1 && hasReached(command) { return .unchanged }
            throw staleVersion(expected)
        }
        return .applied(try applying(command, at: now, deviceID: deviceID))
    }

    /// Decides an UpdateTimer request: `changesFields` says whether any
    /// requested field differs from the timer's current value (the caller
    /// compares; the domain does not hold descriptions or rates).
    package func handlingUpdate(
        changesFields: Bool, expectedSyncVersion: Int64?, at now: Instant, deviceID: String
    ) throws(TimerDomainError) -> TransitionOutcome {
        try Self.checkPositive(expectedSyncVersion)
        guard !isDeleted else { throw Self.deletedError }
        if let expected = expectedSyncVersion, expected != syncVersion {
            if expected == syncVersion - 1 && !changesFields { return .unchanged }
            throw staleVersion(expected)
        }
        guard changesFields else { return .unchanged }
        return .applied(try updated(at: now, deviceID: deviceID))
    }

    /// The strict optimistic-concurrency check, for callers with no retry
    /// rule of their own: nil passes; a value other than the current
    /// `syncVersion` is ABORTED (below 1: INVALID_ARGUMENT).
    package func checkExpectedSyncVersion(_ expected: Int64?) throws(TimerDomainError) {
        try Self.checkPositive(expected)
        if let expected, expected != syncVersion { throw staleVersion(expected) }
    }

    /// Whether the timer already is where `command` leads.
    package func hasReached(_ command: TimerCommand) -> Bool {
        switch command {
        case .pause: !isDeleted && status == .paused
        case .resume: !isDeleted && status == .running
        case .stop: !isDeleted && status == .stopped
        case .delete: isDeleted
        }
    }

    /// What CreateTimer does, given the caller's timer created earlier with the
    /// same `client_ref` (nil when the key is new or absent). A key whose
    /// timer was deleted since is spent: ALREADY_EXISTS, nothing is created.
    package static func resolveCreate(existing: TimerState?) throws(TimerDomainError) -> CreateResolution {
        guard let existing else { return .createNew }
        guard !existing.isDeleted else {
            throw TimerDomainError(
                code: .alreadyExists,
                message: "client_ref was already used for a timer that has since been deleted",
                field: "client_ref"
            )
        }
        return .returnExisting
    }

    private func staleVersion(_ expected: Int64) -> TimerDomainError {
        TimerDomainError(
            code: .aborted,
            message: "timer has changed: its sync_version is \(syncVersion), expected_sync_version was \(expected)",
            field: "expected_sync_version"
        )
    }

    private static func checkPositive(_ expected: Int64?) throws(TimerDomainError) {
        if let expected, expected < 1 {
            throw .invalid("expected_sync_version", "expected_sync_version must be at least 1, got \(expected)")
        }
    }
}
