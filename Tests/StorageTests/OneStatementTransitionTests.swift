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
}
