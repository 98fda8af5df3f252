import TimerDomain

/// The SQL of `TimerRepository` and the mapping between rows and records.
///
/// Instants cross the boundary exactly: they are written as RFC 3339 text with
/// microseconds (`Instant.description`, parsed by `::timestamptz`) and read as
/// whole microseconds since the epoch (`extract(epoch …)` is `numeric` since
/// PostgreSQL 14, so nothing is rounded).
enum TimerSQL {
    /// A `TIMESTAMPTZ` expression as microseconds since the epoch.
    private static func micros(_ column: String) -> String {
        "(extract(epoch FROM \(column)) * 1000000)::bigint"
    }

    /// The columns `record(from:)` reads, in its order.
    static let timerColumns = """
        t.id, t.user_id, t.account_id, t.project_id, t.billing_rate_id, t.description, t.client_ref::text,
        \(micros("t.created_at")), \(micros("t.deleted_at")), t.status, \(micros("t.started_at")),
        \(micros("t.paused_at")), \(micros("t.stopped_at")), \(micros("t.current_session_start")),
        t.total_duration, \(micros("t.last_updated")), t.sync_version, t.device_id,
        r.rate_minor_per_hour, r.currency_code
        """

    /// Timers with their billing rate.
    static let timerSource = """
        timers t LEFT JOIN billing_rates r ON r.account_id = t.account_id AND r.id = t.billing_rate_id
        """

    /// One of the user's timers, deleted ones included.
    static let timerByID = PreparedStatement(
        name: "timers.by_id",
        sql: "SELECT \(timerColumns) FROM \(timerSource) WHERE t.user_id = $1 AND t.id = $2"
    )

    /// One of the user's timers, locked until the transaction ends.
    static let lockTimer = PreparedStatement(
        name: "timers.lock",
        sql: "SELECT \(timerColumns) FROM \(timerSource) WHERE t.user_id = $1 AND t.id = $2 FOR UPDATE OF t"
    )

    /// The user's timer created with a `client_ref`, deleted ones included.
    static let timerByClientRef = PreparedStatement(
        name: "timers.by_client_ref",
        sql: "SELECT \(timerColumns) FROM \(timerSource) WHERE t.user_id = $1 AND t.client_ref = $2::uuid"
    )

    /// Whether the user is a member of the account ($2), and the state of
    /// the project ($3) and billing rate ($4) in that account: NULL when
    /// absent from it, `archived`, or `ok`.
    static let checkCreate = PreparedStatement(
        name: "timers.check_create",
        sql: """
            SELECT
                EXISTS (SELECT 1 FROM account_members m JOIN accounts a ON a.id = m.account_id
                        WHERE m.user_id = $1 AND m.account_id = $2 AND a.deleted_at IS NULL),
                (SELECT CASE WHEN p.archived_at IS NULL THEN 'ok' ELSE 'archived' END
                 FROM projects p WHERE p.account_id = $2 AND p.id = $3::bigint),
                (SELECT CASE WHEN b.archived_at IS NULL THEN 'ok' ELSE 'archived' END
                 FROM billing_rates b WHERE b.account_id = $2 AND b.id = $4::bigint)
            """
    )

    /// Inserts a timer unless the user already has one with the same
    /// `client_ref`; returns the new id, or no row.
    static let insertTimer = PreparedStatement(
        name: "timers.insert",
        sql: """
            INSERT INTO timers (user_id, account_id, project_id, billing_rate_id, description, status,
                                started_at, paused_at, current_session_start, total_duration, last_updated,
                                device_id, sync_version, client_ref, created_at)
            VALUES ($1, $2, $3::bigint, $4::bigint, $5, $6, $7::timestamptz, $8::timestamptz, $9::timestamptz,
                    $10, $11::timestamptz, $12, $13, $14::uuid, $15::timestamptz)
            ON CONFLICT (user_id, client_ref) WHERE client_ref IS NOT NULL DO NOTHING
            RETURNING id
            """
    )

