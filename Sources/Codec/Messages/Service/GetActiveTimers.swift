import TimerProtoC

/// Request for GetActiveTimers.
public struct GetActiveTimersRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.GetActiveTimersRequest"

    /// Only active timers of this account.
    public var accountID: Int64?
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

extension GetActiveTimersRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__GetActiveTimersRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__get_active_timers_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if let accountID {
            c.pointee._account_id_case = SERVICEVAULT__TIMER__V1__GET_ACTIVE_TIMERS_REQUEST___ACCOUNT_ID_ACCOUNT_ID
            c.pointee.account_id = accountID
        }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        accountID = c.pointee._account_id_case == SERVICEVAULT__TIMER__V1__GET_ACTIVE_TIMERS_REQUEST___ACCOUNT_ID_ACCOUNT_ID ? c.pointee.account_id : nil
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of GetActiveTimers.
public struct GetActiveTimersResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.GetActiveTimersResponse"

    /// Running and paused timers, most recently started first.
    public var timers: [VaultTimer] = []
    /// The caller's figures.
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

extension GetActiveTimersResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__GetActiveTimersResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__get_active_timers_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        (c.pointee.n_timers, c.pointee.timers) = try arena.messages(timers)
        c.pointee.meta = try arena.message(meta)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        timers = try CRead.messages(c.pointee.n_timers, c.pointee.timers)
        meta = try CRead.message(c.pointee.meta)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
