import TimerDomain

extension TimerRepository {
    /// Reconciles one device timer (SyncTimers) in one transaction.
    ///
    /// 1. Finds the timer by `id` — or, for a timer created offline, by
    ///    `client_ref` — and locks its row (`SELECT … FOR UPDATE`); deleted
    ///    timers included, so the device learns of the deletion.
    /// 2. Loads the audit rows since the device's version when they may be
    ///    this device's own earlier sync (`SyncReconciliation.historyVersions`).
    /// 3. Asks `SyncReconciliation.reconcile` and writes what it decided:
    ///    - a creation: inserted `ON CONFLICT DO NOTHING` on the user's
    ///      `client_ref` (as `create`), then its transitions; when a
    ///      concurrent sync with the same key committed first, that timer is
    ///      locked and reconciled instead, so exactly one is created;
    ///    - each transition: the state over the version it was read at
    ///      (`sync_version` + 1, `last_updated` = now), the session closed or
    ///      opened at the clamped instant, one audit row.
    ///
    /// Audit rows of sync name the user and token as actor and carry
    /// `details` `{"cause": "sync", "device_at": …, "effective_at": …}`:
    /// the device's own time and the clamped one. `device_at` is what lets a
    /// re-sent sync be recognised and not applied twice.
    ///
    /// - Returns: the outcome. Per-item failures are outcomes, not errors:
    ///   REJECTED with NOT_FOUND (unknown id, an account, project or rate not
    ///   the user's), FAILED_PRECONDITION (a refused transition, an archived
    ///   project or rate), INVALID_ARGUMENT (a device timer that contradicts
    ///   itself). Nothing is written for them.
    /// - Throws: `StorageError` when the database fails (the item's
    ///   transaction is rolled back); `TimerDomainError` `inconsistentState`
    ///   when stored data breaks the invariants.
    package func sync(
        _ item: SyncItem,
        userID: Int64,
        deviceID: String,
        actor: AuditActor,
        at now: Instant,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> SyncItemOutcome {
        do {
            return try await pool.transaction(deadline: deadline) { tx in
                try await Self.sync(item, userID: userID, deviceID: deviceID, actor: actor, now: now, on: tx)
            }
        } catch let error as TimerDomainError {
            // Refused before anything was written (or rolled back with it).
            guard [.notFound, .failedPrecondition, .invalidArgument].contains(error.code) else { throw error }
            return SyncItemOutcome(resolution: .rejected, record: nil, error: error)
        }
    }

    /// The user's timers a syncing device should learn: the active ones
    /// (running or paused, not deleted) and, when `changedSince` is given,
    /// every timer changed after it (`last_updated > changedSince`), deleted
    /// ones included so the device learns of the deletion. Oldest change
    /// first. The caller leaves out those the device mentioned.
    package func syncServerTimers(
        userID: Int64, changedSince: Instant?, deadline: ContinuousClock.Instant? = nil
    ) async throws -> [TimerRecord] {
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(SyncSQL.serverTimers, [String(userID), TimerSQL.text(changedSince)])
        }
        var records: [TimerRecord] = []
        records.reserveCapacity(result.rows.count)
        for row in result.rows {
            records.append(try TimerSQL.record(from: row))
        }
        return records
    }

    // MARK: - Steps

