import TimerDomain

/// Timers and their sessions in PostgreSQL.
///
/// `TimerDomain` decides every change; this type loads the state, asks the
/// domain, and persists the answer. Each mutation is one transaction that
///
/// 1. locks the timer row (`SELECT … FOR UPDATE`), so concurrent changes of
///    one timer run one after the other, each seeing the last one's result;
/// 2. applies the domain transition (`TimerState.handling`), with its retry
///    rules for `expected_sync_version`;
/// 3. writes the new state over the version it read, bumping `sync_version`
///    and `last_updated`;
/// 4. closes or opens the session row (the partial unique index
///    `idx_timer_sessions_one_open` keeps one open session per timer even if
///    the lock were bypassed);
/// 5. writes the `audit_log` row.
///
/// A refused request (unknown id, stale version, forbidden transition) throws
/// before anything is written, and the transaction rolls back.
///
/// **Errors.** Methods throw `TimerDomainError` for what the caller did:
/// `notFound` (an id unknown to the user, or deleted; `field` names it),
/// `invalidArgument` (bad input, a malformed page token; `field` names it),
/// `failedPrecondition` (a forbidden transition, an archived project or rate),
/// `aborted` (a stale `expected_sync_version`), `alreadyExists` (a spent
/// `client_ref`), `inconsistentState` (stored data breaks the invariants).
/// Messages name ids, states and fields, never descriptions or tokens.
/// Database failures are `StorageError` (see `PostgresPool`).
///
/// Every method takes an optional `deadline` that bounds the whole call, as
/// `PostgresPool` describes.
package struct TimerRepository: Sendable {
    /// The largest page of `list` and `sessions`.
    package static let maximumPageSize = 1_000

    /// The pool the repository runs on.
    package let pool: PostgresPool
    /// The states this repository last read or wrote, by timer: they let a
    /// transition skip its read (`applyingFromHint`).
    let hints = StateHints()

    /// A repository over `pool`.
    package init(pool: PostgresPool) {
        self.pool = pool
    }

    // MARK: - Create

    /// Creates a timer, or returns the one the user created earlier with the
    /// same `clientRef`.
    ///
    /// Idempotency: `clientRef` is unique per user (`idx_timers_user_client_ref`).
    /// The insert is `ON CONFLICT DO NOTHING`; when it inserts nothing, the
    /// timer that holds the key is read and returned with `created == false`
    /// and nothing is written, whatever the other arguments say. A concurrent
    /// create with the same key waits on the unique index until the first
    /// commits, then returns the first's timer; exactly one is created.
    ///
    /// - Parameters:
    ///   - description: validated and trimmed as `Validation.description`.
    ///   - clientRef: a UUID (any case) or nil for no idempotency.
    ///   - start: run at once (an open session at `at`), or create paused.
    ///   - at: the server's now: `created_at` and the state's instants.
    /// - Returns: the timer and whether this call created it.
    /// - Throws: `notFound` naming `account_id` when the user is not a member
    ///   of the account, `project_id`/`billing_rate_id` when they are not in
    ///   that account; `failedPrecondition` naming them when archived;
    ///   `alreadyExists` when `clientRef` belongs to a deleted timer;
    ///   `invalidArgument` for a bad description, device id or key.
    package func create(
        userID: Int64,
        accountID: Int64,
        projectID: Int64?,
        billingRateID: Int64?,
        description: String,
        clientRef: String?,
        deviceID: String,
        start: Bool,
        actor: AuditActor,
        at: Instant,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> (record: TimerRecord, created: Bool) {
        let description = try Validation.description(description)
        let deviceID = try Validation.deviceID(deviceID)
        var key: String?
        if let clientRef { key = try Validation.clientRef(clientRef, required: true) }
        let clientRef = key
        // One statement in the usual case (a new key, everything in reach).
        if let created = try await createInOneStatement(
            userID: userID, accountID: accountID, projectID: projectID, billingRateID: billingRateID,
            description: description, clientRef: clientRef, deviceID: deviceID, start: start, actor: actor, at: at,
            deadline: deadline) {
            hints.remember(created)
            return (created, true)
        }
        // A key already used, or something out of reach: the transaction
        // below finds the existing timer or the precise error.
        return try await pool.transaction(deadline: deadline) { tx in
            if let clientRef, let existing = try await Self.timer(byClientRef: clientRef, userID: userID, on: tx) {
                _ = try TimerState.resolveCreate(existing: existing.state)
                return (existing, false)
            }
            try await Self.checkOwnership(
                userID: userID, accountID: accountID, projectID: projectID, billingRateID: billingRateID, on: tx
            )
            let transition = TimerState.created(start: start, at: at, deviceID: deviceID)
            let state = transition.state
            let inserted = try await tx.execute(TimerSQL.insertTimer, [
                String(userID), String(accountID), TimerSQL.text(projectID), TimerSQL.text(billingRateID),
                description, state.status.rawValue, TimerSQL.text(state.startedAt), TimerSQL.text(state.pausedAt),
                TimerSQL.text(state.currentSessionStartedAt), String(state.closedSeconds),
                TimerSQL.text(state.lastUpdated), TimerSQL.device(deviceID), String(state.syncVersion),
                clientRef, TimerSQL.text(at),
            ])
            guard let idText = inserted.rows.first?[0], let id = Int64(idText) else {
                // The key was taken by a create that committed after our first
                // look: return its timer.
                guard let clientRef, let existing = try await Self.timer(byClientRef: clientRef, userID: userID, on: tx) else {
                    throw TimerDomainError(code: .inconsistentState, message: "a timer insert returned no id")
                }
                _ = try TimerState.resolveCreate(existing: existing.state)
                return (existing, false)
            }
            try await Self.writeSession(transition.session, userID: userID, timerID: id, deviceID: deviceID, on: tx)
            try await Self.audit(
                action: "created", userID: userID, timerID: id, accountID: accountID,
                before: nil, after: state.syncVersion, deviceID: deviceID, actor: actor, at: at, on: tx
            )
            guard let record = try await Self.timer(id: id, userID: userID, on: tx) else {
                throw TimerDomainError(code: .inconsistentState, message: "timer \(id) vanished after its insert")
            }
            return (record, true)
        }
    }

    // MARK: - Read

    /// One of the user's timers. Throws `notFound` (field `id`) when the user
    /// has no such timer or it is deleted.
    package func get(id: Int64, userID: Int64, deadline: ContinuousClock.Instant? = nil) async throws -> TimerRecord {
        let record = try await pool.withConnection(deadline: deadline) { connection in
            try await Self.timer(id: id, userID: userID, on: connection)
        }
        guard let record, record.deletedAt == nil else { throw Self.timerNotFound }
        return record
    }

    /// A page of the user's timers that are not deleted, newest first
    /// (`created_at` descending, then id descending).
    ///
    /// Keyset pagination: the page token holds the `(created_at, id)` of the
    /// last timer returned and the next page starts strictly after it. That
    /// key never changes, so timers created between pages never make one
    /// repeat or be skipped (new timers sort before the position and are
    /// not visited by later pages). A token is valid only with the same
    /// filter; a timer whose status leaves the filter between pages is not
    /// listed again.
    ///
    /// - Parameters:
    ///   - pageSize: 1 to `maximumPageSize` (the RPC layer applies
    ///     `Validation.pageSize` first).
    ///   - pageToken: nil or empty for the first page, otherwise the previous
    ///     page's `nextPageToken`.
    /// - Throws: `invalidArgument` naming `page_token` for a malformed token
    ///   or one issued for other filters, `page_size` for a size out of
    ///   range, `created_after` for an empty time range.
    package func list(
        userID: Int64,
        filter: TimerFilter = TimerFilter(),
        pageSize: Int,
        after pageToken: String?,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> Page<TimerRecord> {
        try Self.checkPageSize(pageSize)
        try Validation.createdRange(after: filter.createdAfter, before: filter.createdBefore)
        let scope = "timers|" + filter.canonicalText
        let cursor = try PageToken.decode(pageToken ?? "", scope: scope)
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(TimerSQL.listTimers, [
                String(userID), TimerSQL.statuses(filter.statuses), TimerSQL.text(filter.accountID),
                TimerSQL.text(filter.projectID), TimerSQL.text(filter.createdAfter), TimerSQL.text(filter.createdBefore),
                TimerSQL.text(cursor?.instant), TimerSQL.text(cursor?.id), String(pageSize + 1),
            ])
        }
        var records: [TimerRecord] = []
        records.reserveCapacity(min(result.rows.count, pageSize))
        for row in result.rows.prefix(pageSize) {
            records.append(try TimerSQL.record(from: row))
        }
        let next = result.rows.count > pageSize ? records.last.map {
            PageToken(instant: $0.createdAt, id: $0.id).encode(scope: scope)
        } : nil
        return Page(items: records, nextPageToken: next)
    }

    /// The user's running and paused timers that are not deleted, optionally
    /// only those of one account, oldest first.
    package func active(
        userID: Int64, accountID: Int64? = nil, deadline: ContinuousClock.Instant? = nil
    ) async throws -> [TimerRecord] {
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(TimerSQL.activeTimers, [String(userID), TimerSQL.text(accountID)])
        }
        var records: [TimerRecord] = []
        records.reserveCapacity(result.rows.count)
        for row in result.rows {
            records.append(try TimerSQL.record(from: row))
        }
        return records
    }

    /// A page of one timer's sessions in start order (`started_at`, then id),
    /// with keyset pagination as `list` describes. Throws `notFound` (field
    /// `id`) when the user has no such timer or it is deleted, and
    /// `invalidArgument` for a bad page size or token.
    package func sessions(
        timerID: Int64,
        userID: Int64,
        pageSize: Int,
        after pageToken: String?,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> Page<SessionRecord> {
        try Self.checkPageSize(pageSize)
        let scope = "sessions|\(timerID)"
        let cursor = try PageToken.decode(pageToken ?? "", scope: scope)
        let result = try await pool.withConnection(deadline: deadline) { connection -> QueryResult? in
            let visible = try await connection.execute(TimerSQL.timerVisible, [String(userID), String(timerID)])
            guard !visible.rows.isEmpty else { return nil }
            return try await connection.execute(TimerSQL.listSessions, [
                String(userID), String(timerID), TimerSQL.text(cursor?.instant), TimerSQL.text(cursor?.id),
                String(pageSize + 1),
            ])
        }
        guard let result else { throw Self.timerNotFound }
        var sessions: [SessionRecord] = []
        sessions.reserveCapacity(min(result.rows.count, pageSize))
        for row in result.rows.prefix(pageSize) {
            sessions.append(try TimerSQL.session(from: row))
        }
        let next = result.rows.count > pageSize ? sessions.last.map {
            PageToken(instant: $0.interval.startedAt, id: $0.id).encode(scope: scope)
        } : nil
        return Page(items: sessions, nextPageToken: next)
    }

    // MARK: - Transitions

    /// Pauses, resumes, stops or deletes a timer, under the retry rules of
    /// `TimerState.handling(_:expectedSyncVersion:at:deviceID:)`.
    ///
    /// - Returns: the timer after the call, and whether it changed: false for
    ///   a re-sent request whose first copy was applied (nothing written).
    /// - Throws: `notFound` (field `id`) for an unknown or deleted timer;
    ///   `aborted` for a stale `expectedSyncVersion`; `failedPrecondition`
    ///   for a transition the state forbids; `invalidArgument` for a bad
    ///   device id or version. Nothing is written then.
    package func transition(
        id: Int64,
        userID: Int64,
        command: TimerCommand,
        expectedSyncVersion: Int64?,
        deviceID: String,
        actor: AuditActor,
        at: Instant,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> (record: TimerRecord, applied: Bool) {
        let (record, transition) = try await applying(
            id: id, userID: userID, command: command, expectedSyncVersion: expectedSyncVersion,
            deviceID: deviceID, actor: actor, at: at, deadline: deadline)
        return (record, transition != nil)
    }

    /// `transition(…)`, returning the transition applied (its session change
    /// and event) instead of a flag; nil when nothing was written.
    package func applying(
        id: Int64,
        userID: Int64,
        command: TimerCommand,
        expectedSyncVersion: Int64?,
        deviceID: String,
        actor: AuditActor,
        at: Instant,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> (record: TimerRecord, transition: TimerTransition?) {
        let deviceID = try Validation.deviceID(deviceID)
        // One round trip when this repository knows the timer's current
        // state: the statement writes over the version it knew.
        if let done = try await applyingFromHint(
            id: id, userID: userID, command: command, expectedSyncVersion: expectedSyncVersion,
            deviceID: deviceID, actor: actor, at: at, deadline: deadline) {
            hints.remember(done.record)
            return (done.record, done.transition)
        }
        // Two otherwise: read, then one statement that writes over the
        // version read (see `TimerRepository+OneStatement`).
        if let done = try await applyingOptimistically(
            id: id, userID: userID, command: command, expectedSyncVersion: expectedSyncVersion,
            deviceID: deviceID, actor: actor, at: at, deadline: deadline) {
            hints.remember(done.record)
            return done
        }
        // Someone changed the timer between the read and the write: take the
        // row lock, so concurrent changes of one timer queue up instead of
        // retrying against each other.
        let done = try await pool.transaction(deadline: deadline) { tx -> (record: TimerRecord, transition: TimerTransition?) in
            let locked = try await tx.execute(TimerSQL.lockTimer, [String(userID), String(id)])
            guard let row = locked.rows.first else { throw Self.timerNotFound }
            var record = try TimerSQL.record(from: row)
            let outcome = try Self.decide(record.state, command, expectedSyncVersion, at, deviceID)
            guard case .applied(let transition) = outcome else { return (record, nil) }
            let before = record.state.syncVersion
            try await Self.writeState(transition.state, userID: userID, timerID: id, over: before, on: tx)
            try await Self.writeSession(transition.session, userID: userID, timerID: id, deviceID: deviceID, on: tx)
            try await Self.audit(
                action: transition.change.rawValue, userID: userID, timerID: id, accountID: record.accountID,
                before: before, after: transition.state.syncVersion, deviceID: deviceID, actor: actor, at: at, on: tx
            )
            record.state = transition.state
            record.deletedAt = transition.state.deletedAt
            return (record, transition)
        }
        hints.remember(done.record)
        return done
    }

    // MARK: - Forgotten timers

    /// The device id auto-pauses are recorded with.
    package static let autoPauseDeviceID = "server:auto-pause"

    /// Pauses every running timer whose session has reached its account's
    /// maximum running time by `now`, each in its own transaction, at the
    /// instant the limit was reached (nothing past it is billed). Returns the
    /// timers paused; at most `limit` per call. `onPaused` hears of each pause
    /// once it has committed, with the transition applied.
    package func autoPauseDue(
        now: Instant, limit: Int = 500, deadline: ContinuousClock.Instant? = nil,
        onPaused: (TimerRecord, TimerTransition) async -> Void = { _, _ in }
    ) async throws -> [TimerRecord] {
        let due = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(TimerSQL.dueForAutoPause, [TimerSQL.text(now), String(limit)])
        }
        var paused: [TimerRecord] = []
        for row in due.rows {
            guard let userID = row[0].flatMap({ Int64($0) }), let id = row[1].flatMap({ Int64($0) }),
                  let maximum = row[2].flatMap({ Int64($0) }) else { continue }
            if let (record, transition) = try await autoPause(id: id, userID: userID, maxRunningSeconds: maximum, now: now, deadline: deadline) {
                paused.append(record)
                await onPaused(record, transition)
            }
        }
        return paused
    }

    /// Auto-pauses one timer if it is still due (it may have been paused or
    /// changed since it was found).
    private func autoPause(id: Int64, userID: Int64, maxRunningSeconds: Int64, now: Instant,
                           deadline: ContinuousClock.Instant?) async throws -> (TimerRecord, TimerTransition)? {
        try await pool.transaction(deadline: deadline) { tx in
            let locked = try await tx.execute(TimerSQL.lockTimer, [String(userID), String(id)])
            guard let row = locked.rows.first else { return nil }
            var record = try TimerSQL.record(from: row)
            guard let transition = record.state.autoPause(maxRunningSeconds: maxRunningSeconds, now: now,
                                                          deviceID: Self.autoPauseDeviceID) else { return nil }
            let before = record.state.syncVersion
            try await Self.writeState(transition.state, userID: userID, timerID: id, over: before, on: tx)
            try await Self.writeSession(transition.session, userID: userID, timerID: id, deviceID: Self.autoPauseDeviceID, on: tx)
            var actor = AuditActor.system
            actor.reason = "auto-pause: running \(maxRunningSeconds) s, the account's maximum"
            try await Self.audit(
                action: transition.change.rawValue, userID: userID, timerID: id, accountID: record.accountID,
                before: before, after: transition.state.syncVersion, deviceID: Self.autoPauseDeviceID, actor: actor, at: now, on: tx
            )
            record.state = transition.state
            return (record, transition)
        }
    }

    // MARK: - Admin

    /// The owner of timer `id` when it is in an account `adminUserID`
    /// administers and not deleted; NOT_FOUND otherwise (a timer outside the
    /// admin's accounts is not theirs to see).
    package func adminOwner(ofTimer id: Int64, adminUserID: Int64, deadline: ContinuousClock.Instant? = nil) async throws -> Int64 {
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(TimerSQL.adminTimerOwner, [String(id), String(adminUserID)])
        }
        guard let owner = result.rows.first?[0].flatMap({ Int64($0) }) else { throw Self.timerNotFound }
        return owner
    }

    /// A page of the active timers in the accounts `adminUserID` administers
    /// (or in `accountID`, which they must administer), oldest first, and all
    /// of the matching ones for the figures.
    package func adminActive(
        adminUserID: Int64, accountID: Int64?, pageSize: Int, after pageToken: String?,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> (page: Page<TimerRecord>, all: [TimerRecord]) {
        try Self.checkPageSize(pageSize)
        let scope = "admin|\(accountID.map(String.init) ?? "")"
        let cursor = try PageToken.decode(pageToken ?? "", scope: scope)
        return try await pool.withConnection(deadline: deadline) { connection in
            if let accountID {
                let check = try await connection.execute(TimerSQL.administers, [String(adminUserID), String(accountID)])
                guard check.rows.first?[0] == "t" else {
                    throw TimerDomainError(code: .notFound, message: "account \(accountID) not found among the accounts you administer",
                                           field: "account_id")
                }
            }
            let pageRows = try await connection.execute(TimerSQL.adminActiveTimers, [
                String(adminUserID), TimerSQL.text(accountID), TimerSQL.text(cursor?.instant), TimerSQL.text(cursor?.id),
                String(pageSize + 1),
            ])
            let allRows = try await connection.execute(TimerSQL.adminActiveTimers, [
                String(adminUserID), TimerSQL.text(accountID), nil, nil, nil,
            ])
            var records: [TimerRecord] = []
            for row in pageRows.rows.prefix(pageSize) { records.append(try TimerSQL.record(from: row)) }
            var all: [TimerRecord] = []
            for row in allRows.rows { all.append(try TimerSQL.record(from: row)) }
            let next = pageRows.rows.count > pageSize ? records.last.map {
                PageToken(instant: $0.createdAt, id: $0.id).encode(scope: scope)
            } : nil
            return (Page(items: records, nextPageToken: next), all)
        }
    }

    // MARK: - Fields

    /// A field UpdateTimer may set: nil leaves it, `.some(nil)` removes a
    /// project or rate, `.some(id)` sets it.
    package typealias FieldChange<Value> = Value??

    /// Changes a timer's description, project or billing rate in one
    /// transaction (row lock, ownership checks, version bump, audit row).
    /// A request that changes nothing writes nothing and returns `applied`
    /// false.
    package func update(
        id: Int64,
        userID: Int64,
        description: String?,
        projectID: FieldChange<Int64>,
        billingRateID: FieldChange<Int64>,
        expectedSyncVersion: Int64?,
        deviceID: String,
        actor: AuditActor,
        at: Instant,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> (record: TimerRecord, applied: Bool) {
        let deviceID = try Validation.deviceID(deviceID)
        let description = try description.map { (text) throws(TimerDomainError) in try Validation.description(text) }
        return try await pool.transaction(deadline: deadline) { tx in
            let locked = try await tx.execute(TimerSQL.lockTimer, [String(userID), String(id)])
            guard let row = locked.rows.first else { throw Self.timerNotFound }
            var record = try TimerSQL.record(from: row)
            guard record.deletedAt == nil else { throw Self.timerNotFound }
            let newDescription = description ?? record.description
            let newProject = projectID ?? record.projectID
            let newRate = billingRateID ?? record.billingRateID
            let changes = newDescription != record.description || newProject != record.projectID || newRate != record.billingRateID
            let outcome: TransitionOutcome
            do {
                outcome = try record.state.handlingUpdate(changesFields: changes, expectedSyncVersion: expectedSyncVersion,
                                                          at: at, deviceID: deviceID)
            } catch let error as TimerDomainError {
                throw error.code == .notFound ? Self.timerNotFound : error
            }
            guard case .applied(let transition) = outcome else { return (record, false) }
            if newProject != record.projectID || newRate != record.billingRateID {
                try await Self.checkOwnership(userID: userID, accountID: record.accountID,
                                              projectID: newProject == record.projectID ? nil : newProject,
                                              billingRateID: newRate == record.billingRateID ? nil : newRate, on: tx)
            }
            let before = record.state.syncVersion
            _ = try await tx.execute(TimerSQL.updateFields, [
                String(userID), String(id), newDescription, TimerSQL.text(newProject), TimerSQL.text(newRate),
            ])
            try await Self.writeState(transition.state, userID: userID, timerID: id, over: before, on: tx)
            try await Self.audit(
                action: transition.change.rawValue, userID: userID, timerID: id, accountID: record.accountID,
                before: before, after: transition.state.syncVersion, deviceID: deviceID, actor: actor, at: at, on: tx
            )
            // Read back: the rate (and its currency) come with the row.
            guard let updated = try await Self.timer(id: id, userID: userID, on: tx) else { throw Self.timerNotFound }
            record = updated
            return (record, true)
        }
    }

    // MARK: - Steps

    static let timerNotFound = TimerDomainError(code: .notFound, message: "timer not found", field: "id")

    /// The domain's decision, with its NOT_FOUND for a deleted timer worded
    /// as for an unknown one.
    static func decide(
        _ state: TimerState, _ command: TimerCommand, _ expected: Int64?, _ at: Instant, _ deviceID: String
    ) throws(TimerDomainError) -> TransitionOutcome {
        do {
            return try state.handling(command, expectedSyncVersion: expected, at: at, deviceID: deviceID)
        } catch {
            throw error.code == .notFound ? timerNotFound : error
        }
    }

    private static func checkPageSize(_ pageSize: Int) throws(TimerDomainError) {
        guard (1...maximumPageSize).contains(pageSize) else {
            throw TimerDomainError(
                code: .invalidArgument,
                message: "page_size must be 1 to \(maximumPageSize), got \(pageSize)",
                field: "page_size"
            )
        }
    }

    /// One of the user's timers by id, deleted ones included; nil when the
    /// user has none.
    static func timer(id: Int64, userID: Int64, on connection: PooledConnection) async throws -> TimerRecord? {
        let result = try await connection.execute(TimerSQL.timerByID, [String(userID), String(id)])
        guard let row = result.rows.first else { return nil }
        return try TimerSQL.record(from: row)
    }

    /// The user's timer created with `clientRef`, deleted ones included.
    static func timer(byClientRef clientRef: String, userID: Int64, on connection: PooledConnection) async throws -> TimerRecord? {
        let result = try await connection.execute(TimerSQL.timerByClientRef, [String(userID), clientRef])
        guard let row = result.rows.first else { return nil }
        return try TimerSQL.record(from: row)
    }

    /// Refuses an account the user is not a member of, and a project or rate
    /// outside that account or archived.
    static func checkOwnership(
        userID: Int64, accountID: Int64, projectID: Int64?, billingRateID: Int64?, on connection: PooledConnection
    ) async throws {
        let result = try await connection.execute(TimerSQL.checkCreate, [
            String(userID), String(accountID), TimerSQL.text(projectID), TimerSQL.text(billingRateID),
        ])
        let row = result.rows.first ?? []
        guard row.count == 3, row[0] == "t" else {
            throw TimerDomainError(code: .notFound, message: "account \(accountID) not found", field: "account_id")
        }
        try check(projectID, state: row[1], field: "project_id", noun: "project")
        try check(billingRateID, state: row[2], field: "billing_rate_id", noun: "billing rate")
    }

    private static func check(_ id: Int64?, state: String?, field: String, noun: String) throws(TimerDomainError) {
        guard let id else { return }
        switch state {
        case "ok":
            return
        case "archived":
            throw TimerDomainError(code: .failedPrecondition, message: "\(noun) \(id) is archived", field: field)
        default:
            throw TimerDomainError(code: .notFound, message: "\(noun) \(id) not found in the account", field: field)
        }
    }

    /// Writes `state` over the row read at `version` (which the row lock
    /// keeps current).
    static func writeState(
        _ state: TimerState, userID: Int64, timerID: Int64, over version: Int64, on tx: PooledConnection
    ) async throws {
        let result = try await tx.execute(TimerSQL.updateState, [
            String(userID), String(timerID), state.status.rawValue, TimerSQL.text(state.startedAt),
            TimerSQL.text(state.pausedAt), TimerSQL.text(state.stoppedAt), TimerSQL.text(state.currentSessionStartedAt),
            String(state.closedSeconds), TimerSQL.text(state.lastUpdated), TimerSQL.device(state.deviceID),
            String(state.syncVersion), TimerSQL.text(state.deletedAt), String(version),
        ])
        guard result.affectedRows == 1 else {
            // The row is locked, so its version cannot have moved.
            throw TimerDomainError(
                code: .inconsistentState,
                message: "timer \(timerID) changed under its row lock (version \(version))"
            )
        }
    }

    /// Opens or closes the session row a transition implies.
    static func writeSession(
        _ change: SessionChange, userID: Int64, timerID: Int64, deviceID: String, on tx: PooledConnection
    ) async throws {
        switch change {
        case .none:
            return
        case .open(let startedAt):
            _ = try await tx.execute(TimerSQL.openSession, [
                String(userID), String(timerID), TimerSQL.text(startedAt), TimerSQL.device(deviceID),
            ])
        case .close(let startedAt, let endedAt, let seconds):
            let result = try await tx.execute(TimerSQL.closeSession, [
                String(userID), String(timerID), TimerSQL.text(startedAt), TimerSQL.text(endedAt), String(seconds),
            ])
            guard result.affectedRows == 1 else {
                throw TimerDomainError(
                    code: .inconsistentState,
                    message: "timer \(timerID) is running but has no open session starting at \(startedAt)"
                )
            }
        }
    }

    private static func audit(
        action: String, userID: Int64, timerID: Int64, accountID: Int64, before: Int64?, after: Int64,
        deviceID: String, actor: AuditActor, at: Instant, on tx: PooledConnection
    ) async throws {
        _ = try await tx.execute(TimerSQL.insertAudit, [
            String(userID), TimerSQL.text(actor.userID), TimerSQL.text(actor.tokenID), action, String(timerID),
            String(accountID), TimerSQL.text(before), String(after), TimerSQL.requestID(actor.requestID),
            TimerSQL.device(deviceID), TimerSQL.text(at), actor.reason,
        ])
    }
}
