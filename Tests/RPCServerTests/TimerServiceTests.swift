import Codec
import Foundation
import RPC
import Storage
import Testing
import VaultMetrics
import TimerDomain
@testable import RPCServer

/// TimerService end to end: a real server on loopback over a fresh schema of
/// the project-local PostgreSQL, called through a real channel.
@Suite("TimerService on PostgreSQL", .timeLimit(.minutes(2)))
struct TimerServiceTests {
    struct Fixture {
        var channel: GRPCChannel
        var pool: PostgresPool
        /// Where the service's metrics go.
        var metrics: PrometheusRegistry
        var accountID: Int64
        var otherAccountID: Int64
        var projectID: Int64
        var rateID: Int64
        /// Tokens by name: "owner" (read, write, delete), "reader" (read only),
        /// "other" (another user, all abilities), "revoked", "admin" (admin of
        /// the owner's account), "otheradmin" (admin ability, administers nothing),
        /// "synconly" (the owner's, sync only), "syncer" (the owner's, read,
        /// write and sync), "expired" (the owner's, every ability, expired
        /// yesterday).
        var tokens: [String: String]

        func options(_ token: String?) -> CallOptions {
            var metadata = Metadata()
            if let token { metadata.add("authorization", "Bearer \(tokens[token] ?? token)") }
            return CallOptions(timeout: .seconds(20), metadata: metadata)
        }

        func call<Request: ProtoMessage, Response: ProtoMessage>(
            _ method: MethodDescriptor, _ request: Request, as token: String? = "owner"
        ) async throws(RPCError) -> Response {
            try await channel.unary(method, request: request, options: options(token))
        }

        /// The status a call fails with (nil if it succeeds).
        func failure<Request: ProtoMessage, Response: ProtoMessage>(
            _ method: MethodDescriptor, _ request: Request, _: Response.Type, as token: String? = "owner"
        ) async -> RPCError? {
            do {
                let _: Response = try await call(method, request, as: token)
                return nil
            } catch {
                return error
            }
        }
    }

