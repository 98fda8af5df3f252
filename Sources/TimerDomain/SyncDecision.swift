/// One transition SyncTimers writes: the state machine's transition at the
/// clamped instant, with the device's own time kept for the audit trail.
package struct SyncStep: Sendable, Hashable {
    /// The transition: the state after it, its session change, its change.
    package var transition: TimerTransition
    /// The device's time for it, as sent (nil for a creation the device gave
    /// no time for).
    package var deviceAt: Instant?
    /// When it took effect on the timer's timeline: the device time clamped
    /// into what the server can vouch for.
    package var effectiveAt: Instant

    /// A step.
    package init(transition: TimerTransition, deviceAt: Instant?, effectiveAt: Instant) {
        self.transition = transition
        self.deviceAt = deviceAt
        self.effectiveAt = effectiveAt
    }
}

/// A disagreement between a device and the server, found by SyncTimers and
/// settled by keeping the server's timer (the only resolution there is: the
/// server wins, the device's offline changes to this timer are not applied).
package struct SyncConflict: Sendable, Hashable {
    /// What kind of disagreement it is.
    package enum Kind: Sendable, Hashable, CaseIterable {
        /// Device and server end in different states (the seed's
        /// `status_mismatch`).
        case statusMismatch
        /// Both changed the timer since the device's version and end in the
        /// same state; the server's timestamps and totals are kept.
        case concurrentChange
        /// The device changed a timer that was deleted on the server.
        case deletedOnServer
    }

    /// The kind.
    package var kind: Kind
    /// The state the device ended in.
    package var localStatus: TimerState.Status
    /// The state on the server (a deleted timer is stopped).
    package var serverStatus: TimerState.Status
    /// The `sync_version` the device based its changes on.
    package var localSyncVersion: Int64
    /// The server's `sync_version`.
    package var serverSyncVersion: Int64

    /// A conflict.
    package init(
        kind: Kind, localStatus: TimerState.Status, serverStatus: TimerState.Status,
        localSyncVersion: Int64, serverSyncVersion: Int64
    ) {
        self.kind = kind
        self.localStatus = localStatus
        self.serverStatus = serverStatus
        self.localSyncVersion = localSyncVersion
        self.serverSyncVersion = serverSyncVersion
    }
}

/// How one device timer is reconciled: what to write, and what to answer.
/// Made by `SyncReconciliation.reconcile`; storage performs it in one
/// transaction.
package enum SyncDecision: Sendable, Hashable {
    /// SyncTimers' `SyncResolution`, without the wire's unspecified value.
    package enum Resolution: Sendable, Hashable, CaseIterable {
        /// The timer was unknown to the server and is created from the
        /// device's view (or was, by an earlier sync with its client_ref).
        case createOnServer
        /// The device was on the server's version and changed the timer:
        /// its transitions are applied.
        case updateServer
        /// The server changed since the device's version: the device adopts
        /// the server's timer (with a conflict when it changed it too).
        case updateClient
        /// Both sides agree; nothing to do.
        case inSync
        /// The device timer cannot be applied; nothing is written.
        case rejected
    }

    /// Create a new timer: `creation` (version 1, at the clamped start),
    /// then `steps` in order, each one version more. Resolution
    /// `createOnServer`.
    case create(creation: SyncStep, steps: [SyncStep])
    /// Apply `steps` (never empty) in order to the server timer; each bumps
    /// its version. Resolution `updateServer`, or `createOnServer` for the
    /// rest of the transitions of a timer an earlier sync created.
    case apply(steps: [SyncStep], resolution: Resolution)
    /// Write nothing; answer `resolution` (`inSync`, `updateClient`, or what
    /// an earlier copy of this sync answered) with the server's timer and
    /// `conflict`, if any.
    case keep(resolution: Resolution, conflict: SyncConflict?)
    /// Write nothing; the item's status is `error` (FAILED_PRECONDITION for a
    /// transition the state machine refuses, INVALID_ARGUMENT for a device
    /// timer that contradicts itself or claims a version the server never
    /// issued, NOT_FOUND for an unknown id).
    case rejected(TimerDomainError)

    /// The resolution to answer.
    package var resolution: Resolution {
        switch self {
        case .create: .createOnServer
        case .apply(_, let resolution): resolution
        case .keep(let resolution, _): resolution
        case .rejected: .rejected
        }
    }

    /// The conflict to report, if any.
    package var conflict: SyncConflict? {
        if case .keep(_, let conflict) = self { conflict } else { nil }
    }

    /// The item's error, for a rejected device timer.
    package var error: TimerDomainError? {
        if case .rejected(let error) = self { error } else { nil }
    }

    /// Every step to write, the creation first.
    package var steps: [SyncStep] {
        switch self {
        case .create(let creation, let steps): [creation] + steps
        case .apply(let steps, _): steps
        case .keep, .rejected: []
        }
    }
}
