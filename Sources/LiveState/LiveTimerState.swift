import TimerDomain

/// The live state of one timer as kept in Redis under
/// `user:{user_id}:timer:{timer_id}:state`: the seed's state object (`id`,
/// `user_id`, `status`, `started_at`, `paused_at`, `total_duration`,
/// `current_session_start`, `current_session_duration`, `last_updated`,
/// `device_id`, `sync_version`) plus what a full API `Timer` needs besides
/// (account, project, rate, description, …), so `GetActiveTimers` can be
/// answered from Redis alone.
///
/// Stored as JSON with the seed's field names (instants as microseconds
/// since the Unix epoch), sealed by `StateKeyring`. `current_session_duration`
/// is as of `last_updated`; readers compute the live one from
/// `current_session_start`.
package struct LiveTimerState: Sendable, Hashable {
    package var id: Int64
    package var userID: Int64
    /// `running`, `paused` or `stopped` (`TimerState.Status` raw values).
    package var status: String
    package var startedAt: Int64?
    package var pausedAt: Int64?
    package var stoppedAt: Int64?
    /// Seconds in closed sessions.
    package var totalDuration: Int64
    package var currentSessionStart: Int64?
    package var currentSessionDuration: Int64
    package var lastUpdated: Int64
    package var deviceID: String
    package var syncVersion: Int64
    package var deletedAt: Int64?

    package var accountID: Int64
    package var projectID: Int64?
    package var billingRateID: Int64?
    package var description: String
    package var clientRef: String?
    package var createdAt: Int64
    /// The billing rate in minor units per hour, with its currency code.
    package var rateMinorUnitsPerHour: Int64?
    package var currency: String?
}

extension LiveTimerState {
    /// The live state of a timer with these fields and `state`.
    package init(
        id: Int64, userID: Int64, accountID: Int64, projectID: Int64?, billingRateID: Int64?,
        description: String, clientRef: String?, createdAt: Instant, state: TimerState, rate: HourlyRate?
    ) {
        self.id = id
        self.userID = userID
        self.status = state.status.rawValue
        self.startedAt = state.startedAt?.microsecondsSinceEpoch
        self.pausedAt = state.pausedAt?.microsecondsSinceEpoch
        self.stoppedAt = state.stoppedAt?.microsecondsSinceEpoch
        self.totalDuration = state.closedSeconds
        self.currentSessionStart = state.currentSessionStartedAt?.microsecondsSinceEpoch
        self.currentSessionDuration = state.currentSessionSeconds(at: state.lastUpdated)
        self.lastUpdated = state.lastUpdated.microsecondsSinceEpoch
        self.deviceID = state.deviceID
        self.syncVersion = state.syncVersion
        self.deletedAt = state.deletedAt?.microsecondsSinceEpoch
        self.accountID = accountID
        self.projectID = projectID
        self.billingRateID = billingRateID
        self.description = description
        self.clientRef = clientRef
        self.createdAt = createdAt.microsecondsSinceEpoch
        self.rateMinorUnitsPerHour = rate?.perHour.minorUnits
        self.currency = rate?.currency.code
    }

    /// Whether the timer is running or paused (and so in the user's active set).
    package var isActive: Bool {
        deletedAt == nil && status != TimerState.Status.stopped.rawValue
    }

    /// The domain state, checked against its invariants.
    ///
    /// - Throws: `malformedValue` when the stored fields do not make a valid
    ///   state or rate.
    package func timerState() throws(LiveStateError) -> TimerState {
        guard let status = TimerState.Status(rawValue: status) else {
            throw LiveStateError(code: .malformedValue, message: "timer \(id) has status \"\(status)\"")
        }
        do {
            return try TimerState(
                status: status, startedAt: startedAt.map(Instant.init(microsecondsSinceEpoch:)),
                pausedAt: pausedAt.map(Instant.init(microsecondsSinceEpoch:)),
                stoppedAt: stoppedAt.map(Instant.init(microsecondsSinceEpoch:)),
                currentSessionStartedAt: currentSessionStart.map(Instant.init(microsecondsSinceEpoch:)),
                closedSeconds: totalDuration, lastUpdated: Instant(microsecondsSinceEpoch: lastUpdated),
                syncVersion: syncVersion, deviceID: deviceID,
                deletedAt: deletedAt.map(Instant.init(microsecondsSinceEpoch:)))
        } catch {
            throw LiveStateError(code: .malformedValue, message: "timer \(id): \(error.message)")
        }
    }

    /// The billing rate, if the timer has one.
    ///
    /// - Throws: `malformedValue` for an unknown currency or a rate out of range.
    package func hourlyRate() throws(LiveStateError) -> HourlyRate? {
        guard let minor = rateMinorUnitsPerHour, let code = currency else { return nil }
        do {
            return try HourlyRate(perHour: MoneyAmount(minorUnits: minor, currency: Currency(code: code)))
        } catch {
            throw LiveStateError(code: .malformedValue, message: "timer \(id): \(error.message)")
        }
    }

