import ClientLib
import Foundation
import LiveState
import Storage
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Real `timerd serve` processes for the client's tests: each test gets a
// schema of the test database (`TIMERD_TEST_DATABASE_URL`) and a redis-server
// of its own, so user ids (which restart at 1 in every schema) never meet
// another test's keys, and servers it may stop and start again on a fixed
// port.

struct SetupFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(within timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
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
    guard bound == 0 else { throw SetupFailure("bind failed: \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The built `timerd` and how to run it.
enum Timerd {
    /// `TIMERD_BINARY`, else next to the test bundle, else `.build/debug`.
    static func binary() throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["TIMERD_BINARY"], !path.isEmpty {
            candidates.append(URL(fileURLWithPath: path))
        }
        for executable in [Bundle.main.executableURL, CommandLine.arguments.first.map { URL(fileURLWithPath: $0) }] {
            guard let executable else { continue }
            var directory = executable.deletingLastPathComponent()
            if directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
            candidates.append(directory.appendingPathComponent("timerd"))
        }
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/timerd"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw SetupFailure("timerd is not built: run swift build --build-tests (looked at \(candidates.map(\.path)))")
        }
        return found
    }

    /// This process's environment without TIMERD_* settings, plus `overrides`.
    static func environment(_ overrides: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TIMERD_") }
        environment.merge(overrides) { $1 }
        return environment
    }

    /// Runs `timerd arguments` to the end; returns its exit status and output.
    static func run(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.environment = self.environment(environment)
        let directory = FileManager.default.temporaryDirectory
        let outURL = directory.appendingPathComponent("timerd-\(UUID().uuidString).out")
        let errURL = directory.appendingPathComponent("timerd-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        let (ended, continuation) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        try process.run()
        var iterator = ended.makeAsyncIterator()
        let status = await iterator.next() ?? -1
        return (status, try String(contentsOf: outURL, encoding: .utf8), try String(contentsOf: errURL, encoding: .utf8))
    }
}

/// A redis-server of one test's own, on a free loopback port, without persistence.
final class PrivateRedis: Sendable {
    let port: Int
    private let directory: URL
    private let process = Mutex<Process?>(nil)

    init() throws {
        port = try freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
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
        throw SetupFailure("redis-server on port \(port) did not answer within 10 s")
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    func stop() {
        guard let server = process.withLock({ current -> Process? in defer { current = nil }; return current }) else { return }
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// One `timerd serve` process on a fixed port.
final class ServerProcess: Sendable {
    let process: Process
    let port: Int
    private let stdoutURL: URL
    private let stderrURL: URL

    /// Starts `timerd serve` on `port` with `environment` and waits for READY.
    init(port: Int, environment: [String: String]) async throws {
        self.port = port
        var environment = environment
        environment["TIMERD_LISTEN"] = "127.0.0.1:\(port)"
        environment["TIMERD_LOG_LEVEL"] = "warning"
        let process = Process()
        process.executableURL = try Timerd.binary()
        process.arguments = ["serve"]
        process.environment = Timerd.environment(environment)
        let directory = FileManager.default.temporaryDirectory
        stdoutURL = directory.appendingPathComponent("timerd-\(UUID().uuidString).out")
        stderrURL = directory.appendingPathComponent("timerd-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let stdoutURL = self.stdoutURL
        func output() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
        let ready = await eventually { output().contains("READY ") || !process.isRunning }
        guard ready, process.isRunning else {
            stop()
            throw SetupFailure("timerd did not become ready on port \(port): \(stderr)")
        }
    }

    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// SIGTERM (a graceful shutdown), then waits for the exit.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }
}

/// The directory of the test certificates (`scripts/test-certs dir`: made
/// when missing).
func testCertificates() async throws -> String {
    let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [root.appendingPathComponent("scripts/test-certs").path, "dir"]
    process.currentDirectoryURL = root
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let (ended, continuation) = AsyncStream.makeStream(of: Int32.self)
    process.terminationHandler = { process in
        continuation.yield(process.terminationStatus)
        continuation.finish()
    }
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    var iterator = ended.makeAsyncIterator()
    let status = await iterator.next() ?? -1
    guard status == 0, let directory = text.split(separator: "\n").last, !directory.isEmpty else {
        throw SetupFailure("scripts/test-certs dir failed (exit status \(status)); run it by hand to see why")
    }
    return String(directory)
}

/// A user with an account and a token, made with `timerd admin`.
struct TestUser: Sendable {
    var id: Int64
    var accountID: Int64
    var token: String
}

/// One test's world: a schema, a private Redis, and `timerd serve` processes
/// on ports of its own.
final class LiveSetup: Sendable {
    let schema: String
    let databaseURL: String
    let redis: PrivateRedis
    private let servers = Mutex<[Int: ServerProcess]>([:])

    private init(schema: String, databaseURL: String, redis: PrivateRedis) {
        self.schema = schema
        self.databaseURL = databaseURL
        self.redis = redis
    }

    /// The test database's URL (`TIMERD_TEST_DATABASE_URL`).
    static func baseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TIMERD_TEST_DATABASE_URL"], !url.isEmpty else {
            throw SetupFailure("TIMERD_TEST_DATABASE_URL is not set: run scripts/services up and eval \"$(scripts/services env)\"")
        }
        return url
    }

    /// Runs `body` with a fresh setup, then stops its servers and drops its schema.
    static func with(_ body: (LiveSetup) async throws -> Void) async throws {
        let base = try baseURL()
        let schema = "clientlib_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        let admin = PostgresPool(configuration: .init(url: base, maximumConnections: 1, defaultTimeout: .seconds(20)))
        do {
            try await admin.withConnection { _ = try await $0.query("CREATE SCHEMA \(schema)") }
        } catch {
            await admin.shutdown()
            throw error
        }
        let outcome: Result<Void, any Error>
        do {
            let setup = LiveSetup(schema: schema, databaseURL: url, redis: try PrivateRedis())
            do {
                try await body(setup)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            setup.stopAll()
        } catch {
            outcome = .failure(error)
        }
        _ = try? await admin.withConnection { _ = try await $0.query("DROP SCHEMA \(schema) CASCADE") }
        await admin.shutdown()
        try outcome.get()
    }

    /// What `timerd` needs to run on this setup.
    var environment: [String: String] {
        [
            "TIMERD_DATABASE_URL": databaseURL,
            "TIMERD_REDIS_URL": redis.url,
            "TIMERD_STATE_KEY": "clientlib-test:" + String(repeating: "3c", count: 32),
            "TIMERD_MAX_DATABASE_CONNECTIONS": "4",
        ]
    }

    /// `timerd admin …` on this setup's schema; returns the last word printed.
    @discardableResult
    func admin(_ arguments: String...) async throws -> String {
        let outcome = try await Timerd.run(["admin"] + arguments, environment: ["TIMERD_DATABASE_URL": databaseURL])
        guard outcome.status == 0 else { throw SetupFailure("timerd admin \(arguments.joined(separator: " ")): \(outcome.stderr)") }
        return String(outcome.stdout.split(whereSeparator: \.isWhitespace).last ?? "")
    }

    /// A user, an account they belong to, and a token with `abilities`.
    func user(_ name: String, abilities: String = "timers:read,timers:write,timers:delete,timers:sync") async throws -> TestUser {
        guard let id = Int64(try await admin("create-user", "--name", name, "--email", "\(name.lowercased())@example.com")),
              let account = Int64(try await admin("create-account", "--name", "\(name)'s account")) else {
            throw SetupFailure("timerd admin printed no id")
        }
        try await admin("add-member", "--account", String(account), "--user", String(id))
        let token = try await admin("create-token", "--user", String(id), "--abilities", abilities)
        return TestUser(id: id, accountID: account, token: token)
    }

    /// Starts `timerd serve` on `port` (a free one when nil), with `extra`
    /// settings, and returns it.
    @discardableResult
    func startServer(port: Int? = nil, extra: [String: String] = [:]) async throws -> ServerProcess {
        let server = try await ServerProcess(port: try port ?? freePort(), environment: environment.merging(extra) { $1 })
        servers.withLock { $0[server.port] = server }
        return server
    }

    /// Stops the server on `port` (gracefully, SIGTERM).
    func stopServer(port: Int) {
        let server = servers.withLock { $0.removeValue(forKey: port) }
        server?.stop()
    }

    func stopAll() {
        let all = servers.withLock { servers in defer { servers.removeAll() }; return Array(servers.values) }
        for server in all { server.stop() }
    }

    /// A client of the server on `port` as `user`.
    func client(port: Int, user: TestUser, retry: RetryPolicy = RetryPolicy(), deviceID: String = "tests") throws -> TimerClient {
        try TimerClient(configuration: .init(address: "127.0.0.1:\(port)", token: user.token, defaultTimeout: .seconds(60),
                                             retry: retry, deviceID: deviceID))
    }
}