    private static func sync(
        _ item: SyncItem, userID: Int64, deviceID: String, actor: AuditActor, now: Instant, on tx: PooledConnection
    ) async throws -> SyncItemOutcome {
        let device = item.device
        var found: TimerRecord?
        if let id = device.id {
            found = try await locked(TimerSQL.lockTimer, [String(userID), String(id)], on: tx)
        } else if let clientRef = device.clientRef {
            found = try await locked(SyncSQL.lockTimerByClientRef, [String(userID), clientRef], on: tx)
        }
        if let found {
            return try await reconcile(item, with: found, userID: userID, deviceID: deviceID, actor: actor, now: now, on: tx)
        }
        let decision = SyncReconciliation.reconcile(device, server: nil, deviceID: deviceID, now: now)
        guard case .create(let creation, let steps) = decision else {
            return SyncItemOutcome(resolution: decision.resolution, record: nil, conflict: decision.conflict, error: decision.error)
        }
        guard let fields = item.creation, let clientRef = device.clientRef else {
            throw TimerDomainError(code: .invalidArgument, message: "a timer created offline needs its account, description and client_ref",
                                   field: "client_ref")
        }
        try await checkOwnership(userID: userID, accountID: fields.accountID, projectID: fields.projectID,
                                 billingRateID: fields.billingRateID, on: tx)
        let state = creation.transition.state
        let inserted = try await tx.execute(TimerSQL.insertTimer, [
            String(userID), String(fields.accountID), TimerSQL.text(fields.projectID), TimerSQL.text(fields.billingRateID),
            fields.description, state.status.rawValue, TimerSQL.text(state.startedAt), TimerSQL.text(state.pausedAt),
            TimerSQL.text(state.currentSessionStartedAt), String(state.closedSeconds),
            TimerSQL.text(state.lastUpdated), TimerSQL.device(deviceID), String(state.syncVersion),
            clientRef, TimerSQL.text(now),
        ])
        guard let idText = inserted.rows.first?[0], let id = Int64(idText) else {
            // A sync with the same client_ref committed since our first look:
            // reconcile against the timer it created.
            guard let existing = try await locked(SyncSQL.lockTimerByClientRef, [String(userID), clientRef], on: tx) else {
                throw TimerDomainError(code: .inconsistentState, message: "a timer insert returned no id")
            }
            return try await reconcile(item, with: existing, userID: userID, deviceID: deviceID, actor: actor, now: now, on: tx)
        }
        try await writeSession(creation.transition.session, userID: userID, timerID: id, deviceID: deviceID, on: tx)
        try await auditSync(creation, action: "created", userID: userID, timerID: id, accountID: fields.accountID,
                            before: nil, deviceID: deviceID, actor: actor, now: now, on: tx)
        guard var record = try await timer(id: id, userID: userID, on: tx) else {
            throw TimerDomainError(code: .inconsistentState, message: "timer \(id) vanished after its insert")
        }
        var applied = [SyncAppliedChange(record: record, change: creation.transition.change)]
        applied += try await write(steps, to: &record, userID: userID, deviceID: deviceID, actor: actor, now: now, on: tx)
        return SyncItemOutcome(resolution: .createOnServer, record: record, applied: applied)
    }

    /// Reconciles a device timer with the locked server timer `record`.
    private static func reconcile(
        _ item: SyncItem, with record: TimerRecord, userID: Int64, deviceID: String, actor: AuditActor, now: Instant,
        on tx: PooledConnection
    ) async throws -> SyncItemOutcome {
        var record = record
        var history: [SyncRecordedChange] = []
        if let versions = SyncReconciliation.historyVersions(for: item.device, serverVersion: record.state.syncVersion) {
            history = try await recordedChanges(timerID: record.id, userID: userID, versions: versions, on: tx)
        }
        let server = SyncServerTimer(state: record.state, history: history)
        let decision = SyncReconciliation.reconcile(item.device, server: server, deviceID: deviceID, now: now)
        switch decision {
        case .apply(let steps, let resolution):
            let applied = try await write(steps, to: &record, userID: userID, deviceID: deviceID, actor: actor, now: now, on: tx)
            return SyncItemOutcome(resolution: resolution, record: record, applied: applied)
        case .keep(let resolution, let conflict):
            return SyncItemOutcome(resolution: resolution, record: record, conflict: conflict)
        case .rejected(let error):
            return SyncItemOutcome(resolution: .rejected, record: record, error: error)
        case .create:
            throw TimerDomainError(code: .inconsistentState, message: "sync decided to create timer \(record.id), which exists")
        }
    }

    /// Writes `steps` in order over `record`, which ends as the last one left
    /// it; returns one applied change per step.
    private static func write(
        _ steps: [SyncStep], to record: inout TimerRecord, userID: Int64, deviceID: String, actor: AuditActor, now: Instant,
        on tx: PooledConnection
    ) async throws -> [SyncAppliedChange] {
        var applied: [SyncAppliedChange] = []
        applied.reserveCapacity(steps.count)
        for step in steps {
            let before = record.state.syncVersion
            let next = step.transition.state
            try await writeState(next, userID: userID, timerID: record.id, over: before, on: tx)
            try await writeSession(step.transition.session, userID: userID, timerID: record.id, deviceID: deviceID, on: tx)
            try await auditSync(step, action: step.transition.change.rawValue, userID: userID, timerID: record.id,
                                accountID: record.accountID, before: before, deviceID: deviceID, actor: actor, now: now, on: tx)
            record.state = next
            record.deletedAt = next.deletedAt
            applied.append(SyncAppliedChange(record: record, change: step.transition.change))
        }
        return applied
    }

