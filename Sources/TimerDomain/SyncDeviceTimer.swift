/// One offline transition of a device timer: what the device did and when, by
/// the device's clock (SyncTimers' `DeviceTransition`).
package struct SyncDeviceTransition: Sendable, Hashable {
    /// The transitions a device can make offline. Deleting is not one of them:
    /// a device deletes through DeleteTimer, online.
    package enum Action: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// RUNNING → PAUSED.
        case pause
        /// PAUSED → RUNNING.
        case resume
        /// RUNNING or PAUSED → STOPPED.
        case stop

        /// The state machine's command for this action.
        package var command: TimerCommand {
            switch self {
            case .pause: .pause
            case .resume: .resume
            case .stop: .stop
            }
        }

        /// The change this action records when applied (the audit row's
        /// action and the event's type).
        package var change: TimerChange {
            switch self {
            case .pause: .paused
            case .resume: .resumed
            case .stop: .stopped
            }
        }

        /// The verb used in messages: `pause`, `resume`, `stop`.
        package var description: String { rawValue }
    }

    /// What the device did.
    package var action: Action
    /// When, by the device's clock: not trusted, clamped before use.
    package var at: Instant

    /// A transition.
    package init(_ action: Action, at: Instant) {
        self.action = action
        self.at = at
    }
}

/// A device's view of one timer, as SyncTimers receives it (`DeviceTimer`),
/// after the request checks: an `id` or a `clientRef` is present, the status
/// is one of the three, every transition has an action and a time.
///
/// The fields that only matter for creating a timer offline (account,
/// project, rate, description) stay with the caller: the reconciliation
/// does not need them.
package struct SyncDeviceTimer: Sendable, Hashable {
    /// The server id, if the device has seen the timer on the server; nil for
    /// a timer created offline.
    package var id: Int64?
    /// The device's idempotency key (a lower-case UUID), if it sent one.
    /// Required when `id` is nil.
    package var clientRef: String?
    /// The state the device ends in.
    package var status: TimerState.Status
    /// When the device first ran the timer, by its clock. Used only for a
    /// timer created offline.
    package var startedAt: Instant?
    /// When the device last changed the timer, by its clock. Used only for a
    /// timer created offline that never ran (its creation instant).
    package var lastUpdated: Instant?
    /// The `sync_version` the device last received; 0 for a timer created
    /// offline.
    package var syncVersion: Int64
    /// What the device did since `syncVersion`, oldest first.
    package var transitions: [SyncDeviceTransition]

    /// A device timer.
    package init(
        id: Int64? = nil,
        clientRef: String? = nil,
        status: TimerState.Status,
        startedAt: Instant? = nil,
        lastUpdated: Instant? = nil,
        syncVersion: Int64,
        transitions: [SyncDeviceTransition] = []
    ) {
        self.id = id
        self.clientRef = clientRef
        self.status = status
        self.startedAt = startedAt
        self.lastUpdated = lastUpdated
        self.syncVersion = syncVersion
        self.transitions = transitions
    }

    /// Whether the device changed the timer offline: it made transitions.
    package var hasTransitions: Bool {
        !transitions.isEmpty
    }
}

/// One change the server recorded for a timer (an `audit_log` row), as much
/// as the reconciliation needs to recognise a device's transitions that an
/// earlier copy of the same sync already applied.
package struct SyncRecordedChange: Sendable, Hashable {
    /// The timer's `sync_version` after the change.
    package var version: Int64
    /// What the change did; nil for a creation or an action this version
    /// does not know.
    package var change: TimerChange?
    /// The device that made it, as it named itself (empty when unnamed).
    package var deviceID: String
    /// Whether SyncTimers applied it (from a device's offline transition).
    package var bySync: Bool
    /// The device's own time for the transition, as the device sent it
    /// (before clamping); nil for changes not made by sync.
    package var deviceAt: Instant?

    /// A recorded change.
    package init(version: Int64, change: TimerChange?, deviceID: String, bySync: Bool, deviceAt: Instant?) {
        self.version = version
        self.change = change
        self.deviceID = deviceID
        self.bySync = bySync
        self.deviceAt = deviceAt
    }

    /// Whether this is the change that applying `transition` from
    /// `deviceID` by sync recorded.
    package func records(_ transition: SyncDeviceTransition, from deviceID: String) -> Bool {
        bySync && change == transition.action.change && self.deviceID == deviceID && deviceAt == transition.at
    }
}

/// The server's side of one device timer: the stored timer the device timer
/// names (by id, or by client_ref for a timer created offline by an earlier
/// sync) and the changes recorded since the device's version.
package struct SyncServerTimer: Sendable, Hashable {
    /// The timer as stored, deleted or not.
    package var state: TimerState
    /// The changes recorded after the device's base version, oldest first:
    /// those of `SyncReconciliation.historyVersions(for:serverVersion:)`, or
    /// empty when that is nil. May be incomplete (audit rows purged); the
    /// reconciliation then treats the server as changed by someone else.
    package var history: [SyncRecordedChange]

    /// A server timer.
    package init(state: TimerState, history: [SyncRecordedChange] = []) {
        self.state = state
        self.history = history
    }
}
