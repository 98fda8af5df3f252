import Testing
import RPC

@Suite("grpc-message percent-encoding")
struct WirePercentEncodingTests {
    @Test("encodes bytes outside 0x20...0x7E and % itself, in uppercase hex", arguments: [
        ("hello world", "hello world"),
        ("", ""),
        ("100%", "100%25"),
        ("%%", "%25%25"),
        ("line\nbreak", "line%0Abreak"),
        ("\t\r\u{0}", "%09%0D%00"),
        ("\u{7F}", "%7F"),
        ("~ !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}", "~ !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}"),
        ("héllo", "h%C3%A9llo"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
        ("😀", "%F0%9F%98%80"),
    ])
    func encodes(message: String, expected: String) {
        #expect(PercentEncoding.encode(message) == expected)
        #expect(PercentEncoding.decode(expected) == message)
    }

    @Test("the encoding holds only printable ASCII")
    func encodingIsPrintable() {
        var scalars = String.UnicodeScalarView()
        for value in UInt32(0)...0x2FF { if let scalar = Unicode.Scalar(value) { scalars.append(scalar) } }
        let message = String(scalars) + "\u{FFFD}\u{10FFFF}"
        let encoded = PercentEncoding.encode(message)
        #expect(encoded.utf8.allSatisfy { (0x20...0x7E).contains($0) })
        #expect(PercentEncoding.decode(encoded) == message)
    }

    @Test("decoding is lenient: broken escapes stay as they are", arguments: [
        ("%4", "%4"),
        ("%", "%"),
        ("abc%", "abc%"),
        ("%zz", "%zz"),
        ("%4g", "%4g"),
        ("%g4", "%g4"),
        ("%%41", "%A"),
        ("%%", "%%"),
        ("a%2", "a%2"),
        ("%41%4", "A%4"),
        ("100% sure", "100% sure"),
    ])
    func decodesLeniently(value: String, expected: String) {
        #expect(PercentEncoding.decode(value) == expected)
    }

    @Test("decoding accepts lowercase hex")
    func decodesLowercase() {
        #expect(PercentEncoding.decode("h%c3%a9llo") == "héllo")
    }

    @Test("bytes that are not UTF-8 decode to U+FFFD", arguments: [
        ("%FF", "\u{FFFD}"),
        ("a%C3", "a\u{FFFD}"),
        ("%C3%28", "\u{FFFD}("),
        ("%ED%A0%80", "\u{FFFD}\u{FFFD}\u{FFFD}"),  // an encoded surrogate
    ])
    func repairsUTF8(value: String, expected: String) {
        #expect(PercentEncoding.decode(value) == expected)
    }

    @Test("raw bytes that are not UTF-8 are repaired too")
    func repairsRawBytes() {
        #expect(PercentEncoding.decode([0x61, 0xFF, 0x62] as [UInt8]) == "a\u{FFFD}b")
        #expect(PercentEncoding.decode([0x25, 0x34, 0xFF] as [UInt8]) == "%4\u{FFFD}")
    }

    @Test("arbitrary input never fails")
    func arbitraryInput() {
        var random = WireRandom(seed: 3)
        let alphabet: [UInt8] = Array("%0123456789abcdefABCDEFgz ".utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xFF]
        for _ in 0..<2_000 {
            let length = Int(random.next(below: 24))
            let bytes = (0..<length).map { _ in alphabet[Int(random.next(below: UInt64(alphabet.count)))] }
            let decoded = PercentEncoding.decode(bytes)
            // Whatever was decoded encodes to printable ASCII and back to itself.
            #expect(PercentEncoding.decode(PercentEncoding.encode(decoded)) == decoded)
        }
    }
}
