import TimerProtoC

/// Request for DeleteTimer.
public struct DeleteTimerRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.DeleteTimerRequest"

    /// The timer.
    public var id: Int64 = 0
    /// Optimistic concurrency, as in PauseTimerRequest.
    public var expectedSyncVersion: Int64?
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

extension DeleteTimerRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__DeleteTimerRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__delete_timer_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.id = id
        if let expectedSyncVersion {
            c.pointee._expected_sync_version_case = SERVICEVAULT__TIMER__V1__DELETE_TIMER_REQUEST___EXPECTED_SYNC_VERSION_EXPECTED_SYNC_VERSION
            c.pointee.expected_sync_version = expectedSyncVersion
        }
        if !deviceID.isEmpty { c.pointee.device_id = try arena.cString(deviceID, path: "servicevault.timer.v1.DeleteTimerRequest.device_id") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee.id
        expectedSyncVersion = c.pointee._expected_sync_version_case == SERVICEVAULT__TIMER__V1__DELETE_TIMER_REQUEST___EXPECTED_SYNC_VERSION_EXPECTED_SYNC_VERSION ? c.pointee.expected_sync_version : nil
        deviceID = try CRead.string(c.pointee.device_id, "servicevault.timer.v1.DeleteTimerRequest.device_id")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of DeleteTimer.
public struct DeleteTimerResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.DeleteTimerResponse"

    /// The timer as deleted (deleted_at set).
    public var timer: VaultTimer?
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

extension DeleteTimerResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__DeleteTimerResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__delete_timer_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.timer = try arena.message(timer)
        c.pointee.meta = try arena.message(meta)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        timer = try CRead.message(c.pointee.timer)
        meta = try CRead.message(c.pointee.meta)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
