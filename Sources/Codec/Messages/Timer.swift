import TimerProtoC

/// The lifecycle state of a timer.
///
/// Transitions: RUNNING -> PAUSED -> RUNNING ... -> STOPPED. A stopped timer
/// never runs again. A transition that is not allowed from the current state
/// fails with FAILED_PRECONDITION and changes nothing.
public enum TimerStatus: ProtoEnum {
    /// Not set. Never returned by the server; in filters it matches nothing.
    case unspecified
    /// Finished: no open session, its total is final.
    case stopped
    /// Counting: exactly one open session.
    case running
    /// Interrupted: no open session, can be resumed.
    case paused
    /// A value this version does not know, kept as its number.
    case unrecognized(Int32)

    /// The case for a wire number; unknown numbers become `unrecognized`.
    public init(rawValue: Int32) {
        switch rawValue {
        case 0: self = .unspecified
        case 1: self = .stopped
        case 2: self = .running
        case 3: self = .paused
        default: self = .unrecognized(rawValue)
        }
    }

    /// The wire number.
    public var rawValue: Int32 {
        switch self {
        case .unspecified: 0
        case .stopped: 1
        case .running: 2
        case .paused: 3
        case .unrecognized(let value): value
        }
    }
}

/// An amount of money, exact.
///
/// `amount_minor` counts the currency's minor unit: with currency_code "USD"
/// and minor_unit_digits 2, amount_minor 18750 is 187.50 USD. Amounts derived
/// from durations (duration x hourly rate) are rounded to the nearest minor
/// unit, halves away from zero.
public struct Money: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.Money"

    /// ISO 4217 alphabetic code, e.g. "USD", "EUR", "JPY".
    public var currencyCode = ""
    /// The amount in minor units of the currency (cents for USD). May be negative
    /// only for corrections; values derived from timers are never negative.
    public var amountMinor: Int64 = 0
    /// How many decimal digits the minor unit has (2 for USD, 0 for JPY, 3 for
    /// KWD), so a client can print the amount without a currency table.
    public var minorUnitDigits: UInt32 = 0
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

extension Money: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__Money

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__money__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !currencyCode.isEmpty { c.pointee.currency_code = try arena.cString(currencyCode, path: "servicevault.timer.v1.Money.currency_code") }
        c.pointee.amount_minor = amountMinor
        c.pointee.minor_unit_digits = minorUnitDigits
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        currencyCode = try CRead.string(c.pointee.currency_code, "servicevault.timer.v1.Money.currency_code")
        amountMinor = c.pointee.amount_minor
        minorUnitDigits = c.pointee.minor_unit_digits
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// One tracked task: a timer that accumulates time over one or more sessions.
public struct VaultTimer: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.Timer"

    /// Server-assigned identifier, unique across all users.
    public var id: Int64 = 0
    /// The user who owns the timer.
    public var userID: Int64 = 0
    /// The account (client, customer) the work is billed to.
    public var accountID: Int64 = 0
    /// The project within the account, if any.
    public var projectID: Int64?
    /// The billing rate that values this timer's time, if any. Without one the
    /// timer has no money value.
    public var billingRateID: Int64?
    /// What is being worked on. At most 1,000 characters (Unicode scalars).
    public var description = ""
    /// Current lifecycle state.
    public var status: TimerStatus = .unspecified
    /// When the timer first started running. Absent for a timer created with
    /// start=false that has never run.
    public var startedAt: Timestamp?
    /// When the timer was last paused; present only while it is PAUSED.
    public var pausedAt: Timestamp?
    /// When the timer was stopped; present only once it is STOPPED.
    public var stoppedAt: Timestamp?
    /// Seconds in all closed sessions.
    public var totalDuration: Int64 = 0
    /// Seconds in the open session at `last_updated`'s response time (0 unless
    /// RUNNING). total_duration + current_session_duration is the timer's total.
    public var currentSessionDuration: Int64 = 0
    /// When the timer last changed (server clock).
    public var lastUpdated: Timestamp?
    /// The device that made the last change, as that device named itself.
    public var deviceID = ""
    /// Version of this timer: starts at 1 and grows by one with every change.
    /// Send it back as `expected_sync_version` for optimistic concurrency.
    public var syncVersion: Int64 = 0
    /// When the current session started; present only while RUNNING.
    public var currentSessionStartedAt: Timestamp?
    /// Money value of the whole duration (closed sessions plus the open one) at
    /// the billing rate. Absent when the timer has no billing rate.
    public var currentValue: Money?
    /// The hourly rate used for current_value. Absent without a billing rate.
    public var hourlyRate: Money?
    /// The idempotency key the timer was created with, if any (a UUID).
    public var clientRef = ""
    /// When the timer was created.
    public var createdAt: Timestamp?
    /// When the timer was deleted (soft delete). Deleted timers appear only in
    /// DELETED events and in responses to DeleteTimer.
    public var deletedAt: Timestamp?
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

