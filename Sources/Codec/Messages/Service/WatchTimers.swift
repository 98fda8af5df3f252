import TimerProtoC

/// Request for WatchTimers.
public struct WatchTimersRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.WatchTimersRequest"

    /// The event_id of the last event received on an earlier stream. The stream
    /// then replays every later event, or starts with a fresh SNAPSHOT when those
    /// events are no longer kept. Empty: start with a SNAPSHOT.
    public var lastEventID = ""
    /// Seconds between HEARTBEATs: 1 to 300; 0 means the server's default (15).
    public var heartbeatIntervalSeconds: Int32 = 0
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

extension WatchTimersRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__WatchTimersRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__watch_timers_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !lastEventID.isEmpty { c.pointee.last_event_id = try arena.cString(lastEventID, path: "servicevault.timer.v1.WatchTimersRequest.last_event_id") }
        c.pointee.heartbeat_interval_seconds = heartbeatIntervalSeconds
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        lastEventID = try CRead.string(c.pointee.last_event_id, "servicevault.timer.v1.WatchTimersRequest.last_event_id")
        heartbeatIntervalSeconds = c.pointee.heartbeat_interval_seconds
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
