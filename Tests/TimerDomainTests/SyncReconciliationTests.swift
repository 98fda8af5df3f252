import Testing
@testable import TimerDomain

/// The device every test syncs from.
private let device = "phone"
/// A client_ref for timers created offline.
private let ref = "0f8fad5b-d9cb-469f-a165-70867728950e"

private func pause(_ at: Instant) -> SyncDeviceTransition { SyncDeviceTransition(.pause, at: at) }
private func resume(_ at: Instant) -> SyncDeviceTransition { SyncDeviceTransition(.resume, at: at) }
private func stop(_ at: Instant) -> SyncDeviceTransition { SyncDeviceTransition(.stop, at: at) }

/// A device timer created offline.
private func offline(
    _ status: TimerState.Status, startedAt: Instant? = nil, lastUpdated: Instant? = nil, _ transitions: [SyncDeviceTransition] = []
) -> SyncDeviceTimer {
    SyncDeviceTimer(clientRef: ref, status: status, startedAt: startedAt, lastUpdated: lastUpdated, syncVersion: 0,
                    transitions: transitions)
}

/// A device timer the server knows as id 7, seen at `version`.
private func known(_ status: TimerState.Status, version: Int64, _ transitions: [SyncDeviceTransition] = []) -> SyncDeviceTimer {
    SyncDeviceTimer(id: 7, status: status, syncVersion: version, transitions: transitions)
}

/// The history a sync that applied `steps` from `device` records, from
/// version `after + 1` on.
private func history(of steps: [SyncStep], after: Int64, from deviceID: String = device) -> [SyncRecordedChange] {
    steps.enumerated().map { index, step in
        SyncRecordedChange(version: after + Int64(index) + 1, change: step.transition.change, deviceID: deviceID,
                           bySync: true, deviceAt: step.deviceAt)
    }
}

/// The session rows the steps leave, starting from `sessions`.
private func sessions(after steps: [SyncStep], from sessions: [SessionInterval] = []) -> [SessionInterval] {
    var rows = sessions
    for step in steps {
        switch step.transition.session {
        case .none: break
        case .open(let start): rows.append(SessionInterval(startedAt: start, endedAt: nil))
        case .close(let start, let end, _):
            if let index = rows.lastIndex(where: { $0.isOpen && $0.startedAt == start }) { rows[index].endedAt = end }
        }
    }
    return rows
}

private func steps(of decision: SyncDecision) -> [SyncStep] {
    decision.steps
}

@Suite("Sync: timers created offline")
struct SyncCreateTests {
    let now = at(12)

    @Test("a running timer is created at the device's start, recorded at the server's now")
    func createdRunning() throws {
        let decision = SyncReconciliation.reconcile(offline(.running, startedAt: at(9)), server: nil, deviceID: device, now: now)
        guard case .create(let creation, let rest) = decision else {
            Issue.record("expected a creation, got \(decision)")
            return
        }
        #expect(rest.isEmpty)
        #expect(decision.resolution == .createOnServer)
        #expect(creation.transition.change == .started)
        #expect(creation.effectiveAt == at(9))
        #expect(creation.deviceAt == at(9))
        let state = creation.transition.state
        #expect(state.status == .running && state.startedAt == at(9) && state.currentSessionStartedAt == at(9))
        #expect(state.lastUpdated == now)
        #expect(state.syncVersion == 1)
        #expect(state.deviceID == device)
        #expect(state.totalSeconds(at: now) == 3 * 3_600)
    }

