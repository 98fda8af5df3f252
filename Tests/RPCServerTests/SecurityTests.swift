import Codec
import Foundation
import RPC
import Storage
import Testing
import TimerDomain
import VaultCrypto
@testable import RPCServer

/// Who may reach what: every method against missing and bad tokens, another
/// user's timers and events, and strings shaped to break a query stored as
/// they are.
@Suite("Security", .timeLimit(.minutes(2)))
struct SecurityTests {
    typealias Fixture = TimerServiceTests.Fixture

    /// One call of every TimerService method on the owner's timer `id`,
    /// made with `token`: the status it failed with, nil if it succeeded.
    /// `watch`: WatchTimers too (a stream a valid token opens stays open).
    static func everyMethod(_ f: Fixture, timer id: Int64, as token: String?, watch: Bool = true) async -> [(String, RPCError?)] {
        var create = CreateTimerRequest()
        create.accountID = f.accountID
        create.description = "intruder"
        var get = GetTimerRequest()
        get.id = id
        var pause = PauseTimerRequest()
        pause.id = id
        var resume = ResumeTimerRequest()
        resume.id = id
        var stop = StopTimerRequest()
        stop.id = id
        var update = UpdateTimerRequest()
        update.id = id
        update.description = "renamed by an intruder"
        var delete = DeleteTimerRequest()
        delete.id = id
        var bulk = BulkTimersRequest()
        bulk.action = .stop
        bulk.ids = [id]
        var device = DeviceTimer()
        device.id = id
        device.accountID = f.accountID
        device.description = "synced by an intruder"
        device.status = .stopped
        device.syncVersion = 1
        var sync = SyncTimersRequest()
        sync.deviceID = "intruder"
        sync.timers = [device]
        var sessions = ListTimerSessionsRequest()
        sessions.id = id
        var adminPause = AdminPauseTimerRequest()
        adminPause.id = id
        var adminResume = AdminResumeTimerRequest()
        adminResume.id = id
        var adminStop = AdminStopTimerRequest()
        adminStop.id = id
        var results = [
            ("CreateTimer", await f.failure(TimerServiceMethods.createTimer, create, CreateTimerResponse.self, as: token)),
            ("GetTimer", await f.failure(TimerServiceMethods.getTimer, get, GetTimerResponse.self, as: token)),
            ("ListTimers", await f.failure(TimerServiceMethods.listTimers, ListTimersRequest(), ListTimersResponse.self, as: token)),
            ("GetActiveTimers", await f.failure(TimerServiceMethods.getActiveTimers, GetActiveTimersRequest(), GetActiveTimersResponse.self, as: token)),
            ("PauseTimer", await f.failure(TimerServiceMethods.pauseTimer, pause, PauseTimerResponse.self, as: token)),
            ("ResumeTimer", await f.failure(TimerServiceMethods.resumeTimer, resume, ResumeTimerResponse.self, as: token)),
            ("StopTimer", await f.failure(TimerServiceMethods.stopTimer, stop, StopTimerResponse.self, as: token)),
            ("UpdateTimer", await f.failure(TimerServiceMethods.updateTimer, update, UpdateTimerResponse.self, as: token)),
            ("DeleteTimer", await f.failure(TimerServiceMethods.deleteTimer, delete, DeleteTimerResponse.self, as: token)),
            ("BulkTimers", await f.failure(TimerServiceMethods.bulkTimers, bulk, BulkTimersResponse.self, as: token)),
            ("SyncTimers", await f.failure(TimerServiceMethods.syncTimers, sync, SyncTimersResponse.self, as: token)),
            ("ListTimerSessions", await f.failure(TimerServiceMethods.listTimerSessions, sessions, ListTimerSessionsResponse.self, as: token)),
            ("GetSystemHealth", await f.failure(TimerServiceMethods.getSystemHealth, GetSystemHealthRequest(), GetSystemHealthResponse.self, as: token)),
            ("AdminListActiveTimers", await f.failure(TimerServiceMethods.adminListActiveTimers, AdminListActiveTimersRequest(),
                                                      AdminListActiveTimersResponse.self, as: token)),
            ("AdminPauseTimer", await f.failure(TimerServiceMethods.adminPauseTimer, adminPause, AdminPauseTimerResponse.self, as: token)),
            ("AdminResumeTimer", await f.failure(TimerServiceMethods.adminResumeTimer, adminResume, AdminResumeTimerResponse.self, as: token)),
            ("AdminStopTimer", await f.failure(TimerServiceMethods.adminStopTimer, adminStop, AdminStopTimerResponse.self, as: token)),
        ]
        if watch {
            results.append(("WatchTimers", await f.failure(TimerServiceMethods.watchTimers, WatchTimersRequest(), TimerEvent.self, as: token)))
        }
        return results
    }

