import Foundation
import Testing
import RPC

@Suite("base64 for -bin metadata")
struct WireBase64Tests {
    /// RFC 4648 §10.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test("encodes the RFC 4648 vectors without padding")
    func encodesVectors() {
        for (plain, padded) in Self.vectors {
            let unpadded = String(padded.prefix { $0 != "=" })
            #expect(Base64.encode(Array(plain.utf8)) == unpadded)
            #expect(Base64.encodedLength(of: plain.utf8.count) == unpadded.utf8.count)
        }
    }

    @Test("decodes the RFC 4648 vectors, padded and unpadded")
    func decodesVectors() throws {
        for (plain, padded) in Self.vectors {
            let unpadded = String(padded.prefix { $0 != "=" })
            #expect(try Base64.decode(padded) == Array(plain.utf8))
            #expect(try Base64.decode(unpadded) == Array(plain.utf8))
        }
    }

    @Test("every byte value round-trips, and agrees with Foundation")
    func allByteValues() throws {
        let bytes = (0...255).map { UInt8($0) }
        let encoded = Base64.encode(bytes)
        #expect(encoded + "==" == Data(bytes).base64EncodedString() || encoded == Data(bytes).base64EncodedString())
        #expect(try Base64.decode(encoded) == bytes)
        #expect(try Base64.decode(Data(bytes).base64EncodedString()) == bytes)
    }

    @Test("random inputs of every length agree with Foundation")
    func randomInputs() throws {
        var random = WireRandom(seed: 5)
        for length in 0..<300 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next(below: 256)) }
            let padded = Data(bytes).base64EncodedString()
            let encoded = Base64.encode(bytes)
            #expect(encoded == String(padded.prefix { $0 != "=" }))
            #expect(try Base64.decode(encoded) == bytes)
            #expect(try Base64.decode(padded) == bytes)
        }
    }

    @Test("decodes from any collection of bytes")
    func anyCollection() throws {
        let text = Array("Zm9vYmE".utf8)
        #expect(try Base64.decode(text.lazy.map { $0 }) == Array("fooba".utf8))
        try text.withUnsafeBytes { (raw) throws in
            #expect(try Base64.decode(raw) == Array("fooba".utf8))
        }
        #expect(try Base64.decode(text[1...].dropFirst(0)) == (try Base64.decode("m9vYmE")))
    }

    @Test("rejects what is not standard base64", arguments: [
        ("Zm9v!", "'!' at offset 4"),
        ("Zm 9v", "0x20 at offset 2"),
        ("Zm9v\n", "0x0A at offset 4"),
        (" Zm9v", "0x20 at offset 0"),
        ("Zm9v-_", "'-' at offset 4"),
        ("Zm=v", "'=' at offset 2"),
        ("=Zg=", "'=' at offset 0"),
        ("Zg===", "padding does not complete a group of 4"),
        ("Zg=", "padding does not complete a group of 4"),
        ("Zm9vYg=", "padding does not complete a group of 4"),
        ("Z", "length 1"),
        ("Zm9vY", "length 5"),
        ("Z===", "'=' at offset 1"),
        ("====", "'=' at offset 0"),
        ("Zm9vÿ", "0xC3 at offset 4"),
    ])
    func rejects(text: String, reason: String) throws {
        let error = try #require(throws: RPCError.self) { try Base64.decode(text) }
        #expect(error.code == .internalError)
        #expect(error.message.hasPrefix("invalid base64: "))
        #expect(error.message.contains(reason), "\(error.message)")
    }

    @Test("an error names its context")
    func errorContext() throws {
        let error = try #require(throws: RPCError.self) {
            try Base64.decode(Array("a*".utf8), context: "metadata \"trace-bin\"")
        }
        #expect(error.message == #"invalid base64 in metadata "trace-bin": '*' at offset 1 is not a base64 character"#)
    }

    @Test("unused low bits of the last character are ignored")
    func nonCanonical() throws {
        #expect(try Base64.decode("Zh==") == Array("f".utf8))
        #expect(try Base64.decode("Zh") == Array("f".utf8))
        #expect(try Base64.decode("Zm9=") == Array("fo".utf8))
    }

    @Test("a bad character in the middle of a long input is found")
    func badCharacterInLongInput() throws {
        var text = Array(Base64.encode([UInt8](repeating: 0xAB, count: 3_000)).utf8)
        text[2_345] = UInt8(ascii: "*")
        let error = try #require(throws: RPCError.self) { try Base64.decode(text) }
        #expect(error.message.contains("'*' at offset 2345"))
    }
}