    @Test("offline transitions are applied in order at their times, ending in the device's status")
    func transitionsApplied() throws {
        let timer = offline(.stopped, startedAt: at(9), [pause(at(9, 30)), resume(at(10)), stop(at(10, 15))])
        let decision = SyncReconciliation.reconcile(timer, server: nil, deviceID: device, now: now)
        let all = steps(of: decision)
        #expect(decision.resolution == .createOnServer)
        #expect(all.map(\.transition.change) == [.started, .paused, .resumed, .stopped])
        #expect(all.map(\.transition.state.syncVersion) == [1, 2, 3, 4])
        #expect(all.map(\.effectiveAt) == [at(9), at(9, 30), at(10), at(10, 15)])
        let end = try #require(all.last?.transition.state)
        #expect(end.status == .stopped && end.stoppedAt == at(10, 15))
        #expect(end.closedSeconds == 45 * 60)
        #expect(end.lastUpdated == now)
        let rows = sessions(after: all)
        #expect(rows == [SessionInterval(startedAt: at(9), endedAt: at(9, 30)), SessionInterval(startedAt: at(10), endedAt: at(10, 15))])
        #expect(SessionInterval.violations(of: end, sessions: rows).isEmpty)
    }

    @Test("a timer created paused that was resumed offline starts at the resume")
    func createdPaused() throws {
        let timer = offline(.paused, startedAt: at(10), [resume(at(10)), pause(at(11))])
        let all = steps(of: SyncReconciliation.reconcile(timer, server: nil, deviceID: device, now: now))
        #expect(all.map(\.transition.change) == [.updated, .resumed, .paused])
        let end = try #require(all.last?.transition.state)
        #expect(end.startedAt == at(10))
        #expect(end.closedSeconds == 3_600)
    }

    @Test("a timer created paused and never run is created at the device's last change, never started")
    func createdPausedNeverRun() throws {
        let decision = SyncReconciliation.reconcile(offline(.paused, lastUpdated: at(11)), server: nil, deviceID: device, now: now)
        let all = steps(of: decision)
        #expect(all.count == 1)
        let state = try #require(all.first?.transition.state)
        #expect(state.status == .paused && state.startedAt == nil && state.pausedAt == at(11))
    }

    @Test("device times in the server's future are pulled back to now: zero-length spans, never negative")
    func futureTimes() throws {
        let timer = offline(.stopped, startedAt: at(15), [pause(at(16)), resume(at(17)), stop(at(18))])
        let all = steps(of: SyncReconciliation.reconcile(timer, server: nil, deviceID: device, now: now))
        #expect(all.map(\.effectiveAt) == [now, now, now, now])
        let end = try #require(all.last?.transition.state)
        #expect(end.closedSeconds == 0)
        let recorded = all.map(\.transition.state.lastUpdated)
        #expect(recorded == [now, now, now, now])
        #expect(SessionInterval.violations(of: end, sessions: sessions(after: all)).isEmpty)
    }

    @Test("a start more than 30 days back is moved up to 30 days before now")
    func ancientStart() throws {
        let earliest = now.advanced(bySeconds: -SyncReconciliation.maximumOfflineSeconds)
        let timer = offline(.stopped, startedAt: Instant(2020, 1, 1), [stop(Instant(2020, 1, 2))])
        let all = steps(of: SyncReconciliation.reconcile(timer, server: nil, deviceID: device, now: now))
        #expect(all.map(\.effectiveAt) == [earliest, earliest])
        #expect(all.first?.deviceAt == Instant(2020, 1, 1))
        #expect(all.last?.transition.state.closedSeconds == 0)
    }

    @Test("out-of-order device times are moved up to the previous one: no overlap, no negative duration")
    func outOfOrder() throws {
        let timer = offline(.stopped, startedAt: at(10), [pause(at(9)), resume(at(10, 30)), stop(at(10, 10))])
        let all = steps(of: SyncReconciliation.reconcile(timer, server: nil, deviceID: device, now: now))
        #expect(all.map(\.effectiveAt) == [at(10), at(10), at(10, 30), at(10, 30)])
        let end = try #require(all.last?.transition.state)
        #expect(end.closedSeconds == 0)
        #expect(SessionInterval.violations(of: end, sessions: sessions(after: all)).isEmpty)
    }

