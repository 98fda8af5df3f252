import Foundation
import Testing

/// The repository, from this file's place in it.
private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Replays the server fuzzer's inputs with the replayer an ordinary build
/// makes (`ServerFuzzer FILE|DIR…`). It runs in a process of its own: it takes
/// over Swift's global executor to run handler tasks in order, which a test
/// process, running other tests meanwhile, must not do.
@Suite("Server fuzzer replay")
struct ServerFuzzerReplayTests {
    @Test("every kept fail case and every seed ends cleanly")
    func replayFailCasesAndSeeds() throws {
        let failCases = repositoryRoot.appendingPathComponent("FuzzTesting/FailCases/ServerFuzzer").path
        let seeds = repositoryRoot.appendingPathComponent("FuzzTesting/Corpus/ServerFuzzer").path
        let run = try Replayer.run([failCases, seeds])
        let replayedAll = run.status == 0 && run.output.contains("all ended cleanly")
        #expect(replayedAll, "\(run.output)")
    }

    /// A client may end its request with trailers (HEADERS with END_STREAM)
    /// instead of a DATA frame; the call used to wait for more requests until
    /// the connection closed.
    @Test("trailers that end a request let the call finish")
    func clientTrailersEndTheRequest() throws {
        let frames = try Replayer.trace("client-trailers-end-request")
        let status = frames.filter { $0.type == 0x01 && $0.stream == 1 && $0.flags & 0x01 != 0 }
        #expect(status.count == 1, "the server never ended stream 1: \(frames)")
    }
}

/// Runs the replayer built next to the test bundle.
enum Replayer {
    struct Run {
        var status: Int32
        var output: String
    }

    static var executable: URL {
        let directory = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return directory.appendingPathComponent("ServerFuzzer")
    }

    static func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }

    struct Frame: CustomStringConvertible {
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
        var description: String { "type \(type) flags \(flags) stream \(stream)" }
    }

    /// Replays one fail case and returns the frames the server sent.
    static func trace(_ failCase: String) throws -> [Frame] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("server-fuzzer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = repositoryRoot.appendingPathComponent("FuzzTesting/FailCases/ServerFuzzer/\(failCase)")
        let run = try run(["--trace", directory.path, input.path])
        guard run.status == 0 else { throw ReplayFailure(output: run.output) }
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(failCase).out")))
        var frames: [Frame] = []
        var offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            let stream = UInt32(bytes[offset + 5] & 0x7F) << 24 | UInt32(bytes[offset + 6]) << 16
                | UInt32(bytes[offset + 7]) << 8 | UInt32(bytes[offset + 8])
            frames.append(Frame(type: bytes[offset + 3], flags: bytes[offset + 4], stream: stream))
            offset += 9 + length
        }
        return frames
    }

    struct ReplayFailure: Error, CustomStringConvertible {
        var output: String
        var description: String { "the replayer failed:\n\(output)" }
    }
}
