import Codec
import RPC
import Storage
import TimerDomain

/// SyncTimers: a device's offline timers reconciled with the server's, one
/// transaction per device timer (`TimerRepository.sync`, decided by
/// `SyncReconciliation`).
extension TimerServiceImplementation {
    /// Most device timers one SyncTimers call may carry.
    static let maximumSyncTimers = 500
    /// Most offline transitions one device timer may carry.
    static let maximumSyncTransitions = 500

    /// Ability `timers:sync`. In order:
    ///
    /// 1. authenticates, then admits the call under the user's sync rate
    ///    limit (`admitSync`, RESOURCE_EXHAUSTED beyond it);
    /// 2. checks the whole request — `device_id` 1 to 200 characters, at
    ///    most 500 timers, each well formed (INVALID_ARGUMENT naming the
    ///    field and its index, e.g. `timers[3].client_ref`); nothing is
    ///    written for a malformed request;
    /// 3. reconciles each device timer in request order, each in its own
    ///    transaction: an item the server cannot apply is REJECTED in its
    ///    result with the status it would have failed with alone, and the
    ///    others go on; a database failure or the deadline ends the call
    ///    (UNAVAILABLE, DEADLINE_EXCEEDED), with the items before it kept;
    /// 4. answers one result per device timer, the conflicts, the active
    ///    timers and those changed since `last_sync` that the device did not
    ///    mention, the meta after the sync and the device's clock skew;
    /// 5. publishes every change written (cause SYNC), in order, with that
    ///    meta, and records the user's sync time.
    ///
    /// A re-sent identical sync writes nothing and answers the same results.
    public func syncTimers(_ request: SyncTimersRequest, context: ServerContext) async throws -> SyncTimersResponse {
        try await serve(context, .sync, "SyncTimers") { principal, now in
            try await admitSync(principal)
            let deviceID = try Validation.deviceID(request.deviceID, required: true)
            let items = try Self.syncItems(request.timers)
            let lastSync = try request.lastSync.map { (t) throws(RPCError) in try Instant(t, field: "last_sync") }
            let deviceTime = try request.deviceTime.map { (t) throws(RPCError) in try Instant(t, field: "device_time") }
            let actor = actor(principal, context)

            var outcomes: [SyncItemOutcome] = []
            outcomes.reserveCapacity(items.count)
            for item in items {
                outcomes.append(try await timers.sync(
                    item, userID: principal.userID, deviceID: deviceID, actor: actor, at: now, deadline: context.deadline))
            }
            let known = try await timers.syncServerTimers(userID: principal.userID, changedSince: lastSync, deadline: context.deadline)
            let meta = Meta(try domainMeta(known, at: now))

            var response = SyncTimersResponse()
            var mentioned = Set<Int64>()
            response.results.reserveCapacity(items.count)
            for (index, outcome) in outcomes.enumerated() {
                let sent = request.timers[index]
                if let id = sent.id { mentioned.insert(id) }
                var result = SyncResult()
                result.index = Int32(index)
                result.clientRef = sent.clientRef
                result.resolution = SyncResolution(outcome.resolution)
                var status = ItemStatus()
                if let error = outcome.error {
                    status.code = error.code.grpcStatusCode
                    status.message = error.message
                }
                result.status = status
                if let record = outcome.record {
                    mentioned.insert(record.id)
                    result.timer = try wire(record, at: now)
                    if let conflict = outcome.conflict {
                        metrics.conflict(conflict.kind)
                        response.conflicts.append(Conflict(conflict, timerID: record.id, clientRef: sent.clientRef))
                    }
                }
                response.results.append(result)
            }
            for record in known where !mentioned.contains(record.id) {
                response.serverTimers.append(try wire(record, at: now))
            }
            response.meta = meta
            response.clockSkewSeconds = deviceTime.map { DeviceTime.clockSkewSeconds(deviceTime: $0, serverNow: now) } ?? 0

            for outcome in outcomes {
                for applied in outcome.applied {
                    await published(applied.record, change: applied.change, cause: .sync, meta: meta, at: now)
                }
            }
            await recordSync(principal, at: now)
            metrics.syncs.increment()
            metrics.syncItems.increment(by: Int64(items.count))
            return response
        }
    }

    // MARK: Request checks

