import TimerProtoC

/// Request for SyncTimers.
public struct SyncTimersRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.SyncTimersRequest"

    /// The syncing device, as it names itself (1 to 200 characters).
    public var deviceID = ""
    /// The device's timers: at most 500.
    public var timers: [DeviceTimer] = []
    /// The device's clock when it sent the request; used to report skew.
    public var deviceTime: Timestamp?
    /// The sync_timestamp of the device's previous successful sync, if any: server
    /// timers changed since then that the device did not mention are returned in
    /// server_timers.
    public var lastSync: Timestamp?
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

extension SyncTimersRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__SyncTimersRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__sync_timers_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !deviceID.isEmpty { c.pointee.device_id = try arena.cString(deviceID, path: "servicevault.timer.v1.SyncTimersRequest.device_id") }
        (c.pointee.n_timers, c.pointee.timers) = try arena.messages(timers)
        c.pointee.device_time = try arena.message(deviceTime)
        c.pointee.last_sync = try arena.message(lastSync)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        deviceID = try CRead.string(c.pointee.device_id, "servicevault.timer.v1.SyncTimersRequest.device_id")
        timers = try CRead.messages(c.pointee.n_timers, c.pointee.timers)
        deviceTime = try CRead.message(c.pointee.device_time)
        lastSync = try CRead.message(c.pointee.last_sync)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of SyncTimers.
public struct SyncTimersResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.SyncTimersResponse"

    /// One result per request timer, in request order.
    public var results: [SyncResult] = []
    /// Disagreements found, each settled as its resolution says.
    public var conflicts: [Conflict] = []
    /// Active timers, and timers changed since last_sync, that the device did not
    /// mention: the device should learn them.
    public var serverTimers: [VaultTimer] = []
    /// The caller's figures after the sync.
    public var meta: Meta?
    /// Seconds the device's clock is ahead of the server's (negative: behind),
    /// from device_time; 0 when device_time was absent.
    public var clockSkewSeconds: Int64 = 0
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

extension SyncTimersResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__SyncTimersResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__sync_timers_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        (c.pointee.n_results, c.pointee.results) = try arena.messages(results)
        (c.pointee.n_conflicts, c.pointee.conflicts) = try arena.messages(conflicts)
        (c.pointee.n_server_timers, c.pointee.server_timers) = try arena.messages(serverTimers)
        c.pointee.meta = try arena.message(meta)
        c.pointee.clock_skew_seconds = clockSkewSeconds
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        results = try CRead.messages(c.pointee.n_results, c.pointee.results)
        conflicts = try CRead.messages(c.pointee.n_conflicts, c.pointee.conflicts)
        serverTimers = try CRead.messages(c.pointee.n_server_timers, c.pointee.server_timers)
        meta = try CRead.message(c.pointee.meta)
        clockSkewSeconds = c.pointee.clock_skew_seconds
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
