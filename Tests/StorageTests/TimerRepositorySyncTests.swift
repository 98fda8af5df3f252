import Foundation
import Testing
import TimerDomain

@testable import Storage

/// `TimerRepository.sync` and `syncServerTimers` against the real PostgreSQL.
@Suite("TimerRepository sync", .timeLimit(.minutes(2)))
struct TimerRepositorySyncTests {
    static let t0 = RepositoryFixture.start
    static let now = t0.advanced(bySeconds: 3 * 3_600)
    static let ref = "5b0e8c3a-8d3e-4f7e-9a6c-2f1d3c4b5a69"

    static func minutes(_ m: Int64) -> Instant { t0.advanced(bySeconds: m * 60) }

    static func offline(
        _ status: TimerState.Status, startedAt: Instant?, _ transitions: [SyncDeviceTransition], ref: String = ref,
        account: Int64, project: Int64? = nil
    ) -> SyncItem {
        SyncItem(
            device: SyncDeviceTimer(clientRef: ref, status: status, startedAt: startedAt, syncVersion: 0, transitions: transitions),
            creation: SyncCreateFields(accountID: account, projectID: project, billingRateID: nil, description: "Offline work")
        )
    }

    static func known(_ id: Int64, _ status: TimerState.Status, version: Int64, _ transitions: [SyncDeviceTransition] = []) -> SyncItem {
        SyncItem(device: SyncDeviceTimer(id: id, status: status, syncVersion: version, transitions: transitions), creation: nil)
    }

    func sync(_ f: RepositoryFixture, _ item: SyncItem, at now: Instant = now, user: Int64? = nil) async throws -> SyncItemOutcome {
        try await f.repository.sync(item, userID: user ?? f.user, deviceID: "tablet", actor: f.actor, at: now)
    }

    @Test func createsAnOfflineTimerWithItsSessionsAndAuditOnce() async throws {
        try await RepositoryFixture.run { f in
            let item = Self.offline(.stopped, startedAt: Self.minutes(0), [
                SyncDeviceTransition(.pause, at: Self.minutes(30)),
                SyncDeviceTransition(.resume, at: Self.minutes(40)),
                SyncDeviceTransition(.stop, at: Self.minutes(70)),
            ], account: f.account, project: f.project)
            let outcome = try await sync(f, item)
            #expect(outcome.resolution == .createOnServer)
            let record = try #require(outcome.record)
            #expect(record.state.status == .stopped)
            #expect(record.state.syncVersion == 4)
            #expect(record.state.closedSeconds == 60 * 60)
            #expect(record.state.lastUpdated == Self.now)
            #expect(record.createdAt == Self.now)
            #expect(record.clientRef == Self.ref)
            #expect(record.projectID == f.project)
            #expect(outcome.applied.map(\.change) == [.started, .paused, .resumed, .stopped])
            #expect(outcome.applied.map(\.record.state.syncVersion) == [1, 2, 3, 4])

            let sessions = try await f.allSessions(record.id)
            let intervals = sessions.map(\.interval)
            #expect(intervals == [
                SessionInterval(startedAt: Self.minutes(0), endedAt: Self.minutes(30)),
                SessionInterval(startedAt: Self.minutes(40), endedAt: Self.minutes(70)),
            ])
            #expect(sessions.map(\.durationSeconds) == [1_800, 1_800])
            let stored = try await f.repository.get(id: record.id, userID: f.user)
            #expect(stored == record)

            let audit = try await f.pool.withConnection { c in
                try await c.query("""
                    SELECT action, sync_version_after, details->>'cause', details->>'device_at' IS NOT NULL, device_id
                    FROM audit_log WHERE timer_id = $1 ORDER BY sync_version_after
                    """, [String(record.id)]).rows
            }
            let actions = audit.map { $0[0] }
            let causes = audit.map { $0[2] }
            let deviceTimes = audit.map { $0[3] }
            let devices = audit.map { $0[4] }
            #expect(actions == ["created", "paused", "resumed", "stopped"])
            #expect(causes == ["sync", "sync", "sync", "sync"])
            #expect(deviceTimes == ["t", "t", "t", "t"])
            #expect(devices == ["tablet", "tablet", "tablet", "tablet"])

