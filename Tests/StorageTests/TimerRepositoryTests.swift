import Foundation
import Synchronization
import Testing
import TimerDomain

@testable import Storage

/// A migrated private schema with two users, each a member of one account
/// with a project and a billing rate, and a repository over it.
struct RepositoryFixture: Sendable {
    let pool: PostgresPool
    let repository: TimerRepository
    let user: Int64
    let otherUser: Int64
    let account: Int64
    let otherAccount: Int64
    let project: Int64
    let otherProject: Int64
    let rate: Int64
    let otherRate: Int64
    let archivedRate: Int64
    let actor: AuditActor

    static let start = Instant(2025, 3, 1, 9, 0, 0)

    /// Runs `body` over a fresh schema migrated with `layout`, or when nil
    /// with `TestDatabase.layout()`.
    static func run(
        connections: Int = 4, layout: SchemaLayout? = nil, _ body: (RepositoryFixture) async throws -> Void
    ) async throws {
        let layout = try layout ?? TestDatabase.layout()
        try await TestDatabase.withSchema { url, _ in
            try await TestDatabase.withPool(url: url, maximumConnections: connections) { pool in
                _ = try await Migrator(layout: layout).migrate(using: pool)
                let fixture = try await pool.withConnection { c in
                    func id(_ sql: String) async throws -> Int64 {
                        let result = try await c.query(sql)
                        guard let text = result.rows.first?[0], let value = Int64(text) else { throw DeliberateFailure() }
                        return value
                    }
                    let user = try await id("INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com') RETURNING id")
                    let other = try await id("INSERT INTO users (name, email) VALUES ('Bob', 'bob@example.com') RETURNING id")
                    let account = try await id("INSERT INTO accounts (name) VALUES ('Acme') RETURNING id")
                    let otherAccount = try await id("INSERT INTO accounts (name) VALUES ('Other') RETURNING id")
                    _ = try await c.query("INSERT INTO account_members (user_id, account_id) VALUES (\(user), \(account)), (\(other), \(otherAccount))")
                    let project = try await id("INSERT INTO projects (account_id, name) VALUES (\(account), 'Site') RETURNING id")
                    let otherProject = try await id("INSERT INTO projects (account_id, name) VALUES (\(otherAccount), 'X') RETURNING id")
                    let rate = try await id("""
                        INSERT INTO billing_rates (account_id, name, rate_minor_per_hour, currency_code, minor_unit_digits)
                        VALUES (\(account), 'Standard', 9000, 'USD', 2) RETURNING id
                        """)
                    let otherRate = try await id("""
                        INSERT INTO billing_rates (account_id, name, rate_minor_per_hour, currency_code, minor_unit_digits)
                        VALUES (\(otherAccount), 'Standard', 5000, 'EUR', 2) RETURNING id
                        """)
                    let archived = try await id("""
                        INSERT INTO billing_rates (account_id, name, rate_minor_per_hour, currency_code, minor_unit_digits, archived_at)
                        VALUES (\(account), 'Old', 1000, 'USD', 2, now()) RETURNING id
                        """)
                    return RepositoryFixture(
                        pool: pool, repository: TimerRepository(pool: pool), user: user, otherUser: other,
                        account: account, otherAccount: otherAccount, project: project, otherProject: otherProject,
                        rate: rate, otherRate: otherRate, archivedRate: archived,
                        actor: AuditActor(userID: user, tokenID: 77, requestID: "req-1")
                    )
                }
                try await body(fixture)
            }
        }
    }

    /// Creates a timer of `user` in `account` with no project or rate.
    func create(
        _ description: String = "Write tests", start: Bool = true, at: Instant = start, clientRef: String? = nil
    ) async throws -> TimerRecord {
        try await repository.create(
            userID: user, accountID: account, projectID: nil, billingRateID: nil, description: description,
            clientRef: clientRef, deviceID: "laptop", start: start, actor: actor, at: at
        ).record
    }

    func transition(_ id: Int64, _ command: TimerCommand, expected: Int64? = nil, at: Instant) async throws -> (record: TimerRecord, applied: Bool) {
        try await repository.transition(
            id: id, userID: user, command: command, expectedSyncVersion: expected, deviceID: "phone", actor: actor, at: at
        )
    }

