import Codec
import Logging
import RPC
import Storage
import TimerDomain

/// `servicevault.timer.v1.TimerService` on PostgreSQL and Redis: each call
/// authenticates its token, checks the ability it needs, validates its
/// input, and reads or changes the user's timers through the repository
/// (one transaction, usually one statement, for a change); each committed
/// change is then published to the live half (`LiveTimers`).
///
/// Here: CreateTimer, GetTimer, ListTimers, GetActiveTimers, PauseTimer,
/// ResumeTimer, StopTimer, UpdateTimer, DeleteTimer, BulkTimers,
/// ListTimerSessions and the admin calls (AdminListActiveTimers,
/// AdminPause/Resume/StopTimer: `timers:admin`, over the accounts the caller
/// administers). SyncTimers is in `+Sync.swift`, WatchTimers in
/// `+Watch.swift`, GetSystemHealth in `+Health.swift`.
public final class TimerServiceImplementation: TimerServiceProvider, Sendable {
    let timers: TimerRepository
    let authenticator: Authenticator
    let clock: any WallClock
    /// The live half: Redis state, events, watchers, sync limits.
    package let live: LiveTimers
    /// Server time per call, for GetSystemHealth.
    let responseTimes = ResponseTimes()
    /// Syncs, conflicts, refusals, auto-pauses.
    let metrics: ServiceMetrics
    /// One line per call (`+CallLog.swift`).
    let logger: Logger

    /// A service over `pool` (migrated), with the server's `clock`, and
    /// `live` for the live half (nil: no Redis; events reach this instance's
    /// watchers only); its metrics go to `metrics`, its call lines to `logger`.
    package init(pool: PostgresPool, live: LiveTimers? = nil, clock: any WallClock = SystemWallClock(),
                 metrics: ServiceMetrics = ServiceMetrics(), logger: Logger = Logger(label: "timerd.rpc")) {
        self.metrics = metrics
        self.logger = logger
        self.timers = TimerRepository(pool: pool)
        self.authenticator = Authenticator(tokens: TokenRepository(pool: pool))
        self.clock = clock
        self.live = live ?? LiveTimers(store: nil, subscriber: nil, timers: TimerRepository(pool: pool), clock: clock)
    }

    // MARK: Calls

    public func createTimer(_ request: CreateTimerRequest, context: ServerContext) async throws -> CreateTimerResponse {
        try await serve(context, .write, "CreateTimer") { principal, now in
            let accountID = try Validation.id(request.accountID, field: "account_id")
            let projectID = try Validation.optionalID(request.projectID, field: "project_id")
            let rateID = try Validation.optionalID(request.billingRateID, field: "billing_rate_id")
            let (record, created) = try await timers.create(
                userID: principal.userID, accountID: accountID, projectID: projectID, billingRateID: rateID,
                description: request.description, clientRef: request.clientRef.isEmpty ? nil : request.clientRef,
                deviceID: request.deviceID, start: request.start ?? true,
                actor: actor(principal, context), at: now, deadline: context.deadline)
            var response = CreateTimerResponse()
            response.timer = try wire(record, at: now)
            let meta = try await meta(for: principal, context, at: now, after: created ? record : nil)
            response.meta = meta
            response.created = created
            if created {
                await published(record, change: record.state.status == .running ? .started : .updated,
                                cause: .unspecified, meta: meta, at: now)
            }
            return response
        }
    }

    public func getTimer(_ request: GetTimerRequest, context: ServerContext) async throws -> GetTimerResponse {
        try await serve(context, .read, "GetTimer") { principal, now in
            let id = try Validation.id(request.id)
            // The figures need the active timers anyway; an active timer is
            // among them. Redis holds the others changed within its TTL.
            let active = try await activeRecords(principal, context)
            let record: TimerRecord
            if let known = active.first(where: { $0.id == id }) {
                record = known
            } else if let live = await live.record(user: principal.userID, timer: id) {
                record = live
            } else {
                record = try await timers.get(id: id, userID: principal.userID, deadline: context.deadline)
            }
            var response = GetTimerResponse()
            response.timer = try wire(record, at: now)
            response.meta = Meta(try domainMeta(active, at: now))
            return response
        }
    }

