import Synchronization
import TimerDomain

extension TimerRepository {
    /// A transition without a row lock: reads the timer, lets the domain
    /// decide, and writes the result in one statement over the version read.
    /// Returns nil when the version moved in between (the caller then runs
    /// the locked transaction); refusals and re-sent requests are answered
    /// from the read.
    func applyingOptimistically(
        id: Int64, userID: Int64, command: TimerCommand, expectedSyncVersion: Int64?, deviceID: String,
        actor: AuditActor, at: Instant, deadline: ContinuousClock.Instant?
    ) async throws -> (record: TimerRecord, transition: TimerTransition?)? {
        try await pool.withConnection(deadline: deadline) { connection in
            let read = try await connection.execute(TimerSQL.timerByID, [String(userID), String(id)])
            guard let row = read.rows.first else { throw Self.timerNotFound }
            let record = try TimerSQL.record(from: row)
            let outcome = try Self.decide(record.state, command, expectedSyncVersion, at, deviceID)
            guard case .applied(let transition) = outcome else { return (record, nil) }
            guard let written = try await Self.write(transition, over: record.state, id: id, userID: userID, deviceID: deviceID,
                                                     actor: actor, at: at, on: connection) else { return nil }
            return (written, transition)
        }
    }

    /// Writes `transition`, decided on `known`, in one statement over
    /// `known`'s version (`applyKnownTransition`): the timer as written, or
    /// nil — nothing written — when the version has moved.
    static func write(
        _ transition: TimerTransition, over known: TimerState, id: Int64, userID: Int64, deviceID: String,
        actor: AuditActor, at: Instant, on connection: PooledConnection
    ) async throws -> TimerRecord? {
        let state = transition.state
        var session: (kind: String, start: Instant?, end: Instant?, seconds: Int64?) = ("none", nil, nil, nil)
        switch transition.session {
        case .none: break
        case .open(let start): session = ("open", start, nil, nil)
        case .close(let start, let end, let seconds): session = ("close", start, end, seconds)
        }
        let written = try await connection.execute(TimerSQL.applyKnownTransition, [
            String(userID), String(id), state.status.rawValue, TimerSQL.text(state.startedAt),
            TimerSQL.text(state.pausedAt), TimerSQL.text(state.stoppedAt), TimerSQL.text(state.currentSessionStartedAt),
            String(state.closedSeconds), TimerSQL.text(state.lastUpdated), TimerSQL.device(deviceID),
            String(state.syncVersion), TimerSQL.text(state.deletedAt), String(known.syncVersion),
            session.kind, TimerSQL.text(session.start), TimerSQL.text(session.end), TimerSQL.text(session.seconds),
            TimerSQL.text(actor.userID), TimerSQL.text(actor.tokenID), transition.change.rawValue,
            TimerSQL.requestID(actor.requestID), TimerSQL.text(at), actor.reason,
        ])
        return try written.rows.first.map { try TimerSQL.record(from: $0) }
    }
}

