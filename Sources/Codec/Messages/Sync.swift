import TimerProtoC

/// A transition a device made while offline.
public enum TimerAction: ProtoEnum {
    /// Not set; invalid in requests.
    case unspecified
    /// RUNNING -> PAUSED.
    case pause
    /// PAUSED -> RUNNING.
    case resume
    /// RUNNING or PAUSED -> STOPPED.
    case stop
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .pause
        case 2: self = .resume
        case 3: self = .stop
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .pause: 1
        case .resume: 2
        case .stop: 3
        case .unrecognized(let value): value
        }
    }
}

/// How one device timer was reconciled.
public enum SyncResolution: ProtoEnum {
    /// Not set; never returned.
    case unspecified
    /// The timer was unknown to the server and has been created from the device's
    /// view (or had been already, by an earlier sync with the same client_ref).
    case createOnServer
    /// The device was up to date and newer: its offline transitions were applied.
    case updateServer
    /// The server changed since the device's sync_version: the device must take
    /// the server's timer. If the device changed too, a Conflict says so.
    case updateClient
    /// Both sides already agree; nothing to do.
    case inSync
    /// The device timer could not be applied (see SyncResult.status), e.g. an
    /// account the user does not belong to, or an invalid transition sequence.
    case rejected
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .createOnServer
        case 2: self = .updateServer
        case 3: self = .updateClient
        case 4: self = .inSync
        case 5: self = .rejected
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .createOnServer: 1
        case .updateServer: 2
        case .updateClient: 3
        case .inSync: 4
        case .rejected: 5
        case .unrecognized(let value): value
        }
    }
}

/// What kind of disagreement a conflict is.
public enum ConflictType: ProtoEnum {
    /// Not set; never returned.
    case unspecified
    /// Device and server end in different states (seed: `status_mismatch`).
    case statusMismatch
    /// Both changed the timer since the device's version, ending in the same
    /// state; the server's timestamps and totals were kept.
    case concurrentChange
    /// The device changed a timer that was deleted on the server.
    case deletedOnServer
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .statusMismatch
        case 2: self = .concurrentChange
        case 3: self = .deletedOnServer
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .statusMismatch: 1
        case .concurrentChange: 2
        case .deletedOnServer: 3
        case .unrecognized(let value): value
        }
    }
}

/// How a conflict was settled.
public enum ConflictResolution: ProtoEnum {
    /// Not set; never returned.
    case unspecified
    /// The server's state was kept (seed: `server_wins`); the device's offline
    /// changes to this timer were not applied.
    case serverWins
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .serverWins
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .serverWins: 1
        case .unrecognized(let value): value
        }
    }
}

/// One offline transition, at the device's clock.
public struct DeviceTransition: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.DeviceTransition"

    /// What the device did.
    public var action: TimerAction = .unspecified
    /// When, by the device's clock. The server clamps it: never later than the
    /// server's now, never earlier than the timer's last known change.
    public var at: Timestamp?
    /// Fields not known to this version, written back on encode.
    public var unknownFields = UnknownFields()

    /// A message with every field at its default.
    public init() {}

    /// Decodes from the protobuf wire format.
    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
        self = try Self.unpack(bytes)
    }

    /// Encodes in the protobuf wire format.
    public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
}

extension DeviceTransition: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__DeviceTransition

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__device_transition__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.action = action.c()
        c.pointee.at = try arena.message(at)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        action = .init(c: c.pointee.action)
        at = try CRead.message(c.pointee.at)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// A device's view of one timer.
public struct DeviceTimer: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.DeviceTimer"

    /// The server id, if the device has ever seen the timer on the server.
    /// Absent for a timer created offline.
    public var id: Int64?
    /// The device's idempotency key for the timer (a UUID). Required when `id` is
    /// absent: a re-sent sync with the same client_ref creates nothing twice.
    public var clientRef = ""
    /// For timers created offline: where the work is billed.
    public var accountID: Int64 = 0
    /// For timers created offline: the project, if any.
    public var projectID: Int64?
    /// For timers created offline: the billing rate, if any.
    public var billingRateID: Int64?
    /// For timers created offline: what is being worked on.
    public var description = ""
    /// The state the device ends in.
    public var status: TimerStatus = .unspecified
    /// When the device started the timer (device clock; clamped).
    public var startedAt: Timestamp?
    /// When the device last changed the timer (device clock).
    public var lastUpdated: Timestamp?
    /// The sync_version the device last received from the server; 0 if never.
    public var syncVersion: Int64 = 0
    /// What the device did offline since `sync_version`, oldest first.
    public var transitions: [DeviceTransition] = []
    /// Fields not known to this version, written back on encode.
    public var unknownFields = UnknownFields()

    /// A message with every field at its default.
    public init() {}

    /// Decodes from the protobuf wire format.
    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
        self = try Self.unpack(bytes)
    }

    /// Encodes in the protobuf wire format.
    public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
}