    public func listTimers(_ request: ListTimersRequest, context: ServerContext) async throws -> ListTimersResponse {
        try await serve(context, .read, "ListTimers") { principal, now in
            var statuses = Set<TimerState.Status>()
            for status in request.statuses {
                guard let known = TimerState.Status(wire: status) else {
                    throw RPCError(code: .invalidArgument, message: "statuses holds \(status.rawValue), which is not RUNNING, PAUSED or STOPPED")
                }
                statuses.insert(known)
            }
            let filter = TimerFilter(
                statuses: statuses,
                accountID: try Validation.optionalID(request.accountID, field: "account_id"),
                projectID: try Validation.optionalID(request.projectID, field: "project_id"),
                createdAfter: try request.createdAfter.map { (t) throws(RPCError) in try Instant(t, field: "created_after") },
                createdBefore: try request.createdBefore.map { (t) throws(RPCError) in try Instant(t, field: "created_before") })
            let pageSize = try Validation.pageSize(request.pageSize, .timers)
            let page = try await timers.list(userID: principal.userID, filter: filter, pageSize: pageSize,
                                             after: request.pageToken.isEmpty ? nil : request.pageToken, deadline: context.deadline)
            var response = ListTimersResponse()
            response.timers = try page.items.map { (record) throws(RPCError) in try wire(record, at: now) }
            response.nextPageToken = page.nextPageToken ?? ""
            response.meta = try await meta(for: principal, context, at: now)
            return response
        }
    }

    public func getActiveTimers(_ request: GetActiveTimersRequest, context: ServerContext) async throws -> GetActiveTimersResponse {
        try await serve(context, .read, "GetActiveTimers") { principal, now in
            let accountID = try Validation.optionalID(request.accountID, field: "account_id")
            let records = try await activeRecords(principal, context).filter { accountID == nil || $0.accountID == accountID }
            var response = GetActiveTimersResponse()
            response.timers = try records.map { (record) throws(RPCError) in try wire(record, at: now) }
            response.meta = Meta(try domainMeta(records, at: now))
            return response
        }
    }

    public func pauseTimer(_ request: PauseTimerRequest, context: ServerContext) async throws -> PauseTimerResponse {
        let (timer, meta) = try await transition(.pause, "PauseTimer", request.id, request.expectedSyncVersion, request.deviceID, context)
        var response = PauseTimerResponse()
        response.timer = timer
        response.meta = meta
        return response
    }

    public func resumeTimer(_ request: ResumeTimerRequest, context: ServerContext) async throws -> ResumeTimerResponse {
        let (timer, meta) = try await transition(.resume, "ResumeTimer", request.id, request.expectedSyncVersion, request.deviceID, context)
        var response = ResumeTimerResponse()
        response.timer = timer
        response.meta = meta
        return response
    }

    public func stopTimer(_ request: StopTimerRequest, context: ServerContext) async throws -> StopTimerResponse {
        let (timer, meta) = try await transition(.stop, "StopTimer", request.id, request.expectedSyncVersion, request.deviceID, context)
        var response = StopTimerResponse()
        response.timer = timer
        response.meta = meta
        return response
    }

    public func deleteTimer(_ request: DeleteTimerRequest, context: ServerContext) async throws -> DeleteTimerResponse {
        let (timer, meta) = try await transition(.delete, "DeleteTimer", request.id, request.expectedSyncVersion, request.deviceID, context,
                                                 ability: .delete)
        var response = DeleteTimerResponse()
        response.timer = timer
        response.meta = meta
        return response
    }