    @Test("a transition the state machine refuses rejects the whole timer with FAILED_PRECONDITION, naming it")
    func refusedTransition() throws {
        let timer = offline(.running, startedAt: at(9), [pause(at(9, 30)), pause(at(9, 40))])
        let decision = SyncReconciliation.reconcile(timer, server: nil, deviceID: device, now: now)
        #expect(decision.resolution == .rejected)
        #expect(decision.steps.isEmpty)
        #expect(decision.error?.code == .failedPrecondition)
        #expect(decision.error?.message == "transitions[1] (pause): timer is paused; pause needs a running timer")
    }

    @Test("a first resume means the timer was created paused: it starts at the resume, whatever started_at says")
    func firstResume() throws {
        let timer = offline(.running, startedAt: at(8), [resume(at(9, 30))])
        let decision = SyncReconciliation.reconcile(timer, server: nil, deviceID: device, now: now)
        let end = try #require(decision.steps.last?.transition.state)
        #expect(decision.resolution == .createOnServer)
        #expect(end.startedAt == at(9, 30) && end.currentSessionStartedAt == at(9, 30))
        #expect(end.closedSeconds == 0)
    }

    @Test("transitions that end elsewhere than the device's status are INVALID_ARGUMENT on status")
    func statusContradictsTransitions() throws {
        let ending = SyncReconciliation.reconcile(offline(.running, startedAt: at(9), [pause(at(10))]), server: nil, deviceID: device, now: now)
        #expect(ending.error == TimerDomainError(code: .invalidArgument, message: "status is running but its transitions end in paused",
                                                 field: "status"))
        let noTransitions = SyncReconciliation.reconcile(offline(.stopped, startedAt: at(9)), server: nil, deviceID: device, now: now)
        #expect(noTransitions.error?.code == .invalidArgument)
        #expect(noTransitions.error?.message == "status is stopped but it has no transitions and would be running")
    }

    @Test("an id the server does not know is NOT_FOUND")
    func unknownID() throws {
        let decision = SyncReconciliation.reconcile(known(.running, version: 1), server: nil, deviceID: device, now: now)
        #expect(decision.error == TimerDomainError(code: .notFound, message: "timer not found", field: "id"))
    }
}

@Suite("Sync: timers the server knows")
struct SyncExistingTests {
    let now = at(12)

    /// Server: started 09:00, paused 09:30 by the laptop (version 2, recorded 09:30).
    func server() throws -> SyncServerTimer {
        SyncServerTimer(state: try pausedTimer())
    }

    @Test("same version, no transitions, same status: IN_SYNC, nothing written")
    func inSync() throws {
        let decision = SyncReconciliation.reconcile(known(.paused, version: 2), server: try server(), deviceID: device, now: now)
        #expect(decision == .keep(resolution: .inSync, conflict: nil))
    }

    @Test("on the server's version with transitions: UPDATE_SERVER at the device's times")
    func updateServer() throws {
        let timer = known(.stopped, version: 2, [resume(at(10)), pause(at(10, 20)), resume(at(11)), stop(at(11, 30))])
        let decision = SyncReconciliation.reconcile(timer, server: try server(), deviceID: device, now: now)
        guard case .apply(let steps, .updateServer) = decision else {
            Issue.record("expected UPDATE_SERVER, got \(decision)")
            return
        }
        #expect(steps.map(\.effectiveAt) == [at(10), at(10, 20), at(11), at(11, 30)])
        #expect(steps.map(\.transition.state.syncVersion) == [3, 4, 5, 6])
        let end = try #require(steps.last?.transition.state)
        #expect(end.status == .stopped)
        #expect(end.closedSeconds == 30 * 60 + 20 * 60 + 30 * 60)
        #expect(end.lastUpdated == now && end.deviceID == device)
        let rows = sessions(after: steps, from: [SessionInterval(startedAt: at(9), endedAt: at(9, 30))])
        #expect(SessionInterval.violations(of: end, sessions: rows).isEmpty)
    }