    /// Sets a timer's description, project and billing rate (UpdateTimer).
    static let updateFields = PreparedStatement(
        name: "timers.update_fields",
        sql: """
            UPDATE timers SET description = $3, project_id = $4::bigint, billing_rate_id = $5::bigint
            WHERE user_id = $1 AND id = $2
            """
    )

    /// Writes a timer's new state, only over the version it was read at.
    static let updateState = PreparedStatement(
        name: "timers.update_state",
        sql: """
            UPDATE timers
            SET status = $3, started_at = $4::timestamptz, paused_at = $5::timestamptz,
                stopped_at = $6::timestamptz, current_session_start = $7::timestamptz,
                total_duration = $8, last_updated = $9::timestamptz, device_id = $10,
                sync_version = $11, deleted_at = $12::timestamptz
            WHERE user_id = $1 AND id = $2 AND sync_version = $13
            """
    )

    /// Opens a session.
    static let openSession = PreparedStatement(
        name: "timer_sessions.open",
        sql: """
            INSERT INTO timer_sessions (user_id, timer_id, started_at, device_id)
            VALUES ($1, $2, $3::timestamptz, $4)
            """
    )

    /// Closes the open session that started at $3.
    static let closeSession = PreparedStatement(
        name: "timer_sessions.close",
        sql: """
            UPDATE timer_sessions SET ended_at = $4::timestamptz, duration = $5
            WHERE user_id = $1 AND timer_id = $2 AND ended_at IS NULL AND started_at = $3::timestamptz
            """
    )

    /// The audit row of one change.
    static let insertAudit = PreparedStatement(
        name: "audit_log.insert_timer",
        sql: """
            INSERT INTO audit_log (user_id, actor_user_id, token_id, action, timer_id, account_id,
                                   sync_version_before, sync_version_after, request_id, device_id, at, details)
            VALUES ($1, $2::bigint, $3::bigint, $4, $5, $6, $7::bigint, $8, $9, $10, $11::timestamptz,
                    CASE WHEN $12::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('reason', $12::text) END)
            """
    )

    /// A page of the user's timers that are not deleted, newest first
    /// (`created_at DESC, id DESC`), after the cursor ($7, $8).
    static let listTimers = PreparedStatement(
        name: "timers.list",
        sql: """
            SELECT \(timerColumns) FROM \(timerSource)
            WHERE t.user_id = $1 AND t.deleted_at IS NULL
              AND ($2::text[] IS NULL OR t.status = ANY ($2::text[]))
              AND ($3::bigint IS NULL OR t.account_id = $3::bigint)
              AND ($4::bigint IS NULL OR t.project_id = $4::bigint)
              AND ($5::timestamptz IS NULL OR t.created_at >= $5::timestamptz)
              AND ($6::timestamptz IS NULL OR t.created_at < $6::timestamptz)
              AND ($7::timestamptz IS NULL OR (t.created_at, t.id) < ($7::timestamptz, $8::bigint))
            ORDER BY t.created_at DESC, t.id DESC
            LIMIT $9
            """
    )

    /// The owner of a timer in an account the admin ($2) administers, if any.
    static let adminTimerOwner = PreparedStatement(
        name: "timers.admin_owner",
        sql: """
            SELECT t.user_id FROM timers t
            JOIN account_members m ON m.account_id = t.account_id AND m.user_id = $2 AND m.role = 'admin'
            WHERE t.id = $1 AND t.deleted_at IS NULL
            """
    )

    /// Running and paused timers of every user in the accounts the admin ($1)
    /// administers (or one of them, $2), oldest first, after the cursor
    /// ($3, $4), at most $5 (NULL: all).
    static let adminActiveTimers = PreparedStatement(
        name: "timers.admin_active",
        sql: """
            SELECT \(timerColumns) FROM \(timerSource)
            WHERE t.status IN ('running', 'paused') AND t.deleted_at IS NULL
              AND t.account_id IN (SELECT account_id FROM account_members WHERE user_id = $1 AND role = 'admin')
              AND ($2::bigint IS NULL OR t.account_id = $2::bigint)
              AND ($3::timestamptz IS NULL OR (t.created_at, t.id) > ($3::timestamptz, $4::bigint))
            ORDER BY t.created_at, t.id
            LIMIT $5::bigint
            """
    )

