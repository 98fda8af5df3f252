import TimerProtoC

/// Request for AdminPauseTimer.
public struct AdminPauseTimerRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.AdminPauseTimerRequest"

    /// The timer, of any user in an account the caller administers.
    public var id: Int64 = 0
    /// Why, for the audit trail (at most 1,000 characters).
    public var reason = ""
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

extension AdminPauseTimerRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__AdminPauseTimerRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__admin_pause_timer_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.id = id
        if !reason.isEmpty { c.pointee.reason = try arena.cString(reason, path: "servicevault.timer.v1.AdminPauseTimerRequest.reason") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee.id
        reason = try CRead.string(c.pointee.reason, "servicevault.timer.v1.AdminPauseTimerRequest.reason")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of AdminPauseTimer.
public struct AdminPauseTimerResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.AdminPauseTimerResponse"

    /// The timer after the call.
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

extension AdminPauseTimerResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__AdminPauseTimerResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__admin_pause_timer_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.timer = try arena.message(timer)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        timer = try CRead.message(c.pointee.timer)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
