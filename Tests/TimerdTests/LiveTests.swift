import ClientLib
import Codec
import Foundation
import LiveState
import RPC
import Storage
import Testing

/// The live half across real `timerd` processes sharing one PostgreSQL
/// schema and one (private) Redis: events between instances, resumes,
/// encryption at rest, Redis outages, the shared sync limit, health.
@Suite("Live state across timerd instances", .timeLimit(.minutes(3)))
struct LiveTests {
    func createTimer(_ instance: ServerInstance, _ user: TestUser, _ description: String, start: Bool = true) async throws -> VaultTimer {
        var request = CreateTimerRequest()
        request.accountID = user.accountID
        request.description = description
        request.deviceID = "laptop"
        request.start = start
        let response = try await instance.client.createTimer(request, options: bearer(user.token))
        return try #require(response.timer)
    }

    func pause(_ instance: ServerInstance, _ user: TestUser, _ id: Int64) async throws {
        var request = PauseTimerRequest()
        request.id = id
        _ = try await instance.client.pauseTimer(request, options: bearer(user.token))
    }

    func resume(_ instance: ServerInstance, _ user: TestUser, _ id: Int64) async throws {
        var request = ResumeTimerRequest()
        request.id = id
        _ = try await instance.client.resumeTimer(request, options: bearer(user.token))
    }

    func stop(_ instance: ServerInstance, _ user: TestUser, _ id: Int64) async throws {
        var request = StopTimerRequest()
        request.id = id
        _ = try await instance.client.stopTimer(request, options: bearer(user.token))
    }