extension TimerSQL {
    /// A whole create in one statement: checks membership and that the
    /// project and rate are in the account and not archived, inserts the
    /// timer unless the `client_ref` is taken, opens its session (when it
    /// starts) and writes the audit row. Returns the new record's columns
    /// (`record(from:)`), or no row when anything did not hold.
    ///
    /// $1 user, $2 account, $3 project, $4 rate, $5 description, $6…$13 the
    /// state (status, started, paused, session start, total, last updated,
    /// device, version), $14 client_ref, $15 created at, $16 whether a
    /// session opens, $17 actor user, $18 token, $19 request id, $20 reason.
    static let createTimer = PreparedStatement(
        name: "timers.create_one_statement",
        sql: """
            WITH ok AS (
                SELECT 1 FROM account_members m JOIN accounts a ON a.id = m.account_id
                WHERE m.user_id = $1 AND m.account_id = $2 AND a.deleted_at IS NULL
                  AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM projects p
                       WHERE p.account_id = $2 AND p.id = $3::bigint AND p.archived_at IS NULL))
                  AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM billing_rates b
                       WHERE b.account_id = $2 AND b.id = $4::bigint AND b.archived_at IS NULL))
            ), t AS (
                INSERT INTO timers (user_id, account_id, project_id, billing_rate_id, description, status,
                                    started_at, paused_at, current_session_start, total_duration, last_updated,
                                    device_id, sync_version, client_ref, created_at)
                SELECT $1, $2, $3::bigint, $4::bigint, $5, $6, $7::timestamptz, $8::timestamptz, $9::timestamptz,
                       $10, $11::timestamptz, $12, $13, $14::uuid, $15::timestamptz
                FROM ok
                ON CONFLICT (user_id, client_ref) WHERE client_ref IS NOT NULL DO NOTHING
                RETURNING *
            ), opened AS (
                INSERT INTO timer_sessions (user_id, timer_id, started_at, device_id)
                SELECT $1, t.id, $9::timestamptz, $12 FROM t WHERE $16::boolean
            ), audited AS (
                INSERT INTO audit_log (user_id, actor_user_id, token_id, action, timer_id, account_id,
                                       sync_version_before, sync_version_after, request_id, device_id, at, details)
                SELECT $1, $17::bigint, $18::bigint, 'created', t.id, $2, NULL, $13, $19, $12, $15::timestamptz,
                       CASE WHEN $20::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('reason', $20::text) END
                FROM t
            )
            SELECT \(timerColumns)
            FROM t LEFT JOIN billing_rates r ON r.account_id = t.account_id AND r.id = t.billing_rate_id
            """
    )
}

extension TimerRepository {
    /// `create` in one statement; nil when the statement inserted nothing
    /// (the key is taken, or the account, project or rate is out of reach).
    func createInOneStatement(
        userID: Int64, accountID: Int64, projectID: Int64?, billingRateID: Int64?, description: String,
        clientRef: String?, deviceID: String, start: Bool, actor: AuditActor, at: Instant,
        deadline: ContinuousClock.Instant?
    ) async throws -> TimerRecord? {
        let state = TimerState.created(start: start, at: at, deviceID: deviceID).state
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(TimerSQL.createTimer, [
                String(userID), String(accountID), TimerSQL.text(projectID), TimerSQL.text(billingRateID), description,
                state.status.rawValue, TimerSQL.text(state.startedAt), TimerSQL.text(state.pausedAt),
                TimerSQL.text(state.currentSessionStartedAt), String(state.closedSeconds), TimerSQL.text(state.lastUpdated),
                TimerSQL.device(deviceID), String(state.syncVersion), clientRef, TimerSQL.text(at),
                start ? "true" : "false", TimerSQL.text(actor.userID), TimerSQL.text(actor.tokenID),
                TimerSQL.requestID(actor.requestID), actor.reason,
            ])
        }
        guard let row = result.rows.first else { return nil }
        return try TimerSQL.record(from: row)
    }
}