    func scalar(_ sql: String, _ params: [String?] = []) async throws -> String? {
        try await pool.withConnection { try await $0.query(sql, params).rows.first?[0] }
    }

    func count(_ sql: String, _ params: [String?] = []) async throws -> Int {
        Int(try await scalar(sql, params) ?? "") ?? -1
    }

    /// Everything stored about a timer: its row, its sessions, its audit rows.
    func snapshot(_ id: Int64) async throws -> [String?] {
        try await pool.withConnection { c in
            let timer = try await c.query("SELECT row_to_json(t)::text FROM timers t WHERE id = $1", [String(id)])
            let sessions = try await c.query(
                "SELECT coalesce(string_agg(row_to_json(s)::text, ',' ORDER BY id), '') FROM timer_sessions s WHERE timer_id = $1",
                [String(id)]
            )
            let audit = try await c.query(
                "SELECT coalesce(string_agg(row_to_json(a)::text, ',' ORDER BY id), '') FROM audit_log a WHERE timer_id = $1",
                [String(id)]
            )
            return [timer.rows.first?[0], sessions.rows.first?[0], audit.rows.first?[0]]
        }
    }

    func allSessions(_ id: Int64) async throws -> [SessionRecord] {
        try await repository.sessions(timerID: id, userID: user, pageSize: 1_000, after: nil).items
    }
}

