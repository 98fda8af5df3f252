import Foundation
import Glibc
import Synchronization
import Testing

@testable import LiveState

/// A private `redis-server` in a temporary directory, for tests that stop,
/// restart or freeze their server, or kill every connection to it, which
/// must never happen to the shared one other tests use.
///
/// The server listens on 127.0.0.1 at a port picked once, so that a restart
/// comes back at the same address. It keeps nothing on disk. The process is
/// killed and the directory removed when the value is released.
final class TestRedisServer: Sendable {
    /// The port the server listens on, across restarts.
    let port: Int
    /// The server's working directory.
    let directory: URL
    /// Arguments given to every start after the standard ones.
    let extraArguments: [String]
    /// The running server's process id, if any.
    private let pid = Mutex<pid_t?>(nil)

    /// Starts a server on a free port and waits until it answers.
    /// `extraArguments` follow the standard ones, at every (re)start.
    static func start(extraArguments: [String] = []) async throws -> TestRedisServer {
        let server = try TestRedisServer(port: freePort(), extraArguments: extraArguments)
        try await server.start()
        return server
    }

    private init(port: Int, extraArguments: [String]) throws {
        self.port = port
        self.extraArguments = extraArguments
        self.directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("test-redis-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        if let pid = pid.withLock({ $0 }) {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The server's address.
    var url: RedisURL {
        RedisURL(host: "127.0.0.1", port: port)
    }

    /// A blocking connection to the server, for setting up and inspecting.
    func connect() throws -> RedisConnection {
        try RedisConnection(redisURL: url, timeout: .seconds(5))
    }

    /// (Re)starts the server at its port and waits until it answers `PING`.
    func start() async throws {
        let pid = try Self.spawn(try Self.executable(), arguments: [
            "--port", String(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", directory.path,
            "--daemonize", "no", "--logfile", "",
        ] + extraArguments)
        self.pid.withLock { $0 = pid }
        let end = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < end {
            if let status = Self.exitStatus(of: pid) {
                self.pid.withLock { $0 = nil }
                throw TestServerError("redis-server exited with status \(status) (port \(port) taken?)")
            }
            if let connection = try? RedisConnection(redisURL: url, timeout: .milliseconds(500)),
                (try? connection.command(["PING"])) == .status("PONG")
            {
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestServerError("redis-server on port \(port) did not answer within 20 s")
    }

    /// Stops the server (SIGTERM) and waits until it has exited; its clients'
    /// connections are closed.
    func stop() async throws {
        guard let pid = pid.withLock({ $0 }) else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        let end = ContinuousClock.now + .seconds(20)
        while Self.exitStatus(of: pid) == nil {
            guard ContinuousClock.now < end else {
                throw TestServerError("redis-server on port \(port) did not exit within 20 s of SIGTERM")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        self.pid.withLock { $0 = nil }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is
    /// answered, new connects complete in the kernel but are not served.
    func freeze() {
        if let pid = pid.withLock({ $0 }) {
            kill(pid, SIGSTOP)
        }
    }

    /// Lets a frozen server go on (SIGCONT).
    func thaw() {
        if let pid = pid.withLock({ $0 }) {
            kill(pid, SIGCONT)
        }
    }

    /// Starts `executable` with its output discarded, no signal blocked or
    /// ignored (the spawning thread's mask would otherwise be inherited:
    /// a server that blocks SIGTERM never stops), and no descriptor of this
    /// process but the standard ones.
    private static func spawn(_ executable: URL, arguments: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which the
        // Glibc module does not bring: other tests' Redis sockets must not
        // live on in the child.
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable.path, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw TestServerError("posix_spawn of \(executable.path) failed: \(result)")
        }
        return pid
    }

    /// The exit status of `pid` once it has exited (reaping it), nil while it
    /// runs.
    private static func exitStatus(of pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        return result == pid || result < 0 ? status : nil
    }

    private static func executable() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("redis-server")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw TestServerError("redis-server is not on PATH")
    }

    /// A TCP port below the kernel's ephemeral range (20000 to 29999) that
    /// was free a moment ago, for listeners that must not take a port the
    /// kernel hands out for port 0: another test may just have stopped a
    /// server there that it starts again at the same port.
    static func freeLowPort() throws -> Int {
        for _ in 0..<1_000 {
            let port = Int.random(in: 20_000..<30_000)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw TestServerError("socket() failed: errno \(errno)") }
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0 { return port }
        }
        throw TestServerError("no free port in 20000..<30000")
    }

    /// A TCP port that was free a moment ago: bound to port 0, then released.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestServerError("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw TestServerError("bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getsockname(descriptor, $0, &length)
            }
        }
        guard named == 0 else { throw TestServerError("getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A test server could not be started or stopped.
struct TestServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Helpers shared by the LiveState tests.
enum TestRedis {
    /// The shared test Redis (`scripts/services up`); the test fails when the
    /// environment lacks it.
    static func url() throws -> RedisURL {
        let url = ProcessInfo.processInfo.environment["TIMERD_REDIS_URL"]
        let text = try #require(
            url.flatMap { $0.isEmpty ? nil : $0 },
            "TIMERD_REDIS_URL is not set: run scripts/services up and eval \"$(scripts/services env)\""
        )
        return try RedisURL(text)
    }

    /// A name no other test (or test run) uses, for keys and channels.
    static func unique(_ name: String) -> String {
        "test:live-state:{\(UUID().uuidString)}:\(name)"
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it
    /// held. For waiting on another thread's progress, never for a fixed delay.
    static func eventually(
        within timeout: Duration = .seconds(20),
        _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return try await condition()
    }
}

/// Collects values from concurrent tasks and threads, in arrival order.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) {
        values.withLock { $0.append(value) }
    }

    var all: [Value] {
        values.withLock { $0 }
    }
}

extension Result {
    /// The error, for checking a failed result.
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