extension TimerSQL {
    /// A whole transition in one statement (so one round trip, committed on
    /// its own): the timer's new state written over the version it was
    /// decided on, the session closed or opened, and the audit row; returns
    /// the timer as written (its other columns as they are now), or no row —
    /// nothing written — when the version has moved (a concurrent change).
    ///
    /// $1 user, $2 timer, $3…$12 the new state (as `updateState`), $13 the
    /// version decided on; $14 the session change ('open', 'close' or
    /// 'none'), $15 its start, $16 its end and $17 its seconds (for
    /// 'close'); $18 actor user, $19 token, $20 action, $21 request id, $22
    /// at, $23 reason (the account of the audit row comes from the timer). A
    /// 'close' that finds no open session starting at $15 fails the
    /// statement (division by zero), so nothing is written then. The condition of the
    /// last line is evaluated once, before any row: it must not divide
    /// when nothing was written.
    static let applyKnownTransition = PreparedStatement(
        name: "timers.apply_known_transition",
        sql: """
            WITH t AS (
                UPDATE timers
                SET status = $3, started_at = $4::timestamptz, paused_at = $5::timestamptz,
                    stopped_at = $6::timestamptz, current_session_start = $7::timestamptz,
                    total_duration = $8, last_updated = $9::timestamptz, device_id = $10,
                    sync_version = $11, deleted_at = $12::timestamptz
                WHERE user_id = $1 AND id = $2 AND sync_version = $13
                RETURNING *
            ), closed AS (
                UPDATE timer_sessions SET ended_at = $16::timestamptz, duration = $17::bigint
                WHERE $14::text = 'close' AND user_id = $1 AND timer_id = $2 AND ended_at IS NULL
                  AND started_at = $15::timestamptz AND EXISTS (SELECT 1 FROM t)
                RETURNING 1
            ), opened AS (
                INSERT INTO timer_sessions (user_id, timer_id, started_at, device_id)
                SELECT $1, $2, $15::timestamptz, $10 FROM t WHERE $14::text = 'open'
            ), audited AS (
                INSERT INTO audit_log (user_id, actor_user_id, token_id, action, timer_id, account_id,
                                       sync_version_before, sync_version_after, request_id, device_id, at, details)
                SELECT $1, $18::bigint, $19::bigint, $20, $2, t.account_id, $13::bigint, $11, $21, $10, $22::timestamptz,
                       CASE WHEN $23::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('reason', $23::text) END
                FROM t
            )
            SELECT \(timerColumns)
            FROM t LEFT JOIN billing_rates r ON r.account_id = t.account_id AND r.id = t.billing_rate_id
            WHERE CASE WHEN $14::text = 'close' AND (SELECT count(*) FROM t) = 1
                       THEN 1 / (SELECT count(*) FROM closed)::int ELSE 1 END = 1
            """
    )
}

extension TimerRepository {
    /// A transition decided on the state this repository last saw of the
    /// timer, written in one statement over that state's version. Returns
    /// nil — and has written nothing — when there is no such state, when the
    /// domain would not simply apply the command to it (refusals and re-sent
    /// requests are answered from a fresh read), or when the version has
    /// moved since (another instance, or a sync, changed the timer).
    func applyingFromHint(
        id: Int64, userID: Int64, command: TimerCommand, expectedSyncVersion: Int64?, deviceID: String,
        actor: AuditActor, at: Instant, deadline: ContinuousClock.Instant?
    ) async throws -> (record: TimerRecord, transition: TimerTransition)? {
        guard let known = hints.state(of: id, userID: userID),
              case .applied(let transition)? = try? Self.decide(known, command, expectedSyncVersion, at, deviceID) else {
            return nil
        }
        let written = try await pool.withConnection(deadline: deadline) { connection in
            try await Self.write(transition, over: known, id: id, userID: userID, deviceID: deviceID,
                                 actor: actor, at: at, on: connection)
        }
        guard let written else {
            hints.forget(id)
            return nil
        }
        return (written, transition)
    }
}

/// The last state a repository read or wrote of each timer, bounded: a hint
/// only, since other instances change timers too — a write over a hint is
/// always conditional on its version.
final class StateHints: Sendable {
    /// Beyond this many timers the hints are dropped and begun again.
    static let capacity = 100_000

    private let states = Mutex<[Int64: (userID: Int64, state: TimerState)]>([:])

    func state(of id: Int64, userID: Int64) -> TimerState? {
        states.withLock { states in
            guard let entry = states[id], entry.userID == userID else { return nil }
            return entry.state
        }
    }

    func remember(_ record: TimerRecord) {
        states.withLock { states in
            if states.count >= Self.capacity, states[record.id] == nil { states.removeAll(keepingCapacity: true) }
            states[record.id] = (record.userID, record.state)
        }
    }

    func forget(_ id: Int64) {
        _ = states.withLock { $0.removeValue(forKey: id) }
    }
}
