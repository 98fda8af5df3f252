import Codec
import Foundation
import RPC
import Storage
import Testing
import TimerDomain
@testable import RPCServer

/// SyncTimers end to end: a real server on loopback over a fresh schema of
/// the project-local PostgreSQL, its clock set by the test.
@Suite("SyncTimers on PostgreSQL", .timeLimit(.minutes(2)))
struct SyncTimersTests {
    typealias Fixture = TimerServiceTests.Fixture

    /// The server's clock during each test (a Monday, 12:00 UTC).
    static let now = Instant(2025, 6, 2, 12, 0, 0)
    static let refA = "a1a1a1a1-0000-4000-8000-000000000001"
    static let refB = "b2b2b2b2-0000-4000-8000-000000000002"

    /// `minutes` before (negative) or after the server's now.
    static func at(_ minutes: Int64) -> Instant { now.advanced(bySeconds: minutes * 60) }

    static func withService(_ body: (Fixture, ManualWallClock) async throws -> Void) async throws {
        let clock = ManualWallClock(now)
        try await TimerServiceTests.withService(clock: clock) { f in try await body(f, clock) }
    }

    // MARK: Requests

    static func transition(_ action: TimerAction, _ at: Instant) -> DeviceTransition {
        var transition = DeviceTransition()
        transition.action = action
        transition.at = Timestamp(at)
        return transition
    }

    static func offline(
        _ ref: String, _ status: TimerStatus, account: Int64, startedAt: Instant?, _ transitions: [DeviceTransition] = []
    ) -> DeviceTimer {
        var timer = DeviceTimer()
        timer.clientRef = ref
        timer.accountID = account
        timer.description = "Offline work"
        timer.status = status
        timer.startedAt = startedAt.map(Timestamp.init)
        timer.transitions = transitions
        return timer
    }

    static func known(_ id: Int64, _ status: TimerStatus, version: Int64, _ transitions: [DeviceTransition] = []) -> DeviceTimer {
        var timer = DeviceTimer()
        timer.id = id
        timer.status = status
        timer.syncVersion = version
        timer.transitions = transitions
        return timer
    }

    static func request(_ timers: [DeviceTimer], lastSync: Instant? = nil, deviceTime: Instant? = nil) -> SyncTimersRequest {
        var request = SyncTimersRequest()
        request.deviceID = "tablet"
        request.timers = timers
        request.lastSync = lastSync.map(Timestamp.init)
        request.deviceTime = deviceTime.map(Timestamp.init)
        return request
    }

    func sync(_ f: Fixture, _ request: SyncTimersRequest, as token: String = "syncer") async throws -> SyncTimersResponse {
        try await f.call(TimerServiceMethods.syncTimers, request, as: token)
    }

    func syncFailure(_ f: Fixture, _ request: SyncTimersRequest, as token: String = "syncer") async -> RPCError? {
        await f.failure(TimerServiceMethods.syncTimers, request, SyncTimersResponse.self, as: token)
    }

