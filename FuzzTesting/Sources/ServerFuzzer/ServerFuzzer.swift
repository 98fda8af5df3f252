import Foundation

// The server fuzzer: every input is what a client sends on one connection to
// the gRPC server (HTTP/2 connection, gRPC connection handler, router, health,
// reflection and echo services); the connection must end without a crash, a
// sanitizer report, a leak, or anything left running (`ServerHarness`).
//
// Built by `make fuzz` with `-sanitize=fuzzer,address -DFUZZING`, `main` hands
// control to libFuzzer's driver. An ordinary build makes a replayer:
// `ServerFuzzer FILE|DIR…` runs each input (a directory: every file in it)
// and traps on the first that breaks an invariant (with `--trace OUTDIR`
// first, what the server sent is kept as OUTDIR/NAME.out); `ServerFuzzer
// --write-seeds DIR` writes the seed corpus.

@main
struct ServerFuzzer {
    static func main() throws {
        SerialJobs.install()
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
        #else
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-seeds", arguments.count == 2 {
            try writeSeeds(to: arguments[1])
            return
        }
        var paths = arguments
        var traceDirectory: String?
        if paths.first == "--trace", paths.count >= 2 {
            traceDirectory = paths[1]
            paths.removeFirst(2)
        }
        let harness = try ServerHarness()
        var count = 0
        for path in try inputFiles(paths) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            // Named first, so a trap shows which input it was.
            FileHandle.standardError.write(Data("replaying \(path)\n".utf8))
            var output: [UInt8] = []
            if traceDirectory != nil { harness.trace = { output.append(contentsOf: $0) } }
            bytes.withUnsafeBytes { harness.run($0) }
            harness.trace = nil
            if let traceDirectory {
                let name = URL(fileURLWithPath: path).lastPathComponent
                try Data(output).write(to: URL(fileURLWithPath: "\(traceDirectory)/\(name).out"))
            }
            count += 1
        }
        print("replayed \(count) inputs: all ended cleanly")
        #endif
    }

    /// The files named, with directories expanded (sorted, hidden files and
    /// READMEs skipped).
    static func inputFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path)
                files += names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { "\(path)/\($0)" }
            } else {
                files.append(path)
            }
        }
        return files
    }

    static func writeSeeds(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let seeds = try Seeds.all()
        for seed in seeds {
            try Data(seed.bytes).write(to: URL(fileURLWithPath: "\(directory)/\(seed.name)"))
        }
        print("wrote \(seeds.count) seeds to \(directory)")
    }
}

#if FUZZING
/// libFuzzer's entry point when the program has its own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Made on the first input, on libFuzzer's thread (the one that installed
/// ``SerialJobs``), and kept: its event loop serves every run, as a server's
/// loop serves many connections.
nonisolated(unsafe) var harness: ServerHarness?

/// One input: a broken invariant traps, which libFuzzer records as a crash.
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if harness == nil {
        do {
            harness = try ServerHarness()
        } catch {
            fatalError("the harness could not start: \(error)")
        }
    }
    harness!.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
#endif
