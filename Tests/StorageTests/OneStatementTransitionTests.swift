import Testing
import TimerDomain

@testable import Storage

@Suite("Transitions in one statement", .timeLimit(.minutes(2)))
struct OneStatementTransitionTests {
    @Test("a transition is written by one statement: state, session and audit row together")
    func oneStatementWritesEverything() async throws {
        try await RepositoryFixture.run { f in
            let start = RepositoryFixture.start
            let timer = try await f.create(start: true, at: start)
            let optimistic = try await f.repository.applyingOptimistically(
                id: timer.id, userID: f.user, command: .pause, expectedSyncVersion: nil, deviceID: "d",
                actor: f.actor, at: start.advanced(bySeconds: 90), deadline: nil)
            let (record, transition) = try #require(optimistic)
            #expect(transition?.change == .paused)
            #expect(record.state.closedSeconds == 90)
            let stored = try await f.repository.get(id: timer.id, userID: f.user)
            #expect(stored.state == record.state)
            #expect(try await f.count("SELECT count(*) FROM timer_sessions WHERE timer_id = $1 AND ended_at IS NOT NULL AND duration = 90", [String(timer.id)]) == 1)
            #expect(try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1 AND action = 'paused' AND sync_version_before = 1 AND sync_version_after = 2", [String(timer.id)]) == 1)
            // Resume opens a session in the same way.
            _ = try await f.repository.applyingOptimistically(
                id: timer.id, userID: f.user, command: .resume, expectedSyncVersion: 2, deviceID: "d",
                actor: f.actor, at: start.advanced(bySeconds: 100), deadline: nil)
            #expect(try await f.count("SELECT count(*) FROM timer_sessions WHERE timer_id = $1 AND ended_at IS NULL", [String(timer.id)]) == 1)
        }
    }