    /// The JSON form: every member, absent ones as `null`, names sorted.
    package func encoded() -> [UInt8] {
        var writer = FlatJSON.Writer()
        writer.member("account_id", accountID)
        writer.member("billing_rate_id", billingRateID)
        writer.member("client_ref", clientRef)
        writer.member("created_at", createdAt)
        writer.member("currency", currency)
        writer.member("current_session_duration", currentSessionDuration)
        writer.member("current_session_start", currentSessionStart)
        writer.member("deleted_at", deletedAt)
        writer.member("description", description)
        writer.member("device_id", deviceID)
        writer.member("id", id)
        writer.member("last_updated", lastUpdated)
        writer.member("paused_at", pausedAt)
        writer.member("project_id", projectID)
        writer.member("rate_minor_units_per_hour", rateMinorUnitsPerHour)
        writer.member("started_at", startedAt)
        writer.member("status", status)
        writer.member("stopped_at", stoppedAt)
        writer.member("sync_version", syncVersion)
        writer.member("total_duration", totalDuration)
        writer.member("user_id", userID)
        return writer.finish()
    }

    /// Reads the JSON form (members in any order; unknown ones are ignored).
    ///
    /// - Throws: `malformedValue` when `bytes` is not such JSON, or a member
    ///   is missing or of the wrong type.
    package init(decoding bytes: [UInt8]) throws(LiveStateError) {
        let members: [(name: String, value: FlatJSON.Value)]
        do {
            members = try FlatJSON.members(of: bytes)
        } catch {
            throw LiveStateError(code: .malformedValue, message: "a stored timer state is not valid JSON: \(error)")
        }
        var fields = Fields()
        for (name, value) in members {
            try fields.set(name, value)
        }
        self = try fields.state()
    }
}

/// The members of a stored state as they are read.
private struct Fields {
    var id, userID, totalDuration, currentSessionDuration, lastUpdated, syncVersion, accountID, createdAt: Int64?
    var startedAt, pausedAt, stoppedAt, currentSessionStart, deletedAt, projectID, billingRateID, rateMinorUnitsPerHour: Int64??
    var status, deviceID, description: String?
    var clientRef, currency: String??

    mutating func set(_ name: String, _ value: FlatJSON.Value) throws(LiveStateError) {
        switch name {
        case "id": id = try Self.integer(value, name)
        case "user_id": userID = try Self.integer(value, name)
        case "total_duration": totalDuration = try Self.integer(value, name)
        case "current_session_duration": currentSessionDuration = try Self.integer(value, name)
        case "last_updated": lastUpdated = try Self.integer(value, name)
        case "sync_version": syncVersion = try Self.integer(value, name)
        case "account_id": accountID = try Self.integer(value, name)
        case "created_at": createdAt = try Self.integer(value, name)
        case "started_at": startedAt = .some(try Self.optionalInteger(value, name))
        case "paused_at": pausedAt = .some(try Self.optionalInteger(value, name))
        case "stopped_at": stoppedAt = .some(try Self.optionalInteger(value, name))
        case "current_session_start": currentSessionStart = .some(try Self.optionalInteger(value, name))
        case "deleted_at": deletedAt = .some(try Self.optionalInteger(value, name))
        case "project_id": projectID = .some(try Self.optionalInteger(value, name))
        case "billing_rate_id": billingRateID = .some(try Self.optionalInteger(value, name))
        case "rate_minor_units_per_hour": rateMinorUnitsPerHour = .some(try Self.optionalInteger(value, name))
        case "status": status = try Self.string(value, name)
        case "device_id": deviceID = try Self.string(value, name)
        case "description": description = try Self.string(value, name)
        case "client_ref": clientRef = .some(try Self.optionalString(value, name))
        case "currency": currency = .some(try Self.optionalString(value, name))
        default: break
        }
    }

    func state() throws(LiveStateError) -> LiveTimerState {
        guard let id, let userID, let totalDuration, let currentSessionDuration, let lastUpdated, let syncVersion,
              let accountID, let createdAt, let status, let deviceID, let description else {
            throw Self.malformed("a stored timer state lacks a required member")
        }
        // Members that may be null must still be present, as the writer
        // always writes them.
        guard let startedAt, let pausedAt, let stoppedAt, let currentSessionStart, let deletedAt, let projectID,
              let billingRateID, let rateMinorUnitsPerHour, let clientRef, let currency else {
            throw Self.malformed("a stored timer state lacks a member")
        }
        return LiveTimerState(
            id: id, userID: userID, status: status, startedAt: startedAt, pausedAt: pausedAt, stoppedAt: stoppedAt,
            totalDuration: totalDuration, currentSessionStart: currentSessionStart,
            currentSessionDuration: currentSessionDuration, lastUpdated: lastUpdated, deviceID: deviceID,
            syncVersion: syncVersion, deletedAt: deletedAt, accountID: accountID, projectID: projectID,
            billingRateID: billingRateID, description: description, clientRef: clientRef, createdAt: createdAt,
            rateMinorUnitsPerHour: rateMinorUnitsPerHour, currency: currency)
    }

    private static func integer(_ value: FlatJSON.Value, _ name: String) throws(LiveStateError) -> Int64 {
        guard case .integer(let integer) = value else { throw malformed("member \(name) of a stored timer state is not an integer") }
        return integer
    }

    private static func optionalInteger(_ value: FlatJSON.Value, _ name: String) throws(LiveStateError) -> Int64? {
        if value == .null { return nil }
        return try integer(value, name)
    }

    private static func string(_ value: FlatJSON.Value, _ name: String) throws(LiveStateError) -> String {
        guard case .string(let string) = value else { throw malformed("member \(name) of a stored timer state is not a string") }
        return string
    }

    private static func optionalString(_ value: FlatJSON.Value, _ name: String) throws(LiveStateError) -> String? {
        if value == .null { return nil }
        return try string(value, name)
    }

    private static func malformed(_ message: String) -> LiveStateError {
        LiveStateError(code: .malformedValue, message: message)
    }
}