extension VaultTimer: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__Timer

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__timer__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.id = id
        c.pointee.user_id = userID
        c.pointee.account_id = accountID
        if let projectID {
            c.pointee._project_id_case = SERVICEVAULT__TIMER__V1__TIMER___PROJECT_ID_PROJECT_ID
            c.pointee.project_id = projectID
        }
        if let billingRateID {
            c.pointee._billing_rate_id_case = SERVICEVAULT__TIMER__V1__TIMER___BILLING_RATE_ID_BILLING_RATE_ID
            c.pointee.billing_rate_id = billingRateID
        }
        if !description.isEmpty { c.pointee.description = try arena.cString(description, path: "servicevault.timer.v1.Timer.description") }
        c.pointee.status = status.c()
        c.pointee.started_at = try arena.message(startedAt)
        c.pointee.paused_at = try arena.message(pausedAt)
        c.pointee.stopped_at = try arena.message(stoppedAt)
        c.pointee.total_duration = totalDuration
        c.pointee.current_session_duration = currentSessionDuration
        c.pointee.last_updated = try arena.message(lastUpdated)
        if !deviceID.isEmpty { c.pointee.device_id = try arena.cString(deviceID, path: "servicevault.timer.v1.Timer.device_id") }
        c.pointee.sync_version = syncVersion
        c.pointee.current_session_started_at = try arena.message(currentSessionStartedAt)
        c.pointee.current_value = try arena.message(currentValue)
        c.pointee.hourly_rate = try arena.message(hourlyRate)
        if !clientRef.isEmpty { c.pointee.client_ref = try arena.cString(clientRef, path: "servicevault.timer.v1.Timer.client_ref") }
        c.pointee.created_at = try arena.message(createdAt)
        c.pointee.deleted_at = try arena.message(deletedAt)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee.id
        userID = c.pointee.user_id
        accountID = c.pointee.account_id
        projectID = c.pointee._project_id_case == SERVICEVAULT__TIMER__V1__TIMER___PROJECT_ID_PROJECT_ID ? c.pointee.project_id : nil
        billingRateID = c.pointee._billing_rate_id_case == SERVICEVAULT__TIMER__V1__TIMER___BILLING_RATE_ID_BILLING_RATE_ID ? c.pointee.billing_rate_id : nil
        description = try CRead.string(c.pointee.description, "servicevault.timer.v1.Timer.description")
        status = .init(c: c.pointee.status)
        startedAt = try CRead.message(c.pointee.started_at)
        pausedAt = try CRead.message(c.pointee.paused_at)
        stoppedAt = try CRead.message(c.pointee.stopped_at)
        totalDuration = c.pointee.total_duration
        currentSessionDuration = c.pointee.current_session_duration
        lastUpdated = try CRead.message(c.pointee.last_updated)
        deviceID = try CRead.string(c.pointee.device_id, "servicevault.timer.v1.Timer.device_id")
        syncVersion = c.pointee.sync_version
        currentSessionStartedAt = try CRead.message(c.pointee.current_session_started_at)
        currentValue = try CRead.message(c.pointee.current_value)
        hourlyRate = try CRead.message(c.pointee.hourly_rate)
        clientRef = try CRead.string(c.pointee.client_ref, "servicevault.timer.v1.Timer.client_ref")
        createdAt = try CRead.message(c.pointee.created_at)
        deletedAt = try CRead.message(c.pointee.deleted_at)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// Figures over a user's active (running and paused) timers, returned with