    public func updateTimer(_ request: UpdateTimerRequest, context: ServerContext) async throws -> UpdateTimerResponse {
        try await serve(context, .write, "UpdateTimer") { principal, now in
            /// 0 removes a project or rate; another value must be a valid id.
            func change(_ value: Int64?, field: String) throws(TimerDomainError) -> Int64?? {
                guard let value else { return nil }
                return value == 0 ? .some(nil) : .some(try Validation.id(value, field: field))
            }
            let (record, changed) = try await timers.update(
                id: try Validation.id(request.id), userID: principal.userID, description: request.description,
                projectID: try change(request.projectID, field: "project_id"),
                billingRateID: try change(request.billingRateID, field: "billing_rate_id"),
                expectedSyncVersion: request.expectedSyncVersion, deviceID: request.deviceID,
                actor: actor(principal, context), at: now, deadline: context.deadline)
            var response = UpdateTimerResponse()
            response.timer = try wire(record, at: now)
            let meta = try await meta(for: principal, context, at: now, after: changed ? record : nil)
            response.meta = meta
            if changed { await published(record, change: .updated, cause: .unspecified, meta: meta, at: now) }
            return response
        }
    }

    public func bulkTimers(_ request: BulkTimersRequest, context: ServerContext) async throws -> BulkTimersResponse {
        let command: TimerCommand?
        let ability: Ability
        switch request.action {
        case .stop: (command, ability) = (.stop, .write)
        case .pause: (command, ability) = (.pause, .write)
        case .resume: (command, ability) = (.resume, .write)
        case .delete: (command, ability) = (.delete, .delete)
        case .unspecified, .unrecognized: (command, ability) = (nil, .write)
        }
        return try await serve(context, ability, "BulkTimers") { principal, now in
            // After authentication: an unauthenticated caller learns nothing.
            guard let command else {
                throw RPCError(code: .invalidArgument, message: "action must be STOP, PAUSE, RESUME or DELETE, got \(request.action.rawValue)")
            }
            let ids: [Int64]
            switch try Validation.bulkTargets(ids: request.ids, allActive: request.allActive) {
            case .ids(let given): ids = given
            case .allActive: ids = try await activeRecords(principal, context).map(\.id)
            }
            _ = try Validation.deviceID(request.deviceID)
            var response = BulkTimersResponse()
            response.results.reserveCapacity(ids.count)
            var changes: [(TimerRecord, TimerTransition)] = []
            // One transaction per timer: each succeeds or fails on its own.
            for id in ids {
                var result = BulkResult()
                result.id = id
                var status = ItemStatus()
                do {
                    let (record, transition) = try await timers.applying(
                        id: id, userID: principal.userID, command: command, expectedSyncVersion: nil,
                        deviceID: request.deviceID, actor: actor(principal, context), at: now, deadline: context.deadline)
                    result.timer = try wire(record, at: now)
                    if let transition { changes.append((record, transition)) }
                } catch {
                    let failure = Self.status(for: error)
                    // A whole-call failure (database down, deadline) ends the call.
                    guard [.invalidArgument, .notFound, .failedPrecondition, .aborted].contains(failure.code) else { throw failure }
                    status.code = Int32(failure.code.rawValue)
                    status.message = failure.message
                    if failure.code != .notFound {
                        result.timer = try? wire(try await timers.get(id: id, userID: principal.userID, deadline: context.deadline), at: now)
                    }
                }
                result.status = status
                response.results.append(result)
            }
            // Read after every change committed: PostgreSQL, not the cache.
            let meta = Meta(try domainMeta(try await timers.active(userID: principal.userID, deadline: context.deadline), at: now))
            response.meta = meta
            for (record, transition) in changes {
                await published(record, change: transition.change, cause: .unspecified, meta: meta, session: transition.session, at: now)
            }
            return response
        }
    }

    public func adminListActiveTimers(_ request: AdminListActiveTimersRequest, context: ServerContext) async throws -> AdminListActiveTimersResponse {
        try await serve(context, .admin, "AdminListActiveTimers") { principal, now in
            let accountID = try Validation.optionalID(request.accountID, field: "account_id")
            let pageSize = try Validation.pageSize(request.pageSize, .timers)
            let (page, all) = try await timers.adminActive(
                adminUserID: principal.userID, accountID: accountID, pageSize: pageSize,
                after: request.pageToken.isEmpty ? nil : request.pageToken, deadline: context.deadline)
            var response = AdminListActiveTimersResponse()
            response.timers = try page.items.map { (record) throws(RPCError) in try wire(record, at: now) }
            response.meta = Meta(try domainMeta(all, at: now))
            response.nextPageToken = page.nextPageToken ?? ""
            return response
        }
    }