extension DeviceTimer: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__DeviceTimer

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__device_timer__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if let id {
            c.pointee._id_case = SERVICEVAULT__TIMER__V1__DEVICE_TIMER___ID_ID
            c.pointee.id = id
        }
        if !clientRef.isEmpty { c.pointee.client_ref = try arena.cString(clientRef, path: "servicevault.timer.v1.DeviceTimer.client_ref") }
        c.pointee.account_id = accountID
        if let projectID {
            c.pointee._project_id_case = SERVICEVAULT__TIMER__V1__DEVICE_TIMER___PROJECT_ID_PROJECT_ID
            c.pointee.project_id = projectID
        }
        if let billingRateID {
            c.pointee._billing_rate_id_case = SERVICEVAULT__TIMER__V1__DEVICE_TIMER___BILLING_RATE_ID_BILLING_RATE_ID
            c.pointee.billing_rate_id = billingRateID
        }
        if !description.isEmpty { c.pointee.description = try arena.cString(description, path: "servicevault.timer.v1.DeviceTimer.description") }
        c.pointee.status = status.c()
        c.pointee.started_at = try arena.message(startedAt)
        c.pointee.last_updated = try arena.message(lastUpdated)
        c.pointee.sync_version = syncVersion
        (c.pointee.n_transitions, c.pointee.transitions) = try arena.messages(transitions)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee._id_case == SERVICEVAULT__TIMER__V1__DEVICE_TIMER___ID_ID ? c.pointee.id : nil
        clientRef = try CRead.string(c.pointee.client_ref, "servicevault.timer.v1.DeviceTimer.client_ref")
        accountID = c.pointee.account_id
        projectID = c.pointee._project_id_case == SERVICEVAULT__TIMER__V1__DEVICE_TIMER___PROJECT_ID_PROJECT_ID ? c.pointee.project_id : nil
        billingRateID = c.pointee._billing_rate_id_case == SERVICEVAULT__TIMER__V1__DEVICE_TIMER___BILLING_RATE_ID_BILLING_RATE_ID ? c.pointee.billing_rate_id : nil
        description = try CRead.string(c.pointee.description, "servicevault.timer.v1.DeviceTimer.description")
        status = .init(c: c.pointee.status)
        startedAt = try CRead.message(c.pointee.started_at)
        lastUpdated = try CRead.message(c.pointee.last_updated)
        syncVersion = c.pointee.sync_version
        transitions = try CRead.messages(c.pointee.n_transitions, c.pointee.transitions)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// A reported disagreement between a device and the server.
public struct Conflict: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.Conflict"

    /// The server id of the timer.
    public var timerID: Int64 = 0
    /// The device's idempotency key for the timer, if it sent one.
    public var clientRef = ""
    /// The kind of disagreement.
    public var conflictType: ConflictType = .unspecified
    /// The state the device ended in.
    public var localStatus: TimerStatus = .unspecified
    /// The state on the server.
    public var serverStatus: TimerStatus = .unspecified
    /// How it was settled.
    public var resolution: ConflictResolution = .unspecified
    /// The sync_version the device based its changes on.
    public var localSyncVersion: Int64 = 0
    /// The server's sync_version at the time of the sync.
    public var serverSyncVersion: Int64 = 0
    /// Fields not known to this version, written back on encode.
    public var unknownFields = UnknownFields()

    /// A message with every field at its default.
    public init() {}

    /// Decodes from the protobuf wire format.
    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
        self = try Self.unpack(bytes)
    }

    /// Encodes in the protobuf wire format.
    public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
}

extension Conflict: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__Conflict

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__conflict__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.timer_id = timerID
        if !clientRef.isEmpty { c.pointee.client_ref = try arena.cString(clientRef, path: "servicevault.timer.v1.Conflict.client_ref") }
        c.pointee.conflict_type = conflictType.c()
        c.pointee.local_status = localStatus.c()
        c.pointee.server_status = serverStatus.c()
        c.pointee.resolution = resolution.c()
        c.pointee.local_sync_version = localSyncVersion
        c.pointee.server_sync_version = serverSyncVersion
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        timerID = c.pointee.timer_id
        clientRef = try CRead.string(c.pointee.client_ref, "servicevault.timer.v1.Conflict.client_ref")
        conflictType = .init(c: c.pointee.conflict_type)
        localStatus = .init(c: c.pointee.local_status)
        serverStatus = .init(c: c.pointee.server_status)
        resolution = .init(c: c.pointee.resolution)
        localSyncVersion = c.pointee.local_sync_version
        serverSyncVersion = c.pointee.server_sync_version
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// The reconciliation of one DeviceTimer.
public struct SyncResult: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.SyncResult"

    /// Position of the device timer in SyncTimersRequest.timers.
    public var index: Int32 = 0
    /// The device timer's client_ref, echoed.
    public var clientRef = ""
    /// How it was reconciled.
    public var resolution: SyncResolution = .unspecified
    /// The server's timer after reconciliation, which the device should adopt.
    /// Absent only when resolution is REJECTED and no server timer exists.
    public var timer: VaultTimer?
    /// OK, or why the device timer was rejected.
    public var status: ItemStatus?
    /// Fields not known to this version, written back on encode.
    public var unknownFields = UnknownFields()

    /// A message with every field at its default.
    public init() {}

    /// Decodes from the protobuf wire format.
    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
        self = try Self.unpack(bytes)
    }

    /// Encodes in the protobuf wire format.
    public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
}

extension SyncResult: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__SyncResult

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__sync_result__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.index = index
        if !clientRef.isEmpty { c.pointee.client_ref = try arena.cString(clientRef, path: "servicevault.timer.v1.SyncResult.client_ref") }
        c.pointee.resolution = resolution.c()
        c.pointee.timer = try arena.message(timer)
        c.pointee.status = try arena.message(status)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        index = c.pointee.index
        clientRef = try CRead.string(c.pointee.client_ref, "servicevault.timer.v1.SyncResult.client_ref")
        resolution = .init(c: c.pointee.resolution)
        timer = try CRead.message(c.pointee.timer)
        status = try CRead.message(c.pointee.status)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

