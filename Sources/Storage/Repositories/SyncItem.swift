import TimerDomain

/// What a timer created offline is created with, besides its state: where
/// the work is billed and what it is. Checked like CreateTimer's fields.
package struct SyncCreateFields: Sendable, Hashable {
    /// The account; the user must be a member.
    package var accountID: Int64
    /// A project of that account, if any.
    package var projectID: Int64?
    /// A billing rate of that account, if any.
    package var billingRateID: Int64?
    /// The description, already validated and trimmed (`Validation.description`).
    package var description: String

    /// Fields for a creation.
    package init(accountID: Int64, projectID: Int64?, billingRateID: Int64?, description: String) {
        self.accountID = accountID
        self.projectID = projectID
        self.billingRateID = billingRateID
        self.description = description
    }
}

/// One device timer of a SyncTimers call, as `TimerRepository.sync` takes it.
package struct SyncItem: Sendable, Hashable {
    /// The device's view of the timer.
    package var device: SyncDeviceTimer
    /// The fields to create it with when the server does not know it; nil
    /// when the device names it by id (then it is never created).
    package var creation: SyncCreateFields?

    /// An item.
    package init(device: SyncDeviceTimer, creation: SyncCreateFields?) {
        self.device = device
        self.creation = creation
    }
}

/// One change a sync wrote, for the caller to publish once the call is done.
package struct SyncAppliedChange: Sendable, Hashable {
    /// The timer right after this change.
    package var record: TimerRecord
    /// What the change did.
    package var change: TimerChange

    /// A change.
    package init(record: TimerRecord, change: TimerChange) {
        self.record = record
        self.change = change
    }
}

/// The outcome of one device timer.
package struct SyncItemOutcome: Sendable, Hashable {
    /// How it was reconciled.
    package var resolution: SyncDecision.Resolution
    /// The server's timer after it (deleted ones included); nil only when it
    /// was rejected and no server timer exists.
    package var record: TimerRecord?
    /// The disagreement found, if any (settled: the server won).
    package var conflict: SyncConflict?
    /// Why it was rejected; nil unless `resolution` is `rejected`.
    package var error: TimerDomainError?
    /// What was written, in order: a creation, then one entry per applied
    /// transition. Empty when nothing was.
    package var applied: [SyncAppliedChange]

    /// An outcome.
    package init(
        resolution: SyncDecision.Resolution, record: TimerRecord?, conflict: SyncConflict? = nil,
        error: TimerDomainError? = nil, applied: [SyncAppliedChange] = []
    ) {
        self.resolution = resolution
        self.record = record
        self.conflict = conflict
        self.error = error
        self.applied = applied
    }
}
