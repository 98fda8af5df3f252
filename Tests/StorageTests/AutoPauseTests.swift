import Testing
import TimerDomain

@testable import Storage

@Suite("Forgotten timers", .timeLimit(.minutes(2)))
struct AutoPauseTests {
    @Test("a timer running past its account's maximum is paused at the limit, once, by the server, with the reason audited")
    func pausesAtTheLimit() async throws {
        try await RepositoryFixture.run { f in
            _ = try await f.pool.withConnection { try await $0.query("UPDATE accounts SET max_running_seconds = 3600 WHERE id = \(f.account)") }
            let start = RepositoryFixture.start
            let forgotten = try await f.create(start: true, at: start)
            let fresh = try await f.create(start: true, at: start.advanced(bySeconds: 3_000))
            let (other, _) = try await f.repository.create(
                userID: f.otherUser, accountID: f.otherAccount, projectID: nil, billingRateID: nil, description: "no limit",
                clientRef: nil, deviceID: "d", start: true, actor: f.actor, at: start)

            // An hour and a half later: only the first has run past an hour.
            let now = start.advanced(bySeconds: 5_400)
            let paused = try await f.repository.autoPauseDue(now: now)
            #expect(paused.map(\.id) == [forgotten.id])
            let record = try await f.repository.get(id: forgotten.id, userID: f.user)
            #expect(record.state.status == .paused)
            #expect(record.state.closedSeconds == 3_600)           // exactly the limit, not 5,400
            #expect(record.state.pausedAt == start.advanced(bySeconds: 3_600))
            #expect(record.state.lastUpdated == now)               // recorded when it happened
            #expect(record.state.deviceID == TimerRepository.autoPauseDeviceID)
            let stillRunning = try await f.repository.get(id: fresh.id, userID: f.user)
            #expect(stillRunning.state.status == .running)
            let unlimited = try await f.repository.get(id: other.id, userID: f.otherUser)
            #expect(unlimited.state.status == .running)

            let audit = try await f.scalar(
                "SELECT coalesce(actor_user_id::text, 'server') || ' ' || (details->>'reason') FROM audit_log WHERE timer_id = $1 AND action = 'paused'",
                [String(forgotten.id)])
            #expect(audit == "server auto-pause: running 3600 s, the account's maximum")

            // Run again: nothing more is due.
            let again = try await f.repository.autoPauseDue(now: now)
            #expect(again.isEmpty)
        }
    }
}