/// Runs `body` and returns the `TimerDomainError` it throws (nil if none).
func domainError(_ body: () async throws -> Void) async -> TimerDomainError? {
    do {
        try await body()
        return nil
    } catch let error as TimerDomainError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

@Suite("TimerRepository", .timeLimit(.minutes(2)))
struct TimerRepositoryTests {
    static let t0 = RepositoryFixture.start

    @Test func createsGetsAndListsTimers() async throws {
        try await RepositoryFixture.run { f in
            let (running, created) = try await f.repository.create(
                userID: f.user, accountID: f.account, projectID: f.project, billingRateID: f.rate,
                description: "  Client site  ", clientRef: nil, deviceID: "laptop", start: true, actor: f.actor, at: Self.t0
            )
            #expect(created)
            #expect(running.description == "Client site")
            #expect(running.projectID == f.project)
            #expect(running.billingRateID == f.rate)
            #expect(running.createdAt == Self.t0)
            #expect(running.state.status == .running)
            #expect(running.state.currentSessionStartedAt == Self.t0)
            #expect(running.state.syncVersion == 1)
            #expect(running.state.deviceID == "laptop")
            let rate = try #require(running.rate)
            #expect(rate.perHour.minorUnits == 9000)
            #expect(running.currency == .usd)

            let paused = try await f.create("Later", start: false, at: Self.t0.advanced(bySeconds: 5))
            #expect(paused.state.status == .paused)
            #expect(paused.state.startedAt == nil)
            #expect(paused.rate == nil)

            let fetched = try await f.repository.get(id: running.id, userID: f.user)
            #expect(fetched == running)

            let sessions = try await f.allSessions(running.id)
            let openSessions = sessions.map(\.interval)
            #expect(openSessions == [SessionInterval(startedAt: Self.t0, endedAt: nil)])
            let pausedSessions = try await f.allSessions(paused.id)
            #expect(pausedSessions.isEmpty)

            let audit = try await f.pool.withConnection { c in
                try await c.query("""
                    SELECT actor_user_id, token_id, action, account_id, sync_version_before, sync_version_after,
                           request_id, device_id FROM audit_log WHERE timer_id = $1
                    """, [String(running.id)]).rows
            }
            let expectedAudit: [[String?]] = [[String(f.user), "77", "created", String(f.account), nil, "1", "req-1", "laptop"]]
            #expect(audit == expectedAudit)

            let all = try await f.repository.list(userID: f.user, pageSize: 10, after: nil)
            let allIDs = all.items.map(\.id)
            #expect(allIDs == [paused.id, running.id])
            #expect(all.nextPageToken == nil)
            let pausedOnly = try await f.repository.list(userID: f.user, filter: .init(statuses: [.paused]), pageSize: 10, after: nil)
            #expect(pausedOnly.items.map(\.id) == [paused.id])
            let byProject = try await f.repository.list(userID: f.user, filter: .init(projectID: f.project), pageSize: 10, after: nil)
            #expect(byProject.items.map(\.id) == [running.id])
            let range = TimerFilter(createdAfter: Self.t0.advanced(bySeconds: 1), createdBefore: Self.t0.advanced(bySeconds: 6))
            let inRange = try await f.repository.list(userID: f.user, filter: range, pageSize: 10, after: nil)
            #expect(inRange.items.map(\.id) == [paused.id])
            let otherAccount = try await f.repository.list(userID: f.user, filter: .init(accountID: f.otherAccount), pageSize: 10, after: nil)
            #expect(otherAccount.items.isEmpty)
            let othersList = try await f.repository.list(userID: f.otherUser, pageSize: 10, after: nil)
            #expect(othersList.items.isEmpty)

            let foreign = await domainError { _ = try await f.repository.get(id: running.id, userID: f.otherUser) }
            #expect(foreign?.code == .notFound)
            #expect(foreign?.field == "id")
            let unknown = await domainError { _ = try await f.repository.get(id: 999_999, userID: f.user) }
            #expect(unknown?.code == .notFound)
        }
    }

    @Test func createRefusesAccountsProjectsAndRatesOutsideTheUsersReach() async throws {
        try await RepositoryFixture.run { f in
            let cases: [(account: Int64, project: Int64?, rate: Int64?, code: TimerDomainError.Code, field: String)] = [
                (f.otherAccount, nil, nil, .notFound, "account_id"),
                (999_999, nil, nil, .notFound, "account_id"),
                (f.account, f.otherProject, nil, .notFound, "project_id"),
                (f.account, nil, f.otherRate, .notFound, "billing_rate_id"),
                (f.account, nil, f.archivedRate, .failedPrecondition, "billing_rate_id"),
            ]
            for item in cases {
                let error = await domainError {
                    _ = try await f.repository.create(
                        userID: f.user, accountID: item.account, projectID: item.project, billingRateID: item.rate,
                        description: "x", clientRef: nil, deviceID: "", start: true, actor: f.actor, at: Self.t0
                    )
                }
                #expect(error?.code == item.code)
                #expect(error?.field == item.field)
            }
            let badDescription = await domainError { _ = try await f.create(" ") }
            #expect(badDescription?.field == "description")
            let badKey = await domainError { _ = try await f.create(clientRef: "not-a-uuid") }
            #expect(badKey?.field == "client_ref")
            let timers = try await f.count("SELECT count(*) FROM timers")
            let audits = try await f.count("SELECT count(*) FROM audit_log")
            #expect(timers == 0)
            #expect(audits == 0)
        }
    }

    @Test func transitionsPersistStateSessionsAndAudit() async throws {
        try await RepositoryFixture.run { f in
            let timer = try await f.create()
            let paused = try await f.transition(timer.id, .pause, expected: 1, at: Self.t0.advanced(bySeconds: 60))
            #expect(paused.applied)
            #expect(paused.record.state.status == .paused)
            #expect(paused.record.state.closedSeconds == 60)
            #expect(paused.record.state.syncVersion == 2)
            let resumed = try await f.transition(timer.id, .resume, at: Self.t0.advanced(bySeconds: 100))
            #expect(resumed.record.state.status == .running)
            let stopped = try await f.transition(timer.id, .stop, expected: 3, at: Self.t0.advanced(bySeconds: 130))
            #expect(stopped.record.state.status == .stopped)
            #expect(stopped.record.state.closedSeconds == 90)
            #expect(stopped.record.state.syncVersion == 4)

            let stored = try await f.repository.get(id: timer.id, userID: f.user)
            #expect(stored == stopped.record)
            #expect(stored.state.lastUpdated == Self.t0.advanced(bySeconds: 130))
            #expect(stored.state.deviceID == "phone")

            let sessions = try await f.allSessions(timer.id)
            let intervals = sessions.map(\.interval)
            let expectedIntervals = [
                SessionInterval(startedAt: Self.t0, endedAt: Self.t0.advanced(bySeconds: 60)),
                SessionInterval(startedAt: Self.t0.advanced(bySeconds: 100), endedAt: Self.t0.advanced(bySeconds: 130)),
            ]
            #expect(intervals == expectedIntervals)
            #expect(sessions.map(\.durationSeconds) == [60, 30])
            let violations = SessionInterval.violations(of: stored.state, sessions: intervals)
            #expect(violations.isEmpty)

            let audit = try await f.pool.withConnection { c in
                try await c.query(
                    "SELECT action, sync_version_before, sync_version_after FROM audit_log WHERE timer_id = $1 ORDER BY id",
                    [String(timer.id)]
                ).rows
            }
            let expectedAudit: [[String?]] = [
                ["created", nil, "1"], ["paused", "1", "2"], ["resumed", "2", "3"], ["stopped", "3", "4"],
            ]
            #expect(audit == expectedAudit)

            let deleted = try await f.transition(timer.id, .delete, at: Self.t0.advanced(bySeconds: 200))
            #expect(deleted.record.deletedAt != nil)
            let gone = await domainError { _ = try await f.repository.get(id: timer.id, userID: f.user) }
            #expect(gone?.code == .notFound)
            let listed = try await f.repository.list(userID: f.user, pageSize: 10, after: nil)
            #expect(listed.items.isEmpty)
            let goneSessions = await domainError { _ = try await f.allSessions(timer.id) }
            #expect(goneSessions?.code == .notFound)
            // A re-sent delete is answered OK and writes nothing.
            let before = try await f.snapshot(timer.id)
            let replay = try await f.transition(timer.id, .delete, expected: 4, at: Self.t0.advanced(bySeconds: 300))
            #expect(!replay.applied)
            let after = try await f.snapshot(timer.id)
            #expect(before == after)
        }
    }

    @Test func refusedTransitionsChangeNothingAndWriteNoAuditRow() async throws {
        try await RepositoryFixture.run { f in
            let running = try await f.create("running")
            let paused = try await f.create("paused", start: false)
            let stopped = try await f.create("stopped")
            _ = try await f.transition(stopped.id, .stop, at: Self.t0.advanced(bySeconds: 10))
            let deleted = try await f.create("deleted")
            _ = try await f.transition(deleted.id, .delete, at: Self.t0.advanced(bySeconds: 10))

            let refusals: [(id: Int64, user: Int64, command: TimerCommand, expected: Int64?, code: TimerDomainError.Code)] = [
                (running.id, f.user, .resume, nil, .failedPrecondition),
                (paused.id, f.user, .pause, nil, .failedPrecondition),
                (stopped.id, f.user, .pause, nil, .failedPrecondition),
                (stopped.id, f.user, .resume, nil, .failedPrecondition),
                (stopped.id, f.user, .stop, nil, .failedPrecondition),
                (deleted.id, f.user, .resume, nil, .notFound),
                (running.id, f.otherUser, .pause, nil, .notFound),
                (running.id, f.user, .pause, 2, .aborted),
                (paused.id, f.user, .resume, 7, .aborted),
                (stopped.id, f.user, .delete, 1, .aborted),
                (running.id, f.user, .pause, 0, .invalidArgument),
            ]
            let ids = [running.id, paused.id, stopped.id, deleted.id]
            var before: [[String?]] = []
            for id in ids { before.append(try await f.snapshot(id)) }
            let auditBefore = try await f.count("SELECT count(*) FROM audit_log")
            for refusal in refusals {
                let error = await domainError {
                    _ = try await f.repository.transition(
                        id: refusal.id, userID: refusal.user, command: refusal.command,
                        expectedSyncVersion: refusal.expected, deviceID: "phone", actor: f.actor,
                        at: Self.t0.advanced(bySeconds: 20)
                    )
                }
                #expect(error?.code == refusal.code, "\(refusal.command) of timer \(refusal.id)")
            }
            let unknown = await domainError { _ = try await f.transition(424_242, .pause, at: Self.t0) }
            #expect(unknown?.code == .notFound)
            var after: [[String?]] = []
            for id in ids { after.append(try await f.snapshot(id)) }
            #expect(before == after)
            let auditAfter = try await f.count("SELECT count(*) FROM audit_log")
            #expect(auditBefore == auditAfter)
        }
    }

    @Test func staleExpectedVersionIsAbortedAndWritesNothing() async throws {
        try await RepositoryFixture.run { f in
            let timer = try await f.create()
            _ = try await f.transition(timer.id, .pause, expected: 1, at: Self.t0.advanced(bySeconds: 30))
            _ = try await f.transition(timer.id, .resume, expected: 2, at: Self.t0.advanced(bySeconds: 40))
            let before = try await f.snapshot(timer.id)
            // Version 3 now: 1 is stale, and 2 names a pause that is no longer current.
            let stale = await domainError { _ = try await f.transition(timer.id, .stop, expected: 1, at: Self.t0.advanced(bySeconds: 50)) }
            #expect(stale?.code == .aborted)
            #expect(stale?.field == "expected_sync_version")
            let stalePause = await domainError { _ = try await f.transition(timer.id, .pause, expected: 2, at: Self.t0.advanced(bySeconds: 50)) }
            #expect(stalePause?.code == .aborted)
            // The re-sent resume (expected 2, timer running) is answered without a write.
            let replay = try await f.transition(timer.id, .resume, expected: 2, at: Self.t0.advanced(bySeconds: 60))
            #expect(!replay.applied)
            #expect(replay.record.state.syncVersion == 3)
            let after = try await f.snapshot(timer.id)
            #expect(before == after)
        }
    }

    @Test func concurrentPausesAndResumesLeaveSoundSessions() async throws {
        try await RepositoryFixture.run(connections: 8) { f in
            let timer = try await f.create()
            // Call i is at t0 + 1.7 s × (i + 1); the row lock serves the calls
            // in any order, and the domain clamps instants that come late.
            let applied = Recorder<Bool>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let tick = Int64(index + 1)
                        let command: TimerCommand = index % 2 == 0 ? .pause : .resume
                        do {
                            let result = try await f.transition(timer.id, command, at: Self.t0.advanced(byMicroseconds: tick * 1_700_000))
                            applied.append(result.applied)
                        } catch let error as TimerDomainError where error.code == .failedPrecondition {
                            applied.append(false)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let outcomes = applied.all
            let appliedCount = outcomes.filter { $0 }.count
            #expect(outcomes.count == 50)
            #expect(appliedCount > 0)

            let stored = try await f.repository.get(id: timer.id, userID: f.user)
            let sessions = try await f.allSessions(timer.id)
            let intervals = sessions.map(\.interval)
            let overlaps = SessionInterval.violations(in: intervals)
            #expect(overlaps.isEmpty)
            let mismatches = SessionInterval.violations(of: stored.state, sessions: intervals)
            #expect(mismatches.isEmpty)
            let openCount = intervals.filter(\.isOpen).count
            #expect(openCount <= 1)
            let storedTotal = try await f.count("SELECT total_duration FROM timers WHERE id = $1", [String(timer.id)])
            let sessionSum = try await f.count(
                "SELECT coalesce(sum(duration), 0) FROM timer_sessions WHERE timer_id = $1 AND ended_at IS NOT NULL",
                [String(timer.id)]
            )
            #expect(storedTotal == sessionSum)
            #expect(Int64(storedTotal) == SessionInterval.sumOfClosedSeconds(intervals))
            #expect(stored.state.syncVersion == Int64(appliedCount) + 1)
            // Every applied resume opened one session after the first.
            let expectedSessions = 1 + appliedCount / 2
            #expect(intervals.count == expectedSessions)
            let audits = try await f.count("SELECT count(*) FROM audit_log WHERE timer_id = $1", [String(timer.id)])
            #expect(audits == appliedCount + 1)
        }
    }

    @Test func retriedCreateWithTheSameClientRefCreatesOneTimer() async throws {
        try await RepositoryFixture.run(connections: 6) { f in
            let key = "123e4567-e89b-12d3-a456-426614174000"
            let first = try await f.repository.create(
                userID: f.user, accountID: f.account, projectID: nil, billingRateID: nil, description: "Once",
                clientRef: key, deviceID: "", start: true, actor: f.actor, at: Self.t0
            )
            // A retry (upper case is the same key) returns the timer as it is, whatever it asks.
            let retry = try await f.repository.create(
                userID: f.user, accountID: f.account, projectID: f.project, billingRateID: nil, description: "Different",
                clientRef: key.uppercased(), deviceID: "", start: false, actor: f.actor, at: Self.t0.advanced(bySeconds: 9)
            )
            #expect(first.created)
            #expect(!retry.created)
            #expect(retry.record == first.record)
            #expect(first.record.clientRef == key)
            // The same key is another user's own.
            let other = try await f.repository.create(
                userID: f.otherUser, accountID: f.otherAccount, projectID: nil, billingRateID: nil, description: "Theirs",
                clientRef: key, deviceID: "", start: true, actor: f.actor, at: Self.t0
            )
            #expect(other.created)

            let concurrentKey = "00000000-0000-4000-8000-000000000001"
            let results = Recorder<(id: Int64, created: Bool)>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let result = try await f.repository.create(
                            userID: f.user, accountID: f.account, projectID: nil, billingRateID: nil,
                            description: "Concurrent \(index)", clientRef: concurrentKey, deviceID: "", start: true,
                            actor: f.actor, at: Self.t0.advanced(bySeconds: Int64(index))
                        )
                        results.append((result.record.id, result.created))
                    }
                }
                try await group.waitForAll()
            }
            let all = results.all
            let distinctIDs = Set(all.map(\.id)).count
            let createdCount = all.filter(\.created).count
            #expect(all.count == 10)
            #expect(distinctIDs == 1)
            #expect(createdCount == 1)
            let stored = try await f.count("SELECT count(*) FROM timers WHERE client_ref = $1", [concurrentKey])
            #expect(stored == 1)
            let sessions = try await f.count("SELECT count(*) FROM timer_sessions s JOIN timers t ON t.id = s.timer_id WHERE t.client_ref = $1", [concurrentKey])
            #expect(sessions == 1)
            let audits = try await f.count("SELECT count(*) FROM audit_log WHERE user_id = $1", [String(f.user)])
            #expect(audits == 2)

            // A key whose timer was deleted is spent.
            _ = try await f.transition(first.record.id, .delete, at: Self.t0.advanced(bySeconds: 20))
            let spent = await domainError { _ = try await f.create(clientRef: key) }
            #expect(spent?.code == .alreadyExists)
        }
    }

    @Test func paginationVisitsEveryTimerOnceWhileTimersAreInserted() async throws {
        try await RepositoryFixture.run { f in
            var original: [Int64] = []
            for index in 0..<23 {
                // Pairs share a creation instant: the id breaks the tie.
                original.append(try await f.create("t\(index)", at: Self.t0.advanced(bySeconds: Int64(index / 2))).id)
            }
            var visited: [Int64] = []
            var token: String?
            var pages = 0
            var inserted = 0
            repeat {
                let page = try await f.repository.list(userID: f.user, pageSize: 5, after: token)
                visited += page.items.map(\.id)
                token = page.nextPageToken
                pages += 1
                // New timers between pages: newer than all, at the cursor's
                // instant, and older than all.
                for offset: Int64 in [100, 5, -100] {
                    inserted += 1
                    _ = try await f.create("new \(inserted)", at: Self.t0.advanced(bySeconds: offset))
                }
            } while token != nil && pages < 50
            let duplicates = visited.count - Set(visited).count
            let missing = Set(original).subtracting(visited)
            #expect(duplicates == 0)
            #expect(missing.isEmpty)
            #expect(token == nil)

            // Filtered paging as well, with the filter in the token.
            let filter = TimerFilter(statuses: [.running], accountID: f.account)
            let first = try await f.repository.list(userID: f.user, filter: filter, pageSize: 4, after: nil)
            let next = try #require(first.nextPageToken)
            let second = try await f.repository.list(userID: f.user, filter: filter, pageSize: 4, after: next)
            let overlap = Set(first.items.map(\.id)).intersection(second.items.map(\.id))
            #expect(overlap.isEmpty)
            let wrongFilter = await domainError {
                _ = try await f.repository.list(userID: f.user, filter: .init(statuses: [.paused]), pageSize: 4, after: next)
            }
            #expect(wrongFilter?.code == .invalidArgument)
            #expect(wrongFilter?.field == "page_token")
            for garbage in ["garbage", "djEuMS4yLjM", "%%%", String(repeating: "A", count: 300)] {
                let malformed = await domainError { _ = try await f.repository.list(userID: f.user, pageSize: 4, after: garbage) }
                #expect(malformed?.code == .invalidArgument, "\(garbage)")
                #expect(malformed?.field == "page_token")
            }
            let badSize = await domainError { _ = try await f.repository.list(userID: f.user, pageSize: 0, after: nil) }
            #expect(badSize?.field == "page_size")
        }
    }

    @Test func pageTokensRoundTrip() throws {
        let token = PageToken(instant: Instant(2025, 1, 2, 3, 4, 5, microsecond: 678_901), id: 42)
        let text = token.encode(scope: "timers|")
        let decoded = try PageToken.decode(text, scope: "timers|")
        #expect(decoded == token)
        let empty = try PageToken.decode("", scope: "timers|")
        #expect(empty == nil)
        let urlSafe = !text.contains("+") && !text.contains("/") && !text.contains("=")
        #expect(urlSafe)
    }

    @Test func activeAndSessionsPages() async throws {
        try await RepositoryFixture.run { f in
            let running = try await f.create("running")
            let paused = try await f.create("paused", start: false, at: Self.t0.advanced(bySeconds: 1))
            let stopped = try await f.create("stopped", at: Self.t0.advanced(bySeconds: 2))
            _ = try await f.transition(stopped.id, .stop, at: Self.t0.advanced(bySeconds: 3))
            let deleted = try await f.create("deleted", at: Self.t0.advanced(bySeconds: 4))
            _ = try await f.transition(deleted.id, .delete, at: Self.t0.advanced(bySeconds: 5))
            let theirs = try await f.repository.create(
                userID: f.otherUser, accountID: f.otherAccount, projectID: nil, billingRateID: nil, description: "theirs",
                clientRef: nil, deviceID: "", start: true, actor: f.actor, at: Self.t0
            )
            let active = try await f.repository.active(userID: f.user)
            #expect(active.map(\.id) == [running.id, paused.id])
            let inOther = try await f.repository.active(userID: f.user, accountID: f.otherAccount)
            #expect(inOther.isEmpty)
            let otherActive = try await f.repository.active(userID: f.otherUser)
            #expect(otherActive.map(\.id) == [theirs.record.id])

            for step in 1...6 {
                let command: TimerCommand = step % 2 == 1 ? .pause : .resume
                _ = try await f.transition(running.id, command, at: Self.t0.advanced(bySeconds: Int64(step * 10)))
            }
            var starts: [Instant] = []
            var token: String?
            repeat {
                let page = try await f.repository.sessions(timerID: running.id, userID: f.user, pageSize: 2, after: token)
                starts += page.items.map(\.interval.startedAt)
                token = page.nextPageToken
            } while token != nil
            let expectedStarts = [0, 20, 40, 60].map { Self.t0.advanced(bySeconds: Int64($0)) }
            #expect(starts == expectedStarts)
            let foreign = await domainError {
                _ = try await f.repository.sessions(timerID: running.id, userID: f.otherUser, pageSize: 2, after: nil)
            }
            #expect(foreign?.code == .notFound)
            let listToken = try await f.repository.list(userID: f.user, pageSize: 1, after: nil).nextPageToken
            let crossed = await domainError {
                _ = try await f.repository.sessions(timerID: running.id, userID: f.user, pageSize: 2, after: listToken)
            }
            #expect(crossed?.field == "page_token")
        }
    }
}
