import Codec
import RPC
import Storage
import TimerDomain

// The one place where the domain's values become wire messages and back, and
// where domain and storage errors become gRPC statuses.

extension Timestamp {
    /// The wire form of a domain instant.
    init(_ instant: Instant) {
        self.init()
        seconds = instant.timestampSeconds
        nanos = instant.timestampNanos
    }
}

extension Instant {
    /// A domain instant from a wire timestamp.
    ///
    /// - Throws: ``RPCError`` INVALID_ARGUMENT naming `field` when the
    ///   timestamp is outside what protobuf allows (years 1 to 9999, nanos
    ///   0...999,999,999).
    init(_ timestamp: Timestamp, field: String) throws(RPCError) {
        guard timestamp.isValid else {
            throw RPCError(code: .invalidArgument,
                           message: "\(field) is not a valid timestamp (seconds \(timestamp.seconds), nanos \(timestamp.nanos))")
        }
        self.init(seconds: timestamp.seconds, nanos: timestamp.nanos)
    }
}

extension TimerState.Status {
    /// The wire status.
    var wire: TimerStatus {
        switch self {
        case .running: .running
        case .paused: .paused
        case .stopped: .stopped
        }
    }

    /// The domain status of a wire status; nil for UNSPECIFIED and unknown
    /// numbers (which match nothing in filters).
    init?(wire: TimerStatus) {
        switch wire {
        case .running: self = .running
        case .paused: self = .paused
        case .stopped: self = .stopped
        case .unspecified, .unrecognized: return nil
        }
    }
}

extension Money {
    /// The wire form of an exact amount.
    init(_ amount: MoneyAmount) {
        self.init()
        currencyCode = amount.currency.code
        amountMinor = amount.minorUnits
        minorUnitDigits = UInt32(amount.minorUnitDigits)
    }
}

/// What the wire `Timer` needs beyond the domain state: its identity and
/// the fields that live only in storage.
struct TimerIdentity: Sendable, Hashable {
    var id: Int64
    var userID: Int64
    var accountID: Int64
    var projectID: Int64?
    var billingRateID: Int64?
    var description: String
    var clientRef: String
    var createdAt: Instant
}

extension VaultTimer {
    /// The wire timer for `state` at `now`: durations and value as of `now`.
    ///
    /// - Throws: ``RPCError`` OUT_OF_RANGE if its value does not fit (a rate
    ///   and duration beyond the money bounds).
    init(_ identity: TimerIdentity, state: TimerState, rate: HourlyRate?, at now: Instant) throws(RPCError) {
        self.init()
        id = identity.id
        userID = identity.userID
        accountID = identity.accountID
        projectID = identity.projectID
        billingRateID = identity.billingRateID
        description = identity.description
        clientRef = identity.clientRef
        createdAt = Timestamp(identity.createdAt)
        status = state.status.wire
        startedAt = state.startedAt.map(Timestamp.init)
        pausedAt = state.pausedAt.map(Timestamp.init)
        stoppedAt = state.stoppedAt.map(Timestamp.init)
        currentSessionStartedAt = state.currentSessionStartedAt.map(Timestamp.init)
        totalDuration = state.closedSeconds
        currentSessionDuration = state.currentSessionSeconds(at: now)
        lastUpdated = Timestamp(state.lastUpdated)
        deviceID = state.deviceID
        syncVersion = state.syncVersion
        deletedAt = state.deletedAt.map(Timestamp.init)
        if let rate {
            hourlyRate = Money(rate.perHour)
            do {
                currentValue = Money(try rate.value(ofSeconds: state.totalSeconds(at: now)))
            } catch {
                throw RPCError(domain: error)
            }
        }
    }
}

extension Meta {
    /// The wire meta of a domain summary.
    init(_ meta: TimerMeta) {
        self.init()
        activeCount = meta.activeCount
        runningCount = meta.runningCount
        pausedCount = meta.pausedCount
        totalActiveDuration = meta.totalActiveDuration
        totalActiveValue = meta.totalActiveValue.map(Money.init)
        syncTimestamp = Timestamp(meta.syncTimestamp)
    }
}

extension RPCError {
    /// The status of a domain error: its code's gRPC status and its message
    /// (which names the field, where there is one).
    init(domain error: TimerDomainError) {
        self.init(code: StatusCode(number: Int(error.code.grpcStatusCode)), message: error.message)
    }
}

extension VaultTimer {
    /// The API's view of a stored timer at the server's `now`.
    init(_ record: TimerRecord, at now: Instant) throws(RPCError) {
        let identity = TimerIdentity(id: record.id, userID: record.userID, accountID: record.accountID,
                                     projectID: record.projectID, billingRateID: record.billingRateID,
                                     description: record.description, clientRef: record.clientRef ?? "",
                                     createdAt: record.createdAt)
        try self.init(identity, state: record.state, rate: record.rate, at: now)
    }
}
