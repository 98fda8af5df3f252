import TimerProtoC

/// Request for AdminStopTimer.
public struct AdminStopTimerRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.AdminStopTimerRequest"

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

extension AdminStopTimerRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__AdminStopTimerRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__admin_stop_timer_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.id = id
        if !reason.isEmpty { c.pointee.reason = try arena.cString(reason, path: "servicevault.timer.v1.AdminStopTimerRequest.reason") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee.id
        reason = try CRead.string(c.pointee.reason, "servicevault.timer.v1.AdminStopTimerRequest.reason")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of AdminStopTimer.
public struct AdminStopTimerResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.AdminStopTimerResponse"

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

extension AdminStopTimerResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__AdminStopTimerResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__admin_stop_timer_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.timer = try arena.message(timer)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        timer = try CRead.message(c.pointee.timer)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
