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

/// What a finished process left.
struct Outcome: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Standard error's lines, without empty ones.
    var stderrLines: [Substring] { stderr.split(separator: "\n") }
    /// The last word of standard output (ids and tokens are printed there).
    var lastWord: String { String(stdout.split(whereSeparator: \.isWhitespace).last ?? "") }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The built executables this target runs.
enum Products {
    /// `name` (timerd, timerctl): `TIMERD_BINARY`'s directory when set, else
    /// next to the test bundle (the build's products directory), else
    /// `.build/debug` under the package root found from this file's path.
    static func binary(_ name: String) throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["TIMERD_BINARY"], !path.isEmpty {
            candidates.append(URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(name))
        }
        for executable in [Bundle.main.executableURL, CommandLine.arguments.first.map { URL(fileURLWithPath: $0) }] {
            guard let executable else { continue }
            var directory = executable.deletingLastPathComponent()
            // Inside an .xctest bundle directory, the products are one level up.
            if directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
            candidates.append(directory.appendingPathComponent(name))
        }
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/\(name)"))
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found, "\(name) is not built: run swift build --build-tests (looked at \(candidates.map(\.path)))")
    }

    /// The environment for a child: this process's without any TIMERD_*
    /// setting, in UTC, plus `overrides`.
    static func environment(_ overrides: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TIMERD_") }
        environment["TZ"] = "UTC"
        environment.merge(overrides) { $1 }
        return environment
    }

    /// Starts `name arguments` with its output going to files.
    static func start(_ name: String, _ arguments: [String], environment overrides: [String: String], stdin: URL? = nil,
                      exited: @escaping @Sendable (Process) -> Void) throws -> (Process, stdout: URL, stderr: URL) {
        let process = Process()
        process.executableURL = try binary(name)
        process.arguments = arguments
        process.environment = environment(overrides)
        let directory = FileManager.default.temporaryDirectory
        let stdoutURL = directory.appendingPathComponent("\(name)-\(UUID().uuidString).out")
        let stderrURL = directory.appendingPathComponent("\(name)-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        process.terminationHandler = exited
        try process.run()
        return (process, stdoutURL, stderrURL)
    }

    /// Runs `name arguments` to the end (without blocking a thread while it
    /// runs); `input` becomes its standard input.
    static func run(_ name: String, _ arguments: [String], environment: [String: String], input: String? = nil) async throws -> Outcome {
        var stdinURL: URL?
        if let input {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).in")
            try input.write(to: url, atomically: true, encoding: .utf8)
            stdinURL = url
        }
        defer { if let stdinURL { try? FileManager.default.removeItem(at: stdinURL) } }
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let (_, stdoutURL, stderrURL) = try start(name, arguments, environment: environment, stdin: stdinURL) { process in
            continuation.yield(process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus)
            continuation.finish()
        }
        var iterator = stream.makeAsyncIterator()
        let status = await iterator.next() ?? -1
        defer {
            try? FileManager.default.removeItem(at: stdoutURL)
            try? FileManager.default.removeItem(at: stderrURL)
        }
        return Outcome(status: status,
                       stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
                       stderr: try String(contentsOf: stderrURL, encoding: .utf8))
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(within timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async rethrows -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
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

/// A redis-server of one test's own, on a free loopback port, without
/// persistence: keys and channels of one test never meet another's (user
/// ids restart at 1 in every test schema).
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
        throw TestFailure("redis-server on port \(port) did not answer within 10 s")
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    deinit {
        if let server = process.withLock({ $0 }) {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// One `timerd serve` process, which can be stopped and started again on
/// the port it had.
final class TimerdServer: Sendable {
    private let environment: [String: String]
    private struct Running: Sendable {
        var process: Process
        var stdout: URL
        var stderr: URL
    }
    private let running = Mutex<Running?>(nil)
    private let port = Mutex(0)

    /// Starts `timerd serve` with `environment` on a free port and waits for READY.
    init(environment: [String: String]) async throws {
        self.environment = environment
        try await start()
    }

    /// The port it serves on.
    var boundPort: Int { port.withLock { $0 } }
    /// `127.0.0.1:port`.
    var address: String { "127.0.0.1:\(boundPort)" }
    /// Its log so far.
    var log: String {
        guard let url = running.withLock({ $0?.stderr }) else { return "" }
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    /// Starts the server (on the port it had before, if any) and waits for READY.
    func start() async throws {
        var environment = environment
        let previous = boundPort
        environment["TIMERD_LISTEN"] = "127.0.0.1:\(previous)"
        environment["TIMERD_LOG_LEVEL"] = "info"
        let (process, stdout, stderr) = try Products.start("timerd", ["serve"], environment: environment) { _ in }
        running.withLock { $0 = Running(process: process, stdout: stdout, stderr: stderr) }
        func output() -> String { (try? String(contentsOf: stdout, encoding: .utf8)) ?? "" }
        let ready = await eventually { output().contains("READY ") || !process.isRunning }
        let line = output().split(separator: "\n").first { $0.hasPrefix("READY ") }
        guard ready, let line, let bound = Int(line.dropFirst(6)) else {
            process.terminate()
            throw TestFailure("timerd did not become ready: \(log)")
        }
        if previous != 0 && bound != previous { throw TestFailure("timerd came back on port \(bound), not \(previous)") }
        port.withLock { $0 = bound }
    }

    /// SIGTERM, then waits for the exit.
    func stop() {
        guard let current = running.withLock({ state -> Running? in defer { state = nil }; return state }) else { return }
        if current.process.isRunning {
            current.process.terminate()
            current.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: current.stdout)
        try? FileManager.default.removeItem(at: current.stderr)
    }

    deinit { stop() }
}

/// A fresh schema of the test database, a private Redis, and the settings
/// `timerd` needs for both; `admin` runs `timerd admin` commands on them.
final class LiveSetup: Sendable {
    let redis: PrivateRedis
    let databaseURL: String
    private let schema: String
    private let baseURL: String

    /// The live settings for `timerd serve`.
    var environment: [String: String] {
        [
            "TIMERD_DATABASE_URL": databaseURL,
            "TIMERD_REDIS_URL": redis.url,
            "TIMERD_STATE_KEY": "timerctl-test:" + String(repeating: "6b", count: 32),
            "TIMERD_MAX_DATABASE_CONNECTIONS": "4",
        ]
    }

    private init(redis: PrivateRedis, baseURL: String, schema: String) {
        self.redis = redis
        self.baseURL = baseURL
        self.schema = schema
        self.databaseURL = baseURL + (baseURL.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }

    /// Runs `body` with a fresh setup; drops the schema after.
    static func with(_ body: (LiveSetup) async throws -> Void) async throws {
        let base = try #require(
            ProcessInfo.processInfo.environment["TIMERD_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
            "TIMERD_TEST_DATABASE_URL is not set: run scripts/services up and eval \"$(scripts/services env)\""
        )
        let schema = "timerctl_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresPool(configuration: .init(url: base, maximumConnections: 1, defaultTimeout: .seconds(20)))
        do {
            try await admin.withConnection { _ = try await $0.query("CREATE SCHEMA \(schema)") }
            let setup = LiveSetup(redis: try PrivateRedis(), baseURL: base, schema: schema)
            let outcome: Result<Void, any Error>
            do {
                try await body(setup)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            _ = try? await admin.withConnection { _ = try await $0.query("DROP SCHEMA \(schema) CASCADE") }
            await admin.shutdown()
            try outcome.get()
        } catch {
            await admin.shutdown()
            throw error
        }
    }

    /// `timerd admin arguments…` on this setup's database.
    func admin(_ arguments: String...) async throws -> Outcome {
        try await Products.run("timerd", ["admin"] + arguments, environment: ["TIMERD_DATABASE_URL": databaseURL])
    }

    /// A user who is a member of a new account with a project and a billing
    /// rate of 90.00 USD an hour, and a token with every timer ability.
    func user(_ name: String) async throws -> TestUser {
        let user = try await admin("create-user", "--name", name, "--email", "\(name.lowercased())@example.com")
        let userID = try #require(Int64(user.lastWord), "create-user: \(user.stderr)")
        let account = try await admin("create-account", "--name", "\(name)'s account")
        let accountID = try #require(Int64(account.lastWord), "create-account: \(account.stderr)")
        let member = try await admin("add-member", "--account", String(accountID), "--user", String(userID))
        try #require(member.status == 0, "add-member: \(member.stderr)")
        let project = try await admin("create-project", "--account", String(accountID), "--name", "Website")
        let projectID = try #require(Int64(project.lastWord), "create-project: \(project.stderr)")
        let rate = try await admin("create-rate", "--account", String(accountID), "--name", "Standard", "--rate", "90.00", "--currency", "USD")
        let rateID = try #require(Int64(rate.lastWord), "create-rate: \(rate.stderr)")
        let token = try await admin("create-token", "--user", String(userID),
                                    "--abilities", "timers:read,timers:write,timers:delete,timers:sync")
        try #require(token.status == 0, "create-token: \(token.stderr)")
        return TestUser(id: userID, accountID: accountID, projectID: projectID, rateID: rateID, token: token.lastWord)
    }
}

/// A user made with `timerd admin`.
struct TestUser: Sendable {
    var id: Int64
    var accountID: Int64
    var projectID: Int64
    var rateID: Int64
    var token: String
}
