import Foundation
import Testing

/// The repository root, from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// `Tests/ProtocGenVaultTests/Golden`: the input protos (`protos/`) and the
/// expected outputs (`expected/<case>/`).
let goldenRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

/// The plugin binary the tests run: `$PROTOC_GEN_VAULT` when set, otherwise
/// `protoc-gen-vault` in the build folder the test executable runs from
/// (`.build/<triple>/debug/`), found from `CommandLine.arguments[0]` or
/// `Bundle.main`. nil when neither has one.
let pluginPath: String? = {
    if let path = ProcessInfo.processInfo.environment["PROTOC_GEN_VAULT"], !path.isEmpty {
        return path
    }
    var starts = [URL(fileURLWithPath: CommandLine.arguments[0])]
    if let executable = Bundle.main.executableURL { starts.append(executable) }
    for start in starts {
        // On Linux the test executable sits in the build folder; on Darwin it
        // is inside an .xctest bundle there, a few levels down.
        var folder = start.resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("protoc-gen-vault").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
    }
    return nil
}()

/// The plugin binary, or a failed test saying how to build it.
func requirePlugin() throws -> String {
    try #require(pluginPath, "protoc-gen-vault not found next to the test executable: run `swift build --product protoc-gen-vault` first, or set PROTOC_GEN_VAULT")
}

/// What a finished process left.
struct ProcessResult {
    var status: Int32
    var output: Data
    var errors: String
}

/// Runs `executable` (looked up on PATH unless absolute) in `directory`, with
/// `input` on standard input and `environment` added to ours.
func runProcess(
    _ executable: String, _ arguments: [String], input: Data = Data(), in directory: URL = repositoryRoot,
    environment: [String: String] = [:]
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    // Feed stdin and drain stderr on other threads so no pipe can fill up and
    // block the child.
    let writer = Thread {
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
    }
    writer.start()
    let errors = ErrorsBox()
    let reader = Thread { errors.data = stderr.fileHandleForReading.readDataToEndOfFile(); errors.done.signal() }
    reader.start()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    errors.done.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: output, errors: String(decoding: errors.data, as: UTF8.self))
}

/// Standard error, filled by the reading thread before `done` is signalled.
private final class ErrorsBox: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}

/// A fresh empty folder under the temporary directory; the caller removes it.
func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("protoc-gen-vault-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Every regular file under `root`, by path relative to it.
func files(under root: URL) throws -> [String: Data] {
    var result: [String: Data] = [:]
    guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
        return result
    }
    let rootPath = root.standardizedFileURL.resolvingSymlinksInPath().path
    for case let url as URL in enumerator {
        guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
        let path = url.standardizedFileURL.resolvingSymlinksInPath().path
        result[String(path.dropFirst(rootPath.count + 1))] = try Data(contentsOf: url)
    }
    return result
}

/// Where two texts first differ, for failure messages: the line number and
/// both lines.
func firstDifference(_ actual: Data, _ expected: Data) -> String {
    let actualLines = String(decoding: actual, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    let expectedLines = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    for index in 0..<max(actualLines.count, expectedLines.count) {
        let got = index < actualLines.count ? String(actualLines[index]) : "<end of file>"
        let want = index < expectedLines.count ? String(expectedLines[index]) : "<end of file>"
        if got != want { return "line \(index + 1):\n  generated: \(got)\n  expected:  \(want)" }
    }
    return "identical"
}