    @Test("a running timer whose open session is missing: the statement fails and writes nothing")
    func aMissingOpenSessionWritesNothing() async throws {
        try await RepositoryFixture.run { f in
            let start = RepositoryFixture.start
            let timer = try await f.create(start: true, at: start)
            _ = try await f.pool.withConnection { try await $0.query("DELETE FROM timer_sessions WHERE timer_id = $1", [String(timer.id)]) }
            let audits = try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1", [String(timer.id)])
            await #expect(throws: (any Error).self) {
                _ = try await f.repository.applyingOptimistically(
                    id: timer.id, userID: f.user, command: .pause, expectedSyncVersion: nil, deviceID: "d",
                    actor: f.actor, at: start.advanced(bySeconds: 60), deadline: nil)
            }
            let stored = try await f.repository.get(id: timer.id, userID: f.user)
            #expect(stored.state.status == .running)
            #expect(stored.state.syncVersion == 1)
            #expect(try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1", [String(timer.id)]) == audits)
        }
    }

    @Test("a version moved since the read: nothing is written, and the locked path applies the change")
    func aMovedVersionFallsBackToTheLock() async throws {
        try await RepositoryFixture.run { f in
            let start = RepositoryFixture.start
            let timer = try await f.create(start: true, at: start)
            // Simulate a concurrent change between read and write: bump the
            // version behind the repository's back, keeping the state valid.
            _ = try await f.pool.withConnection { try await $0.query("UPDATE timers SET sync_version = 2 WHERE id = $1", [String(timer.id)]) }
            let (record, transition) = try await f.repository.applying(
                id: timer.id, userID: f.user, command: .pause, expectedSyncVersion: nil, deviceID: "d",
                actor: f.actor, at: start.advanced(bySeconds: 30))
            #expect(transition != nil)
            #expect(record.state.syncVersion == 3)
            #expect(try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1 AND action = 'paused'", [String(timer.id)]) == 1)
        }
    }

    @Test("a transition on the state the repository knows: one statement, the other columns as they are now")
    func aKnownStateIsWrittenWithoutARead() async throws {
        try await RepositoryFixture.run { f in
            let start = RepositoryFixture.start
            let timer = try await f.create(start: true, at: start)
            // Fields change without a new version (as UpdateTimer does).
            _ = try await f.pool.withConnection { try await $0.query("UPDATE timers SET description = 'renamed' WHERE id = $1", [String(timer.id)]) }
            let hinted = try await f.repository.applyingFromHint(
                id: timer.id, userID: f.user, command: .pause, expectedSyncVersion: 1, deviceID: "d",
                actor: f.actor, at: start.advanced(bySeconds: 45), deadline: nil)
            let (record, transition) = try #require(hinted)
            #expect(transition.change == .paused)
            #expect(record.description == "renamed")
            #expect(record.state.syncVersion == 2 && record.state.closedSeconds == 45)
            #expect(try await f.repository.get(id: timer.id, userID: f.user).state == record.state)
            #expect(try await f.count("SELECT count(*) FROM timer_sessions WHERE timer_id = $1 AND duration = 45", [String(timer.id)]) == 1)
            #expect(try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1 AND action = 'paused' AND account_id = $2 AND sync_version_after = 2",
                                      [String(timer.id), String(record.accountID)]) == 1)
        }
    }

    @Test("a state changed elsewhere since: the hinted write changes nothing and the transition reads afresh")
    func aStaleHintWritesNothing() async throws {
        try await RepositoryFixture.run { f in
            let start = RepositoryFixture.start
            let timer = try await f.create(start: true, at: start)
            // Another instance pauses it.
            let elsewhere = TimerRepository(pool: f.pool)
            _ = try await elsewhere.applying(id: timer.id, userID: f.user, command: .pause, expectedSyncVersion: nil,
                                             deviceID: "other", actor: f.actor, at: start.advanced(bySeconds: 10))
            let audits = try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1", [String(timer.id)])
            // This repository still believes it runs: pausing looks applicable.
            let hinted = try await f.repository.applyingFromHint(
                id: timer.id, userID: f.user, command: .pause, expectedSyncVersion: nil, deviceID: "d",
                actor: f.actor, at: start.advanced(bySeconds: 20), deadline: nil)
            #expect(hinted == nil)
            #expect(try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1", [String(timer.id)]) == audits)
            // The call itself answers from the fresh state: already paused.
            await #expect(throws: TimerDomainError.self) {
                _ = try await f.repository.applying(
                    id: timer.id, userID: f.user, command: .pause, expectedSyncVersion: nil, deviceID: "d",
                    actor: f.actor, at: start.advanced(bySeconds: 20))
            }
            #expect(try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1", [String(timer.id)]) == audits)
            let (resumed, transition) = try await f.repository.applying(
                id: timer.id, userID: f.user, command: .resume, expectedSyncVersion: nil, deviceID: "d",
                actor: f.actor, at: start.advanced(bySeconds: 30))
            #expect(transition?.change == .resumed)
            #expect(resumed.state.syncVersion == 3 && resumed.state.closedSeconds == 10)
            // Which the repository now knows.
            let paused = try await f.repository.applyingFromHint(
                id: timer.id, userID: f.user, command: .pause, expectedSyncVersion: 3, deviceID: "d",
                actor: f.actor, at: start.advanced(bySeconds: 35), deadline: nil)
            #expect(paused?.record.state.syncVersion == 4)
            #expect(paused?.record.state.closedSeconds == 15)
        }
    }

    @Test("hints belong to one user and stay bounded")
    func hintsAreScopedAndBounded() throws {
        let hints = StateHints()
        let state = try TimerState(status: .paused, startedAt: RepositoryFixture.start, pausedAt: RepositoryFixture.start,
                                   stoppedAt: nil, currentSessionStartedAt: nil, closedSeconds: 0,
                                   lastUpdated: RepositoryFixture.start, syncVersion: 1, deviceID: "d")
        func record(_ id: Int64, user: Int64) -> TimerRecord {
            TimerRecord(id: id, userID: user, accountID: 1, projectID: nil, billingRateID: nil, description: "",
                        clientRef: nil, createdAt: RepositoryFixture.start, deletedAt: nil, state: state, rate: nil)
        }
        hints.remember(record(1, user: 7))
        #expect(hints.state(of: 1, userID: 7) == state)
        #expect(hints.state(of: 1, userID: 8) == nil)
        hints.forget(1)
        #expect(hints.state(of: 1, userID: 7) == nil)
        for id in 1...Int64(StateHints.capacity) { hints.remember(record(id, user: 7)) }
        #expect(hints.state(of: 1, userID: 7) == state)
        hints.remember(record(Int64(StateHints.capacity) + 1, user: 7))
        #expect(hints.state(of: 1, userID: 7) == nil)
        #expect(hints.state(of: Int64(StateHints.capacity) + 1, userID: 7) == state)
    }
}