    /// Running timers whose open session has reached their account's
    /// maximum running time by $1: owner, id, and the limit.
    static let dueForAutoPause = PreparedStatement(
        name: "timers.due_for_auto_pause",
        sql: """
            SELECT t.user_id, t.id, a.max_running_seconds FROM timers t JOIN accounts a ON a.id = t.account_id
            WHERE t.status = 'running' AND t.deleted_at IS NULL AND a.max_running_seconds IS NOT NULL
              AND t.current_session_start + make_interval(secs => a.max_running_seconds) <= $1::timestamptz
            ORDER BY t.current_session_start
            LIMIT $2
            """
    )

    /// Whether the user administers the account.
    static let administers = PreparedStatement(
        name: "accounts.administers",
        sql: "SELECT EXISTS (SELECT 1 FROM account_members WHERE user_id = $1 AND account_id = $2 AND role = 'admin')"
    )

    /// The user's running and paused timers that are not deleted, optionally
    /// of one account, oldest first.
    static let activeTimers = PreparedStatement(
        name: "timers.active",
        sql: """
            SELECT \(timerColumns) FROM \(timerSource)
            WHERE t.user_id = $1 AND t.status IN ('running', 'paused') AND t.deleted_at IS NULL
              AND ($2::bigint IS NULL OR t.account_id = $2::bigint)
            ORDER BY t.created_at, t.id
            """
    )

    /// Whether the user has the timer and it is not deleted.
    static let timerVisible = PreparedStatement(
        name: "timers.visible",
        sql: "SELECT 1 FROM timers WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL"
    )

    /// A page of a timer's sessions in start order after the cursor ($3, $4).
    static let listSessions = PreparedStatement(
        name: "timer_sessions.list",
        sql: """
            SELECT s.id, s.timer_id, s.user_id, \(micros("s.started_at")), \(micros("s.ended_at")),
                   s.duration, s.device_id
            FROM timer_sessions s
            WHERE s.user_id = $1 AND s.timer_id = $2
              AND ($3::timestamptz IS NULL OR (s.started_at, s.id) > ($3::timestamptz, $4::bigint))
            ORDER BY s.started_at, s.id
            LIMIT $5
            """
    )

    // MARK: - Parameters

    /// An instant as a `timestamptz` parameter.
    static func text(_ instant: Instant?) -> String? {
        instant?.description
    }

    /// A number as a parameter.
    static func text(_ value: Int64?) -> String? {
        value.map(String.init)
    }

    /// A device id as stored: NULL for a device that gave no name.
    static func device(_ deviceID: String) -> String? {
        deviceID.isEmpty ? nil : deviceID
    }

    /// A request id as stored: at most 128 characters.
    static func requestID(_ id: String?) -> String? {
        guard let id, !id.isEmpty else { return nil }
        let scalars = id.unicodeScalars
        guard scalars.count > 128 else { return id }
        var cut = String.UnicodeScalarView()
        cut.append(contentsOf: scalars.prefix(128))
        return String(cut)
    }

    /// A set of statuses as a `text[]` parameter; NULL for "any".
    static func statuses(_ statuses: Set<TimerState.Status>) -> String? {
        guard !statuses.isEmpty else { return nil }
        return "{" + TimerState.Status.allCases.filter(statuses.contains).map(\.rawValue).joined(separator: ",") + "}"
    }

    // MARK: - Rows

