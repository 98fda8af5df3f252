import Codec
import Foundation
import Synchronization
import Testing
@testable import RPC

/// What the interop and TLS tests need from outside the package: the Python
/// of `scripts/venv` (grpcio) and the certificates of `scripts/test-certs`.
///
/// Each test process runs both scripts once, before its first interop test.
/// They are idempotent, serialised by a lock, and quick when there is nothing
/// to do (≈10 ms and ≈0.2 s), so `swift test --filter Interop` works on a fresh
/// checkout; `make test` runs them before `swift test` as well, so that a slow
/// or failing `pip install` shows as its own step, not inside a test's time limit.
enum InteropEnvironment {
    /// The package's root directory.
    static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // RPCTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The Python peers' directory.
    static var peers: URL { repository.appending(path: "Tests/interop") }

    /// Paths made by the scripts.
    struct Paths: Sendable {
        /// The venv's python.
        var python: String
        /// The directory of the test certificates.
        var certificates: URL

        /// `name` in the certificates directory, as a path.
        func certificate(_ name: String) -> String { certificates.appending(path: name).path }
    }

    private static let preparation = Task<Paths, any Error> {
        let python = try await runScript("scripts/venv", "python")
        let certificates = try await runScript("scripts/test-certs", "dir")
        return Paths(python: python, certificates: URL(fileURLWithPath: certificates))
    }

    /// The venv and the certificates, made first if needed. Cancelling the
    /// waiting task (a test's time limit) stops the scripts.
    static func prepare() async throws -> Paths {
        try await withTaskCancellationHandler {
            try await preparation.value
        } onCancel: {
            preparation.cancel()
        }
    }

    /// Runs a script of the repository; its last line of output.
    private static func runScript(_ script: String, _ argument: String) async throws -> String {
        let process = try PeerProcess(executable: "/bin/bash", arguments: [script, argument], directory: repository)
        var last: String?
        while let line = await process.nextLine() { last = line }
        let status = await process.exitStatus()
        guard status == 0, let last, !last.isEmpty else {
            throw InteropError("`\(script) \(argument)` failed (exit status \(status)); run `\(script)` by hand to see why.\n\(process.transcript)")
        }
        return last
    }

    /// A serialized FileDescriptorSet of the timer API, base64-encoded, made
    /// from proto/ by `protoc` exactly as `scripts/gen-proto` makes
    /// `EmbeddedDescriptorSets.timerService` (which lives in RPCServer).
    static func timerServiceDescriptorSet() async throws -> String {
        let protoDirectory = repository.appending(path: "proto")
        let files = try FileManager.default.subpathsOfDirectory(atPath: protoDirectory.appending(path: "servicevault").path)
            .filter { $0.hasSuffix(".proto") }
            .map { "servicevault/\($0)" }
            .sorted()
        let output = FileManager.default.temporaryDirectory.appending(path: "timer-service-\(UUID().uuidString).pb")
        defer { try? FileManager.default.removeItem(at: output) }
        let protoc = try PeerProcess(executable: "/usr/bin/env",
                                     arguments: ["protoc", "-I.", "-I/usr/include", "--include_imports",
                                                 "--descriptor_set_out=\(output.path)"] + files,
                                     directory: protoDirectory)
        while await protoc.nextLine() != nil {}
        let status = await protoc.exitStatus()
        guard status == 0 else {
            throw InteropError("protoc could not make the timer API's descriptor set (exit status \(status)); scripts/bootstrap installs it.\n\(protoc.transcript)")
        }
        return try Data(contentsOf: output).base64EncodedString()
    }
}

/// A failure of the test's surroundings (a peer, a script), with what it printed.
struct InteropError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// h2c or TLS.
enum InteropTransport: String, Sendable, CustomTestStringConvertible {
    case h2c
    case tls

    var testDescription: String { rawValue }
}

/// A child process whose standard output is read line by line as it comes
/// (a reader thread feeding an `AsyncStream`, no polling) and whose standard
/// error is kept for the failure message.
///
/// Its standard input is a pipe that this process holds open: peers started
/// with `--lifeline` exit when it closes, so they end with the test process
/// even when it crashes. ``stop()`` ends the child for good; every test calls
/// it, whatever happened (see ``withPeer(_:_:_:)``).
///
/// Not Sendable: one test task reads the lines.
final class PeerProcess {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private var lines: AsyncStream<String>.Iterator
    private let log = Transcript()
    private let exit = ExitStatus()
    /// What the child is, in messages.
    let name: String