/// every response that returns timers.
public struct Meta: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.Meta"

    /// Timers that are running or paused.
    public var activeCount: Int64 = 0
    /// Timers that are running.
    public var runningCount: Int64 = 0
    /// Timers that are paused.
    public var pausedCount: Int64 = 0
    /// Seconds tracked by all active timers, open sessions included.
    public var totalActiveDuration: Int64 = 0
    /// Money value of all active timers, one entry per currency, ordered by
    /// currency_code. Empty when no active timer has a billing rate.
    public var totalActiveValue: [Money] = []
    /// The server time these figures were computed at. Durations in this
    /// response are exact at this instant; clients tick them forward from it.
    public var syncTimestamp: Timestamp?
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

extension Meta: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__Meta

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__meta__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.active_count = activeCount
        c.pointee.running_count = runningCount
        c.pointee.paused_count = pausedCount
        c.pointee.total_active_duration = totalActiveDuration
        (c.pointee.n_total_active_value, c.pointee.total_active_value) = try arena.messages(totalActiveValue)
        c.pointee.sync_timestamp = try arena.message(syncTimestamp)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        activeCount = c.pointee.active_count
        runningCount = c.pointee.running_count
        pausedCount = c.pointee.paused_count
        totalActiveDuration = c.pointee.total_active_duration
        totalActiveValue = try CRead.messages(c.pointee.n_total_active_value, c.pointee.total_active_value)
        syncTimestamp = try CRead.message(c.pointee.sync_timestamp)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// One RUNNING span of a timer.
public struct TimerSession: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.TimerSession"

    /// Server-assigned identifier.
    public var id: Int64 = 0
    /// The timer this session belongs to.
    public var timerID: Int64 = 0
    /// When the span began.
    public var startedAt: Timestamp?
    /// When the span ended; absent while the session is open.
    public var endedAt: Timestamp?
    /// Seconds in the span; for an open session, up to the response time.
    public var duration: Int64 = 0
    /// The device that opened the session.
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

extension TimerSession: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__TimerSession

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__timer_session__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.id = id
        c.pointee.timer_id = timerID
        c.pointee.started_at = try arena.message(startedAt)
        c.pointee.ended_at = try arena.message(endedAt)
        c.pointee.duration = duration
        if !deviceID.isEmpty { c.pointee.device_id = try arena.cString(deviceID, path: "servicevault.timer.v1.TimerSession.device_id") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        id = c.pointee.id
        timerID = c.pointee.timer_id
        startedAt = try CRead.message(c.pointee.started_at)
        endedAt = try CRead.message(c.pointee.ended_at)
        duration = c.pointee.duration
        deviceID = try CRead.string(c.pointee.device_id, "servicevault.timer.v1.TimerSession.device_id")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// The outcome for one item of a request that acts on several (BulkTimers,
/// SyncTimers), in the vocabulary of gRPC status codes.
public struct ItemStatus: ProtoMessage {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "servicevault.timer.v1.ItemStatus"

    /// A google.rpc.Code value: 0 (OK) on success, otherwise the code the same
    /// action would have failed with on its own (e.g. 9 FAILED_PRECONDITION for
    /// pausing a stopped timer, 5 NOT_FOUND for an unknown id).
    public var code: Int32 = 0
    /// What went wrong, for people; empty on success.
    public var message = ""
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

extension ItemStatus: CMessage {
    package typealias CStruct = Servicevault__Timer__V1__ItemStatus

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { servicevault__timer__v1__item_status__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.code = code
        if !message.isEmpty { c.pointee.message = try arena.cString(message, path: "servicevault.timer.v1.ItemStatus.message") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        code = c.pointee.code
        message = try CRead.string(c.pointee.message, "servicevault.timer.v1.ItemStatus.message")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