    public func adminPauseTimer(_ request: AdminPauseTimerRequest, context: ServerContext) async throws -> AdminPauseTimerResponse {
        var response = AdminPauseTimerResponse()
        response.timer = try await adminTransition(.pause, "AdminPauseTimer", request.id, request.reason, context)
        return response
    }

    public func adminResumeTimer(_ request: AdminResumeTimerRequest, context: ServerContext) async throws -> AdminResumeTimerResponse {
        var response = AdminResumeTimerResponse()
        response.timer = try await adminTransition(.resume, "AdminResumeTimer", request.id, request.reason, context)
        return response
    }

    public func adminStopTimer(_ request: AdminStopTimerRequest, context: ServerContext) async throws -> AdminStopTimerResponse {
        var response = AdminStopTimerResponse()
        response.timer = try await adminTransition(.stop, "AdminStopTimer", request.id, request.reason, context)
        return response
    }

    /// An admin's transition of a timer in an account they administer; the
    /// audit row names the admin and the reason, the timer stays its owner's.
    private func adminTransition(
        _ command: TimerCommand, _ method: String, _ id: Int64, _ reason: String, _ context: ServerContext
    ) async throws -> VaultTimer {
        try await serve(context, .admin, method) { principal, now in
            let id = try Validation.id(id)
            let reason = try Validation.reason(reason)
            let owner = try await timers.adminOwner(ofTimer: id, adminUserID: principal.userID, deadline: context.deadline)
            var actor = actor(principal, context)
            actor.reason = reason.isEmpty ? nil : reason
            let (record, transition) = try await timers.applying(
                id: id, userID: owner, command: command, expectedSyncVersion: nil, deviceID: "",
                actor: actor, at: now, deadline: context.deadline)
            if let transition {
                let meta = Meta(try domainMeta(try await timers.active(userID: owner, deadline: context.deadline), at: now))
                await published(record, change: transition.change, cause: .admin, meta: meta, session: transition.session, at: now)
            }
            return try wire(record, at: now)
        }
    }

    public func listTimerSessions(_ request: ListTimerSessionsRequest, context: ServerContext) async throws -> ListTimerSessionsResponse {
        try await serve(context, .read, "ListTimerSessions") { principal, now in
            let id = try Validation.id(request.id)
            let pageSize = try Validation.pageSize(request.pageSize, .sessions)
            let page = try await timers.sessions(timerID: id, userID: principal.userID, pageSize: pageSize,
                                                 after: request.pageToken.isEmpty ? nil : request.pageToken, deadline: context.deadline)
            var response = ListTimerSessionsResponse()
            response.sessions = page.items.map { record in
                var session = TimerSession()
                session.id = record.id
                session.timerID = record.timerID
                session.startedAt = Timestamp(record.interval.startedAt)
                session.endedAt = record.interval.endedAt.map(Timestamp.init)
                // An open session's duration is as of now.
                session.duration = record.interval.endedAt == nil
                    ? Instant.wholeSeconds(from: record.interval.startedAt, to: now) : record.durationSeconds
                session.deviceID = record.deviceID
                return session
            }
            response.nextPageToken = page.nextPageToken ?? ""
            return response
        }
    }

    // MARK: Shared steps

    /// Runs a unary call: authenticates, checks `ability`, and runs `body` at
    /// the server's now; any error becomes the status it stands for. The
    /// call gets its request id and its log line (``logged(_:_:_:)``).
    func serve<Response>(
        _ context: ServerContext, _ ability: Ability, _ method: String,
        _ body: (Principal, Instant) async throws -> Response
    ) async throws -> Response {
        try await logged(context, method) { call in
            try await authorized(context, ability, method, call, body)
        }
    }

