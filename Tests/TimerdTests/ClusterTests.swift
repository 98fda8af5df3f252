import ClientLib
import Codec
import Foundation
import LiveState
import RPC
import Storage
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Three `timerd` instances behind nginx (`scripts/cluster`), on a
/// PostgreSQL of the test's own and a Redis Cluster of three masters that
/// `scripts/cluster` starts (`scripts/redis-cluster`). Clients know only the
/// balancer's address: calls spread over the instances, a watcher sees the
/// changes made through every one of them, and when an instance is killed
/// its calls and its watcher go on through the others with no acknowledged
/// change lost; the sync rate limit holds across the instances; the live
/// state is spread over every master.
///
/// Runs when asked (`TIMERD_CLUSTER=1`; `make test` does, after the other
/// suites): it needs nginx, and its load would slow a parallel run.
@Suite("Cluster: timerd instances behind nginx", .timeLimit(.minutes(5)))
struct ClusterTests {
    static let enabled = ProcessInfo.processInfo.environment["TIMERD_CLUSTER"] == "1"
    static let script = FaultServices.script.deletingLastPathComponent().appendingPathComponent("cluster")

    /// `count` consecutive free loopback ports (the balancer's, then one per
    /// instance), below `below`, and, when `bus` is set, with the ports
    /// 10,000 above them free as well (a Redis Cluster node's bus).
    static func freePorts(_ count: Int, below: Int = 60_000, bus: Bool = false) throws -> Int {
        func free(_ port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        }
        for _ in 0..<200 {
            let base = Int.random(in: 20_000..<below)
            if (base..<(base + count)).allSatisfy(free), !bus || ((base + 10_000)..<(base + 10_000 + count)).allSatisfy(free) { return base }
        }
        throw TestFailure("no \(count) consecutive free ports")
    }

    /// 120 syncs through `address`, then one more: the status it got (nil
    /// when it was admitted).
    static func syncsPastTheLimit(_ address: String, token: String) async throws -> StatusCode? {
        let channel = try GRPCChannel(configuration: .init(target: address))
        defer { channel.close() }
        let service = TimerServiceClient(channel: channel)
        var request = SyncTimersRequest()
        request.deviceID = "phone"
        for _ in 0..<120 { _ = try await service.syncTimers(request, options: bearer(token)) }
        do {
            _ = try await service.syncTimers(request, options: bearer(token))
            return nil
        } catch {
            return error.code
        }
    }

