import Foundation
import Testing
import RPC

@Suite("gzip through zlib")
struct WireGzipTests {
    static let samples: [[UInt8]] = {
        var random = WireRandom(seed: 9)
        return [
            [],
            [0x41],
            Array("The quick brown fox jumps over the lazy dog".utf8),
            (0..<10_000).map { _ in UInt8(truncatingIfNeeded: random.next(below: 256)) },  // incompressible
            [UInt8](repeating: 0x61, count: 1_000_000),
            (0..<200_000).map { UInt8(truncatingIfNeeded: $0 % 251) },
        ]
    }()

    @Test("round trips, with one compressor and one decompressor reused for every message")
    func roundTrip() throws {
        let compressor = try Gzip.Compressor()
        let decompressor = try Gzip.Decompressor()
        for _ in 0..<2 {
            for sample in Self.samples {
                let compressed = try compressor.compress(sample)
                #expect(compressed.starts(with: [0x1F, 0x8B]))  // the gzip magic
                #expect(try decompressor.decompress(compressed, limit: sample.count) == sample)
            }
        }
    }

    @Test("compression appends to what the buffer holds", arguments: [nil, 0, 1, 9] as [Int?])
    func appendsAndLevels(level: Int?) throws {
        let compressor = try Gzip.Compressor(level: level)
        var buffer: [UInt8] = [1, 2, 3]
        try Self.samples[4].withUnsafeBytes { bytes in try compressor.compress(bytes, appendingTo: &buffer) }
        #expect(buffer.starts(with: [1, 2, 3, 0x1F, 0x8B]))
        var output: [UInt8] = [9]
        try Array(buffer[3...]).withUnsafeBytes { bytes in
            try Gzip.Decompressor().decompress(bytes, limit: 1_000_000, appendingTo: &output)
        }
        #expect(output == [9] + Self.samples[4])
    }

    @Test("the limit: exactly the size passes, one byte less fails with RESOURCE_EXHAUSTED")
    func limit() throws {
        let data = [UInt8](repeating: 3, count: 1_000)
        let compressed = try Gzip.Compressor().compress(data)
        let decompressor = try Gzip.Decompressor()
        #expect(try decompressor.decompress(compressed, limit: 1_000) == data)
        let error = try #require(throws: RPCError.self) { try decompressor.decompress(compressed, limit: 999) }
        #expect(error == RPCError(code: .resourceExhausted, message: "decompressed message is larger than the maximum of 999 bytes"))
        // The decompressor is still good after an error.
        #expect(try decompressor.decompress(compressed, limit: 5_000) == data)
        #expect(try decompressor.decompress(try Gzip.Compressor().compress([]), limit: 0) == [])
    }

    @Test("on failure the output buffer is left as it was")
    func failureLeavesOutput() throws {
        let compressed = try Gzip.Compressor().compress([UInt8](repeating: 1, count: 10_000))
        var output: [UInt8] = [7, 7]
        #expect(throws: RPCError.self) {
            try compressed.withUnsafeBytes { bytes in
                try Gzip.Decompressor().decompress(bytes, limit: 100, appendingTo: &output)
            }
        }
        #expect(output == [7, 7])
    }

    @Test("corrupt data is INTERNAL and says why")
    func corrupt() throws {
        let decompressor = try Gzip.Decompressor()
        let compressed = try Gzip.Compressor().compress(Array("hello, hello, hello".utf8))

        var badMagic = compressed
        badMagic[0] = 0x00
        let magicError = try #require(throws: RPCError.self) { try decompressor.decompress(badMagic, limit: 100) }
        #expect(magicError.code == .internalError)
        #expect(magicError.message.hasPrefix("gzip decompression failed: incorrect header check"))

        var badCRC = compressed
        badCRC[badCRC.count - 6] ^= 0xFF
        let crcError = try #require(throws: RPCError.self) { try decompressor.decompress(badCRC, limit: 100) }
        #expect(crcError.message.hasPrefix("gzip decompression failed: incorrect data check"))

        let truncated = Array(compressed.dropLast(3))
        let truncatedError = try #require(throws: RPCError.self) { try decompressor.decompress(truncated, limit: 100) }
        #expect(truncatedError == RPCError(code: .internalError, message: "gzip decompression failed: the data is truncated"))

        let emptyError = try #require(throws: RPCError.self) { try decompressor.decompress([], limit: 100) }
        #expect(emptyError.message == "gzip decompression failed: the data is truncated")

        var trailingGarbage = compressed
        trailingGarbage += [1, 2, 3, 4]
        #expect(throws: RPCError.self) { try decompressor.decompress(trailingGarbage, limit: 100) }

        // Still usable afterwards.
        #expect(try decompressor.decompress(compressed, limit: 100) == Array("hello, hello, hello".utf8))
    }

    @Test("random garbage never crashes")
    func garbage() throws {
        var random = WireRandom(seed: 21)
        let decompressor = try Gzip.Decompressor()
        for _ in 0..<500 {
            var bytes = (0..<Int(random.next(below: 64))).map { _ in UInt8(truncatingIfNeeded: random.next(below: 256)) }
            if random.next(below: 2) == 0, bytes.count >= 3 { bytes[0] = 0x1F; bytes[1] = 0x8B; bytes[2] = 8 }
            _ = try? decompressor.decompress(bytes, limit: 1_000)
        }
    }

    @Test("a zip bomb stops at the limit")
    func bomb() throws {
        let bomb = try Gzip.Compressor(level: 9).compress([UInt8](repeating: 0, count: 32 * 1024 * 1024))
        let error = try #require(throws: RPCError.self) { try Gzip.Decompressor().decompress(bomb, limit: 65_536) }
        #expect(error.code == .resourceExhausted)
    }

    @Test("several gzip members decompress as one message")
    func multipleMembers() throws {
        let compressor = try Gzip.Compressor()
        let joined = try compressor.compress(Array("abc".utf8)) + compressor.compress(Array("def".utf8))
        #expect(try Gzip.Decompressor().decompress(joined, limit: 6) == Array("abcdef".utf8))
    }

    // MARK: Interoperability with the gzip tool

    @Test("what the gzip tool compresses, we decompress",
          .enabled(if: WireGzipTests.gzipTool != nil, "needs the gzip command-line tool"))
    func decompressesGzipTool() throws {
        let decompressor = try Gzip.Decompressor()
        for sample in Self.samples {
            let compressed = try Self.runGzip(["-c", "-n"], input: sample)
            #expect(try decompressor.decompress(compressed, limit: sample.count) == sample)
        }
    }

    @Test("what we compress, the gzip tool decompresses",
          .enabled(if: WireGzipTests.gzipTool != nil, "needs the gzip command-line tool"))
    func gzipToolDecompresses() throws {
        let compressor = try Gzip.Compressor()
        for sample in Self.samples {
            let compressed = try compressor.compress(sample)
            #expect(try Self.runGzip(["-d", "-c"], input: compressed) == sample)
        }
    }

    static let gzipTool: String? = ["/usr/bin/gzip", "/bin/gzip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs the gzip tool on `input` through files, so no pipe can fill up.
    static func runGzip(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wire-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputURL = directory.appendingPathComponent("in")
        let outputURL = directory.appendingPathComponent("out")
        try Data(input).write(to: inputURL)
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(gzipTool))
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: inputURL)
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // Read through FileHandle: Data(contentsOf:) leaks its buffer under LeakSanitizer.
        let reader = try FileHandle(forReadingFrom: outputURL)
        defer { try? reader.close() }
        return Array(try reader.readToEnd() ?? Data())
    }
}
