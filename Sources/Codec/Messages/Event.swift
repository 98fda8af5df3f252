import TimerProtoC

/// What a TimerEvent reports.
public enum TimerEventType: ProtoEnum {
    /// Not set; never sent.
    case unspecified
    /// The full set of the user's active timers (`timers`) and `meta`. Sent first
    /// on every stream, and again whenever the stream cannot replay what the
    /// subscriber missed.
    case snapshot
    /// A timer was created running (seed name `timer.started`).
    case started
    /// A timer's fields changed without a state change, or a timer was created
    /// stopped (seed name `timer.updated`).
    case updated
    /// A running timer was paused (by a user, an admin or auto-pause).
    case paused
    /// A paused timer runs again.
    case resumed
    /// A timer was stopped (seed name `timer.stopped`).
    case stopped
    /// A timer was deleted (soft delete).
    case deleted
    /// Nothing changed; the stream is alive. Carries `meta` with a fresh
    /// sync_timestamp and no timer.
    case heartbeat
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .snapshot
        case 2: self = .started
        case 3: self = .updated
        case 4: self = .paused
        case 5: self = .resumed
        case 6: self = .stopped
        case 7: self = .deleted
        case 8: self = .heartbeat
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .snapshot: 1
        case .started: 2
        case .updated: 3
        case .paused: 4
        case .resumed: 5
        case .stopped: 6
        case .deleted: 7
        case .heartbeat: 8
        case .unrecognized(let value): value
        }
    }
}

/// Why a change happened, when it was not the owner's own call.
public enum ChangeCause: ProtoEnum {
    /// The owner changed the timer through the API (the usual case).
    case unspecified
    /// An offline device's change applied by SyncTimers.
    case sync
    /// The server paused a timer that reached its account's maximum running time.
    case autoPause
    /// An administrator acted on the timer.
    case admin
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .sync
        case 2: self = .autoPause
        case 3: self = .admin
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .sync: 1
        case .autoPause: 2
        case .admin: 3
        case .unrecognized(let value): value
        }
    }
}

/// One message of a WatchTimers stream.
public struct TimerEvent: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.TimerEvent"

    /// Identifies the event in the user's event log. Pass the last one received as
    /// WatchTimersRequest.last_event_id to resume without missing anything.
    /// Empty for HEARTBEAT and for SNAPSHOTs that are not in the log.
    public var eventID = ""
    /// What happened.
    public var type: TimerEventType = .unspecified
    /// The timer after the change; absent for SNAPSHOT and HEARTBEAT.
    public var timer: VaultTimer?
    /// The user's figures after the change.
    public var meta: Meta?
    /// For SNAPSHOT: every active (running or paused) timer of the user.
    public var timers: [VaultTimer] = []
    /// When the change was committed (server clock).
    public var occurredAt: Timestamp?
    /// The timer's sync_version after the change (same as timer.sync_version).
    public var syncVersion: Int64 = 0
    /// Why the change happened.
    public var cause: ChangeCause = .unspecified
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

extension TimerEvent: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__TimerEvent

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__timer_event__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !eventID.isEmpty { c.pointee.event_id = try arena.cString(eventID, path: "servicevault.timer.v1.TimerEvent.event_id") }
        c.pointee.type = type.c()
        c.pointee.timer = try arena.message(timer)
        c.pointee.meta = try arena.message(meta)
        (c.pointee.n_timers, c.pointee.timers) = try arena.messages(timers)
        c.pointee.occurred_at = try arena.message(occurredAt)
        c.pointee.sync_version = syncVersion
        c.pointee.cause = cause.c()
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        eventID = try CRead.string(c.pointee.event_id, "servicevault.timer.v1.TimerEvent.event_id")
        type = .init(c: c.pointee.type)
        timer = try CRead.message(c.pointee.timer)
        meta = try CRead.message(c.pointee.meta)
        timers = try CRead.messages(c.pointee.n_timers, c.pointee.timers)
        occurredAt = try CRead.message(c.pointee.occurred_at)
        syncVersion = c.pointee.sync_version
        cause = .init(c: c.pointee.cause)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

