import Foundation
import Testing
@testable import Codec

/// Bad bytes throw a ``CodecError`` that says what is wrong and where; none
/// crashes, none is accepted.
@Suite("Malformed input")
struct MalformedInputTests {
    /// A valid Timer encoding to damage.
    static let valid: [UInt8] = {
        var w = WireWriter()
        w.tag(1, 0); w.varint(5)                                  // id
        w.tag(6, 2); w.lengthDelimited(Array("Design".utf8))      // description
        w.tag(8, 2); w.lengthDelimited({ var t = WireWriter(); t.tag(1, 0); t.varint(1_733_040_000); return t.bytes }())
        return w.bytes
    }()

    func expectMalformed(_ bytes: [UInt8], mentions fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let value = try VaultTimer(serializedBytes: bytes)
            Issue.record("decoded \(value) from malformed input", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .malformed, sourceLocation: sourceLocation)
            #expect(error.path == "servicevault.timer.v1.Timer", sourceLocation: sourceLocation)
            #expect(error.reason.contains(fragment), "reason was: \(error.reason)", sourceLocation: sourceLocation)
        }
    }

    @Test("the valid input decodes")
    func validInput() throws {
        let timer = try VaultTimer(serializedBytes: Self.valid)
        #expect(timer.id == 5 && timer.description == "Design" && timer.startedAt?.seconds == 1_733_040_000)
    }

    @Test("truncated at every length")
    func truncated() {
        // Every proper prefix that ends inside a field is refused.
        for length in 1..<Self.valid.count where ![2, 10].contains(length) {
            do {
                _ = try VaultTimer(serializedBytes: Self.valid.prefix(length))
                Issue.record("prefix of \(length) bytes was accepted")
            } catch {
                #expect(error.code == .malformed)
            }
        }
    }

    @Test("length past the end")
    func lengthPastEnd() {
        var w = WireWriter()
        w.tag(6, 2); w.varint(50); w.bytes += Array("short".utf8)
        expectMalformed(w.bytes, mentions: "runs past the end")
    }

    @Test("wrong wire type for a known field")
    func wrongWireType() {
        var w = WireWriter()
        w.tag(1, 2); w.lengthDelimited([1, 2, 3])                 // id is a varint
        expectMalformed(w.bytes, mentions: "field id (number 1) at byte 0 has wire type 2, expected 0")
    }

    @Test("overlong varint")
    func overlongVarint() {
        var w = WireWriter()
        w.tag(1, 0)
        w.bytes += [UInt8](repeating: 0xFF, count: 10) + [0x01]   // 11 bytes
        expectMalformed(w.bytes, mentions: "varint")
    }

    @Test("truncated varint")
    func truncatedVarint() {
        expectMalformed([0x08, 0x80, 0x80], mentions: "truncated varint at byte 1")
    }

    @Test("invalid wire types and field number zero")
    func invalidWireTypes() {
        expectMalformed([0x0F, 0x00], mentions: "invalid wire type 7")
        expectMalformed([0x00, 0x01], mentions: "field number 0")
        expectMalformed([0x0B], mentions: "group")
    }

    @Test("damage inside a sub-message is located")
    func nestedDamage() {
        var inner = WireWriter()
        inner.tag(1, 2); inner.lengthDelimited([0])               // Timestamp.seconds as bytes
        var w = WireWriter()
        w.tag(8, 2); w.lengthDelimited(inner.bytes)
        expectMalformed(w.bytes, mentions: "in field started_at: field seconds (number 1) at byte 2 has wire type 2")  // offsets count from the start of the input
    }

    @Test("invalid UTF-8 in a string field")
    func invalidUTF8() {
        for bad: [UInt8] in [[0xC3], [0xFF, 0x41], [0xED, 0xA0, 0x80], [0x41, 0xE2, 0x82]] {
            var w = WireWriter()
            w.tag(6, 2); w.lengthDelimited(bad)
            do {
                _ = try VaultTimer(serializedBytes: w.bytes)
                Issue.record("accepted invalid UTF-8 \(bad)")
            } catch {
                #expect(error.code == .invalidUTF8)
                #expect(error.path == "servicevault.timer.v1.Timer.description")
            }
        }
    }

    @Test("invalid UTF-8 deep in a repeated field")
    func invalidUTF8Nested() {
        var timer = WireWriter()
        timer.tag(6, 2); timer.lengthDelimited([0x61, 0xFE])
        var w = WireWriter()
        w.tag(5, 2); w.lengthDelimited([])                        // an empty Timer first
        w.tag(5, 2); w.lengthDelimited(timer.bytes)
        #expect(throws: CodecError(code: .invalidUTF8, path: "servicevault.timer.v1.Timer.description",
                                   reason: "string field is not valid UTF-8")) {
            _ = try TimerEvent(serializedBytes: w.bytes)
        }
    }

    @Test("U+0000 in a string is refused on encode, not truncated")
    func nulInString() {
        let timer = VaultTimer.with { $0.description = "before\u{0}after" }
        #expect(throws: CodecError.self) { _ = try timer.serializedBytes() }
        do {
            _ = try timer.serializedBytes()
        } catch {
            #expect(error.code == .unrepresentableString)
            #expect(error.path == "servicevault.timer.v1.Timer.description")
        }
    }

    @Test("random garbage never crashes")
    func garbage() async {
        var rng = SplitMix64(seed: 42)
        var refused = 0
        for round in 0..<20_000 {
            // Seconds of work in all: other tests' tasks, waiting on the
            // same few threads, get their turns between slices of it.
            if round % 500 == 0 { await Task.yield() }
            let bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            for type in MessageTypes.all {
                do { _ = try type.init(serializedBytes: bytes) } catch { refused += 1 }
            }
        }
        #expect(refused > 0)
    }
}

/// Inputs the fuzzer found, each kept as a named regression test.
@Suite("Regressions")
struct CodecRegressionTests {
    /// protobuf-c accepts a tag whose varint is an overlong zero (`80 00`) and
    /// keeps it as an unknown field number 0; re-encoded as `00` it no longer
    /// decodes. Field number 0 is invalid, so the codec refuses it on decode.
    @Test("field number 0 hidden in an overlong tag is refused")
    func overlongZeroTag() {
        #expect(throws: CodecError(code: .malformed, path: "google.protobuf.Duration",
                                   reason: "field number 0 (in an overlong tag)")) {
            _ = try ProtoDuration(serializedBytes: [0x80, 0x00, 0x04])
        }
    }
}

/// Replays every input under `FuzzTesting/FailCases/CodecFuzzer/` through the fuzzer's check.
@Suite("Fuzzer fail cases")
struct FailCasesTests {
    @Test("every kept crash input now passes")
    func replay() throws {
        let folder = repositoryRoot.appendingPathComponent("FuzzTesting/FailCases/CodecFuzzer")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") && $0 != "README.md" }
        #expect(!files.isEmpty)
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(file)))
            #expect(RoundTripCheck.check(bytes) == nil, "\(file)")
        }
    }
}
