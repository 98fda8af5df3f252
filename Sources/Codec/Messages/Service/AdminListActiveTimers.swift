import TimerProtoC

/// Request for AdminListActiveTimers.
public struct AdminListActiveTimersRequest: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.AdminListActiveTimersRequest"

    /// Only timers of this account (which the caller must administer); absent
    /// means all accounts the caller administers.
    public var accountID: Int64?
    /// Timers per page: 1 to 500; 0 means 50.
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

extension AdminListActiveTimersRequest: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__AdminListActiveTimersRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__admin_list_active_timers_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if let accountID {
            c.pointee._account_id_case = SERVICEVAULT__TIMER__V1__ADMIN_LIST_ACTIVE_TIMERS_REQUEST___ACCOUNT_ID_ACCOUNT_ID
            c.pointee.account_id = accountID
        }
        c.pointee.page_size = pageSize
        if !pageToken.isEmpty { c.pointee.page_token = try arena.cString(pageToken, path: "servicevault.timer.v1.AdminListActiveTimersRequest.page_token") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        accountID = c.pointee._account_id_case == SERVICEVAULT__TIMER__V1__ADMIN_LIST_ACTIVE_TIMERS_REQUEST___ACCOUNT_ID_ACCOUNT_ID ? c.pointee.account_id : nil
        pageSize = c.pointee.page_size
        pageToken = try CRead.string(c.pointee.page_token, "servicevault.timer.v1.AdminListActiveTimersRequest.page_token")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Response of AdminListActiveTimers.
public struct AdminListActiveTimersResponse: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.AdminListActiveTimersResponse"

    /// One page of running and paused timers of any user.
    public var timers: [VaultTimer] = []
    /// Figures over all matching active timers (not only this page).
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

extension AdminListActiveTimersResponse: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__AdminListActiveTimersResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__admin_list_active_timers_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        (c.pointee.n_timers, c.pointee.timers) = try arena.messages(timers)
        c.pointee.meta = try arena.message(meta)
        if !nextPageToken.isEmpty { c.pointee.next_page_token = try arena.cString(nextPageToken, path: "servicevault.timer.v1.AdminListActiveTimersResponse.next_page_token") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        timers = try CRead.messages(c.pointee.n_timers, c.pointee.timers)
        meta = try CRead.message(c.pointee.meta)
        nextPageToken = try CRead.string(c.pointee.next_page_token, "servicevault.timer.v1.AdminListActiveTimersResponse.next_page_token")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