    @Test(.enabled(if: ClusterTests.enabled))
    func watchersThroughTheBalancerSeeEveryInstanceAndOutliveOneKilled() async throws {
        let services = try await FaultServices()
        let pool = PostgresPool(configuration: .init(url: services.databaseURL, maximumConnections: 2, defaultTimeout: .seconds(20)))
        let base = try Self.freePorts(4)
        let directory = services.directory.appendingPathComponent("cluster")
        var environment = ProcessInfo.processInfo.environment
        environment["TIMERD_CLUSTER_PORT"] = String(base)
        environment["TIMERD_CLUSTER_SIZE"] = "3"
        environment["TIMERD_CLUSTER_DIR"] = directory.path
        environment["TIMERD_BINARY"] = try Timerd.binary().path
        environment["TIMERD_DATABASE_URL"] = services.databaseURL
        // No Redis URL: scripts/cluster starts a Redis Cluster for the instances.
        environment["TIMERD_REDIS_URL"] = nil
        environment["TIMERD_CLUSTER_REDIS"] = "cluster"
        var redisPort = try Self.freePorts(3, below: 50_000, bus: true)
        while (redisPort..<(redisPort + 3)).contains(where: { (base..<(base + 4)).contains($0) }) {
            redisPort = try Self.freePorts(3, below: 50_000, bus: true)
        }
        environment["TIMERD_REDIS_CLUSTER_PORT"] = String(redisPort)
        environment["TIMERD_REDIS_CLUSTER_DIR"] = services.directory.appendingPathComponent("redis-cluster").path
        environment["TIMERD_STATE_KEY"] = "cluster-test:" + String(repeating: "5c", count: 32)
        environment["TIMERD_MAX_DATABASE_CONNECTIONS"] = "4"
        environment["TIMERD_LOG_LEVEL"] = "warning"
        func cluster(_ command: String) async throws {
            let output = services.directory.appendingPathComponent("cluster-\(command).log")
            let status = try await spawnAndWait(["/bin/bash", Self.script.path, command], environment: environment, output: output.path)
            guard status == 0 else {
                throw TestFailure("scripts/cluster \(command) failed (\(status)): \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
            }
        }
        var clients: [TimerClient] = []
        var watchers: [FaultWatcher] = []
        defer { for client in clients { client.close() } }
        do {
            let runner = Timerd.Runner(databaseURL: services.databaseURL)
            let migrated = try await runner("migrate")
            try #require(migrated.status == 0, "migrate: \(migrated.stderr)")
            let user = try await TestUser.create(runner, name: "Clustered")
            try await cluster("up")
            let balancer = "127.0.0.1:\(base)"
            // The demo of scripts/cluster: a token, then timerctl through the balancer.
            let timerctl = try Timerd.binary().deletingLastPathComponent().appendingPathComponent("timerctl")
            environment["TIMERCTL_BINARY"] = timerctl.path
            try await cluster("demo")
            let demo = try String(contentsOf: services.directory.appendingPathComponent("cluster-demo.log"), encoding: .utf8)
            let exports = try #require(demo.split(separator: "\n").first { $0.hasPrefix("export TIMERD_ADDRESS=") }, "\(demo)")
            var demoEnvironment = environment
            for assignment in exports.dropFirst("export ".count).split(separator: " ") {
                let parts = assignment.split(separator: "=", maxSplits: 1)
                demoEnvironment[String(parts[0])] = parts.count == 2 ? String(parts[1]) : ""
            }
            #expect(demoEnvironment["TIMERD_ADDRESS"] == balancer)
            let listing = services.directory.appendingPathComponent("timerctl-active.log")
            let listed = try await spawnAndWait([timerctl.path, "active"], environment: demoEnvironment, output: listing.path)
            #expect(listed == 0, "timerctl active through the balancer: \((try? String(contentsOf: listing, encoding: .utf8)) ?? "")")
            func client(_ device: String) throws -> TimerClient {
                var configuration = TimerClient.Configuration(address: balancer, token: user.token, defaultTimeout: .seconds(5))
                configuration.deviceID = device
                let made = try TimerClient(configuration: configuration)
                clients.append(made)
                return made
            }
            // One watcher per instance: opened one after another, each once
            // the previous one's stream is open, nginx's round robin gives
            // each its own instance.
            let watching = try client("watch")
            for number in 0..<3 {
                let watcher = FaultWatcher(name: "watcher#\(number)", user: user.id, client: watching)
                watchers.append(watcher)
                let open = await eventually(within: .seconds(20)) { watcher.snapshots >= 1 }
                try #require(open, "watcher \(number) got no snapshot")
            }
            let ledger = FaultLedger()
            let workers = try (0..<2).map {
                FaultWorker(client: try client("work-\($0)"), user: user, ledger: ledger, deadline: .seconds(5),
                            name: "worker#\($0)", rate: 20, stopOneIn: 5)
            }
            let stopping = FaultStop()
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in workers { group.addTask { await worker.run { stopping.isSet } } }
                }
            }
            try await Task.sleep(for: .seconds(2))
            // One instance dies under load: its calls and its streams end.
            let pidFile = directory.appendingPathComponent("timerd-2.pid")
            let pid = try #require(Int32(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(kill(pid, SIGKILL) == 0)
            try await Task.sleep(for: .seconds(2))
            stopping.set()
            await load.value

            // Every answer was a success, or UNAVAILABLE for a call the dead
            // instance had taken (the balancer says 502, which gRPC reads so)
            // and ClientLib retried.
            #expect(ledger.violations.isEmpty, "\(ledger.violations)")
            #expect(ledger.acked.count > 5, "too little load to mean anything: \(ledger.acked.count) timers")
            let problems = try await faultInvariantViolations(pool, acked: ledger.acked)
            #expect(problems.isEmpty, "\(problems)")
            let expected = try await faultActiveTimers(pool, user: user.id)
            // The killed instance's watcher resumed through another one.
            #expect(watching.statistics.watchReconnects >= 1)
            let agreed = await eventually(within: .seconds(30)) { watchers.allSatisfy { $0.state == expected } }
            #expect(agreed, "watchers \(watchers.map { "\($0.name): \($0.state.count) active\($0.error.map { ", failed: \($0)" } ?? "")" }), PostgreSQL \(expected.count)")
            // The calls went through every instance: nginx names the one
            // that answered each.
            let calls = try String(contentsOf: directory.appendingPathComponent("nginx-calls.log"), encoding: .utf8)
            let answeredBy = Set(calls.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                return fields.count == 3 && fields[1] == "200" ? String(fields[0]) : nil
            })
            #expect(answeredBy == Set((1...3).map { "127.0.0.1:\(base + $0)" }), "\(answeredBy)")

            // The sync limit is the user's, whichever instances the calls
            // reach: 120 a minute admitted through the balancer (spread over
            // the two left), the next one refused.
            let syncing = try await TestUser.create(runner, name: "Syncing")
            let refusal = try await Self.syncsPastTheLimit(balancer, token: syncing.token)
            #expect(refusal == .resourceExhausted)

            // The live state is spread over the cluster: the users' keys on
            // their slots' masters, the timers' session lists on theirs, so
            // every master holds some.
            for port in redisPort..<(redisPort + 3) {
                let node = try RedisConnection(redisURL: RedisURL(host: "127.0.0.1", port: port))
                guard case .integer(let keys) = try node.command(["DBSIZE"]) else { throw TestFailure("DBSIZE on \(port)") }
                #expect(keys > 0, "the master on port \(port) holds no key")
            }
            let home = RedisClusterSlot.of(LiveKeys.activeTimers(user: user.id))
            let slots = try RedisClusterTopology(
                slotsReply: RedisConnection(redisURL: RedisURL(host: "127.0.0.1", port: redisPort)).command(["CLUSTER", "SLOTS"]),
                answering: .init(host: "127.0.0.1", port: redisPort))
            let owner = try #require(slots.node(serving: home))
            let ownerConnection = try RedisConnection(redisURL: RedisURL(host: owner.host, port: owner.port))
            #expect(try ownerConnection.command(["EXISTS", LiveKeys.events(user: user.id)]) == .integer(1),
                    "the user's event log is on the master of the user's slot")
        } catch {
            for watcher in watchers { watcher.cancel() }
            try? await cluster("down")
            await pool.shutdown()
            await services.remove()
            throw error
        }
        for watcher in watchers { watcher.cancel() }
        try await cluster("down")
        await pool.shutdown()
        await services.remove()
    }
}