    @Test("device times before the timer's last change are moved up to it")
    func beforeLastChange() throws {
        let timer = known(.paused, version: 2, [resume(at(8)), pause(at(9, 10))])
        let decision = SyncReconciliation.reconcile(timer, server: try server(), deviceID: device, now: now)
        // The server's last change was recorded at 09:30 (the pause).
        #expect(steps(of: decision).map(\.effectiveAt) == [at(9, 30), at(9, 30)])
        #expect(steps(of: decision).map(\.deviceAt) == [at(8), at(9, 10)])
        let closed = steps(of: decision).last?.transition.state.closedSeconds
        #expect(closed == 1_800)
    }

    @Test("device times after the server's now are pulled back to now")
    func afterNow() throws {
        let timer = known(.paused, version: 2, [resume(at(11)), pause(at(23))])
        let all = steps(of: SyncReconciliation.reconcile(timer, server: try server(), deviceID: device, now: now))
        #expect(all.map(\.effectiveAt) == [at(11), now])
        let closed = all.last?.transition.state.closedSeconds
        #expect(closed == 5_400)
    }

    @Test("a transition the state machine refuses: REJECTED, FAILED_PRECONDITION, nothing applied")
    func refused() throws {
        let timer = known(.stopped, version: 2, [resume(at(10)), resume(at(10, 5)), stop(at(11))])
        let decision = SyncReconciliation.reconcile(timer, server: try server(), deviceID: device, now: now)
        #expect(decision.resolution == .rejected && decision.steps.isEmpty)
        #expect(decision.error?.code == .failedPrecondition)
        #expect(decision.error?.message.hasPrefix("transitions[1] (resume): timer is running") == true)
    }

    @Test("a device version ahead of the server's is REJECTED, INVALID_ARGUMENT on sync_version")
    func versionAhead() throws {
        let decision = SyncReconciliation.reconcile(known(.paused, version: 9), server: try server(), deviceID: device, now: now)
        #expect(decision.error?.code == .invalidArgument)
        #expect(decision.error?.field == "sync_version")
    }

    @Test("the server moved on and the device did nothing: UPDATE_CLIENT without conflict")
    func behindUnchanged() throws {
        let decision = SyncReconciliation.reconcile(known(.running, version: 1), server: try server(), deviceID: device, now: now)
        #expect(decision == .keep(resolution: .updateClient, conflict: nil))
    }