    /// What the database holds of every timer, session and audit row: equal
    /// before and after means nothing changed.
    static func everything(_ f: Fixture) async throws -> [[String?]] {
        try await f.pool.withConnection { connection in
            let timers = try await connection.query(
                "SELECT id, status, description, sync_version, total_duration, deleted_at IS NULL FROM timers ORDER BY id")
            let counts = try await connection.query("SELECT (SELECT count(*) FROM timer_sessions), (SELECT count(*) FROM audit_log)")
            return timers.rows + counts.rows
        }
    }

    func ownersTimer(_ f: Fixture) async throws -> Int64 {
        var create = CreateTimerRequest()
        create.accountID = f.accountID
        create.description = "Ada's work"
        let made: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
        return try #require(made.timer?.id)
    }

    // One database for the three checks below: each fixture migrates a
    // schema, and a parallel run already makes many.
    @Test("access: every method needs a valid token; another user's timers and events are out of reach")
    func access() async throws {
        try await TimerServiceTests.withService { (f: Fixture) async throws in
            try await everyMethodNeedsAValidToken(f)
            try await anotherUsersTimerIsNotFound(f)
            try await watchStreamsAreSeparate(f)
        }
    }

    /// Every method refuses a call without a token, or with an unknown,
    /// expired, revoked or malformed one: UNAUTHENTICATED, nothing changes.
    func everyMethodNeedsAValidToken(_ f: Fixture) async throws {
        let id = try await ownersTimer(f)
        let before = try await Self.everything(f)
        let cases: [(String?, String)] = [
            (nil, "missing 'authorization: Bearer <token>' metadata"),
            ("svt_" + String(repeating: "A", count: 43), "the token is not known"),
            ("expired", "the token has expired"),
            ("revoked", "the token was revoked"),
            ("svt_short", "invalid token: the token is not svt_ followed by 43 base64url characters"),
        ]
        for (token, message) in cases {
            let results = await Self.everyMethod(f, timer: id, as: token)
            #expect(results.count == TimerServiceMethods.all.count, "a method is missing from the list")
            for (method, failure) in results {
                #expect(failure?.code == .unauthenticated, "\(method) with \(token ?? "no token"): \(String(describing: failure))")
                #expect(failure?.message == message, "\(method) with \(token ?? "no token")")
            }
        }
        #expect(try await Self.everything(f) == before)
    }

    /// Another user's timer is NOT_FOUND to every method that names it,
    /// exactly as a timer that does not exist, and stays as it was.
    func anotherUsersTimerIsNotFound(_ f: Fixture) async throws {
        let id = try await ownersTimer(f)
        let before = try await Self.everything(f)
        let foreign = await Self.everyMethod(f, timer: id, as: "other", watch: false)
        let missing = await Self.everyMethod(f, timer: id + 1_000, as: "other", watch: false)
        let naming: Set<String> = ["GetTimer", "PauseTimer", "ResumeTimer", "StopTimer", "UpdateTimer", "DeleteTimer", "ListTimerSessions"]
        for ((method, failure), (_, absent)) in zip(foreign, missing) where naming.contains(method) {
            #expect(failure?.code == .notFound, "\(method): \(String(describing: failure))")
            // Nothing tells an existing timer of someone else's from none.
            #expect(failure?.message == absent?.message.replacingOccurrences(of: String(id + 1_000), with: String(id)), "\(method)")
        }
        // Calls that list or act on the caller's own timers see none of Ada's.
        let list: ListTimersResponse = try await f.call(TimerServiceMethods.listTimers, ListTimersRequest(), as: "other")
        #expect(list.timers.isEmpty)
        let active: GetActiveTimersResponse = try await f.call(TimerServiceMethods.getActiveTimers, GetActiveTimersRequest(), as: "other")
        #expect(active.timers.isEmpty)
        #expect(try await Self.everything(f) == before, "a call of Bob's changed something")
    }

