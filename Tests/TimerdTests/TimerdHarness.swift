import Foundation
import Storage
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs the built `timerd` binary against a private schema of the test
/// database (`TIMERD_TEST_DATABASE_URL`, from `scripts/services env`).
enum Timerd {
    /// What a finished run left.
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String

        /// Standard error's lines, without empty ones.
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
        /// The last word of standard output (ids and tokens are printed there).
        var lastWord: String { String(stdout.split(whereSeparator: \.isWhitespace).last ?? "") }
    }

    /// The `timerd` executable: `TIMERD_BINARY` when set, else next to the
    /// test bundle (the build's products directory), else `.build/debug`
    /// under the package root found from this file's path.
    static func binary() throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["TIMERD_BINARY"], !path.isEmpty {
            candidates.append(URL(fileURLWithPath: path))
        }
        for executable in [Bundle.main.executableURL, CommandLine.arguments.first.map { URL(fileURLWithPath: $0) }] {
            guard let executable else { continue }
            var directory = executable.deletingLastPathComponent()
            // Inside an .xctest bundle directory, the products are one level up.
            if directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
            candidates.append(directory.appendingPathComponent("timerd"))
        }
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/timerd"))
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found, "timerd is not built: run swift build --build-tests (looked at \(candidates.map(\.path)))")
    }

    /// The test database's URL; the test fails when the environment lacks it.
    static func databaseURL() throws -> String {
        let url = ProcessInfo.processInfo.environment["TIMERD_TEST_DATABASE_URL"]
        return try #require(
            url.flatMap { $0.isEmpty ? nil : $0 },
            "TIMERD_TEST_DATABASE_URL is not set: run scripts/services up and eval \"$(scripts/services env)\""
        )
    }

    /// The environment for a child: this process's, without any TIMERD_*
    /// setting, plus `overrides`.
    static func environment(_ overrides: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TIMERD_") }
        environment.merge(overrides) { $1 }
        return environment
    }

    /// Starts `timerd arguments` with its output going to files.
    static func start(_ arguments: [String], environment overrides: [String: String],
                      exited: @escaping @Sendable (Process) -> Void) throws -> (Process, stdout: URL, stderr: URL) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.environment = environment(overrides)
        let directory = FileManager.default.temporaryDirectory
        let stdoutURL = directory.appendingPathComponent("timerd-\(UUID().uuidString).out")
        let stderrURL = directory.appendingPathComponent("timerd-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = exited
        try process.run()
        return (process, stdoutURL, stderrURL)
    }

    /// Runs `timerd arguments` to the end (without blocking a thread while it runs).
    static func run(_ arguments: [String], environment overrides: [String: String]) async throws -> Outcome {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let (_, stdoutURL, stderrURL) = try start(arguments, environment: overrides) { process in
            continuation.yield(process.terminationStatus)
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

    /// Creates a fresh schema, runs `body` with a `timerd` runner whose
    /// database is that schema and a pool on it, and drops the schema after.
    static func withSchema(
        _ body: (_ run: Runner, _ pool: PostgresPool) async throws -> Void
    ) async throws {
        let base = try databaseURL()
        let schema = "timerd_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        let admin = PostgresPool(configuration: .init(url: base, maximumConnections: 1, defaultTimeout: .seconds(20)))
        let pool = PostgresPool(configuration: .init(url: url, maximumConnections: 2, defaultTimeout: .seconds(20)))
        do {
            try await admin.withConnection { _ = try await $0.query("CREATE SCHEMA \(schema)") }
        } catch {
            await admin.shutdown()
            await pool.shutdown()
            throw error
        }
        let outcome: Result<Void, any Error>
        do {
            try await body(Runner(databaseURL: url), pool)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await pool.shutdown()
        _ = try? await admin.withConnection { _ = try await $0.query("DROP SCHEMA \(schema) CASCADE") }
        await admin.shutdown()
        try outcome.get()
    }

    /// Runs `timerd` with `TIMERD_DATABASE_URL` set to one schema.
    struct Runner: Sendable {
        let databaseURL: String

        func callAsFunction(_ arguments: String..., environment: [String: String] = [:]) async throws -> Outcome {
            try await Timerd.run(arguments, environment: ["TIMERD_DATABASE_URL": databaseURL].merging(environment) { $1 })
        }
    }
}

/// The one value of a one-row, one-column query.
func scalar(_ pool: PostgresPool, _ sql: String, _ params: [String?] = []) async throws -> String? {
    try await pool.withConnection { try await $0.query(sql, params).rows.first?.first ?? nil }
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

/// A minimal gRPC client for one call of `grpc.health.v1.Health/Check` over
/// plaintext HTTP/2, written against the wire format so that this target
/// needs no gRPC library: the serving status the server answers for
/// `service` (1 SERVING, 2 NOT_SERVING), or nil when the call gets no
/// response message (an error status such as NOT_FOUND, or a broken connection).
func grpcHealthStatus(port: Int, service: String) -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }

    func frame(type: UInt8, flags: UInt8, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags,
                UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
            + payload
    }
    func sendAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }
    func receive(_ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, count - received, 0) }
            if n <= 0 { return nil }
            received += n
        }
        return buffer
    }
    // HPACK without Huffman coding or table changes: indexed fields of the
    // static table, literals without indexing otherwise (RFC 7541).
    func literal(nameIndex: UInt8, _ value: String) -> [UInt8] {
        [nameIndex, UInt8(value.utf8.count)] + Array(value.utf8)
    }
    func literal(_ name: String, _ value: String) -> [UInt8] {
        [0, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(value.utf8.count)] + Array(value.utf8)
    }
    let headers: [UInt8] = [0x83, 0x86]  // :method POST, :scheme http
        + literal(nameIndex: 0x04, "/grpc.health.v1.Health/Check")  // :path
        + literal(nameIndex: 0x01, "127.0.0.1:\(port)")  // :authority
        + literal("content-type", "application/grpc")
        + literal("te", "trailers")
    // HealthCheckRequest { service = 1 } in a gRPC message frame.
    let request: [UInt8] = service.isEmpty ? [] : [0x0A, UInt8(service.utf8.count)] + Array(service.utf8)
    let message: [UInt8] = [0, 0, 0, 0, UInt8(request.count)] + request
    let hello = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        + frame(type: 4, flags: 0, stream: 0, [])
        + frame(type: 1, flags: 0x4, stream: 1, headers)  // END_HEADERS
        + frame(type: 0, flags: 0x1, stream: 1, message)  // END_STREAM
    guard sendAll(hello) else { return nil }

    while let header = receive(9) {
        let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
        let type = header[3], flags = header[4]
        let stream = (UInt32(header[5]) & 0x7F) << 24 | UInt32(header[6]) << 16 | UInt32(header[7]) << 8 | UInt32(header[8])
        guard let payload = receive(length) else { return nil }
        switch type {
        case 4 where flags & 0x1 == 0:  // SETTINGS: acknowledge
            guard sendAll(frame(type: 4, flags: 0x1, stream: 0, [])) else { return nil }
        case 0 where stream == 1:  // DATA: the response message
            // 5-byte prefix, then HealthCheckResponse { status = 1 (varint) }.
            guard payload.count >= 5 else { return nil }
            let body = payload.dropFirst(5)
            if body.isEmpty { return 0 }
            guard body.count == 2, body.first == 0x08 else { return nil }
            return Int(body.last!)
        case 1 where stream == 1 && flags & 0x1 != 0:  // trailers only: an error status
            return nil
        case 3 where stream == 1, 7:  // RST_STREAM, GOAWAY
            return nil
        default:
            continue
        }
    }
    return nil
}
