/// SyncTimers' reconciliation of one device timer against the server's
/// state: pure, the server's now passed in.
///
/// ## The rules
///
/// **Unknown to the server** (no `id`, and no timer holds its `client_ref`):
/// `create`, resolution CREATE_ON_SERVER. The device's transitions describe
/// what happened offline since it created the timer:
/// - it is created running unless its first transition is a resume (a
///   first stop, or no transitions at all, start it running only when the
///   device gives a `started_at` or, without transitions, says RUNNING);
/// - at its start (`started_at`, else the first transition's time, else the
///   device's `last_updated`, else now), clamped into
///   `[now − maximumOfflineSeconds, now]`: never in the server's future, and
///   never more than 30 days back (there is no "last known change" to bound a
///   timer the server never saw, and a device clock years off must not bill a
///   year);
/// - then its transitions are applied in order, as below; it must end in
///   the device's status.
/// `created_at` and `last_updated` are the server's now; only the timeline
/// (started_at, sessions, paused_at, stopped_at) follows the device.
///
/// **Known to the server** (by `id`, or by `client_ref` for a timer an
/// earlier sync created; the device's version is then taken as 1, the
/// created version):
/// - device version ahead of the server's: REJECTED, INVALID_ARGUMENT;
/// - the server's changes since the device's version that this device's
///   transitions already made (same action, device, device time, by sync:
///   a re-sent sync whose first copy was applied) are recognised, never
///   applied twice; the rest of the transitions are "new";
/// - deleted on the server: UPDATE_CLIENT, with a DELETED_ON_SERVER
///   conflict when the device changed it;
/// - otherwise, when the server holds no change but the device's: new
///   transitions are applied (UPDATE_SERVER; CREATE_ON_SERVER when found by
///   `client_ref`) and must end in the device's status; without new ones,
///   a re-sent sync answers what its first copy did, an untouched timer is
///   IN_SYNC when the statuses agree and UPDATE_CLIENT with a STATUS_MISMATCH
///   conflict when they do not (the device claims a state it gives no
///   transitions for);
/// - when the server changed since the device's version: UPDATE_CLIENT; if
///   the device has new transitions, a conflict, STATUS_MISMATCH when the
///   end states differ, CONCURRENT_CHANGE when they agree. Server wins.
///
/// **Applying transitions.** Each must be allowed by the state machine from
/// the state the previous one left (else REJECTED, FAILED_PRECONDITION,
/// naming the transition, and nothing at all is applied). Each takes effect
/// at its device time clamped with `DeviceTime.clamp` into
/// `[floor, now]`, where the floor is the timer's last known change (its
/// `last_updated`; for a new timer, its clamped start) and then the previous
/// transition's effective instant: device times in the server's future,
/// before the last change, or out of order, never make a session end before
/// it began or overlap another, so no duration is ever negative. Each is
/// recorded at `now` and bumps the version by one.
///
/// The server keeps versions, not past states: it cannot tell which status
/// a device behind it had at the device's version. So a device behind the
/// server without transitions is taken as unchanged (UPDATE_CLIENT, no
/// conflict); only on the server's own version does a status without
/// transitions count as a change (UPDATE_CLIENT with STATUS_MISMATCH).
package enum SyncReconciliation {
    /// How far back a timer created offline may start: 30 days before the
    /// server's now.
    package static let maximumOfflineSeconds: Int64 = 30 * 86_400

    /// The version the device's transitions are based on: its `syncVersion`,
    /// or 1 (the created version) for a device timer without an id that an
    /// earlier sync created by its `client_ref`.
    package static func baseVersion(of device: SyncDeviceTimer) -> Int64 {
        device.id == nil ? 1 : device.syncVersion
    }

    /// The versions whose recorded changes `reconcile` needs in
    /// `SyncServerTimer.history`, or nil when it needs none: only when the
    /// server is ahead of the device's base version by at most as many
    /// changes as the device sent transitions (more changes than that cannot
    /// all be the device's own).
    package static func historyVersions(for device: SyncDeviceTimer, serverVersion: Int64) -> ClosedRange<Int64>? {
        let base = baseVersion(of: device)
        let ahead = serverVersion - base
        guard ahead >= 1, ahead <= Int64(device.transitions.count) else { return nil }
        return (base + 1)...serverVersion
    }

    /// Decides how `device` is reconciled with `server` (nil when no timer
    /// has its id or client_ref among the user's), for the device named
    /// `deviceID`, at the server's `now`. See the rules above.
    package static func reconcile(
        _ device: SyncDeviceTimer, server: SyncServerTimer?, deviceID: String, now: Instant
    ) -> SyncDecision {
        guard let server else {
            guard device.id == nil else {
                return .rejected(TimerDomainError(code: .notFound, message: "timer not found", field: "id"))
            }
            return create(device, deviceID: deviceID, now: now)
        }
        return reconcileExisting(device, server: server, deviceID: deviceID, now: now)
    }

    // MARK: - Created offline

    private static func create(_ device: SyncDeviceTimer, deviceID: String, now: Instant) -> SyncDecision {
        let first = device.transitions.first
        let start: Bool
        switch first?.action {
        case .resume: start = false
        case .pause: start = true
        case .stop: start = device.startedAt != nil
        case nil: start = device.status == .running || device.startedAt != nil
        }
        let deviceStart: Instant?
        if start {
            deviceStart = device.startedAt ?? first?.at ?? device.lastUpdated
        } else {
            deviceStart = first?.at ?? device.lastUpdated
        }
        let earliest = now.advanced(bySeconds: -maximumOfflineSeconds)
        let at = DeviceTime.clamp(deviceStart ?? now, notAfter: now, notBefore: earliest)
        let creation = TimerState.created(start: start, at: at, recordedAt: now, deviceID: deviceID)
        let creationStep = SyncStep(transition: creation, deviceAt: deviceStart, effectiveAt: at)
        switch applying(device.transitions, to: creation.state, floor: at, deviceID: deviceID, now: now) {
        case .failure(let error):
            return .rejected(error)
        case .success(let steps):
            let end = steps.last?.transition.state.status ?? creation.state.status
            if let error = endMismatch(device, end: end, hasTransitions: device.hasTransitions) { return .rejected(error) }
            return .create(creation: creationStep, steps: steps)
        }
    }

    // MARK: - Known to the server

    private static func reconcileExisting(
        _ device: SyncDeviceTimer, server: SyncServerTimer, deviceID: String, now: Instant
    ) -> SyncDecision {
        let state = server.state
        let byClientRef = device.id == nil
        if !byClientRef, device.syncVersion > state.syncVersion {
            return .rejected(TimerDomainError(
                code: .invalidArgument,
                message: "sync_version \(device.syncVersion) is ahead of the server's \(state.syncVersion); adopt the server's timer",
                field: "sync_version"
            ))
        }
        let base = baseVersion(of: device)
        let recognised = recognisedPrefix(server.history, of: device.transitions, after: base, deviceID: deviceID)
        let onlyOwnChanges = state.syncVersion - base == Int64(recognised)
        let remaining = Array(device.transitions.dropFirst(recognised))

        if state.isDeleted {
            let changed = !remaining.isEmpty || (onlyOwnChanges && recognised == 0 && device.status != state.status)
            return .keep(resolution: .updateClient, conflict: changed ? conflict(.deletedOnServer, device, state) : nil)
        }
        guard onlyOwnChanges else {
            // Someone else changed the timer since the device's version.
            guard !remaining.isEmpty else { return .keep(resolution: .updateClient, conflict: nil) }
            let kind: SyncConflict.Kind = device.status == state.status ? .concurrentChange : .statusMismatch
            return .keep(resolution: .updateClient, conflict: conflict(kind, device, state))
        }
        let applied: SyncDecision.Resolution = byClientRef ? .createOnServer : .updateServer
        guard !remaining.isEmpty else {
            if recognised > 0 { return .keep(resolution: applied, conflict: nil) }  // a re-sent sync
            guard device.status == state.status else {
                return .keep(resolution: .updateClient, conflict: conflict(.statusMismatch, device, state))
            }
            return .keep(resolution: byClientRef ? .createOnServer : .inSync, conflict: nil)
        }
        switch applying(remaining, to: state, floor: state.lastUpdated, deviceID: deviceID, now: now, offset: recognised) {
        case .failure(let error):
            return .rejected(error)
        case .success(let steps):
            let end = steps.last?.transition.state.status ?? state.status
            if let error = endMismatch(device, end: end, hasTransitions: true) { return .rejected(error) }
            return .apply(steps: steps, resolution: applied)
        }
    }

    /// How many of `transitions`, from the first, the server already
    /// recorded as the changes right after `base`, made by this device
    /// through sync at the same device times.
    private static func recognisedPrefix(
        _ history: [SyncRecordedChange], of transitions: [SyncDeviceTransition], after base: Int64, deviceID: String
    ) -> Int {
        var count = 0
        while count < history.count, count < transitions.count,
              history[count].version == base + Int64(count) + 1,
              history[count].records(transitions[count], from: deviceID) {
            count += 1
        }
        return count
    }

    // MARK: - Steps

    /// Applies `transitions` in order from `state`, each at its device time
    /// clamped into `[floor, now]` with the floor moving up to each effective
    /// instant. Fails on the first transition the state machine refuses;
    /// `offset` is the index of the first in the device's list, for messages.
    private static func applying(
        _ transitions: [SyncDeviceTransition], to state: TimerState, floor: Instant, deviceID: String, now: Instant,
        offset: Int = 0
    ) -> Result<[SyncStep], TimerDomainError> {
        var state = state
        var floor = floor
        var steps: [SyncStep] = []
        steps.reserveCapacity(transitions.count)
        for (position, transition) in transitions.enumerated() {
            let at = DeviceTime.clamp(transition.at, notAfter: now, notBefore: floor)
            let next: TimerTransition
            do {
                next = try state.applying(transition.action.command, at: at, recordedAt: now, deviceID: deviceID)
            } catch {
                return .failure(TimerDomainError(
                    code: error.code,
                    message: "transitions[\(offset + position)] (\(transition.action)): \(error.message)",
                    field: "transitions"
                ))
            }
            let effective = next.state.phaseStartedAt
            floor = max(floor, effective)
            steps.append(SyncStep(transition: next, deviceAt: transition.at, effectiveAt: effective))
            state = next.state
        }
        return .success(steps)
    }

    /// INVALID_ARGUMENT when the transitions end in a status other than the
    /// device's.
    private static func endMismatch(_ device: SyncDeviceTimer, end: TimerState.Status, hasTransitions: Bool) -> TimerDomainError? {
        guard end != device.status else { return nil }
        let how = hasTransitions ? "its transitions end in \(end)" : "it has no transitions and would be \(end)"
        return TimerDomainError(code: .invalidArgument, message: "status is \(device.status) but \(how)", field: "status")
    }

    private static func conflict(_ kind: SyncConflict.Kind, _ device: SyncDeviceTimer, _ state: TimerState) -> SyncConflict {
        SyncConflict(
            kind: kind, localStatus: device.status, serverStatus: state.status,
            localSyncVersion: device.syncVersion, serverSyncVersion: state.syncVersion
        )
    }
}

extension TimerState {
    /// A new timer whose timeline starts at `at` but whose creation is
    /// recorded at `recordedAt` (the server's now): a timer created offline
    /// and learned by sync. As `created(start:at:deviceID:)`, except that
    /// `lastUpdated` is the later of the two, so the change is "recent" for
    /// every device that syncs after it.
    package static func created(start: Bool, at: Instant, recordedAt: Instant, deviceID: String) -> TimerTransition {
        var creation = created(start: start, at: at, deviceID: deviceID)
        creation.state.lastUpdated = max(at, recordedAt)
        return creation
    }
}