    /// A timer created through CreateTimer by the owner at the clock's now.
    func create(_ f: Fixture, _ description: String = "Online work", as token: String = "owner") async throws -> VaultTimer {
        var create = CreateTimerRequest()
        create.accountID = token == "other" ? f.otherAccountID : f.accountID
        create.description = description
        create.deviceID = "laptop"
        let response: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create, as: token)
        return try #require(response.timer)
    }

    func pause(_ f: Fixture, _ id: Int64) async throws {
        var pause = PauseTimerRequest()
        pause.id = id
        let _: PauseTimerResponse = try await f.call(TimerServiceMethods.pauseTimer, pause)
    }

    /// Rows in timers, timer_sessions and audit_log.
    func rows(_ f: Fixture) async throws -> [String?] {
        try await f.pool.withConnection { c in
            try await c.query("""
                SELECT (SELECT count(*) FROM timers)::text, (SELECT count(*) FROM timer_sessions)::text,
                       (SELECT count(*) FROM audit_log)::text
                """).rows.first ?? []
        }
    }

    /// The stored sessions of a timer: start, end, duration (seconds).
    func sessions(_ f: Fixture, _ id: Int64) async throws -> [(Instant, Instant?, Int64)] {
        try await f.pool.withConnection { c in
            try await c.query("""
                SELECT (extract(epoch FROM started_at) * 1000000)::bigint, (extract(epoch FROM ended_at) * 1000000)::bigint, duration
                FROM timer_sessions WHERE timer_id = $1 ORDER BY started_at, id
                """, [String(id)]).rows
        }.map { row in
            (Instant(microsecondsSinceEpoch: Int64(row[0] ?? "") ?? 0),
             row[1].flatMap { Int64($0) }.map(Instant.init(microsecondsSinceEpoch:)),
             Int64(row[2] ?? "") ?? -1)
        }
    }

    // MARK: Tests

    @Test("a timer created offline: CREATE_ON_SERVER with its sessions; the re-sent sync writes nothing and answers the same")
    func createOnServer() async throws {
        try await Self.withService { f, clock in
            let timer = Self.offline(Self.refA, .stopped, account: f.accountID, startedAt: Self.at(-120), [
                Self.transition(.pause, Self.at(-90)), Self.transition(.resume, Self.at(-60)), Self.transition(.stop, Self.at(-30)),
            ])
            let request = Self.request([timer])
            let first = try await sync(f, request)
            #expect(first.results.count == 1)
            let result = try #require(first.results.first)
            #expect(result.resolution == .createOnServer)
            #expect(result.index == 0 && result.clientRef == Self.refA)
            #expect(result.status?.code == 0)
            let created = try #require(result.timer)
            #expect(created.status == .stopped)
            #expect(created.clientRef == Self.refA)
            #expect(created.syncVersion == 4)
            #expect(created.totalDuration == 60 * 60)
            #expect(created.startedAt == Timestamp(Self.at(-120)))
            #expect(created.stoppedAt == Timestamp(Self.at(-30)))
            #expect(created.lastUpdated == Timestamp(Self.now))
            #expect(created.deviceID == "tablet")
            #expect(first.conflicts.isEmpty)
            let stored = try await sessions(f, created.id)
            let durations = stored.map(\.2)
            #expect(durations == [1_800, 1_800])
            let rowsAfterFirst = try await rows(f)
            #expect(rowsAfterFirst == ["1", "2", "4"])

            clock.advance(bySeconds: 30)
            let second = try await sync(f, request)
            #expect(second.results == first.results)
            #expect(second.conflicts == first.conflicts)
            let rowsAfterSecond = try await rows(f)
            #expect(rowsAfterSecond == rowsAfterFirst)
        }
    }

    @Test("offline transitions of a timer on the server's version: UPDATE_SERVER at the clamped device times, once")
    func updateServer() async throws {
        try await Self.withService { f, clock in
            clock.set(Self.at(-180))
            let online = try await create(f)  // running since 09:00, version 1
            clock.set(Self.now)
            let timer = Self.known(online.id, .paused, version: 1, [
                Self.transition(.pause, Self.at(-240)),  // before the last change (09:00): moved up to it
                Self.transition(.resume, Self.at(-120)),
                Self.transition(.pause, Self.at(600)),  // in the server's future: now
            ])
            let request = Self.request([timer])
            let first = try await sync(f, request)
            let result = try #require(first.results.first)
            #expect(result.resolution == .updateServer)
            let updated = try #require(result.timer)
            #expect(updated.syncVersion == 4)
            #expect(updated.status == .paused)
            #expect(updated.pausedAt == Timestamp(Self.now))
            #expect(updated.totalDuration == 120 * 60)
            #expect(updated.lastUpdated == Timestamp(Self.now))
            let stored = try await sessions(f, online.id)
            #expect(stored.count == 2)
            let starts = stored.map(\.0)
            let ends = stored.map(\.1)
            let durations = stored.map(\.2)
            #expect(starts == [Self.at(-180), Self.at(-120)])
            #expect(ends == [Self.at(-180), Self.now])
            #expect(durations == [0, 7_200])
            let audit = try await f.pool.withConnection {
                try await $0.query("SELECT action, details->>'cause' FROM audit_log WHERE timer_id = $1 ORDER BY sync_version_after",
                                   [String(online.id)]).rows
            }
            let actions = audit.map { $0[0] }
            let causes = audit.map { $0[1] }
            #expect(actions == ["created", "paused", "resumed", "paused"])
            #expect(causes == [nil, "sync", "sync", "sync"])
            #expect(first.meta?.pausedCount == 1)

            let rowsBefore = try await rows(f)
            clock.advance(bySeconds: 10)
            let again = try await sync(f, request)
            #expect(again.results == first.results)
            let rowsAfter = try await rows(f)
            #expect(rowsAfter == rowsBefore)

            let current = try await sync(f, Self.request([Self.known(online.id, .paused, version: 4)]))
            #expect(current.results.first?.resolution == .inSync)
        }
    }

    @Test("GetSystemHealth and the metrics report one reading of the active timers")
    func healthAndMetricsAgree() async throws {
        try await Self.withService { f, _ in
            let running = try await create(f, "Running")
            let paused = try await create(f, "Paused")
            _ = try await create(f, "Another user's", as: "other")
            try await pause(f, paused.id)
            _ = running
            let health: GetSystemHealthResponse = try await f.call(TimerServiceMethods.getSystemHealth, GetSystemHealthRequest())
            #expect(health.activeTimersCount == 3)
            let metrics = f.metrics.render()
            #expect(metrics.contains("timerd_active_timers{status=\"running\"} 2\n"), "\(metrics)")
            #expect(metrics.contains("timerd_active_timers{status=\"paused\"} 1\n"))
            #expect(metrics.contains("timerd_active_users 2\n"))
        }
    }

    @Test("the server changed since the device's version: UPDATE_CLIENT, with each conflict type when the device changed too")
    func updateClientAndConflicts() async throws {
        try await Self.withService { f, clock in
            let mismatch = try await create(f, "Mismatch")
            let concurrent = try await create(f, "Concurrent")
            let untouched = try await create(f, "Untouched")
            let deleted = try await create(f, "Deleted")
            let deletedUntouched = try await create(f, "Deleted, untouched")
            clock.advance(bySeconds: 600)
            for id in [mismatch.id, concurrent.id, untouched.id] { try await pause(f, id) }
            for id in [deleted.id, deletedUntouched.id] {
                var delete = DeleteTimerRequest()
                delete.id = id
                let _: DeleteTimerResponse = try await f.call(TimerServiceMethods.deleteTimer, delete)
            }
            clock.advance(bySeconds: 600)
            let rowsBefore = try await rows(f)
            let response = try await sync(f, Self.request([
                Self.known(mismatch.id, .stopped, version: 1, [Self.transition(.stop, Self.at(-5))]),
                Self.known(concurrent.id, .paused, version: 1, [Self.transition(.pause, Self.at(-5))]),
                Self.known(untouched.id, .running, version: 1),
                Self.known(deleted.id, .paused, version: 1, [Self.transition(.pause, Self.at(-5))]),
                Self.known(deletedUntouched.id, .running, version: 1),
            ]))
            let resolutions = response.results.map(\.resolution)
            #expect(resolutions == [.updateClient, .updateClient, .updateClient, .updateClient, .updateClient])
            #expect(response.results[0].timer?.status == .paused)
            #expect(response.results[3].timer?.deletedAt != nil)
            #expect(response.conflicts.count == 3)
            var expected = Conflict()
            expected.timerID = mismatch.id
            expected.conflictType = .statusMismatch
            expected.localStatus = .stopped
            expected.serverStatus = .paused
            expected.resolution = .serverWins
            expected.localSyncVersion = 1
            expected.serverSyncVersion = 2
            #expect(response.conflicts.first == expected)
            let kinds = response.conflicts.map(\.conflictType)
            let ids = response.conflicts.map(\.timerID)
            #expect(kinds == [.statusMismatch, .concurrentChange, .deletedOnServer])
            #expect(ids == [mismatch.id, concurrent.id, deleted.id])
            // Counted by type for operators, with the sync and its items.
            let metrics = f.metrics.render()
            for type in ["status_mismatch", "concurrent_change", "deleted_on_server"] {
                #expect(metrics.contains("timerd_sync_conflicts_total{type=\"\(type)\"} 1\n"), "\(metrics)")
            }
            #expect(metrics.contains("timerd_syncs_total 1\n"))
            #expect(metrics.contains("timerd_sync_items_total 5\n"))
            #expect(metrics.contains("timerd_syncs_refused_total 0\n"))
            let rowsAfter = try await rows(f)
            #expect(rowsAfter == rowsBefore)
        }
    }

    @Test("rejected items get their own status, the others are applied; another user's timers and accounts leak nothing")
    func rejectedItems() async throws {
        try await Self.withService { f, clock in
            let mine = try await create(f, "Mine")
            let paused = try await create(f, "Paused")
            try await pause(f, paused.id)
            let theirs = try await create(f, "Theirs", as: "other")
            clock.advance(bySeconds: 600)
            let response = try await sync(f, Self.request([
                Self.known(paused.id, .paused, version: 2, [Self.transition(.pause, Self.at(-1))]),  // pausing a paused timer
                Self.known(mine.id, .running, version: 7),  // a version the server never issued
                Self.known(theirs.id, .running, version: 1),
                Self.known(theirs.id + 1_000, .running, version: 1),
                Self.offline(Self.refA, .running, account: f.otherAccountID, startedAt: Self.at(-5)),
                Self.offline(Self.refB, .paused, account: f.accountID, startedAt: Self.at(-10), [Self.transition(.pause, Self.at(-2))]),
            ]))
            let resolutions = response.results.map(\.resolution)
            let codes = response.results.map { $0.status?.code ?? -1 }
            #expect(resolutions == [.rejected, .rejected, .rejected, .rejected, .rejected, .createOnServer])
            #expect(codes == [9, 3, 5, 5, 5, 0])
            #expect(response.results[0].status?.message == "transitions[0] (pause): timer is paused; pause needs a running timer")
            #expect(response.results[0].timer?.id == paused.id)
            #expect(response.results[1].timer?.id == mine.id)
            // Another user's timer answers exactly like an id that does not exist.
            #expect(response.results[2].timer == nil && response.results[3].timer == nil)
            #expect(response.results[2].status == response.results[3].status)
            #expect(response.results[4].timer == nil)
            #expect(response.results[4].status?.message.contains("account") == true)
            let serverTimerIDs = response.serverTimers.map(\.id)
            #expect(!serverTimerIDs.contains(theirs.id))
            let theirsAfter: GetTimerResponse = try await f.call(TimerServiceMethods.getTimer, {
                var get = GetTimerRequest()
                get.id = theirs.id
                return get
            }(), as: "other")
            #expect(theirsAfter.timer?.syncVersion == 1)
        }
    }

    @Test("server_timers: the active timers and those changed since last_sync that the device did not mention; meta and skew")
    func serverTimers() async throws {
        try await Self.withService { f, clock in
            let mentioned = try await create(f, "Mentioned")
            let active = try await create(f, "Active")
            let stoppedBefore = try await create(f, "Stopped before")
            var stop = StopTimerRequest()
            stop.id = stoppedBefore.id
            let _: StopTimerResponse = try await f.call(TimerServiceMethods.stopTimer, stop)
            clock.advance(bySeconds: 600)
            let lastSync = clock.now
            clock.advance(bySeconds: 600)
            let stoppedAfter = try await create(f, "Stopped after")
            stop.id = stoppedAfter.id
            let _: StopTimerResponse = try await f.call(TimerServiceMethods.stopTimer, stop)
            clock.advance(bySeconds: 60)

            let response = try await sync(f, Self.request([Self.known(mentioned.id, .running, version: 1)], lastSync: lastSync,
                                                          deviceTime: clock.now.advanced(bySeconds: 90)))
            #expect(response.results.first?.resolution == .inSync)
            let ids = Set(response.serverTimers.map(\.id))
            #expect(ids == [active.id, stoppedAfter.id])
            #expect(response.meta?.activeCount == 2 && response.meta?.runningCount == 2)
            #expect(response.meta?.syncTimestamp == Timestamp(clock.now))
            #expect(response.clockSkewSeconds == 90)

            let noLastSync = try await sync(f, Self.request([], deviceTime: clock.now.advanced(bySeconds: -30)))
            let activeIDs = Set(noLastSync.serverTimers.map(\.id))
            #expect(activeIDs == [mentioned.id, active.id])
            #expect(noLastSync.clockSkewSeconds == -30)
            #expect(noLastSync.results.isEmpty)
        }
    }

    @Test("whatever the device clocks say, no session and no total is ever negative")
    func noNegativeDurations() async throws {
        try await Self.withService { f, clock in
            clock.set(Self.at(-60))
            let online = try await create(f)
            clock.set(Self.now)
            let response = try await sync(f, Self.request([
                Self.known(online.id, .stopped, version: 1, [
                    Self.transition(.pause, Self.at(10_000)), Self.transition(.resume, Self.at(-10_000)),
                    Self.transition(.pause, Self.at(-59)), Self.transition(.resume, Self.at(-70)), Self.transition(.stop, Self.at(-1)),
                ]),
                Self.offline(Self.refA, .stopped, account: f.accountID, startedAt: Self.at(5_000), [
                    Self.transition(.pause, Self.at(-5_000)), Self.transition(.resume, Self.at(-20)), Self.transition(.stop, Self.at(-30)),
                ]),
                Self.offline(Self.refB, .paused, account: f.accountID, startedAt: Instant(1990, 1, 1), [
                    Self.transition(.pause, Instant(1990, 1, 2)),
                ]),
            ]))
            let resolutions = response.results.map(\.resolution)
            #expect(resolutions == [.updateServer, .createOnServer, .createOnServer])
            for result in response.results {
                let timer = try #require(result.timer)
                let stored = try await sessions(f, timer.id)
                let durations = stored.map(\.2)
                let nonNegative = durations.allSatisfy { $0 >= 0 }
                let ordered = stored.allSatisfy { ($0.1 ?? $0.0) >= $0.0 }
                #expect(nonNegative && ordered)
                let sum = durations.reduce(0, +)
                #expect(timer.totalDuration == sum)
                #expect(timer.totalDuration >= 0 && timer.currentSessionDuration >= 0)
            }
            // The ancient start is moved up to 30 days before now: a paused timer with one 0-second session.
            let ancient = try #require(response.results[2].timer)
            #expect(ancient.startedAt == Timestamp(Self.now.advanced(bySeconds: -30 * 86_400)))
            #expect(ancient.totalDuration == 0)
        }
    }

    @Test("without timers:sync: PERMISSION_DENIED naming the ability")
    func permission() async throws {
        try await Self.withService { f, _ in
            let denied = await syncFailure(f, Self.request([]), as: "owner")
            #expect(denied?.code == .permissionDenied)
            #expect(denied?.message == "SyncTimers needs the ability 'timers:sync', which this token does not have")
            let anonymous = await syncFailure(f, Self.request([]), as: "revoked")
            #expect(anonymous?.code == .unauthenticated)
            let syncOnly = try await sync(f, Self.request([]), as: "synconly")
            #expect(syncOnly.results.isEmpty)
        }
    }

    @Test("malformed requests are INVALID_ARGUMENT naming the field and its index, and write nothing")
    func invalidArguments() async throws {
        try await Self.withService { f, _ in
            let good = Self.offline(Self.refA, .running, account: f.accountID, startedAt: Self.at(-5))
            var noDevice = Self.request([good])
            noDevice.deviceID = ""
            var longDevice = Self.request([good])
            longDevice.deviceID = String(repeating: "d", count: 201)
            var badRef = good
            badRef.clientRef = "not-a-uuid"
            var noStatus = good
            noStatus.clientRef = Self.refB
            noStatus.status = .unspecified
            var noRef = good
            noRef.clientRef = ""
            var noAt = good
            noAt.clientRef = Self.refB
            noAt.transitions = [DeviceTransition()]
            noAt.transitions[0].action = .pause
            var noAction = good
            noAction.clientRef = Self.refB
            noAction.transitions = [Self.transition(.unspecified, Self.now)]
            var noDescription = good
            noDescription.clientRef = Self.refB
            noDescription.description = "  "
            var noAccount = good
            noAccount.clientRef = Self.refB
            noAccount.accountID = 0
            let idWithoutVersion = Self.known(5, .running, version: 0)
            let versionWithoutID = { var t = good; t.clientRef = Self.refB; t.syncVersion = 3; return t }()
            let tooMany = Self.request(Array(repeating: Self.known(1, .running, version: 1), count: 501))
            let tooManyTransitions = Self.known(5, .running, version: 1,
                                                Array(repeating: Self.transition(.pause, Self.now), count: 501))

            let cases: [(SyncTimersRequest, String)] = [
                (noDevice, "device_id must be 1 to 200 characters"),
                (longDevice, "device_id must be 1 to 200 characters"),
                (Self.request([good, badRef]), "timers[1].client_ref must be a UUID"),
                (Self.request([good, noStatus]), "timers[1].status must be RUNNING, PAUSED or STOPPED"),
                (Self.request([noRef]), "timers[0].client_ref must be a UUID"),
                (Self.request([good, noAt]), "timers[1].transitions[0].at is required"),
                (Self.request([good, noAction]), "timers[1].transitions[0].action must be PAUSE, RESUME or STOP"),
                (Self.request([good, noDescription]), "timers[1].description must be 1 to 1000 characters"),
                (Self.request([good, noAccount]), "timers[1].account_id must be positive"),
                (Self.request([idWithoutVersion]), "timers[0].sync_version must be at least 1"),
                (Self.request([versionWithoutID]), "timers[0].sync_version must be 0"),
                (Self.request([good, good]), "timers[1].client_ref repeats timers[0].client_ref"),
                (Self.request([Self.known(5, .running, version: 1), Self.known(5, .paused, version: 1)]), "timers[1].id repeats timers[0].id"),
                (tooMany, "timers must hold at most 500"),
                (Self.request([tooManyTransitions]), "timers[0].transitions must hold at most 500"),
            ]
            for (request, prefix) in cases {
                let failure = await syncFailure(f, request)
                #expect(failure?.code == .invalidArgument, "\(prefix)")
                let message = failure?.message ?? ""
                #expect(message.hasPrefix(prefix), "\(message)")
            }
            let written = try await rows(f)
            #expect(written == ["0", "0", "0"])
        }
    }
}