    private static func locked(_ statement: PreparedStatement, _ params: [String?], on tx: PooledConnection) async throws -> TimerRecord? {
        let result = try await tx.execute(statement, params)
        guard let row = result.rows.first else { return nil }
        return try TimerSQL.record(from: row)
    }

    /// The audit rows of a timer for `versions`, oldest first.
    private static func recordedChanges(
        timerID: Int64, userID: Int64, versions: ClosedRange<Int64>, on tx: PooledConnection
    ) async throws -> [SyncRecordedChange] {
        let result = try await tx.execute(SyncSQL.recordedChanges, [
            String(userID), String(timerID), String(versions.lowerBound), String(versions.upperBound),
        ])
        var changes: [SyncRecordedChange] = []
        for row in result.rows {
            guard row.count == 5, let version = row[0].flatMap({ Int64($0) }) else { throw TimerSQL.corrupt("sync_version_after", row.first ?? nil) }
            changes.append(SyncRecordedChange(
                version: version,
                change: row[1].flatMap(TimerChange.init(rawValue:)),
                deviceID: row[2] ?? "",
                bySync: row[3] == "sync",
                deviceAt: row[4].flatMap { Int64($0) }.map(Instant.init(microsecondsSinceEpoch:))
            ))
        }
        return changes
    }

    private static func auditSync(
        _ step: SyncStep, action: String, userID: Int64, timerID: Int64, accountID: Int64, before: Int64?,
        deviceID: String, actor: AuditActor, now: Instant, on tx: PooledConnection
    ) async throws {
        _ = try await tx.execute(SyncSQL.insertAudit, [
            String(userID), TimerSQL.text(actor.userID), TimerSQL.text(actor.tokenID), action, String(timerID),
            String(accountID), TimerSQL.text(before), String(step.transition.state.syncVersion),
            TimerSQL.requestID(actor.requestID), TimerSQL.device(deviceID), TimerSQL.text(now),
            TimerSQL.text(step.deviceAt), TimerSQL.text(step.effectiveAt),
        ])
    }
}

/// The SQL only sync uses.
enum SyncSQL {
    /// The user's timer created with a `client_ref`, deleted ones included,
    /// locked until the transaction ends.
    static let lockTimerByClientRef = PreparedStatement(
        name: "timers.lock_by_client_ref",
        sql: "SELECT \(TimerSQL.timerColumns) FROM \(TimerSQL.timerSource) WHERE t.user_id = $1 AND t.client_ref = $2::uuid FOR UPDATE OF t"
    )

    /// The audit row of a change made by sync: `details` holds the cause and
    /// the device's and the effective time of the change.
    static let insertAudit = PreparedStatement(
        name: "audit_log.insert_sync",
        sql: """
            INSERT INTO audit_log (user_id, actor_user_id, token_id, action, timer_id, account_id,
                                   sync_version_before, sync_version_after, request_id, device_id, at, details)
            VALUES ($1, $2::bigint, $3::bigint, $4, $5, $6, $7::bigint, $8, $9, $10, $11::timestamptz,
                    jsonb_build_object('cause', 'sync', 'device_at', $12::text, 'effective_at', $13::text))
            """
    )

    /// A timer's audit rows with `sync_version_after` in [$3, $4], oldest
    /// first: version, action, device, cause, and the device time in
    /// microseconds since the epoch.
    static let recordedChanges = PreparedStatement(
        name: "audit_log.sync_history",
        sql: """
            SELECT a.sync_version_after, a.action, a.device_id, a.details->>'cause',
                   (extract(epoch FROM (a.details->>'device_at')::timestamptz) * 1000000)::bigint
            FROM audit_log a
            WHERE a.user_id = $1 AND a.timer_id = $2 AND a.sync_version_after BETWEEN $3 AND $4
            ORDER BY a.sync_version_after, a.id
            """
    )

    /// The user's active timers and, with $2, those changed after $2
    /// (deleted ones included), oldest change first.
    static let serverTimers = PreparedStatement(
        name: "timers.sync_server_timers",
        sql: """
            SELECT \(TimerSQL.timerColumns) FROM \(TimerSQL.timerSource)
            WHERE t.user_id = $1
              AND ((t.status IN ('running', 'paused') AND t.deleted_at IS NULL)
                   OR ($2::timestamptz IS NOT NULL AND t.last_updated > $2::timestamptz))
            ORDER BY t.last_updated, t.id
            """
    )
}
