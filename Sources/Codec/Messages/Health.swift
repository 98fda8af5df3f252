import TimerProtoC

/// The state of a dependency or of the whole service.
public enum HealthState: ProtoEnum {
    /// Not set; never returned.
    case unspecified
    /// Working normally.
    case ok
    /// Serving, with reduced function (e.g. Redis down: calls are served from
    /// PostgreSQL and live events are delayed).
    case degraded
    /// Not working.
    case down
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .ok
        case 2: self = .degraded
        case 3: self = .down
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .ok: 1
        case .degraded: 2
        case .down: 3
        case .unrecognized(let value): value
        }
    }
}

/// Request for GetSystemHealth. Needs the `timers:read` ability.
public struct GetSystemHealthRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.GetSystemHealthRequest"

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

extension GetSystemHealthRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__GetSystemHealthRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__get_system_health_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// The seed's five health figures plus the database.
public struct GetSystemHealthResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.GetSystemHealthResponse"

    /// The service overall: DOWN if PostgreSQL is down, DEGRADED if Redis is.
    public var status: HealthState = .unspecified
    /// Redis reachable and answering (seed: redis_connectivity).
    public var redisConnectivity: HealthState = .unspecified
    /// Running and paused timers across all users (seed: active_timers_count).
    public var activeTimersCount: Int64 = 0
    /// Events and state writes waiting to reach Redis (seed: sync_queue_size).
    public var syncQueueSize: Int64 = 0
    /// The cross-instance event bus (seed: broadcast_channel_health).
    public var broadcastChannelHealth: HealthState = .unspecified
    /// Mean server time per call over the recent window
    /// (seed: average_response_time).
    public var averageResponseTime: ProtoDuration?
    /// PostgreSQL reachable and answering.
    public var databaseConnectivity: HealthState = .unspecified
    /// The server time of the check.
    public var checkedAt: Timestamp?
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

extension GetSystemHealthResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__GetSystemHealthResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__get_system_health_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.status = status.c()
        c.pointee.redis_connectivity = redisConnectivity.c()
        c.pointee.active_timers_count = activeTimersCount
        c.pointee.sync_queue_size = syncQueueSize
        c.pointee.broadcast_channel_health = broadcastChannelHealth.c()
        c.pointee.average_response_time = try arena.message(averageResponseTime)
        c.pointee.database_connectivity = databaseConnectivity.c()
        c.pointee.checked_at = try arena.message(checkedAt)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        status = .init(c: c.pointee.status)
        redisConnectivity = .init(c: c.pointee.redis_connectivity)
        activeTimersCount = c.pointee.active_timers_count
        syncQueueSize = c.pointee.sync_queue_size
        broadcastChannelHealth = .init(c: c.pointee.broadcast_channel_health)
        averageResponseTime = try CRead.message(c.pointee.average_response_time)
        databaseConnectivity = .init(c: c.pointee.database_connectivity)
        checkedAt = try CRead.message(c.pointee.checked_at)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

