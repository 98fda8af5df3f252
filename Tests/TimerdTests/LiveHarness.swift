import ClientLib
import Codec
import Foundation
import LiveState
import RPC
import Storage
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A redis-server of one test's own, on a free loopback port, with no
/// persistence: stopping and starting it again gives an empty Redis on the
/// same port, as after a crash. Keys and pub/sub channels of one test never
/// meet another's (user ids restart at 1 in every test schema).
final class PrivateRedis: Sendable {
    let port: Int
    private let directory: URL
    private let process = Mutex<Process?>(nil)

    init() throws {
        port = try freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Starts the server and waits until it answers PING.
    func start() throws {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        server.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                            "--dir", directory.path, "--daemonize", "no", "--loglevel", "warning"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        process.withLock { $0 = server }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let connection = try? RedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(1)),
               (try? connection.command(["PING"])) == .status("PONG") {
                return
            }
            usleep(10_000)
        }
        Issue.record("redis-server on port \(port) did not answer within 10 s")
    }

    /// Stops the server (SIGKILL: nothing is saved) and waits for it to exit.
    func stop() {
        guard let server = process.withLock({ current -> Process? in defer { current = nil }; return current }) else { return }
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
    }

    /// A connection for looking at what the server holds.
    func connect() throws -> RedisConnection {
        try RedisConnection(host: "127.0.0.1", port: port, timeout: .seconds(5))
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A TCP port nothing listens on now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    try #require(bound == 0, "bind failed")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// One running `timerd serve`, with a client on it.
final class ServerInstance: Sendable {
    let process: Process
    let port: Int
    let stderrURL: URL
    let stdoutURL: URL
    let channel: GRPCChannel
    let client: TimerServiceClient
    /// The metrics endpoint's port, when `TIMERD_METRICS_LISTEN` asked for one.
    let metricsPort: Int?

    /// Starts `timerd serve` with `environment` and waits for READY.
    init(environment: [String: String]) async throws {
        var environment = environment
        environment["TIMERD_LISTEN"] = "127.0.0.1:0"
        environment["TIMERD_LOG_LEVEL"] = "info"
        let (process, stdoutURL, stderrURL) = try Timerd.start(["serve"], environment: environment) { _ in }
        self.process = process
        self.stdoutURL = stdoutURL
        self.stderrURL = stderrURL
        func output() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
        let ready = await eventually { output().contains("READY ") || !process.isRunning }
        let line = output().split(separator: "\n").first { $0.hasPrefix("READY ") }
        guard ready, let line, let port = Int(line.dropFirst(6)) else {
            process.terminate()
            let log = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            throw TestFailure("timerd did not become ready: \(log)")
        }
        self.port = port
        metricsPort = output().split(separator: "\n").first { $0.hasPrefix("METRICS ") }.flatMap { Int($0.dropFirst(8)) }
        channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(port)"))
        client = TimerServiceClient(channel: channel)
    }

    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// SIGTERM, then waits for the exit.
    func stop() {
        channel.close()
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Call options carrying a bearer token.
func bearer(_ token: String, timeout: Duration? = .seconds(20)) -> CallOptions {
    var metadata = Metadata()
    metadata.add("authorization", "Bearer \(token)")
    return CallOptions(timeout: timeout, metadata: metadata)
}

/// Collects the events of one WatchTimers stream as they arrive.
final class EventCollector: Sendable {
    private final class Box: Sendable {
        let state = Mutex<(events: [TimerEvent], end: RPCError?, ended: Bool)>(([], nil, false))
    }

    private let box = Box()
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Collects `stream`'s events. `owner` (the server instance whose
    /// channel carries the stream) is kept alive until the collecting task
    /// ends: a task that starts or resumes after the channel was released
    /// would wait on a stopped event loop forever.
    init(_ stream: ResponseStream<TimerEvent>, keepingAlive owner: (any Sendable & AnyObject)? = nil) {
        let box = self.box
        let started = Task {
            defer { withExtendedLifetime(owner) {} }
            do {
                for try await event in stream {
                    box.state.withLock { $0.events.append(event) }
                }
                box.state.withLock { $0.ended = true }
            } catch let error as RPCError {
                box.state.withLock { $0.end = error; $0.ended = true }
            } catch {
                box.state.withLock { $0.end = RPCError(code: .unknown, message: "\(error)"); $0.ended = true }
            }
        }
        task.withLock { $0 = started }
    }

    /// Every event so far.
    var events: [TimerEvent] { box.state.withLock { $0.events } }
    /// Events other than HEARTBEATs.
    var changes: [TimerEvent] { events.filter { $0.type != .heartbeat } }
    var ended: Bool { box.state.withLock { $0.ended } }
    var endStatus: RPCError? { box.state.withLock { $0.end } }

    /// Waits until `condition` holds of the events (false after `timeout`).
    func wait(within timeout: Duration = .seconds(30), until condition: ([TimerEvent]) -> Bool) async -> Bool {
        await eventually(within: timeout) { condition(events) }
    }

    /// Ends the stream (cancels the call).
    func cancel() {
        task.withLock { $0?.cancel() }
    }
}

/// A user with a token, made with `timerd admin`.
struct TestUser {
    var id: Int64
    var accountID: Int64
    var token: String

    static func create(_ run: Timerd.Runner, name: String) async throws -> TestUser {
        let user = try await run("admin", "create-user", "--name", name, "--email", "\(name.lowercased())@example.com")
        let account = try await run("admin", "create-account", "--name", "\(name)'s account")
        let userID = try #require(Int64(user.lastWord), "create-user: \(user.stderr)")
        let accountID = try #require(Int64(account.lastWord), "create-account: \(account.stderr)")
        let member = try await run("admin", "add-member", "--account", String(accountID), "--user", String(userID))
        #expect(member.status == 0, "add-member: \(member.stderr)")
        let token = try await run("admin", "create-token", "--user", String(userID),
                                  "--abilities", "timers:read,timers:write,timers:delete,timers:sync")
        #expect(token.status == 0, "create-token: \(token.stderr)")
        return TestUser(id: userID, accountID: accountID, token: token.lastWord)
    }
}

/// Runs `body` with a fresh schema, a private Redis and the live settings.
func withLiveSetup(
    _ body: (_ run: Timerd.Runner, _ pool: PostgresPool, _ redis: PrivateRedis, _ environment: [String: String]) async throws -> Void
) async throws {
    let redis = try PrivateRedis()
    try await Timerd.withSchema { run, pool in
        let environment = [
            "TIMERD_DATABASE_URL": run.databaseURL,
            "TIMERD_REDIS_URL": redis.url,
            "TIMERD_STATE_KEY": "live-test:" + String(repeating: "5a", count: 32),
            "TIMERD_MAX_DATABASE_CONNECTIONS": "4",
        ]
        try await body(run, pool, redis, environment)
    }
}
