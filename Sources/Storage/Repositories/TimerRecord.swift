import TimerDomain

/// A stored timer: its ids and fields, and its lifecycle state as the domain
/// sees it.
///
/// `state` is decided by `TimerDomain`; Storage only loads and persists it.
/// `deletedAt` repeats `state.deletedAt` for callers that look at the record
/// alone.
package struct TimerRecord: Sendable, Hashable {
    /// The timer's id (unique across all users).
    package var id: Int64
    /// The owner.
    package var userID: Int64
    /// The account the timer is tracked for; the owner is a member of it.
    package var accountID: Int64
    /// The project, in the same account, if any.
    package var projectID: Int64?
    /// The billing rate, in the same account, if any.
    package var billingRateID: Int64?
    /// What the timer is for (1 to 1,000 characters).
    package var description: String
    /// The idempotency key it was created with, a lower-case UUID, if any.
    package var clientRef: String?
    /// When the timer was created (server clock).
    package var createdAt: Instant
    /// When the timer was soft-deleted; nil while it is not.
    package var deletedAt: Instant?
    /// Status, session start, durations, `sync_version`, `last_updated`.
    package var state: TimerState
    /// The billing rate's amount per hour, with its currency; nil without a
    /// billing rate.
    package var rate: HourlyRate?

    /// A record from its parts.
    package init(
        id: Int64,
        userID: Int64,
        accountID: Int64,
        projectID: Int64?,
        billingRateID: Int64?,
        description: String,
        clientRef: String?,
        createdAt: Instant,
        deletedAt: Instant?,
        state: TimerState,
        rate: HourlyRate?
    ) {
        self.id = id
        self.userID = userID
        self.accountID = accountID
        self.projectID = projectID
        self.billingRateID = billingRateID
        self.description = description
        self.clientRef = clientRef
        self.createdAt = createdAt
        self.deletedAt = deletedAt
        self.state = state
        self.rate = rate
    }

    /// The billing rate's currency, if the timer has a rate.
    package var currency: Currency? {
        rate?.currency
    }
}

/// A stored session: one RUNNING span of a timer (a `timer_sessions` row).
package struct SessionRecord: Sendable, Hashable {
    /// The session's id.
    package var id: Int64
    /// The timer it belongs to.
    package var timerID: Int64
    /// The timer's owner.
    package var userID: Int64
    /// When the span began and ended (nil end: still open).
    package var interval: SessionInterval
    /// Whole seconds of the closed span; 0 while open.
    package var durationSeconds: Int64
    /// The device that opened the session, as it named itself; empty when it
    /// gave no name.
    package var deviceID: String

    /// A record from its parts.
    package init(id: Int64, timerID: Int64, userID: Int64, interval: SessionInterval, durationSeconds: Int64, deviceID: String) {
        self.id = id
        self.timerID = timerID
        self.userID = userID
        self.interval = interval
        self.durationSeconds = durationSeconds
        self.deviceID = deviceID
    }
}

/// Who makes a change, for the `audit_log` row every mutation writes.
package struct AuditActor: Sendable, Hashable {
    /// The user making the change; nil for the server itself and the
    /// command line.
    package var userID: Int64?
    /// The API token the request authenticated with, if any.
    package var tokenID: Int64?
    /// The request's id, for correlating logs; cut to 128 characters.
    package var requestID: String?
    /// Why, when the change needs a reason (an admin acting on someone
    /// else's timer); kept in the audit row's details.
    package var reason: String?

    /// An actor.
    package init(userID: Int64?, tokenID: Int64? = nil, requestID: String? = nil, reason: String? = nil) {
        self.userID = userID
        self.tokenID = tokenID
        self.requestID = requestID
        self.reason = reason
    }

    /// The server itself (auto-pause, purge) or the command line.
    package static let system = AuditActor(userID: nil)
}

/// What `TimerRepository.list` returns. Deleted timers are never listed;
/// conditions combine with AND.
package struct TimerFilter: Sendable, Hashable {
    /// Only timers in one of these states; empty means any state.
    package var statuses: Set<TimerState.Status>
    /// Only timers of this account.
    package var accountID: Int64?
    /// Only timers of this project.
    package var projectID: Int64?
    /// Only timers created at or after this instant.
    package var createdAfter: Instant?
    /// Only timers created before this instant.
    package var createdBefore: Instant?

    /// A filter; the default lists every timer that is not deleted.
    package init(
        statuses: Set<TimerState.Status> = [],
        accountID: Int64? = nil,
        projectID: Int64? = nil,
        createdAfter: Instant? = nil,
        createdBefore: Instant? = nil
    ) {
        self.statuses = statuses
        self.accountID = accountID
        self.projectID = projectID
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
    }

    /// A canonical text of the filter, which page tokens are bound to.
    var canonicalText: String {
        let states = TimerState.Status.allCases.filter(statuses.contains).map(\.rawValue).joined(separator: ",")
        let parts: [String] = [
            states,
            accountID.map(String.init) ?? "",
            projectID.map(String.init) ?? "",
            createdAfter.map { String($0.microsecondsSinceEpoch) } ?? "",
            createdBefore.map { String($0.microsecondsSinceEpoch) } ?? "",
        ]
        return parts.joined(separator: "|")
    }
}

/// One page of a list call.
package struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
    /// The items, in the list's order.
    package var items: [Item]
    /// The token for the next page; nil on the last page.
    package var nextPageToken: String?

    /// A page.
    package init(items: [Item], nextPageToken: String?) {
        self.items = items
        self.nextPageToken = nextPageToken
    }
}
