import Foundation
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
package struct LiveTimerState: Sendable, Hashable, Codable {
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

    enum CodingKeys: String, CodingKey {
        case id
        case userID = "user_id"
        case status
        case startedAt = "started_at"
        case pausedAt = "paused_at"
        case stoppedAt = "stopped_at"
        case totalDuration = "total_duration"
        case currentSessionStart = "current_session_start"
        case currentSessionDuration = "current_session_duration"
        case lastUpdated = "last_updated"
        case deviceID = "device_id"
        case syncVersion = "sync_version"
        case deletedAt = "deleted_at"
        case accountID = "account_id"
        case projectID = "project_id"
        case billingRateID = "billing_rate_id"
        case description
        case clientRef = "client_ref"
        case createdAt = "created_at"
        case rateMinorUnitsPerHour = "rate_minor_units_per_hour"
        case currency
    }

    /// Writes every field, absent ones as `null`, as the seed's object does.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(userID, forKey: .userID)
        try container.encode(status, forKey: .status)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(pausedAt, forKey: .pausedAt)
        try container.encode(stoppedAt, forKey: .stoppedAt)
        try container.encode(totalDuration, forKey: .totalDuration)
        try container.encode(currentSessionStart, forKey: .currentSessionStart)
        try container.encode(currentSessionDuration, forKey: .currentSessionDuration)
        try container.encode(lastUpdated, forKey: .lastUpdated)
        try container.encode(deviceID, forKey: .deviceID)
        try container.encode(syncVersion, forKey: .syncVersion)
        try container.encode(deletedAt, forKey: .deletedAt)
        try container.encode(accountID, forKey: .accountID)
        try container.encode(projectID, forKey: .projectID)
        try container.encode(billingRateID, forKey: .billingRateID)
        try container.encode(description, forKey: .description)
        try container.encode(clientRef, forKey: .clientRef)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(rateMinorUnitsPerHour, forKey: .rateMinorUnitsPerHour)
        try container.encode(currency, forKey: .currency)
    }

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

    /// The JSON form.
    package func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain integers and strings cannot fail.
        // swiftlint:disable:next force_try
        return Array(try! encoder.encode(self))
    }

    /// Reads the JSON form.
    ///
    /// - Throws: `malformedValue` when `bytes` is not such JSON.
    package init(decoding bytes: [UInt8]) throws(LiveStateError) {
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(bytes))
        } catch {
            throw LiveStateError(code: .malformedValue, message: "a stored timer state is not valid: \(error)")
        }
    }
}
