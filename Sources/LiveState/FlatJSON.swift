/// JSON for flat objects whose values are integers, strings or `null`: the
/// form of the live timer state, written and read on every timer change and
/// every read of the active timers, so kept free of `Codable`'s generic
/// machinery.
///
/// The writer makes plain RFC 8259 JSON that any reader accepts. The reader
/// takes any such object: members in any order, whitespace, every string
/// escape (surrogate pairs included); it refuses anything else — nesting,
/// fractions, `true`/`false`, duplicate names, invalid UTF-8, trailing bytes.
enum FlatJSON {
    /// A member's value.
    enum Value: Equatable {
        case integer(Int64)
        case string(String)
        case null
    }

    /// Why bytes are not such an object, with the offset where reading stopped.
    struct Failure: Error, CustomStringConvertible {
        var reason: String
        var offset: Int
        var description: String { "\(reason) at byte \(offset)" }
    }

    // MARK: Writing

    /// Appends an object member by member; `finish()` closes it.
    struct Writer {
        private(set) var bytes: [UInt8]
        private var first = true

        init(capacity: Int = 512) {
            bytes = []
            bytes.reserveCapacity(capacity)
            bytes.append(UInt8(ascii: "{"))
        }

        mutating func member(_ name: StaticString, _ value: Int64) {
            open(name)
            Self.appendInteger(value, to: &bytes)
        }

        mutating func member(_ name: StaticString, _ value: Int64?) {
            open(name)
            if let value { Self.appendInteger(value, to: &bytes) } else { appendNull() }
        }

        mutating func member(_ name: StaticString, _ value: String) {
            open(name)
            Self.appendString(value, to: &bytes)
        }

        mutating func member(_ name: StaticString, _ value: String?) {
            open(name)
            if let value { Self.appendString(value, to: &bytes) } else { appendNull() }
        }

        mutating func finish() -> [UInt8] {
            bytes.append(UInt8(ascii: "}"))
            return bytes
        }

        private mutating func open(_ name: StaticString) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(UInt8(ascii: ":"))
        }

        private mutating func appendNull() {
            bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
        }

        static func appendInteger(_ value: Int64, to bytes: inout [UInt8]) {
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            var magnitude = value.magnitude
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            withUnsafeMutableBytes(of: &digits) { buffer in
                repeat {
                    buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                    count += 1
                } while magnitude > 0
                for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
            }
        }

        static func appendString(_ value: String, to bytes: inout [UInt8]) {
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
                case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
                case 0x00..<0x20:
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                default: bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }

    // MARK: Reading

    /// The members of the object in `bytes`, in order.
    static func members(of bytes: [UInt8]) throws(Failure) -> [(name: String, value: Value)] {
        var reader = Reader(bytes: bytes)
        return try reader.object()
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func object() throws(Failure) -> [(name: String, value: Value)] {
            skipSpace()
            try expect(UInt8(ascii: "{"), "expected '{'")
            var members: [(name: String, value: Value)] = []
            members.reserveCapacity(24)
            var names = Set<String>()
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                offset += 1
            } else {
                while true {
                    skipSpace()
                    guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                    let name = try string()
                    guard names.insert(name).inserted else { throw fail("member \"\(name)\" appears twice") }
                    skipSpace()
                    try expect(UInt8(ascii: ":"), "expected ':'")
                    skipSpace()
                    members.append((name, try value()))
                    skipSpace()
                    if peek() == UInt8(ascii: ",") { offset += 1; continue }
                    try expect(UInt8(ascii: "}"), "expected ',' or '}'")
                    break
                }
            }
            skipSpace()
            guard offset == bytes.count else { throw fail("bytes after the object") }
            return members
        }

        private mutating func value() throws(Failure) -> Value {
            guard let next = peek() else { throw fail("expected a value") }
            switch next {
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "n"):
                guard bytes.count - offset >= 4, bytes[offset + 1] == UInt8(ascii: "u"), bytes[offset + 2] == UInt8(ascii: "l"),
                      bytes[offset + 3] == UInt8(ascii: "l") else { throw fail("expected null") }
                offset += 4
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .integer(try integer())
            default:
                throw fail("expected an integer, a string or null")
            }
        }

        private mutating func integer() throws(Failure) -> Int64 {
            let negative = peek() == UInt8(ascii: "-")
            if negative { offset += 1 }
            let start = offset
            var magnitude: UInt64 = 0
            while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                let (times, overflowA) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflowA, !overflowB else { throw fail("integer out of range") }
                magnitude = sum
                offset += 1
            }
            guard offset > start else { throw fail("expected digits") }
            guard bytes[start] != UInt8(ascii: "0") || offset == start + 1 else { throw fail("integer with a leading zero") }
            if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                throw fail("not an integer")
            }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { throw fail("integer out of range") }
                return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
            }
            guard magnitude <= UInt64(Int64.max) else { throw fail("integer out of range") }
            return Int64(magnitude)
        }

        private mutating func string() throws(Failure) -> String {
            offset += 1  // the opening quote
            var out: [UInt8] = []
            var runStart = offset
            while true {
                guard let byte = peek() else { throw fail("unterminated string") }
                if byte == UInt8(ascii: "\"") {
                    out.append(contentsOf: bytes[runStart..<offset])
                    offset += 1
                    break
                }
                if byte < 0x20 { throw fail("control character in a string") }
                if byte != UInt8(ascii: "\\") { offset += 1; continue }
                out.append(contentsOf: bytes[runStart..<offset])
                offset += 1
                guard let escape = peek() else { throw fail("unterminated escape") }
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = UInt32(try hexQuad())
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard bytes.count - offset >= 6, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                            throw fail("a lone surrogate")
                        }
                        offset += 2
                        let low = UInt32(try hexQuad())
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw fail("a lone surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("not a Unicode scalar") }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw fail("unknown escape")
                }
                runStart = offset
            }
            guard let text = String(validating: out, as: UTF8.self) else { throw fail("a string that is not UTF-8") }
            return text
        }

        private mutating func hexQuad() throws(Failure) -> UInt16 {
            guard bytes.count - offset >= 4 else { throw fail("a short \\u escape") }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("a \\u escape that is not hexadecimal")
                }
                value = value << 4 | UInt16(digit)
                offset += 1
            }
            return value
        }

        private func peek() -> UInt8? {
            offset < bytes.count ? bytes[offset] : nil
        }

        private mutating func skipSpace() {
            while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
        }

        private mutating func expect(_ byte: UInt8, _ reason: String) throws(Failure) {
            guard peek() == byte else { throw fail(reason) }
            offset += 1
        }

        private func fail(_ reason: String) -> Failure {
            Failure(reason: reason, offset: offset)
        }
    }
}
