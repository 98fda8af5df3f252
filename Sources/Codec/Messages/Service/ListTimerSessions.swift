import TimerProtoC

/// Request for ListTimerSessions.
public struct ListTimerSessionsRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.ListTimerSessionsRequest"

    /// The timer.
    public var id: Int64 = 0
    /// Sessions per page: 1 to 1,000; 0 means 100.
    public var pageSize: Int32 = 0
    /// The next_page_token of the previous page; empty for the first page.
    public var pageToken = ""
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

extension ListTimerSessionsRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__ListTimerSessionsRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__list_timer_sessions_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.id = id
        c.pointee.page_size = pageSize
        if !pageToken.isEmpty { c.pointee.page_token = try arena.cString(pageToken, path: "servicevault.timer.v1.ListTimerSessionsRequest.page_token") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee.id
        pageSize = c.pointee.page_size
        pageToken = try CRead.string(c.pointee.page_token, "servicevault.timer.v1.ListTimerSessionsRequest.page_token")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of ListTimerSessions.
public struct ListTimerSessionsResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.ListTimerSessionsResponse"

    /// Sessions, oldest first.
    public var sessions: [TimerSession] = []
    /// Token for the next page; empty on the last page.
    public var nextPageToken = ""
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

extension ListTimerSessionsResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__ListTimerSessionsResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__list_timer_sessions_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        (c.pointee.n_sessions, c.pointee.sessions) = try arena.messages(sessions)
        if !nextPageToken.isEmpty { c.pointee.next_page_token = try arena.cString(nextPageToken, path: "servicevault.timer.v1.ListTimerSessionsResponse.next_page_token") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        sessions = try CRead.messages(c.pointee.n_sessions, c.pointee.sessions)
        nextPageToken = try CRead.string(c.pointee.next_page_token, "servicevault.timer.v1.ListTimerSessionsResponse.next_page_token")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