            // The same sync again: the same answer, nothing written.
            let before = try await f.snapshot(record.id)
            let again = try await sync(f, item, at: Self.now.advanced(bySeconds: 60))
            #expect(again.resolution == .createOnServer)
            #expect(again.applied.isEmpty)
            #expect(again.record == record)
            let after = try await f.snapshot(record.id)
            #expect(after == before)
            let timers = try await f.count("SELECT count(*) FROM timers")
            #expect(timers == 1)
        }
    }

    @Test func appliesOfflineTransitionsToAKnownTimerOnce() async throws {
        try await RepositoryFixture.run { f in
            let timer = try await f.create(at: Self.t0)
            let item = Self.known(timer.id, .paused, version: 1, [
                SyncDeviceTransition(.pause, at: Self.minutes(20)),
                SyncDeviceTransition(.resume, at: Self.minutes(-60)),  // before the pause: moved up to it
                SyncDeviceTransition(.pause, at: Self.minutes(24 * 60)),  // in the server's future: now
            ])
            let outcome = try await sync(f, item)
            #expect(outcome.resolution == .updateServer)
            let record = try #require(outcome.record)
            #expect(record.state.syncVersion == 4)
            #expect(record.state.pausedAt == Self.now)
            #expect(record.state.closedSeconds == 20 * 60 + (180 - 20) * 60)
            #expect(record.state.deviceID == "tablet")
            let intervals = try await f.allSessions(timer.id).map(\.interval)
            #expect(intervals == [
                SessionInterval(startedAt: Self.t0, endedAt: Self.minutes(20)),
                SessionInterval(startedAt: Self.minutes(20), endedAt: Self.now),
            ])
            let audits = try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1", [String(timer.id)])
            #expect(audits == 4)

            let before = try await f.snapshot(timer.id)
            let again = try await sync(f, item, at: Self.now.advanced(bySeconds: 5))
            #expect(again.resolution == .updateServer)
            #expect(again.applied.isEmpty)
            let after = try await f.snapshot(timer.id)
            #expect(after == before)

            // Now in sync.
            let current = try await sync(f, Self.known(timer.id, .paused, version: 4))
            #expect(current.resolution == .inSync)
        }
    }

    @Test func serverChangesWinAndConflictsWriteNothing() async throws {
        try await RepositoryFixture.run { f in
            let timer = try await f.create(at: Self.t0)
            _ = try await f.transition(timer.id, .pause, at: Self.minutes(10))
            let before = try await f.snapshot(timer.id)
            let outcome = try await sync(f, Self.known(timer.id, .stopped, version: 1, [SyncDeviceTransition(.stop, at: Self.minutes(15))]))
            #expect(outcome.resolution == .updateClient)
            #expect(outcome.conflict == SyncConflict(kind: .statusMismatch, localStatus: .stopped, serverStatus: .paused,
                                                     localSyncVersion: 1, serverSyncVersion: 2))
            #expect(outcome.applied.isEmpty)
            #expect(outcome.record?.state.status == .paused)
            let after = try await f.snapshot(timer.id)
            #expect(after == before)

            // Deleted on the server.
            _ = try await f.transition(timer.id, .delete, at: Self.minutes(20))
            let deleted = try await sync(f, Self.known(timer.id, .paused, version: 2, [SyncDeviceTransition(.resume, at: Self.minutes(25))]))
            #expect(deleted.resolution == .updateClient)
            #expect(deleted.conflict?.kind == .deletedOnServer)
            #expect(deleted.record?.deletedAt != nil)
        }
    }

    @Test func rejectionsWriteNothingAndLeakNothing() async throws {
        try await RepositoryFixture.run { f in
            let timer = try await f.create(at: Self.t0)
            let before = try await f.snapshot(timer.id)
            let refused = try await sync(f, Self.known(timer.id, .running, version: 1, [
                SyncDeviceTransition(.pause, at: Self.minutes(5)), SyncDeviceTransition(.pause, at: Self.minutes(6)),
            ]))
            #expect(refused.resolution == .rejected)
            #expect(refused.error?.code == .failedPrecondition)
            #expect(refused.record?.id == timer.id)
            let after = try await f.snapshot(timer.id)
            #expect(after == before)

            let ahead = try await sync(f, Self.known(timer.id, .running, version: 5))
            #expect(ahead.resolution == .rejected && ahead.error?.code == .invalidArgument)

            // Another user's timer is not found, exactly like an unknown id.
            let theirs = try await sync(f, Self.known(timer.id, .running, version: 1), user: f.otherUser)
            let unknown = try await sync(f, Self.known(timer.id + 1_000, .running, version: 1))
            #expect(theirs.resolution == .rejected && theirs.record == nil)
            #expect(theirs.error == unknown.error)
            #expect(theirs.error?.code == .notFound)

            // Creating in an account, or with a project, that is not the user's.
            let foreign = try await sync(f, Self.offline(.running, startedAt: Self.t0, [], account: f.otherAccount))
            #expect(foreign.resolution == .rejected && foreign.error?.code == .notFound && foreign.record == nil)
            #expect(foreign.error?.field == "account_id")
            let foreignProject = try await sync(f, Self.offline(.running, startedAt: Self.t0, [], account: f.account, project: f.otherProject))
            #expect(foreignProject.error?.field == "project_id")
            let timers = try await f.count("SELECT count(*) FROM timers")
            #expect(timers == 1)
            let audits = try await f.count("SELECT count(*) FROM audit_log")
            #expect(audits == 1)
        }
    }

    @Test func concurrentSyncsOfOneOfflineTimerCreateItOnce() async throws {
        try await RepositoryFixture.run(connections: 6) { f in
            let item = Self.offline(.paused, startedAt: Self.t0, [SyncDeviceTransition(.pause, at: Self.minutes(45))], account: f.account)
            let results = Recorder<SyncItemOutcome>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask { results.append(try await sync(f, item)) }
                }
                try await group.waitForAll()
            }
            let all = results.all
            let resolutions = Set(all.map(\.resolution))
            let ids = Set(all.compactMap(\.record?.id))
            let writers = all.filter { !$0.applied.isEmpty }.count
            #expect(resolutions == [.createOnServer])
            #expect(ids.count == 1)
            #expect(writers == 1)
            let timers = try await f.count("SELECT count(*) FROM timers")
            let sessions = try await f.count("SELECT count(*) FROM timer_sessions")
            let audits = try await f.count("SELECT count(*) FROM audit_log")
            #expect(timers == 1 && sessions == 1 && audits == 2)
        }
    }

    @Test func serverTimersAreTheActiveOnesAndThoseChangedSince() async throws {
        try await RepositoryFixture.run { f in
            let running = try await f.create("Running", at: Self.t0)
            let stoppedEarly = try await f.create("Stopped early", at: Self.t0)
            _ = try await f.transition(stoppedEarly.id, .stop, at: Self.minutes(5))
            let stoppedLate = try await f.create("Stopped late", at: Self.t0)
            _ = try await f.transition(stoppedLate.id, .stop, at: Self.minutes(60))
            let deletedLate = try await f.create("Deleted late", at: Self.t0)
            _ = try await f.transition(deletedLate.id, .delete, at: Self.minutes(61))
            _ = try await f.repository.create(userID: f.otherUser, accountID: f.otherAccount, projectID: nil, billingRateID: nil,
                                              description: "Not mine", clientRef: nil, deviceID: "", start: true, actor: f.actor, at: Self.t0)

            let activeOnly = try await f.repository.syncServerTimers(userID: f.user, changedSince: nil)
            #expect(activeOnly.map(\.id) == [running.id])
            let since = try await f.repository.syncServerTimers(userID: f.user, changedSince: Self.minutes(30))
            #expect(Set(since.map(\.id)) == [running.id, stoppedLate.id, deletedLate.id])
            let deleted = since.first { $0.id == deletedLate.id }
            #expect(deleted?.deletedAt != nil)
        }
    }
}