    /// Starts `executable` with `arguments` in `directory`.
    init(executable: String, arguments: [String], directory: URL, environment: [String: String] = [:]) throws {
        name = ([URL(fileURLWithPath: executable).lastPathComponent] + arguments.prefix(1)).joined(separator: " ")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors

        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream.makeAsyncIterator()
        let log = self.log
        let stdout = LineReader(output.fileHandleForReading) { line in
            log.append(line)
            continuation.yield(line)
        } end: {
            continuation.finish()
        }
        let stderr = LineReader(errors.fileHandleForReading) { line in
            log.append("stderr: \(line)")
        } end: {}
        let exit = self.exit
        process.terminationHandler = { process in
            let status = process.terminationStatus
            exit.set(process.terminationReason == .uncaughtSignal ? 128 + status : status)
        }
        do {
            try process.run()
        } catch {
            continuation.finish()
            throw InteropError("cannot start \(executable): \(error)")
        }
        stdout.start(name: "\(name) stdout")
        stderr.start(name: "\(name) stderr")
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The next line of standard output; nil at its end, or when the task is cancelled.
    func nextLine() async -> String? {
        await lines.next()
    }

    /// Reads lines until one starts with `prefix` and returns it; nil when the
    /// output ends first.
    func line(startingWith prefix: String) async -> String? {
        while let line = await nextLine() {
            if line.hasPrefix(prefix) { return line }
        }
        return nil
    }

    /// Everything the child printed so far, standard error lines marked.
    var transcript: String {
        "--- \(name) ---\n" + log.text + "\n---"
    }

    /// Waits until the child exits; its exit status (128 + N when killed by
    /// signal N). Cancelling the waiting task kills the child.
    func exitStatus() async -> Int32 {
        let pid = process.processIdentifier
        return await withTaskCancellationHandler {
            await exit.wait()
        } onCancel: {
            kill(pid, SIGKILL)
        }
    }

    /// Ends the child (closes its lifeline, then SIGKILL) and waits until it is gone.
    func stop() async {
        try? input.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = await exit.wait()
    }
}

/// Runs `script` (in Tests/interop) with the venv's python and `arguments`,
/// hands it to `body`, and stops it afterwards, whether `body` returned or threw.
func withPeer<T>(_ script: String, _ arguments: [String], _ body: (PeerProcess) async throws -> T) async throws -> T {
    let paths = try await InteropEnvironment.prepare()
    let peer = try PeerProcess(executable: paths.python, arguments: [script] + arguments + ["--lifeline"],
                               directory: InteropEnvironment.peers,
                               environment: ["PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"])
    do {
        let result = try await body(peer)
        await peer.stop()
        return result
    } catch {
        await peer.stop()
        throw error
    }
}

/// Runs `body` with our server on a free port of 127.0.0.1, serving health
/// (the server and `healthServices`, SERVING) and reflection over the
/// standard descriptor set plus `descriptorSets`, over h2c or with `certificate`
/// (a name in the certificates directory: NAME.pem and NAME.key).
func withOurServer(_ transport: InteropTransport, certificate: String = "server",
                   healthServices: [String] = [], descriptorSets: [String] = [],
                   _ body: (GRPCServer, HealthService) async throws -> Void) async throws {
    let paths = try await InteropEnvironment.prepare()
    let health = HealthService(services: healthServices)
    let reflection = try ReflectionService(descriptorSets: [EmbeddedDescriptorSets.standardServices] + descriptorSets)
    var configuration = GRPCServer.Configuration(address: "127.0.0.1:0", eventLoops: 2)
    if transport == .tls {
        configuration.tls = (certificateChain: paths.certificate("\(certificate).pem"), privateKey: paths.certificate("\(certificate).key"))
    }
    let server = GRPCServer(configuration: configuration, services: [health, reflection])
    try server.start()
    do {
        try await body(server, health)
    } catch {
        await server.shutdown(grace: .seconds(1))
        throw error
    }
    await server.shutdown(grace: .seconds(1))
}

/// Reads a pipe to its end on a thread of its own, line by line (UTF-8,
/// "\n"; a last line without one counts too).
///
/// A blocking read on a dedicated thread, not `FileHandle.readabilityHandler`:
/// on Linux that handler is sometimes not called at end of file
/// (swift-corelibs-foundation issue 3275), which leaves a reader waiting forever.
private final class LineReader: Sendable {
    private let handle: FileHandle
    private let onLine: @Sendable (String) -> Void
    private let onEnd: @Sendable () -> Void

    init(_ handle: FileHandle, _ onLine: @escaping @Sendable (String) -> Void, end onEnd: @escaping @Sendable () -> Void) {
        self.handle = handle
        self.onLine = onLine
        self.onEnd = onEnd
    }

    func start(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    private func run() {
        var pending: [UInt8] = []
        while true {
            // Blocks until the child writes or closes its end (exits).
            let data = handle.availableData
            if data.isEmpty { break }
            pending.append(contentsOf: data)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                onLine(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
        try? handle.close()
        onEnd()
    }
}

/// The lines a child printed, from the threads that read its pipes.
private final class Transcript: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

/// A child's exit status, awaited by any number of tasks.
private final class ExitStatus: Sendable {
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    func set(_ status: Int32) {
        let waiters = state.withLock { state in
            state.status = status
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state -> Int32? in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}

/// A health request about `service` ("" for the whole server).
///
/// Tests pass this, not a `.with { … }` closure, inside `#expect(…)`: Swift
/// 6.3.1 can give a closure written in a macro's argument the same
/// discriminator as another closure of the same function, emit only one of
/// them, and call it for both (seen here: a request built for
/// "no.such.Service" went out with the "" of a closure in an earlier
/// `#expect`).
func healthRequest(_ service: String) -> GRPCHealthV1.HealthCheckRequest {
    var request = GRPCHealthV1.HealthCheckRequest()
    request.service = service
    return request
}