    /// Authenticates (the user goes into `call`'s line), checks `ability`,
    /// and runs `body` at the server's now; its time counts in the average
    /// response time.
    func authorized<Response>(
        _ context: ServerContext, _ ability: Ability, _ method: String, _ call: CallLog,
        _ body: (Principal, Instant) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        defer { responseTimes.record(ContinuousClock.now - started) }
        let principal = try await authenticator.principal(for: context)
        call.userID = principal.userID
        try principal.require(ability, for: method)
        return try await body(principal, clock.now)
    }

    func transition(
        _ command: TimerCommand, _ method: String, _ id: Int64, _ expectedSyncVersion: Int64?, _ deviceID: String,
        _ context: ServerContext, ability: Ability = .write
    ) async throws -> (VaultTimer, Meta) {
        try await serve(context, ability, method) { principal, now in
            let (record, transition) = try await timers.applying(
                id: try Validation.id(id), userID: principal.userID, command: command,
                expectedSyncVersion: expectedSyncVersion, deviceID: deviceID,
                actor: actor(principal, context), at: now, deadline: context.deadline)
            let meta = try await meta(for: principal, context, at: now, after: transition == nil ? nil : record)
            if let transition {
                await published(record, change: transition.change, cause: .unspecified, meta: meta, session: transition.session, at: now)
            }
            return (try wire(record, at: now), meta)
        }
    }

    /// Who made a change, for its audit row: the user, the token, and the
    /// call's request id (the one its log lines carry).
    func actor(_ principal: Principal, _ context: ServerContext) -> AuditActor {
        AuditActor(userID: principal.userID, tokenID: principal.tokenID, requestID: requestID(context))
    }

    func wire(_ record: TimerRecord, at now: Instant) throws(RPCError) -> VaultTimer {
        try VaultTimer(record, at: now)
    }

    func domainMeta(_ records: [TimerRecord], at now: Instant) throws(RPCError) -> TimerMeta {
        do {
            return try TimerMeta(items: records.map { TimerMeta.Item(state: $0.state, rate: $0.rate) }, at: now)
        } catch {
            throw RPCError(domain: error)
        }
    }

    /// The user's active timers summed up, as every timer response carries.
    func meta(for principal: Principal, _ context: ServerContext, at now: Instant, after change: TimerRecord? = nil) async throws -> Meta {
        var records = try await activeRecords(principal, context)
        if let change {
            // The cache may not hold the change yet: count it as committed.
            records.removeAll { $0.id == change.id }
            if change.state.isActive && change.deletedAt == nil { records.append(change) }
        }
        return Meta(try domainMeta(records, at: now))
    }

    /// The user's active timers: from Redis when it is trusted, else from
    /// PostgreSQL.
    func activeRecords(_ principal: Principal, _ context: ServerContext) async throws -> [TimerRecord] {
        if let cached = await live.activeRecords(user: principal.userID) {
            // PostgreSQL's order: by creation, then id.
            return cached.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
        return try await timers.active(userID: principal.userID, deadline: context.deadline)
    }

    /// The status an error stands for. Database failures say what kind of
    /// failure, never the SQL or data.
    static func status(for error: any Error) -> RPCError {
        switch error {
        case let error as RPCError:
            return error
        case let error as TimerDomainError:
            return RPCError(domain: error)
        case let error as StorageError:
            switch error.code {
            case .unavailable, .connectionFailed, .connectionLost:
                return RPCError(code: .unavailable, message: "the database is unavailable; retry later")
            case .timedOut:
                return RPCError(code: .deadlineExceeded, message: "the database did not answer within the call's deadline")
            case .cancelled:
                return RPCError(code: .cancelled, message: "the call was cancelled")
            default:
                return RPCError(code: .internalError, message: "a database error occurred")
            }
        case is CancellationError:
            return RPCError(code: .cancelled, message: "the call was cancelled")
        default:
            return RPCError(code: .internalError, message: "the server failed")
        }
    }
}