    @Test("both changed, different end states: UPDATE_CLIENT with STATUS_MISMATCH, server wins")
    func statusMismatch() throws {
        let timer = known(.stopped, version: 1, [stop(at(9, 45))])
        let decision = SyncReconciliation.reconcile(timer, server: try server(), deviceID: device, now: now)
        #expect(decision == .keep(resolution: .updateClient, conflict: SyncConflict(
            kind: .statusMismatch, localStatus: .stopped, serverStatus: .paused, localSyncVersion: 1, serverSyncVersion: 2)))
        #expect(decision.steps.isEmpty)
    }

    @Test("both changed, same end state: UPDATE_CLIENT with CONCURRENT_CHANGE")
    func concurrentChange() throws {
        let timer = known(.paused, version: 1, [pause(at(9, 45))])
        let decision = SyncReconciliation.reconcile(timer, server: try server(), deviceID: device, now: now)
        #expect(decision.conflict?.kind == .concurrentChange)
        #expect(decision.resolution == .updateClient)
    }

    @Test("same version, no transitions, another status: UPDATE_CLIENT with STATUS_MISMATCH")
    func claimedStatus() throws {
        let decision = SyncReconciliation.reconcile(known(.stopped, version: 2), server: try server(), deviceID: device, now: now)
        #expect(decision.resolution == .updateClient)
        #expect(decision.conflict?.kind == .statusMismatch)
    }

    @Test("deleted on the server: UPDATE_CLIENT, with DELETED_ON_SERVER only when the device changed it")
    func deleted() throws {
        let server = SyncServerTimer(state: try deletedTimer())
        let changed = SyncReconciliation.reconcile(known(.paused, version: 1, [pause(at(9, 10))]), server: server, deviceID: device, now: now)
        #expect(changed == .keep(resolution: .updateClient, conflict: SyncConflict(
            kind: .deletedOnServer, localStatus: .paused, serverStatus: .stopped, localSyncVersion: 1, serverSyncVersion: 2)))
        let unchanged = SyncReconciliation.reconcile(known(.running, version: 1), server: server, deviceID: device, now: now)
        #expect(unchanged == .keep(resolution: .updateClient, conflict: nil))
        let sameVersion = SyncReconciliation.reconcile(known(.stopped, version: 2), server: server, deviceID: device, now: now)
        #expect(sameVersion == .keep(resolution: .updateClient, conflict: nil))
    }

    @Test("a re-sent sync whose first copy was applied answers the same and applies nothing")
    func resent() throws {
        let timer = known(.stopped, version: 2, [resume(at(10)), stop(at(11))])
        let first = SyncReconciliation.reconcile(timer, server: try server(), deviceID: device, now: now)
        let applied = steps(of: first)
        let after = try #require(applied.last?.transition.state)
        let range = SyncReconciliation.historyVersions(for: timer, serverVersion: after.syncVersion)
        #expect(range == 3...4)
        let again = SyncReconciliation.reconcile(
            timer, server: SyncServerTimer(state: after, history: history(of: applied, after: 2)), deviceID: device, now: at(12, 5))
        #expect(again == .keep(resolution: .updateServer, conflict: nil))
    }

    @Test("a re-sent sync with more transitions applies only the new ones")
    func resentWithMore() throws {
        let firstCopy = known(.paused, version: 2, [resume(at(10)), pause(at(10, 30))])
        let first = steps(of: SyncReconciliation.reconcile(firstCopy, server: try server(), deviceID: device, now: now))
        let state = try #require(first.last?.transition.state)
        let secondCopy = known(.stopped, version: 2, [resume(at(10)), pause(at(10, 30)), stop(at(12, 10))])
        let decision = SyncReconciliation.reconcile(
            secondCopy, server: SyncServerTimer(state: state, history: history(of: first, after: 2)), deviceID: device, now: at(12, 20))
        guard case .apply(let rest, .updateServer) = decision else {
            Issue.record("expected the new transition applied, got \(decision)")
            return
        }
        #expect(rest.map(\.transition.change) == [.stopped])
        #expect(rest.first?.transition.state.syncVersion == 5)
        #expect(rest.first?.effectiveAt == at(12, 10))
    }

    @Test("changes by another device are not taken for the device's own: a conflict")
    func othersChangesAreNotOurs() throws {
        let timer = known(.paused, version: 2, [resume(at(10)), pause(at(10, 30))])
        let applied = steps(of: SyncReconciliation.reconcile(timer, server: try server(), deviceID: "tablet", now: now))
        let state = try #require(applied.last?.transition.state)
        let decision = SyncReconciliation.reconcile(
            timer, server: SyncServerTimer(state: state, history: history(of: applied, after: 2, from: "tablet")), deviceID: device, now: now)
        #expect(decision.resolution == .updateClient)
        #expect(decision.conflict?.kind == .concurrentChange)
    }

    @Test("a timer created by an earlier sync is found by client_ref: CREATE_ON_SERVER again, nothing created twice")
    func createdEarlier() throws {
        let timer = offline(.stopped, startedAt: at(9), [pause(at(9, 30)), stop(at(10))])
        let first = SyncReconciliation.reconcile(timer, server: nil, deviceID: device, now: now)
        let all = steps(of: first)
        let state = try #require(all.last?.transition.state)
        #expect(SyncReconciliation.historyVersions(for: timer, serverVersion: state.syncVersion) == 2...3)
        let server = SyncServerTimer(state: state, history: history(of: Array(all.dropFirst()), after: 1))
        let again = SyncReconciliation.reconcile(timer, server: server, deviceID: device, now: at(12, 1))
        #expect(again == .keep(resolution: .createOnServer, conflict: nil))

        let plain = offline(.running, startedAt: at(9))
        let created = try #require(steps(of: SyncReconciliation.reconcile(plain, server: nil, deviceID: device, now: now)).first)
        let replay = SyncReconciliation.reconcile(plain, server: SyncServerTimer(state: created.transition.state), deviceID: device, now: now)
        #expect(replay == .keep(resolution: .createOnServer, conflict: nil))
    }

    @Test("history is needed only when the server is ahead by at most the device's transitions")
    func historyRange() throws {
        #expect(SyncReconciliation.historyVersions(for: known(.paused, version: 2), serverVersion: 3) == nil)
        #expect(SyncReconciliation.historyVersions(for: known(.paused, version: 2, [pause(at(9))]), serverVersion: 2) == nil)
        #expect(SyncReconciliation.historyVersions(for: known(.paused, version: 2, [pause(at(9))]), serverVersion: 3) == 3...3)
        #expect(SyncReconciliation.historyVersions(for: known(.paused, version: 2, [pause(at(9))]), serverVersion: 4) == nil)
    }
}

