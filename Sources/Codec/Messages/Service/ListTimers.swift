import TimerProtoC

/// Request for ListTimers. Filters combine with AND.
public struct ListTimersRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.ListTimersRequest"

    /// Timers per page: 1 to 500; 0 means 50.
    public var pageSize: Int32 = 0
    /// The next_page_token of the previous page; empty for the first page. A
    /// token is only valid with the same filters.
    public var pageToken = ""
    /// Only timers in one of these states; empty means any state.
    public var statuses: [TimerStatus] = []
    /// Only timers of this account.
    public var accountID: Int64?
    /// Only timers of this project.
    public var projectID: Int64?
    /// Only timers created at or after this time.
    public var createdAfter: Timestamp?
    /// Only timers created before this time.
    public var createdBefore: Timestamp?
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

extension ListTimersRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__ListTimersRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__list_timers_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.page_size = pageSize
        if !pageToken.isEmpty { c.pointee.page_token = try arena.cString(pageToken, path: "servicevault.timer.v1.ListTimersRequest.page_token") }
        (c.pointee.n_statuses, c.pointee.statuses) = arena.enums(statuses, as: Servicevault__Timer__V1__TimerStatus.self)
        if let accountID {
            c.pointee._account_id_case = SERVICEVAULT__TIMER__V1__LIST_TIMERS_REQUEST___ACCOUNT_ID_ACCOUNT_ID
            c.pointee.account_id = accountID
        }
        if let projectID {
            c.pointee._project_id_case = SERVICEVAULT__TIMER__V1__LIST_TIMERS_REQUEST___PROJECT_ID_PROJECT_ID
            c.pointee.project_id = projectID
        }
        c.pointee.created_after = try arena.message(createdAfter)
        c.pointee.created_before = try arena.message(createdBefore)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        pageSize = c.pointee.page_size
        pageToken = try CRead.string(c.pointee.page_token, "servicevault.timer.v1.ListTimersRequest.page_token")
        statuses = CRead.enums(c.pointee.n_statuses, c.pointee.statuses)
        accountID = c.pointee._account_id_case == SERVICEVAULT__TIMER__V1__LIST_TIMERS_REQUEST___ACCOUNT_ID_ACCOUNT_ID ? c.pointee.account_id : nil
        projectID = c.pointee._project_id_case == SERVICEVAULT__TIMER__V1__LIST_TIMERS_REQUEST___PROJECT_ID_PROJECT_ID ? c.pointee.project_id : nil
        createdAfter = try CRead.message(c.pointee.created_after)
        createdBefore = try CRead.message(c.pointee.created_before)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of ListTimers.
public struct ListTimersResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.ListTimersResponse"

    /// One page of timers, newest first.
    public var timers: [VaultTimer] = []
    /// The caller's figures (over all active timers, not only this page).
    public var meta: Meta?
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

extension ListTimersResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__ListTimersResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__list_timers_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        (c.pointee.n_timers, c.pointee.timers) = try arena.messages(timers)
        c.pointee.meta = try arena.message(meta)
        if !nextPageToken.isEmpty { c.pointee.next_page_token = try arena.cString(nextPageToken, path: "servicevault.timer.v1.ListTimersResponse.next_page_token") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        timers = try CRead.messages(c.pointee.n_timers, c.pointee.timers)
        meta = try CRead.message(c.pointee.meta)
        nextPageToken = try CRead.string(c.pointee.next_page_token, "servicevault.timer.v1.ListTimersResponse.next_page_token")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
