/// A timer as one device knows it: what it last learned from the server,
/// and the changes it made since that the server has not seen yet.
///
/// Kept by ``OfflineSync``; a timer created offline has no ``serverID``
/// until a sync creates it on the server.
public struct LocalTimer: Sendable, Hashable, Identifiable {
    /// How a device names a timer, stable across syncs: its `client_ref`
    /// when it has one (every timer created through ``OfflineSync`` does),
    /// else the server's id.
    public enum Key: Sendable, Hashable, CustomStringConvertible {
        /// By idempotency key.
        case clientRef(String)
        /// By server id.
        case server(Int64)

        /// `client_ref 0b8f…` or `timer 42`.
        public var description: String {
            switch self {
            case .clientRef(let ref): "client_ref \(ref)"
            case .server(let id): "timer \(id)"
            }
        }
    }

    /// The device's name for the timer.
    public let key: Key
    /// The timer's id on the server; nil until a sync creates it there.
    public var serverID: Int64?
    /// The timer's idempotency key (empty for a timer made elsewhere without one).
    public var clientRef: String
    /// The account the work is billed to.
    public var accountID: Int64
    /// The project, if any.
    public var projectID: Int64?
    /// The billing rate, if any.
    public var billingRateID: Int64?
    /// What is being worked on.
    public var description: String
    /// The state the device sees, its own changes included.
    public var status: TimerStatus
    /// When it started running (device clock for a timer created offline).
    public var startedAt: Timestamp?
    /// When it last changed, on this device or on the server.
    public var lastUpdated: Timestamp?
    /// The `sync_version` the device last received; 0 before any.
    public var syncVersion: Int64
    /// Offline transitions not yet synced, oldest first.
    public var pendingTransitions: [DeviceTransition]
    /// The server's timer as the last sync returned it.
    public var lastKnown: VaultTimer?

    /// Same as ``key``.
    public var id: Key { key }

    /// Whether the server has yet to learn something from this device: the
    /// timer itself, or transitions.
    public var hasPendingChanges: Bool { serverID == nil || !pendingTransitions.isEmpty }

    /// A timer created on this device, running since `startedAt`.
    init(creating clientRef: String, accountID: Int64, description: String, projectID: Int64?, billingRateID: Int64?,
         startedAt: Timestamp) {
        key = .clientRef(clientRef)
        self.clientRef = clientRef
        self.accountID = accountID
        self.projectID = projectID
        self.billingRateID = billingRateID
        self.description = description
        status = .running
        self.startedAt = startedAt
        lastUpdated = startedAt
        syncVersion = 0
        pendingTransitions = []
    }

    /// A timer learned from the server.
    init(learning timer: VaultTimer) {
        key = timer.clientRef.isEmpty ? .server(timer.id) : .clientRef(timer.clientRef)
        clientRef = timer.clientRef
        accountID = timer.accountID
        description = timer.description
        status = timer.status
        syncVersion = 0
        pendingTransitions = []
        adopt(timer)
    }

    /// Whether `timer` is this one on the server.
    func matches(_ timer: VaultTimer) -> Bool {
        if let serverID { return serverID == timer.id }
        return !clientRef.isEmpty && clientRef == timer.clientRef
    }

    /// Takes the server's timer as the base of further changes; the fields
    /// are the server's too unless transitions are still pending (made while
    /// the sync was in flight), which keep the device's status.
    mutating func adopt(_ timer: VaultTimer) {
        serverID = timer.id
        syncVersion = timer.syncVersion
        lastKnown = timer
        guard pendingTransitions.isEmpty else { return }
        accountID = timer.accountID
        projectID = timer.projectID
        billingRateID = timer.billingRateID
        description = timer.description
        status = timer.status
        startedAt = timer.startedAt
        lastUpdated = timer.lastUpdated
    }

    /// Whether the timer is done with: stopped or deleted on the server, with
    /// nothing left to send.
    var isSettled: Bool {
        guard !hasPendingChanges else { return false }
        return status == .stopped || lastKnown?.deletedAt != nil
    }

    /// The device's view as SyncTimers takes it.
    var deviceTimer: DeviceTimer {
        var timer = DeviceTimer()
        timer.id = serverID
        timer.clientRef = clientRef
        timer.accountID = accountID
        timer.projectID = projectID
        timer.billingRateID = billingRateID
        timer.description = description
        timer.status = status
        timer.startedAt = startedAt
        timer.lastUpdated = lastUpdated
        timer.syncVersion = syncVersion
        timer.transitions = pendingTransitions
        return timer
    }
}