    /// Waits until the instance reports OK health: Redis reachable and its
    /// live state rebuilt and trusted (reads then go to Redis).
    func waitUntilTrusted(_ instance: ServerInstance, _ user: TestUser) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await instance.client.getSystemHealth(GetSystemHealthRequest(), options: bearer(user.token)).status == .ok {
                return true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func watch(_ instance: ServerInstance, _ user: TestUser, from lastEventID: String = "", heartbeat: Int32 = 0) -> EventCollector {
        var request = WatchTimersRequest()
        request.lastEventID = lastEventID
        request.heartbeatIntervalSeconds = heartbeat
        return EventCollector(instance.client.watchTimers(request, options: bearer(user.token, timeout: nil)), keepingAlive: instance)
    }

    @Test func aWatcherOnOneInstanceSeesChangesMadeThroughTheOtherInOrder() async throws {
        try await withLiveSetup { run, _, _, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let bob = try await TestUser.create(run, name: "Bob")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            let b = try await ServerInstance(environment: environment)
            defer { b.stop() }

            let watcher = watch(b, ada, heartbeat: 1)
            defer { watcher.cancel() }
            let stranger = watch(b, bob)
            defer { stranger.cancel() }
            #expect(await watcher.wait { $0.first?.type == .snapshot })
            #expect(await stranger.wait { $0.first?.type == .snapshot })
            #expect(watcher.events.first?.timers.isEmpty == true)

            let timer = try await createTimer(a, ada, "Quarterly report")
            try await pause(a, ada, timer.id)
            try await resume(a, ada, timer.id)
            try await stop(a, ada, timer.id)

            #expect(await watcher.wait { events in events.filter { $0.type != .heartbeat }.count >= 5 })
            let changes = Array(watcher.changes.dropFirst())
            #expect(changes.map(\.type) == [.started, .paused, .resumed, .stopped])
            #expect(changes.map(\.syncVersion) == [1, 2, 3, 4])
            #expect(changes.map { $0.timer?.id } == Array(repeating: timer.id, count: 4))
            #expect(changes.map { $0.timer?.syncVersion } == [1, 2, 3, 4])
            let ids = changes.compactMap { EventID($0.eventID) }
            #expect(ids.count == 4 && ids == ids.sorted() && Set(ids).count == 4, "event ids: \(changes.map(\.eventID))")
            #expect(changes.allSatisfy { $0.meta != nil })
            #expect(changes.last?.meta?.activeCount == 0)
            #expect(changes.first?.meta?.runningCount == 1)
            // Heartbeats every second, with figures.
            #expect(await watcher.wait { $0.contains { $0.type == .heartbeat } })
            #expect(watcher.events.first { $0.type == .heartbeat }?.meta != nil)
            // A heartbeat after a change counts it, then one after the next.
            let second = try await createTimer(a, ada, "Second")
            #expect(await watcher.wait { events in
                guard let started = events.lastIndex(where: { $0.type == .started && $0.timer?.id == second.id }) else { return false }
                return events[started...].contains { $0.type == .heartbeat }
            })
            let afterStart = watcher.events.drop { !($0.type == .started && $0.timer?.id == second.id) }
            #expect(afterStart.first { $0.type == .heartbeat }?.meta?.activeCount == 1)
            try await stop(a, ada, second.id)
            #expect(await watcher.wait { events in
                guard let stopped = events.lastIndex(where: { $0.type == .stopped && $0.timer?.id == second.id }) else { return false }
                return events[stopped...].contains { $0.type == .heartbeat }
            })
            let afterStop = watcher.events.drop { !($0.type == .stopped && $0.timer?.id == second.id) }
            #expect(afterStop.first { $0.type == .heartbeat }?.meta?.activeCount == 0)
            // Another user's stream carries none of it.
            #expect(stranger.changes.map(\.type) == [.snapshot])
        }
    }

    @Test func aResumedWatcherGetsEachMissedEventOnceOrASnapshotWhenTheyAreGone() async throws {
        try await withLiveSetup { run, _, _, environment in
            var environment = environment
            environment["TIMERD_EVENT_LOG_LENGTH"] = "5"
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            let b = try await ServerInstance(environment: environment)
            defer { b.stop() }

            let first = watch(b, ada)
            #expect(await first.wait { $0.first?.type == .snapshot })
            let timer = try await createTimer(a, ada, "Design review")
            #expect(await first.wait { $0.contains { $0.type == .started } })
            first.cancel()
            let seen = try #require(first.changes.last { $0.type == .started }?.eventID)

            // Missed while away.
            try await pause(a, ada, timer.id)
            try await resume(a, ada, timer.id)
            try await pause(a, ada, timer.id)

            let resumed = watch(b, ada, from: seen)
            defer { resumed.cancel() }
            #expect(await resumed.wait { $0.filter { $0.type != .heartbeat }.count >= 3 })
            #expect(resumed.changes.map(\.type) == [.paused, .resumed, .paused])
            #expect(resumed.changes.map(\.syncVersion) == [2, 3, 4])
            // Then live, still once each.
            try await resume(a, ada, timer.id)
            #expect(await resumed.wait { $0.filter { $0.type != .heartbeat }.count >= 4 })
            #expect(resumed.changes.map(\.syncVersion) == [2, 3, 4, 5])
            resumed.cancel()

            // Six more changes: the log (5 events) no longer holds what
            // followed `seen`, so a resume from it starts with a snapshot.
            for _ in 0..<3 {
                try await pause(a, ada, timer.id)
                try await resume(a, ada, timer.id)
            }
            let late = watch(b, ada, from: seen)
            defer { late.cancel() }
            #expect(await late.wait { !$0.filter { $0.type != .heartbeat }.isEmpty })
            let snapshot = try #require(late.changes.first)
            #expect(snapshot.type == .snapshot)
            #expect(snapshot.timers.map(\.id) == [timer.id])
            #expect(snapshot.timers.first?.syncVersion == 11)
            #expect(!snapshot.eventID.isEmpty)

            // A malformed id is refused, naming the field.
            let bad = watch(b, ada, from: "yesterday")
            #expect(await eventually { bad.ended })
            #expect(bad.endStatus?.code == .invalidArgument)
            #expect(bad.endStatus?.message.contains("last_event_id") == true)
        }
    }

    @Test func getTimerIsAnsweredFromRedisWhenItHoldsTheTimerAndFromPostgreSQLOtherwise() async throws {
        try await withLiveSetup { run, pool, redis, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            #expect(try await waitUntilTrusted(a, ada))
            let timer = try await createTimer(a, ada, "Original")
            try await pause(a, ada, timer.id)
            func get() async throws -> VaultTimer? {
                var request = GetTimerRequest()
                request.id = timer.id
                return try await a.client.getTimer(request, options: bearer(ada.token)).timer
            }
            let fromRedis = try await get()
            #expect(fromRedis?.status == .paused && fromRedis?.syncVersion == 2)
            #expect(fromRedis?.description == "Original")

            // Behind timerd's back, so only a read of PostgreSQL can see it.
            _ = try await pool.withConnection {
                try await $0.query("UPDATE timers SET description = 'Renamed in PostgreSQL' WHERE id = $1", [String(timer.id)])
            }
            #expect(try await get()?.description == "Original")
            _ = try redis.connect().command(["DEL", "user:{\(ada.id)}:timer:{\(timer.id)}:state"])
            let fromPostgreSQL = try await get()
            #expect(fromPostgreSQL?.description == "Renamed in PostgreSQL")
            #expect(fromPostgreSQL?.syncVersion == 2)

            // A deleted timer is not found, whichever answers.
            try await resume(a, ada, timer.id)
            var delete = DeleteTimerRequest()
            delete.id = timer.id
            _ = try await a.client.deleteTimer(delete, options: bearer(ada.token))
            let missing = await #expect(throws: RPCError.self) { _ = try await get() }
            #expect(missing?.code == .notFound)
        }
    }

    @Test func redisHoldsNoPlaintextAndAWrongKeyIsReportedNotCrashedOn() async throws {
        try await withLiveSetup { run, _, redis, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            // Until its first rebuild, an instance does not count on Redis.
            #expect(try await waitUntilTrusted(a, ada))
            let secret = "Confidential merger review"
            let timer = try await createTimer(a, ada, secret)
            try await pause(a, ada, timer.id)

            let connection = try redis.connect()
            let stateKey = "user:{\(ada.id)}:timer:{\(timer.id)}:state"
            guard case .string(let sealed) = try connection.command(["HGET", stateKey, "s"]) else {
                Issue.record("no state under \(stateKey)")
                return
            }
            #expect(!String(decoding: sealed, as: UTF8.self).contains("merger"))
            guard case .array(let entries) = try connection.command(["XRANGE", "user:{\(ada.id)}:events", "-", "+"]) else {
                Issue.record("no event log")
                return
            }
            #expect(entries.count == 3, "a reset marker, then two events")
            #expect(!"\(entries)".contains("merger"))
            #expect(try connection.command(["SISMEMBER", "user:{\(ada.id)}:active_timers", String(timer.id)]) == .integer(1))
            #expect(try connection.command(["SISMEMBER", "global:active_users", String(ada.id)]) == .integer(1))
            #expect(try connection.command(["LLEN", "timer:{\(timer.id)}:sessions"]) == .integer(1))

            // An instance with another key: served from PostgreSQL, the
            // problem logged, nothing crashed.
            var wrong = environment
            wrong["TIMERD_STATE_KEY"] = "other:" + String(repeating: "77", count: 32)
            let b = try await ServerInstance(environment: wrong)
            defer { b.stop() }
            // Its first rebuild keeps the states it cannot open (they are as
            // new as PostgreSQL's); once done, reads go to Redis.
            #expect(try await waitUntilTrusted(b, ada))
            let health = GetSystemHealthRequest()
            let active = try await b.client.getActiveTimers(GetActiveTimersRequest(), options: bearer(ada.token))
            #expect(active.timers.map(\.description) == [secret])
            #expect(await eventually { b.stderr.contains("sealed with state key \"live-test\", which is not configured") },
                    "stderr: \(b.stderr)")
            #expect(b.process.isRunning)
            let status = try await b.client.getSystemHealth(health, options: bearer(ada.token))
            #expect(status.databaseConnectivity == .ok)
        }
    }

    @Test func callsGoOnWhileRedisIsDownAndTheLiveStateIsRebuiltWhenItReturns() async throws {
        try await withLiveSetup { run, _, redis, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            let b = try await ServerInstance(environment: environment)
            defer { b.stop() }
            let watcher = watch(b, ada)
            defer { watcher.cancel() }
            #expect(await watcher.wait { $0.first?.type == .snapshot })
            let timer = try await createTimer(a, ada, "Migration")
            #expect(await watcher.wait { $0.contains { $0.type == .started } })
            let healthy = try await a.client.getSystemHealth(GetSystemHealthRequest(), options: bearer(ada.token))
            #expect(healthy.status == .ok)
            #expect(healthy.redisConnectivity == .ok)
            #expect(healthy.broadcastChannelHealth == .ok)

            redis.stop()
            // PostgreSQL alone serves every call.
            try await pause(a, ada, timer.id)
            let active = try await a.client.getActiveTimers(GetActiveTimersRequest(), options: bearer(ada.token))
            #expect(active.timers.map(\.status) == [.paused])
            let degraded = try await a.client.getSystemHealth(GetSystemHealthRequest(), options: bearer(ada.token))
            #expect(degraded.status == .degraded)
            #expect(degraded.redisConnectivity == .down)
            #expect(degraded.databaseConnectivity == .ok)
            #expect(degraded.activeTimersCount == 1)

            // Back, empty: the state is rebuilt from PostgreSQL…
            try redis.start()
            let connection = try redis.connect()
            #expect(await eventually {
                (try? connection.command(["SISMEMBER", "user:{\(ada.id)}:active_timers", String(timer.id)])) == .integer(1)
            })
            #expect(await eventually { (try? connection.command(["HGET", "user:{\(ada.id)}:timer:{\(timer.id)}:state", "v"])) == .string(Array("2".utf8)) })
            // …the watcher on the other instance is brought up to date with a snapshot…
            #expect(await watcher.wait { events in events.filter { $0.type == .snapshot }.count >= 2 })
            let resync = try #require(watcher.changes.last { $0.type == .snapshot })
            #expect(resync.timers.map(\.status) == [.paused])
            // …and live events flow again.
            #expect(await eventually(within: .seconds(30)) {
                (try? connection.command(["PUBSUB", "NUMSUB", "user:{\(ada.id)}:events"])) == .array([.string(Array("user:{\(ada.id)}:events".utf8)), .integer(1)])
            })
            // Once the changing instance counts on Redis again, its changes
            // reach the other's watchers.
            #expect(try await waitUntilTrusted(a, ada))
            try await resume(a, ada, timer.id)
            #expect(await watcher.wait { $0.contains { $0.type == .resumed } })
            let recovered = try await a.client.getSystemHealth(GetSystemHealthRequest(), options: bearer(ada.token))
            #expect(recovered.redisConnectivity == .ok)
        }
    }

    @Test func watchStreamsEndWithUnavailableWhenTheServerStops() async throws {
        try await withLiveSetup { run, _, _, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            let watchers = (0..<3).map { _ in watch(a, ada) }
            for watcher in watchers { #expect(await watcher.wait { $0.first?.type == .snapshot }) }
            a.process.terminate()
            #expect(await eventually { watchers.allSatisfy(\.ended) })
            #expect(watchers.map { $0.endStatus?.code } == Array(repeating: .unavailable, count: 3))
            a.process.waitUntilExit()
            #expect(a.process.terminationStatus == 0, "stderr: \(a.stderr.suffix(3_000))")
        }
    }

    @Test func aChangeRedisMissedIsRepairedByTheNextStartAndWatchersEverywhereGetASnapshot() async throws {
        try await withLiveSetup { run, _, _, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            #expect(try await waitUntilTrusted(a, ada))
            let watcher = watch(a, ada)
            #expect(await watcher.wait { $0.first?.type == .snapshot })
            let timer = try await createTimer(a, ada, "Design review")
            #expect(await watcher.wait { $0.contains { $0.type == .started } })

            // An instance whose changes never reach Redis (as one killed
            // between its commit and its publish): the stop is in
            // PostgreSQL only, and nobody hears of it.
            var unreachable = environment
            unreachable["TIMERD_REDIS_URL"] = "redis://127.0.0.1:\(try freePort())/0"
            let lost = try await ServerInstance(environment: unreachable)
            try await stop(lost, ada, timer.id)
            lost.stop()
            #expect(!watcher.events.contains { $0.type == .stopped })

            // The next instance to start finds Redis missing it, repairs
            // it, and announces a resync: the watcher on A gets a snapshot
            // without the timer.
            // Counted before C starts: its snapshot may arrive before C's start returns.
            let snapshotCount = watcher.events.filter { $0.type == .snapshot }.count
            let c = try await ServerInstance(environment: environment)
            defer { c.stop() }
            #expect(await watcher.wait { events in
                events.filter { $0.type == .snapshot }.count > snapshotCount && events.last { $0.type == .snapshot }?.timers.isEmpty == true
            })
            #expect(try await a.client.getActiveTimers(GetActiveTimersRequest(), options: bearer(ada.token)).timers.isEmpty)
        }
    }

    @Test func noLogLineCarriesATokenOrADescriptionEvenAtTrace() async throws {
        try await withLiveSetup { run, _, _, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            var verbose = environment
            verbose["TIMERD_LOG_LEVEL"] = "trace"
            let (exited, finished) = AsyncStream.makeStream(of: Void.self)
            let (process, stdoutURL, stderrURL) = try Timerd.start(["serve"], environment: verbose.merging(["TIMERD_LISTEN": "127.0.0.1:0"]) { $1 }) { _ in
                finished.finish()
            }
            defer {
                if process.isRunning { process.terminate() }
                try? FileManager.default.removeItem(at: stdoutURL)
                try? FileManager.default.removeItem(at: stderrURL)
            }
            func output() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
            #expect(await eventually { output().contains("READY ") })
            let port = try #require(output().split(separator: "\n").first { $0.hasPrefix("READY ") }.flatMap { Int($0.dropFirst(6)) })
            let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(port)"))
            defer { channel.close() }
            let client = TimerServiceClient(channel: channel)
            let secret = "Project Nightingale: acquisition of Globex"
            // A good token, a wrong one, a revoked one; a timer with a
            // description, changed, synced and watched; a failed call.
            var request = CreateTimerRequest()
            request.accountID = ada.accountID
            request.description = secret
            let made = try await client.createTimer(request, options: bearer(ada.token))
            let id = try #require(made.timer?.id)
            var pause = PauseTimerRequest()
            pause.id = id
            _ = try await client.pauseTimer(pause, options: bearer(ada.token))
            _ = try? await client.pauseTimer(pause, options: bearer(ada.token))  // FAILED_PRECONDITION
            let wrong = "svt_" + String(ada.token.dropFirst(4).reversed())
            _ = try? await client.getActiveTimers(GetActiveTimersRequest(), options: bearer(wrong))
            let watch = client.watchTimers(WatchTimersRequest(), options: bearer(ada.token, timeout: .seconds(20)))
            var stream = watch.makeAsyncIterator()
            _ = try await stream.next()
            watch.cancel()
            let revoked = try await run("admin", "revoke-token", "--token", ada.token)
            #expect(revoked.status == 0, "revoke-token: \(revoked.stderr)")
            _ = try? await client.getActiveTimers(GetActiveTimersRequest(), options: bearer(ada.token))
            process.terminate()
            for await _ in exited {}  // Without holding a thread while it shuts down.
            let log = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            #expect(!log.isEmpty, "timerd logged nothing at trace")
            for needle in [ada.token, wrong, String(ada.token.dropFirst(4)), secret, "Nightingale"] {
                #expect(!log.contains(needle), "a log line carries \(needle.prefix(8))…")
            }
        }
    }

    @Test func theSyncLimitIsSharedByAllInstances() async throws {
        try await withLiveSetup { run, _, _, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            let b = try await ServerInstance(environment: environment)
            defer { b.stop() }
            var request = SyncTimersRequest()
            request.deviceID = "phone"
            for index in 0..<120 {
                _ = try await (index % 2 == 0 ? a : b).client.syncTimers(request, options: bearer(ada.token))
            }
            do {
                _ = try await b.client.syncTimers(request, options: bearer(ada.token))
                Issue.record("the 121st sync in a minute was admitted")
            } catch let error as RPCError {
                #expect(error.code == .resourceExhausted)
                #expect(error.message.contains("120"))
                let retryAfter = error.metadata["retry-after"].flatMap { Int($0) }
                #expect(retryAfter.map { (1...60).contains($0) } == true, "retry-after: \(String(describing: error.metadata))")
            }
        }
    }

    @Test func systemHealthReportsTheSeedsFigures() async throws {
        try await withLiveSetup { run, _, _, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            _ = try await createTimer(a, ada, "One")
            let second = try await createTimer(a, ada, "Two")
            _ = try await createTimer(a, ada, "Three")
            try await stop(a, ada, second.id)
            let health = try await a.client.getSystemHealth(GetSystemHealthRequest(), options: bearer(ada.token))
            #expect(health.status == .ok)
            #expect(health.databaseConnectivity == .ok)
            #expect(health.redisConnectivity == .ok)
            #expect(health.broadcastChannelHealth == .ok)
            #expect(health.activeTimersCount == 2)
            #expect(health.syncQueueSize == 0)
            #expect((health.averageResponseTime.map { $0.seconds * 1_000_000_000 + Int64($0.nanos) } ?? 0) > 0)
            #expect(health.checkedAt != nil)
        }
    }

    @Test func activeTimersAreReadFromRedisOnceItIsRebuilt() async throws {
        try await withLiveSetup { run, pool, _, environment in
            let ada = try await TestUser.create(run, name: "Ada")
            let a = try await ServerInstance(environment: environment)
            defer { a.stop() }
            let timer = try await createTimer(a, ada, "Cached")
            #expect(try await waitUntilTrusted(a, ada))
            // A change behind the service's back, in PostgreSQL only: the
            // answer still shows what Redis holds, so it came from Redis.
            _ = try await pool.withConnection { try await $0.query("UPDATE timers SET description = 'changed in the database' WHERE id = $1", [String(timer.id)]) }
            let active = try await a.client.getActiveTimers(GetActiveTimersRequest(), options: bearer(ada.token))
            #expect(active.timers.map(\.description) == ["Cached"])
            // So does GetTimer (getTimerIsAnsweredFromRedis… covers the rest).
            var get = GetTimerRequest()
            get.id = timer.id
            #expect(try await a.client.getTimer(get, options: bearer(ada.token)).timer?.description == "Cached")
        }
    }

    @Test func healthSaysNotServingWhilePostgreSQLIsUnreachable() async throws {
        let base = try Timerd.databaseURL()
        let name = "timerd_outage_" + UUID().uuidString.prefix(8).lowercased()
        let admin = PostgresPool(configuration: .init(url: base, maximumConnections: 1, defaultTimeout: .seconds(20)))
        defer { Task { await admin.shutdown() } }
        _ = try await admin.withConnection { try await $0.query("CREATE DATABASE \(name)") }
        let url = base.replacingOccurrences(of: "/servicevault_test", with: "/\(name)")
        let server = try await ServerInstance(environment: ["TIMERD_DATABASE_URL": url])
        var outcome: Result<Void, any Error> = .success(())
        do {
            #expect(grpcHealthStatus(port: server.port, service: "") == 1)
            _ = try await admin.withConnection { connection in
                _ = try await connection.query("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
                _ = try await connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name])
            }
            #expect(await eventually { grpcHealthStatus(port: server.port, service: "") == 2 })
            #expect(grpcHealthStatus(port: server.port, service: "servicevault.timer.v1.TimerService") == 2)
            _ = try await admin.withConnection { try await $0.query("ALTER DATABASE \(name) ALLOW_CONNECTIONS true") }
            #expect(await eventually { grpcHealthStatus(port: server.port, service: "") == 1 })
        } catch {
            outcome = .failure(error)
        }
        server.stop()
        _ = try? await admin.withConnection { connection in
            _ = try await connection.query("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
            _ = try await connection.query("DROP DATABASE \(name) WITH (FORCE)")
        }
        try outcome.get()
    }
}
