import TimerProtoC

/// Request for CreateTimer.
public struct CreateTimerRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.CreateTimerRequest"

    /// The account the work is billed to; the caller must be a member.
    public var accountID: Int64 = 0
    /// What is being worked on: 1 to 1,000 characters.
    public var description = ""
    /// A project of the same account, if any.
    public var projectID: Int64?
    /// A billing rate of the same account, if any.
    public var billingRateID: Int64?
    /// Idempotency key (a UUID). A request with a client_ref the caller has used
    /// before returns the timer created then and creates nothing.
    public var clientRef = ""
    /// The device making the call, as it names itself (at most 200 characters).
    public var deviceID = ""
    /// Whether the timer starts running now. Absent means true.
    public var start: Bool?
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

extension CreateTimerRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__CreateTimerRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__create_timer_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.account_id = accountID
        if !description.isEmpty { c.pointee.description = try arena.cString(description, path: "servicevault.timer.v1.CreateTimerRequest.description") }
        if let projectID {
            c.pointee._project_id_case = SERVICEVAULT__TIMER__V1__CREATE_TIMER_REQUEST___PROJECT_ID_PROJECT_ID
            c.pointee.project_id = projectID
        }
        if let billingRateID {
            c.pointee._billing_rate_id_case = SERVICEVAULT__TIMER__V1__CREATE_TIMER_REQUEST___BILLING_RATE_ID_BILLING_RATE_ID
            c.pointee.billing_rate_id = billingRateID
        }
        if !clientRef.isEmpty { c.pointee.client_ref = try arena.cString(clientRef, path: "servicevault.timer.v1.CreateTimerRequest.client_ref") }
        if !deviceID.isEmpty { c.pointee.device_id = try arena.cString(deviceID, path: "servicevault.timer.v1.CreateTimerRequest.device_id") }
        if let start {
            c.pointee._start_case = SERVICEVAULT__TIMER__V1__CREATE_TIMER_REQUEST___START_START
            c.pointee.start = start ? 1 : 0
        }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        accountID = c.pointee.account_id
        description = try CRead.string(c.pointee.description, "servicevault.timer.v1.CreateTimerRequest.description")
        projectID = c.pointee._project_id_case == SERVICEVAULT__TIMER__V1__CREATE_TIMER_REQUEST___PROJECT_ID_PROJECT_ID ? c.pointee.project_id : nil
        billingRateID = c.pointee._billing_rate_id_case == SERVICEVAULT__TIMER__V1__CREATE_TIMER_REQUEST___BILLING_RATE_ID_BILLING_RATE_ID ? c.pointee.billing_rate_id : nil
        clientRef = try CRead.string(c.pointee.client_ref, "servicevault.timer.v1.CreateTimerRequest.client_ref")
        deviceID = try CRead.string(c.pointee.device_id, "servicevault.timer.v1.CreateTimerRequest.device_id")
        start = c.pointee._start_case == SERVICEVAULT__TIMER__V1__CREATE_TIMER_REQUEST___START_START ? c.pointee.start != 0 : nil
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of CreateTimer.
public struct CreateTimerResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.CreateTimerResponse"

    /// The new timer (or the one created earlier with the same client_ref).
    public var timer: VaultTimer?
    /// The caller's figures after the call.
    public var meta: Meta?
    /// True when the timer was created by this call, false when an earlier call
    /// with the same client_ref had created it.
    public var created = false
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

extension CreateTimerResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__CreateTimerResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__create_timer_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.timer = try arena.message(timer)
        c.pointee.meta = try arena.message(meta)
        c.pointee.created = created ? 1 : 0
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        timer = try CRead.message(c.pointee.timer)
        meta = try CRead.message(c.pointee.meta)
        created = c.pointee.created != 0
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
