import TimerProtoC

/// The action of a BulkTimers call.
public enum BulkAction: ProtoEnum {
    /// Not set; invalid.
    case unspecified
    /// Stop each timer.
    case stop
    /// Pause each timer.
    case pause
    /// Resume each timer.
    case resume
    /// Soft-delete each timer.
    case delete
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .stop
        case 2: self = .pause
        case 3: self = .resume
        case 4: self = .delete
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .stop: 1
        case .pause: 2
        case .resume: 3
        case .delete: 4
        case .unrecognized(let value): value
        }
    }
}

/// Request for BulkTimers. Give either `ids` or `all_active`.
public struct BulkTimersRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.BulkTimersRequest"

    /// What to do.
    public var action: BulkAction = .unspecified
    /// The timers to act on: 1 to 500 distinct ids.
    public var ids: [Int64] = []
    /// Act on all of the caller's running and paused timers instead of `ids`.
    public var allActive = false
    /// The device making the call.
    public var deviceID = ""
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

extension BulkTimersRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__BulkTimersRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__bulk_timers_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.action = action.c()
        (c.pointee.n_ids, c.pointee.ids) = arena.scalars(ids)
        c.pointee.all_active = allActive ? 1 : 0
        if !deviceID.isEmpty { c.pointee.device_id = try arena.cString(deviceID, path: "servicevault.timer.v1.BulkTimersRequest.device_id") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        action = .init(c: c.pointee.action)
        ids = CRead.scalars(c.pointee.n_ids, c.pointee.ids)
        allActive = c.pointee.all_active != 0
        deviceID = try CRead.string(c.pointee.device_id, "servicevault.timer.v1.BulkTimersRequest.device_id")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// The outcome for one timer of a BulkTimers call.
public struct BulkResult: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.BulkResult"

    /// The timer.
    public var id: Int64 = 0
    /// OK, or why the action failed for this timer (the others are unaffected).
    public var status: ItemStatus?
    /// The timer after the action; absent when it failed with NOT_FOUND.
    public var timer: VaultTimer?
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

extension BulkResult: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__BulkResult

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__bulk_result__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.id = id
        c.pointee.status = try arena.message(status)
        c.pointee.timer = try arena.message(timer)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee.id
        status = try CRead.message(c.pointee.status)
        timer = try CRead.message(c.pointee.timer)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of BulkTimers.
public struct BulkTimersResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.BulkTimersResponse"

    /// One result per timer, in the order of the request's ids (or of the active
    /// timers when all_active was set).
    public var results: [BulkResult] = []
    /// The caller's figures after the call.
    public var meta: Meta?
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

extension BulkTimersResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__BulkTimersResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__bulk_timers_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        (c.pointee.n_results, c.pointee.results) = try arena.messages(results)
        c.pointee.meta = try arena.message(meta)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        results = try CRead.messages(c.pointee.n_results, c.pointee.results)
        meta = try CRead.message(c.pointee.meta)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