    /// Runs `body` against a server over a fresh schema; the service reads
    /// the time from `clock`.
    static func withService(clock: any WallClock = SystemWallClock(), _ body: (Fixture) async throws -> Void) async throws {
        let base = try #require(ProcessInfo.processInfo.environment["TIMERD_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
                                "TIMERD_TEST_DATABASE_URL is not set: run scripts/services up and eval \"$(scripts/services env)\"")
        let schema = "svc_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresPool(configuration: .init(url: base, maximumConnections: 1, defaultTimeout: .seconds(30)))
        _ = try await admin.withConnection { try await $0.query("CREATE SCHEMA \(schema)") }
        let url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        let pool = PostgresPool(configuration: .init(url: url, maximumConnections: 4, defaultTimeout: .seconds(30)))
        var outcome: Result<Void, any Error> = .success(())
        do {
            // TIMERD_TEST_DATABASE_PARTITIONS runs the suite on hash-partitioned tables.
            let partitions = ProcessInfo.processInfo.environment["TIMERD_TEST_DATABASE_PARTITIONS"].flatMap { $0.isEmpty ? nil : $0 }
            _ = try await Migrator(layout: try partitions.map { try SchemaLayout.hashPartitioned(parsing: $0) }).migrate(using: pool)
            var tokens: [String: String] = [:]
            func insert(_ sql: String) async throws -> Int64 {
                let result = try await pool.withConnection { try await $0.query(sql + " RETURNING id") }
                return try #require(result.rows.first?[0].flatMap { Int64($0) })
            }
            func token(_ name: String, user: Int64, abilities: String, revoked: Bool = false, expired: Bool = false) async throws {
                let token = try APIToken.generate()
                let dates = expired ? "now() - interval '2 days', now() - interval '1 day'" : "now(), NULL"
                _ = try await insert("INSERT INTO api_tokens (user_id, token_hash, abilities, revoked_at, created_at, expires_at) VALUES (\(user), '\(Bytea.parameter(token.hash))'::bytea, '{\(abilities)}', \(revoked ? "now()" : "NULL"), \(dates))")
                tokens[name] = token.text
            }
            let owner = try await insert("INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com')")
            let other = try await insert("INSERT INTO users (name, email) VALUES ('Bob', 'bob@example.com')")
            let account = try await insert("INSERT INTO accounts (name) VALUES ('Acme')")
            let otherAccount = try await insert("INSERT INTO accounts (name) VALUES ('Globex')")
            _ = try await pool.withConnection { try await $0.query("INSERT INTO account_members (user_id, account_id) VALUES (\(owner), \(account)), (\(other), \(otherAccount))") }
            let project = try await insert("INSERT INTO projects (account_id, name) VALUES (\(account), 'Website')")
            let rate = try await insert("INSERT INTO billing_rates (account_id, name, rate_minor_per_hour, currency_code, minor_unit_digits) VALUES (\(account), 'Standard', 9000, 'USD', 2)")
            try await token("owner", user: owner, abilities: "timers:read,timers:write,timers:delete")
            try await token("reader", user: owner, abilities: "timers:read")
            try await token("other", user: other, abilities: "timers:read,timers:write,timers:delete")
            try await token("revoked", user: owner, abilities: "timers:read,timers:write", revoked: true)
            let boss = try await insert("INSERT INTO users (name, email) VALUES ('Cy', 'cy@example.com')")
            _ = try await pool.withConnection { try await $0.query("INSERT INTO account_members (user_id, account_id, role) VALUES (\(boss), \(account), 'admin')") }
            try await token("admin", user: boss, abilities: "timers:read,timers:admin")
            try await token("otheradmin", user: other, abilities: "timers:read,timers:admin")
            try await token("synconly", user: owner, abilities: "timers:sync")
            try await token("syncer", user: owner, abilities: "timers:read,timers:write,timers:sync")
            try await token("expired", user: owner, abilities: "timers:read,timers:write,timers:delete,timers:sync,timers:admin", expired: true)

            let metrics = PrometheusRegistry()
            let server = GRPCServer(configuration: .init(address: "127.0.0.1:0", eventLoops: 1),
                                    services: [TimerServiceImplementation(pool: pool, clock: clock, metrics: ServiceMetrics(factory: metrics))])
            try server.start()
            let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
            do {
                try await body(Fixture(channel: channel, pool: pool, metrics: metrics, accountID: account, otherAccountID: otherAccount,
                                       projectID: project, rateID: rate, tokens: tokens))
            } catch {
                outcome = .failure(error)
            }
            channel.close()
            await server.shutdown(grace: .seconds(5))
        } catch {
            outcome = .failure(error)
        }
        await pool.shutdown()
        _ = try? await admin.withConnection { try await $0.query("DROP SCHEMA \(schema) CASCADE") }
        await admin.shutdown()
        try outcome.get()
    }

    @Test("create, get, pause, resume, stop, sessions and list: the timer's life over the wire")
    func lifecycle() async throws {
        try await Self.withService { (f: Fixture) async throws in
            var create = CreateTimerRequest()
            create.accountID = f.accountID
            create.projectID = f.projectID
            create.billingRateID = f.rateID
            create.description = "Design review"
            create.deviceID = "laptop"
            let created: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
            let timer = try #require(created.timer)
            #expect(created.created)
            #expect(timer.status == .running)
            #expect(timer.syncVersion == 1)
            #expect(timer.hourlyRate?.amountMinor == 9_000 && timer.hourlyRate?.currencyCode == "USD")
            #expect(created.meta?.runningCount == 1)

            var get = GetTimerRequest()
            get.id = timer.id
            let fetched: GetTimerResponse = try await f.call(TimerServiceMethods.getTimer, get)
            #expect(fetched.timer?.description == "Design review")

            var pause = PauseTimerRequest()
            pause.id = timer.id
            pause.deviceID = "phone"
            let paused: PauseTimerResponse = try await f.call(TimerServiceMethods.pauseTimer, pause)
            #expect(paused.timer?.status == .paused)
            #expect(paused.timer?.syncVersion == 2)
            #expect(paused.meta?.pausedCount == 1 && paused.meta?.runningCount == 0)

            var resume = ResumeTimerRequest()
            resume.id = timer.id
            resume.expectedSyncVersion = 2
            let resumed: ResumeTimerResponse = try await f.call(TimerServiceMethods.resumeTimer, resume)
            #expect(resumed.timer?.status == .running)

            var stop = StopTimerRequest()
            stop.id = timer.id
            let stopped: StopTimerResponse = try await f.call(TimerServiceMethods.stopTimer, stop)
            #expect(stopped.timer?.status == .stopped)
            #expect(stopped.timer?.syncVersion == 4)
            #expect(stopped.meta?.activeCount == 0)

            var sessions = ListTimerSessionsRequest()
            sessions.id = timer.id
            let listed: ListTimerSessionsResponse = try await f.call(TimerServiceMethods.listTimerSessions, sessions)
            #expect(listed.sessions.count == 2)
            #expect(listed.sessions.allSatisfy { $0.endedAt != nil })
            let sessionTotal = listed.sessions.reduce(Int64(0)) { $0 + $1.duration }
            #expect(sessionTotal == stopped.timer?.totalDuration)

            let list: ListTimersResponse = try await f.call(TimerServiceMethods.listTimers, ListTimersRequest())
            #expect(list.timers.map(\.id) == [timer.id])
            #expect(list.nextPageToken.isEmpty)
        }
    }

    @Test("UpdateTimer changes the description, project and rate; 0 removes them; a no-op writes nothing")
    func update() async throws {
        try await Self.withService { (f: Fixture) async throws in
            var create = CreateTimerRequest()
            create.accountID = f.accountID
            create.description = "Draft"
            let made: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
            let id = try #require(made.timer?.id)

            var update = UpdateTimerRequest()
            update.id = id
            update.description = "Final copy"
            update.projectID = f.projectID
            update.billingRateID = f.rateID
            update.expectedSyncVersion = 1
            let updated: UpdateTimerResponse = try await f.call(TimerServiceMethods.updateTimer, update)
            #expect(updated.timer?.description == "Final copy")
            #expect(updated.timer?.projectID == f.projectID && updated.timer?.billingRateID == f.rateID)
            #expect(updated.timer?.hourlyRate?.amountMinor == 9_000)
            #expect(updated.timer?.syncVersion == 2)

            // The same request again (a retry): nothing changes, no new version.
            let again: UpdateTimerResponse = try await f.call(TimerServiceMethods.updateTimer, update)
            #expect(again.timer?.syncVersion == 2)

            var clear = UpdateTimerRequest()
            clear.id = id
            clear.projectID = 0
            clear.billingRateID = 0
            let cleared: UpdateTimerResponse = try await f.call(TimerServiceMethods.updateTimer, clear)
            #expect(cleared.timer?.projectID == nil && cleared.timer?.billingRateID == nil)
            #expect(cleared.timer?.currentValue == nil)
            #expect(cleared.timer?.syncVersion == 3)

            var foreignProject = UpdateTimerRequest()
            foreignProject.id = id
            foreignProject.projectID = f.projectID + 1_000
            let refused = await f.failure(TimerServiceMethods.updateTimer, foreignProject, UpdateTimerResponse.self)
            #expect(refused?.code == .notFound && refused?.message.contains("project") == true)
            var blank = UpdateTimerRequest()
            blank.id = id
            blank.description = " "
            let blankRefused = await f.failure(TimerServiceMethods.updateTimer, blank, UpdateTimerResponse.self)
            #expect(blankRefused?.code == .invalidArgument)

            let audit = try await f.pool.withConnection { try await $0.query("SELECT count(*) FROM audit_log") }
            #expect(audit.rows.first?[0] == "3")  // create and two updates
        }
    }

    @Test("BulkTimers: per-timer results, one failure does not stop the others; all_active")
    func bulk() async throws {
        try await Self.withService { (f: Fixture) async throws in
            var ids: [Int64] = []
            for name in ["A", "B", "C"] {
                var create = CreateTimerRequest()
                create.accountID = f.accountID
                create.description = name
                let made: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
                ids.append(try #require(made.timer?.id))
            }
            var stopB = StopTimerRequest()
            stopB.id = ids[1]
            let _: StopTimerResponse = try await f.call(TimerServiceMethods.stopTimer, stopB)

            var pause = BulkTimersRequest()
            pause.action = .pause
            pause.ids = [ids[0], ids[1], 999_999]
            let paused: BulkTimersResponse = try await f.call(TimerServiceMethods.bulkTimers, pause)
            let codes = paused.results.map { $0.status?.code ?? -1 }
            #expect(paused.results.map(\.id) == [ids[0], ids[1], 999_999])
            #expect(codes == [0, 9, 5])  // OK, FAILED_PRECONDITION (stopped), NOT_FOUND
            #expect(paused.results[0].timer?.status == .paused)
            #expect(paused.results[1].timer?.status == .stopped)
            #expect(paused.results[2].timer == nil)

            var stopAll = BulkTimersRequest()
            stopAll.action = .stop
            stopAll.allActive = true
            let stopped: BulkTimersResponse = try await f.call(TimerServiceMethods.bulkTimers, stopAll)
            #expect(Set(stopped.results.map(\.id)) == [ids[0], ids[2]])
            #expect(stopped.results.allSatisfy { $0.status?.code == 0 && $0.timer?.status == .stopped })
            #expect(stopped.meta?.activeCount == 0)

            var both = BulkTimersRequest()
            both.action = .stop
            both.allActive = true
            both.ids = [ids[0]]
            let refused = await f.failure(TimerServiceMethods.bulkTimers, both, BulkTimersResponse.self)
            #expect(refused?.code == .invalidArgument)
            var noAction = BulkTimersRequest()
            noAction.ids = [ids[0]]
            let noActionRefused = await f.failure(TimerServiceMethods.bulkTimers, noAction, BulkTimersResponse.self)
            #expect(noActionRefused?.code == .invalidArgument)
            var delete = BulkTimersRequest()
            delete.action = .delete
            delete.ids = [ids[0]]
            let readerDelete = await f.failure(TimerServiceMethods.bulkTimers, delete, BulkTimersResponse.self, as: "reader")
            #expect(readerDelete?.code == .permissionDenied)
        }
    }

    @Test("admin calls: list and act on timers in the administered accounts only, with the reason audited")
    func admin() async throws {
        try await Self.withService { (f: Fixture) async throws in
            var create = CreateTimerRequest()
            create.accountID = f.accountID
            create.description = "Forgotten"
            let made: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
            let id = try #require(made.timer?.id)

            let listed: AdminListActiveTimersResponse = try await f.call(TimerServiceMethods.adminListActiveTimers, AdminListActiveTimersRequest(), as: "admin")
            #expect(listed.timers.map(\.id) == [id])
            #expect(listed.meta?.runningCount == 1)
            let notTheirs: AdminListActiveTimersResponse = try await f.call(TimerServiceMethods.adminListActiveTimers, AdminListActiveTimersRequest(), as: "otheradmin")
            #expect(notTheirs.timers.isEmpty)

            var pause = AdminPauseTimerRequest()
            pause.id = id
            pause.reason = "left running overnight"
            let paused: AdminPauseTimerResponse = try await f.call(TimerServiceMethods.adminPauseTimer, pause, as: "admin")
            #expect(paused.timer?.status == .paused)
            #expect(paused.timer?.userID == made.timer?.userID)
            let audit = try await f.pool.withConnection {
                try await $0.query("SELECT details->>'reason', action FROM audit_log WHERE action = 'paused'")
            }
            #expect(audit.rows.first?[0] == "left running overnight")

            let outside = await f.failure(TimerServiceMethods.adminStopTimer, { var r = AdminStopTimerRequest(); r.id = id; return r }(), AdminStopTimerResponse.self, as: "otheradmin")
            #expect(outside?.code == .notFound)
            let noAbility = await f.failure(TimerServiceMethods.adminListActiveTimers, AdminListActiveTimersRequest(), AdminListActiveTimersResponse.self, as: "owner")
            #expect(noAbility?.code == .permissionDenied)
            var foreignAccount = AdminListActiveTimersRequest()
            foreignAccount.accountID = f.otherAccountID
            let notAdministered = await f.failure(TimerServiceMethods.adminListActiveTimers, foreignAccount, AdminListActiveTimersResponse.self, as: "admin")
            #expect(notAdministered?.code == .notFound)
        }
    }

    @Test("a token without the ability a method needs gets PERMISSION_DENIED from every method, naming the ability")
    func abilitiesPerMethod() async throws {
        try await Self.withService { (f: Fixture) async throws in
            var create = CreateTimerRequest()
            create.accountID = f.accountID
            create.description = "x"
            var get = GetTimerRequest()
            get.id = 1
            var pause = PauseTimerRequest()
            pause.id = 1
            var resume = ResumeTimerRequest()
            resume.id = 1
            var stop = StopTimerRequest()
            stop.id = 1
            var update = UpdateTimerRequest()
            update.id = 1
            var delete = DeleteTimerRequest()
            delete.id = 1
            var bulk = BulkTimersRequest()
            bulk.action = .stop
            bulk.allActive = true
            var sessions = ListTimerSessionsRequest()
            sessions.id = 1
            var adminPause = AdminPauseTimerRequest()
            adminPause.id = 1
            let results: [(String, String, RPCError?)] = [
                ("CreateTimer", "timers:write", await f.failure(TimerServiceMethods.createTimer, create, CreateTimerResponse.self, as: "synconly")),
                ("GetTimer", "timers:read", await f.failure(TimerServiceMethods.getTimer, get, GetTimerResponse.self, as: "synconly")),
                ("ListTimers", "timers:read", await f.failure(TimerServiceMethods.listTimers, ListTimersRequest(), ListTimersResponse.self, as: "synconly")),
                ("GetActiveTimers", "timers:read", await f.failure(TimerServiceMethods.getActiveTimers, GetActiveTimersRequest(), GetActiveTimersResponse.self, as: "synconly")),
                ("PauseTimer", "timers:write", await f.failure(TimerServiceMethods.pauseTimer, pause, PauseTimerResponse.self, as: "synconly")),
                ("ResumeTimer", "timers:write", await f.failure(TimerServiceMethods.resumeTimer, resume, ResumeTimerResponse.self, as: "synconly")),
                ("StopTimer", "timers:write", await f.failure(TimerServiceMethods.stopTimer, stop, StopTimerResponse.self, as: "synconly")),
                ("UpdateTimer", "timers:write", await f.failure(TimerServiceMethods.updateTimer, update, UpdateTimerResponse.self, as: "synconly")),
                ("DeleteTimer", "timers:delete", await f.failure(TimerServiceMethods.deleteTimer, delete, DeleteTimerResponse.self, as: "synconly")),
                ("BulkTimers", "timers:write", await f.failure(TimerServiceMethods.bulkTimers, bulk, BulkTimersResponse.self, as: "synconly")),
                ("ListTimerSessions", "timers:read", await f.failure(TimerServiceMethods.listTimerSessions, sessions, ListTimerSessionsResponse.self, as: "synconly")),
                ("AdminListActiveTimers", "timers:admin", await f.failure(TimerServiceMethods.adminListActiveTimers, AdminListActiveTimersRequest(), AdminListActiveTimersResponse.self, as: "synconly")),
                ("AdminPauseTimer", "timers:admin", await f.failure(TimerServiceMethods.adminPauseTimer, adminPause, AdminPauseTimerResponse.self, as: "synconly")),
            ]
            for (method, ability, failure) in results {
                let expected = "\(method) needs the ability '\(ability)', which this token does not have"
                #expect(failure?.code == .permissionDenied, "\(method)")
                #expect(failure?.message == expected, "\(method)")
            }
        }
    }

    @Test("with the database down, calls get UNAVAILABLE within their deadline")
    func databaseDown() async throws {
        // Nothing listens on port 1: every connection attempt is refused.
        let pool = PostgresPool(configuration: .init(url: "postgresql://timerd@127.0.0.1:1/servicevault", maximumConnections: 2,
                                                     defaultTimeout: .seconds(30)))
        let server = GRPCServer(configuration: .init(address: "127.0.0.1:0", eventLoops: 1),
                                services: [TimerServiceImplementation(pool: pool)])
        try server.start()
        let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
        var metadata = Metadata()
        metadata.add("authorization", "Bearer " + (try APIToken.generate()).text)
        let started = ContinuousClock.now
        var failure: RPCError?
        do {
            let _: GetActiveTimersResponse = try await channel.unary(
                TimerServiceMethods.getActiveTimers, request: GetActiveTimersRequest(),
                options: CallOptions(timeout: .seconds(20), metadata: metadata))
        } catch {
            failure = error
        }
        let elapsed = ContinuousClock.now - started
        channel.close()
        await server.shutdown(grace: .seconds(2))
        await pool.shutdown()
        #expect(failure?.code == .unavailable)
        #expect(failure?.message == "the database is unavailable; retry later")
        // Before the call's 20 s deadline, which would have been
        // DEADLINE_EXCEEDED: refused connections fail at once. (A sanitizer run
        // of every suite at once has taken 11.6 s to get there.)
        #expect(elapsed < .seconds(18))
    }

    @Test("a retried CreateTimer with the same client_ref creates one timer")
    func idempotentCreate() async throws {
        try await Self.withService { (f: Fixture) async throws in
            var create = CreateTimerRequest()
            create.accountID = f.accountID
            create.description = "Call with client"
            create.clientRef = "7d0c4f2a-2b7e-4d1c-9a53-0f2a1b3c4d5e"
            let first: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
            let second: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
            #expect(first.created && !second.created)
            #expect(first.timer?.id == second.timer?.id)
            let active: GetActiveTimersResponse = try await f.call(TimerServiceMethods.getActiveTimers, GetActiveTimersRequest())
            #expect(active.timers.count == 1)
            #expect(active.meta?.activeCount == 1)
        }
    }

    @Test("each kind of bad call gets its precise status and changes nothing")
    func errors() async throws {
        try await Self.withService { (f: Fixture) async throws in
            var create = CreateTimerRequest()
            create.accountID = f.accountID
            create.description = "Writing"
            let made: CreateTimerResponse = try await f.call(TimerServiceMethods.createTimer, create)
            let id = try #require(made.timer?.id)
            var get = GetTimerRequest()
            get.id = id

            let noToken = await f.failure(TimerServiceMethods.getTimer, get, GetTimerResponse.self, as: nil)
            #expect(noToken?.code == .unauthenticated)
            let badToken = await f.failure(TimerServiceMethods.getTimer, get, GetTimerResponse.self, as: "svt_" + String(repeating: "A", count: 43))
            #expect(badToken?.code == .unauthenticated && badToken?.message == "the token is not known")
            let revoked = await f.failure(TimerServiceMethods.getTimer, get, GetTimerResponse.self, as: "revoked")
            #expect(revoked?.code == .unauthenticated && revoked?.message == "the token was revoked")

            let readerCreate = await f.failure(TimerServiceMethods.createTimer, create, CreateTimerResponse.self, as: "reader")
            #expect(readerCreate?.code == .permissionDenied)
            #expect(readerCreate?.message.contains("timers:write") == true)
            var delete = DeleteTimerRequest()
            delete.id = id
            let readerDelete = await f.failure(TimerServiceMethods.deleteTimer, delete, DeleteTimerResponse.self, as: "reader")
            #expect(readerDelete?.code == .permissionDenied)

            let othersTimer = await f.failure(TimerServiceMethods.getTimer, get, GetTimerResponse.self, as: "other")
            #expect(othersTimer?.code == .notFound)
            var foreign = create
            foreign.accountID = f.otherAccountID
            let foreignAccount = await f.failure(TimerServiceMethods.createTimer, foreign, CreateTimerResponse.self)
            #expect(foreignAccount?.code == .notFound)

            var empty = create
            empty.description = ""
            let emptyDescription = await f.failure(TimerServiceMethods.createTimer, empty, CreateTimerResponse.self)
            #expect(emptyDescription?.code == .invalidArgument)
            #expect(emptyDescription?.message.contains("description") == true)
            var long = create
            long.description = String(repeating: "x", count: 1_001)
            let longDescription = await f.failure(TimerServiceMethods.createTimer, long, CreateTimerResponse.self)
            #expect(longDescription?.code == .invalidArgument)

            var stale = PauseTimerRequest()
            stale.id = id
            stale.expectedSyncVersion = 7
            let staleVersion = await f.failure(TimerServiceMethods.pauseTimer, stale, PauseTimerResponse.self)
            #expect(staleVersion?.code == .aborted)
            var resume = ResumeTimerRequest()
            resume.id = id
            let resumeRunning = await f.failure(TimerServiceMethods.resumeTimer, resume, ResumeTimerResponse.self)
            #expect(resumeRunning?.code == .failedPrecondition)
            var unknown = GetTimerRequest()
            unknown.id = id + 1_000
            let unknownID = await f.failure(TimerServiceMethods.getTimer, unknown, GetTimerResponse.self)
            #expect(unknownID?.code == .notFound)
            var list = ListTimersRequest()
            list.pageToken = "not-a-token"
            let badPage = await f.failure(TimerServiceMethods.listTimers, list, ListTimersResponse.self)
            #expect(badPage?.code == .invalidArgument && badPage?.message.contains("page_token") == true)
            var huge = ListTimersRequest()
            huge.pageSize = 100_000
            let bigPage = await f.failure(TimerServiceMethods.listTimers, huge, ListTimersResponse.self)
            #expect(bigPage?.code == .invalidArgument && bigPage?.message.contains("page_size") == true)

            // None of it changed the timer: still version 1, running; one audit row (the create).
            let after: GetTimerResponse = try await f.call(TimerServiceMethods.getTimer, get)
            #expect(after.timer?.syncVersion == 1 && after.timer?.status == .running)
            let audit = try await f.pool.withConnection { try await $0.query("SELECT count(*) FROM audit_log") }
            #expect(audit.rows.first?[0] == "1")
        }
    }
}