    /// The request's device timers as the repository takes them, or
    /// INVALID_ARGUMENT naming the first bad field with its index.
    static func syncItems(_ timers: [DeviceTimer]) throws -> [SyncItem] {
        guard timers.count <= maximumSyncTimers else {
            throw invalid("timers must hold at most \(maximumSyncTimers) device timers, got \(timers.count)")
        }
        var items: [SyncItem] = []
        items.reserveCapacity(timers.count)
        var positionOfID: [Int64: Int] = [:]
        var positionOfRef: [String: Int] = [:]
        for (index, timer) in timers.enumerated() {
            let path = "timers[\(index)]"
            let item = try syncItem(timer, path: path)
            if let id = item.device.id {
                if let first = positionOfID.updateValue(index, forKey: id) {
                    throw invalid("\(path).id repeats timers[\(first)].id (\(id)): a timer may appear once per sync")
                }
            }
            if let ref = item.device.clientRef {
                if let first = positionOfRef.updateValue(index, forKey: ref) {
                    throw invalid("\(path).client_ref repeats timers[\(first)].client_ref: a timer may appear once per sync")
                }
            }
            items.append(item)
        }
        return items
    }

    /// One device timer, checked; `path` names it in messages.
    private static func syncItem(_ timer: DeviceTimer, path: String) throws -> SyncItem {
        let id = try Validation.optionalID(timer.id, field: "\(path).id")
        let clientRef = try Validation.clientRef(timer.clientRef, required: id == nil, field: "\(path).client_ref")
        guard let status = TimerState.Status(wire: timer.status) else {
            throw invalid("\(path).status must be RUNNING, PAUSED or STOPPED, got \(timer.status.rawValue)")
        }
        if id != nil, timer.syncVersion < 1 {
            throw invalid("\(path).sync_version must be at least 1 for a timer with an id, got \(timer.syncVersion)")
        }
        if id == nil, timer.syncVersion != 0 {
            throw invalid("\(path).sync_version must be 0 for a timer created offline (no id), got \(timer.syncVersion)")
        }
        guard timer.transitions.count <= maximumSyncTransitions else {
            throw invalid("\(path).transitions must hold at most \(maximumSyncTransitions) transitions, got \(timer.transitions.count)")
        }
        var transitions: [SyncDeviceTransition] = []
        transitions.reserveCapacity(timer.transitions.count)
        for (position, transition) in timer.transitions.enumerated() {
            let field = "\(path).transitions[\(position)]"
            let action: SyncDeviceTransition.Action
            switch transition.action {
            case .pause: action = .pause
            case .resume: action = .resume
            case .stop: action = .stop
            case .unspecified, .unrecognized:
                throw invalid("\(field).action must be PAUSE, RESUME or STOP, got \(transition.action.rawValue)")
            }
            guard let at = transition.at else { throw invalid("\(field).at is required") }
            transitions.append(SyncDeviceTransition(action, at: try Instant(at, field: "\(field).at")))
        }
        let startedAt = try timer.startedAt.map { (t) throws(RPCError) in try Instant(t, field: "\(path).started_at") }
        let lastUpdated = try timer.lastUpdated.map { (t) throws(RPCError) in try Instant(t, field: "\(path).last_updated") }
        var creation: SyncCreateFields?
        if id == nil {
            creation = SyncCreateFields(
                accountID: try Validation.id(timer.accountID, field: "\(path).account_id"),
                projectID: try Validation.optionalID(timer.projectID, field: "\(path).project_id"),
                billingRateID: try Validation.optionalID(timer.billingRateID, field: "\(path).billing_rate_id"),
                description: try Validation.description(timer.description, field: "\(path).description")
            )
        }
        let device = SyncDeviceTimer(
            id: id, clientRef: clientRef, status: status, startedAt: startedAt, lastUpdated: lastUpdated,
            syncVersion: timer.syncVersion, transitions: transitions
        )
        return SyncItem(device: device, creation: creation)
    }

    private static func invalid(_ message: String) -> RPCError {
        RPCError(code: .invalidArgument, message: message)
    }
}

extension SyncResolution {
    /// The wire resolution of a domain one.
    init(_ resolution: SyncDecision.Resolution) {
        switch resolution {
        case .createOnServer: self = .createOnServer
        case .updateServer: self = .updateServer
        case .updateClient: self = .updateClient
        case .inSync: self = .inSync
        case .rejected: self = .rejected
        }
    }
}

extension Conflict {
    /// The wire conflict of a domain one about timer `timerID`, echoing the
    /// device's `clientRef`. Always settled by the server winning.
    init(_ conflict: SyncConflict, timerID: Int64, clientRef: String) {
        self.init()
        self.timerID = timerID
        self.clientRef = clientRef
        conflictType = switch conflict.kind {
        case .statusMismatch: .statusMismatch
        case .concurrentChange: .concurrentChange
        case .deletedOnServer: .deletedOnServer
        }
        localStatus = conflict.localStatus.wire
        serverStatus = conflict.serverStatus.wire
        resolution = .serverWins
        localSyncVersion = conflict.localSyncVersion
        serverSyncVersion = conflict.serverSyncVersion
    }
}