    /// A record from a row of `timerColumns`.
    static func record(from row: [String?]) throws(TimerDomainError) -> TimerRecord {
        var reader = RowReader(row: row)
        let id = try reader.int("id")
        let userID = try reader.int("user_id")
        let accountID = try reader.int("account_id")
        let projectID = try reader.optionalInt("project_id")
        let billingRateID = try reader.optionalInt("billing_rate_id")
        let description = try reader.string("description")
        let clientRef = reader.optionalString()
        let createdAt = try reader.instant("created_at")
        let deletedAt = try reader.optionalInstant("deleted_at")
        let statusText = try reader.string("status")
        guard let status = TimerState.Status(rawValue: statusText) else {
            throw corrupt("status", statusText)
        }
        let startedAt = try reader.optionalInstant("started_at")
        let pausedAt = try reader.optionalInstant("paused_at")
        let stoppedAt = try reader.optionalInstant("stopped_at")
        let sessionStart = try reader.optionalInstant("current_session_start")
        let total = try reader.int("total_duration")
        let lastUpdated = try reader.instant("last_updated")
        let syncVersion = try reader.int("sync_version")
        let deviceID = reader.optionalString() ?? ""
        let rateMinor = try reader.optionalInt("rate_minor_per_hour")
        let currencyCode = reader.optionalString()

        let state = try TimerState(
            status: status, startedAt: startedAt, pausedAt: pausedAt, stoppedAt: stoppedAt,
            currentSessionStartedAt: sessionStart, closedSeconds: total, lastUpdated: lastUpdated,
            syncVersion: syncVersion, deviceID: deviceID, deletedAt: deletedAt
        )
        var rate: HourlyRate?
        if let rateMinor, let currencyCode {
            do throws(TimerDomainError) {
                let currency = try Currency(code: currencyCode)
                rate = try HourlyRate(perHour: MoneyAmount(minorUnits: rateMinor, currency: currency))
            } catch {
                throw TimerDomainError(
                    code: .inconsistentState,
                    message: "billing rate \(billingRateID.map(String.init) ?? "?") of timer \(id) is unusable: \(error.message)"
                )
            }
        }
        return TimerRecord(
            id: id, userID: userID, accountID: accountID, projectID: projectID, billingRateID: billingRateID,
            description: description, clientRef: clientRef, createdAt: createdAt, deletedAt: deletedAt,
            state: state, rate: rate
        )
    }

    /// A session from a row of `listSessions`.
    static func session(from row: [String?]) throws(TimerDomainError) -> SessionRecord {
        var reader = RowReader(row: row)
        let id = try reader.int("id")
        let timerID = try reader.int("timer_id")
        let userID = try reader.int("user_id")
        let startedAt = try reader.instant("started_at")
        let endedAt = try reader.optionalInstant("ended_at")
        let duration = try reader.int("duration")
        let deviceID = reader.optionalString() ?? ""
        return SessionRecord(
            id: id, timerID: timerID, userID: userID,
            interval: SessionInterval(startedAt: startedAt, endedAt: endedAt),
            durationSeconds: duration, deviceID: deviceID
        )
    }

    static func corrupt(_ column: String, _ value: String?) -> TimerDomainError {
        TimerDomainError(
            code: .inconsistentState,
            message: "stored column \(column) has an unexpected value \(value.map { "\"\($0)\"" } ?? "NULL")"
        )
    }
}

/// Reads a row's text values left to right.
private struct RowReader {
    let row: [String?]
    var index = 0

    private mutating func next() -> String? {
        defer { index += 1 }
        return index < row.count ? row[index] : nil
    }

    mutating func optionalString() -> String? {
        next()
    }

    mutating func string(_ column: String) throws(TimerDomainError) -> String {
        guard let value = next() else { throw TimerSQL.corrupt(column, nil) }
        return value
    }

    mutating func optionalInt(_ column: String) throws(TimerDomainError) -> Int64? {
        guard let value = next() else { return nil }
        guard let number = Int64(value) else { throw TimerSQL.corrupt(column, value) }
        return number
    }

    mutating func int(_ column: String) throws(TimerDomainError) -> Int64 {
        guard let number = try optionalInt(column) else { throw TimerSQL.corrupt(column, nil) }
        return number
    }

    mutating func optionalInstant(_ column: String) throws(TimerDomainError) -> Instant? {
        try optionalInt(column).map(Instant.init(microsecondsSinceEpoch:))
    }

    mutating func instant(_ column: String) throws(TimerDomainError) -> Instant {
        Instant(microsecondsSinceEpoch: try int(column))
    }
}
