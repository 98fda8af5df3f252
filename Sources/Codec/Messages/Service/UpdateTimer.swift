import TimerProtoC

/// Request for UpdateTimer. Absent fields are left as they are.
public struct UpdateTimerRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.UpdateTimerRequest"

    /// The timer.
    public var id: Int64 = 0
    /// New description: 1 to 1,000 characters.
    public var description: String?
    /// New project of the timer's account; 0 removes the project.
    public var projectID: Int64?
    /// New billing rate of the timer's account; 0 removes the rate.
    public var billingRateID: Int64?
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

extension UpdateTimerRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__UpdateTimerRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__update_timer_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.id = id
        if let description {
            c.pointee._description_case = SERVICEVAULT__TIMER__V1__UPDATE_TIMER_REQUEST___DESCRIPTION_DESCRIPTION
            c.pointee.description = try arena.cString(description, path: "servicevault.timer.v1.UpdateTimerRequest.description")
        }
        if let projectID {
            c.pointee._project_id_case = SERVICEVAULT__TIMER__V1__UPDATE_TIMER_REQUEST___PROJECT_ID_PROJECT_ID
            c.pointee.project_id = projectID
        }
        if let billingRateID {
            c.pointee._billing_rate_id_case = SERVICEVAULT__TIMER__V1__UPDATE_TIMER_REQUEST___BILLING_RATE_ID_BILLING_RATE_ID
            c.pointee.billing_rate_id = billingRateID
        }
        if let expectedSyncVersion {
            c.pointee._expected_sync_version_case = SERVICEVAULT__TIMER__V1__UPDATE_TIMER_REQUEST___EXPECTED_SYNC_VERSION_EXPECTED_SYNC_VERSION
            c.pointee.expected_sync_version = expectedSyncVersion
        }
        if !deviceID.isEmpty { c.pointee.device_id = try arena.cString(deviceID, path: "servicevault.timer.v1.UpdateTimerRequest.device_id") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee.id
        description = c.pointee._description_case == SERVICEVAULT__TIMER__V1__UPDATE_TIMER_REQUEST___DESCRIPTION_DESCRIPTION
            ? try CRead.string(c.pointee.description, "servicevault.timer.v1.UpdateTimerRequest.description") : nil
        projectID = c.pointee._project_id_case == SERVICEVAULT__TIMER__V1__UPDATE_TIMER_REQUEST___PROJECT_ID_PROJECT_ID ? c.pointee.project_id : nil
        billingRateID = c.pointee._billing_rate_id_case == SERVICEVAULT__TIMER__V1__UPDATE_TIMER_REQUEST___BILLING_RATE_ID_BILLING_RATE_ID ? c.pointee.billing_rate_id : nil
        expectedSyncVersion = c.pointee._expected_sync_version_case == SERVICEVAULT__TIMER__V1__UPDATE_TIMER_REQUEST___EXPECTED_SYNC_VERSION_EXPECTED_SYNC_VERSION ? c.pointee.expected_sync_version : nil
        deviceID = try CRead.string(c.pointee.device_id, "servicevault.timer.v1.UpdateTimerRequest.device_id")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of UpdateTimer.
public struct UpdateTimerResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.UpdateTimerResponse"

    /// The timer after the call.
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

extension UpdateTimerResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__UpdateTimerResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__update_timer_response__init($0) }

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