    /// A watch stream carries its own user's events only.
    func watchStreamsAreSeparate(_ f: Fixture) async throws {
        let theirs: ResponseStream<TimerEvent> = f.channel.serverStreaming(TimerServiceMethods.watchTimers, request: WatchTimersRequest(),
                                                                           options: f.options("other"))
        var events = theirs.makeAsyncIterator()
        let snapshot = try await events.next()
        #expect(snapshot?.type == .snapshot)
        #expect(snapshot?.timers.isEmpty == true)
        // Ada's change, then Bob's: Bob's stream must show his first.
        let adas = try await ownersTimer(f)
        var create = CreateTimerRequest()
        create.accountID = f.otherAccountID
        create.description = "Bob's work"
        let made: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create, as: "other")
        var next = try await events.next()
        while next?.type == .heartbeat { next = try await events.next() }
        #expect(next?.type == .started)
        #expect(next?.timer?.id == made.timer?.id)
        #expect(next?.timer?.id != adas)
        theirs.cancel()
    }

    @Test("strings shaped like SQL, markup, format strings and shell are stored and returned exactly as sent")
    func injectionShapedStringsAreStoredVerbatim() async throws {
        let strings = [
            "'; DROP TABLE timers; --",
            "Robert'); DELETE FROM users WHERE ('1'='1",
            "\\'; SELECT pg_sleep(10); --",
            "<script>alert(document.cookie)</script>",
            "%s%s%s%n %x %1$s {0} ${jndi:ldap://x}",
            "$(rm -rf /) `id` | cat /etc/passwd",
            "\u{202E}txt.exe\u{202C} ∑ 𝄞 🧭 \\u0000",
            "line one\nline two\r\n\ttabbed",
            String(repeating: "x", count: 1_000),
        ]
        try await TimerServiceTests.withService { (f: Fixture) async throws in
            for text in strings {
                var create = CreateTimerRequest()
                create.accountID = f.accountID
                create.description = text
                // Device ids take no control characters (INVALID_ARGUMENT).
                let device = String(text.unicodeScalars.filter { !$0.properties.isDefaultIgnorableCodePoint && $0.value >= 0x20 && $0.value != 0x7F }
                    .map(Character.init).prefix(200))
                create.deviceID = device
                let made: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
                let id = try #require(made.timer?.id)
                #expect(made.timer?.description == text)
                var get = GetTimerRequest()
                get.id = id
                let read: GetTimerResponse = try await f.call(TimerServiceMethods.getTimer, get)
                #expect(read.timer?.description == text)
                #expect(read.timer?.deviceID == device)
                let stored = try await f.pool.withConnection { try await $0.query("SELECT description = $1, device_id = $2 FROM timers WHERE id = $3",
                                                                                   [text, device, String(id)]) }
                #expect(stored.rows.first == ["t", "t"], "stored differently: \(text.debugDescription)")
            }
            // Every table is still there, with everything in it.
            let count = try await f.pool.withConnection { try await $0.query("SELECT count(*) FROM timers") }
            let timers = count.rows.first?.first ?? nil
            #expect(timers == String(strings.count))
            let users = try await f.pool.withConnection { try await $0.query("SELECT count(*) FROM users") }
            let userCount = (users.rows.first?.first ?? nil).flatMap { Int($0) } ?? 0
            #expect(userCount >= 3)
        }
    }

    @Test("tokens are looked up by their SHA-256 only: the secret itself is never compared nor kept")
    func tokensAreComparedByHash() throws {
        let token = try APIToken.generate()
        #expect(token.hash.count == 32)
        #expect(token.hash == VaultCrypto.sha256(Array(token.text.utf8)))
        // The parsed bearer token carries its hash, which is what the
        // repository and the cache are keyed by.
        var metadata = Metadata()
        metadata.add("authorization", "Bearer \(token.text)")
        let parsed = try APIToken.bearer(in: metadata)
        #expect(parsed.hash == token.hash)
    }
}