@Suite("Sync: no negative duration, whatever the device clocks say")
struct SyncClockChaosTests {
    /// A small deterministic generator (SplitMix64), so a failure repeats.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("random transitions at random device times keep sessions and totals sound", arguments: 0..<40)
    func chaos(seed: UInt64) throws {
        var random = Generator(state: seed)
        let now = at(12)
        // Device times anywhere from two days before to two days after now.
        func anyTime() -> Instant { now.advanced(bySeconds: Int64.random(in: -172_800...172_800, using: &random)) }
        var transitions: [SyncDeviceTransition] = []
        var status = TimerState.Status.running
        for _ in 0..<Int.random(in: 0...12, using: &random) where status != .stopped {
            let action: SyncDeviceTransition.Action
            if Int.random(in: 0..<5, using: &random) == 0 {
                action = .stop
            } else {
                action = status == .running ? .pause : .resume
            }
            transitions.append(SyncDeviceTransition(action, at: anyTime()))
            status = switch action { case .pause: .paused; case .resume: .running; case .stop: .stopped }
        }

        // Created offline.
        let created = SyncReconciliation.reconcile(offline(status, startedAt: anyTime(), transitions), server: nil, deviceID: device, now: now)
        let all = steps(of: created)
        #expect(created.resolution == .createOnServer)
        let end = try #require(all.last?.transition.state)
        check(all, end: end, now: now, earliest: now.advanced(bySeconds: -SyncReconciliation.maximumOfflineSeconds))

        // The same transitions on a running server timer last changed at 09:00.
        let server = SyncServerTimer(state: runningTimer())
        let existing = SyncDeviceTimer(id: 7, status: status, syncVersion: 1, transitions: transitions)
        let updated = SyncReconciliation.reconcile(existing, server: server, deviceID: device, now: now)
        let applied = steps(of: updated)
        #expect(updated.resolution == (transitions.isEmpty ? .inSync : .updateServer))
        let final = applied.last?.transition.state ?? server.state
        check(applied, end: final, now: now, earliest: at(9), before: [SessionInterval(startedAt: at(9), endedAt: nil)])
    }

    private func check(_ steps: [SyncStep], end: TimerState, now: Instant, earliest: Instant, before: [SessionInterval] = []) {
        let effective = steps.map(\.effectiveAt)
        #expect(effective == effective.sorted(), "effective instants run forward")
        let inWindow = effective.allSatisfy { $0 <= now && $0 >= earliest }
        #expect(inWindow)
        #expect(end.closedSeconds >= 0)
        #expect(end.totalSeconds(at: now) >= 0)
        #expect(end.invariantViolations.isEmpty)
        let rows = sessions(after: steps, from: before)
        #expect(SessionInterval.violations(of: end, sessions: rows).isEmpty)
        let durations = rows.map { $0.seconds(at: now) }
        let nonNegative = durations.allSatisfy { $0 >= 0 }
        #expect(nonNegative)
        for case .close(_, _, let seconds) in steps.map(\.transition.session) {
            #expect(seconds >= 0)
        }
    }
}
