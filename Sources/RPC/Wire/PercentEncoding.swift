/// The percent-encoding of the `grpc-message` trailer: the message's UTF-8
/// bytes, with every byte outside `0x20...0x7E` and `%` itself written as
/// `%XX` (uppercase hex).
package enum PercentEncoding {
    /// Whether `byte` is sent as is.
    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%")
    }

    /// `message` encoded for `grpc-message`. Returns `message` itself (no
    /// copy) when nothing needs encoding.
    package static func encode(_ message: String) -> String {
        var message = message
        return message.withUTF8 { bytes -> String? in
            guard let first = bytes.firstIndex(where: { !isUnreserved($0) }) else { return nil }
            var escaped = 0
            for byte in bytes[first...] where !isUnreserved(byte) { escaped += 1 }
            return String(unsafeUninitializedCapacity: bytes.count + 2 * escaped) { output in
                var written = 0
                for byte in bytes {
                    if isUnreserved(byte) {
                        output[written] = byte
                        written += 1
                    } else {
                        output[written] = UInt8(ascii: "%")
                        output[written + 1] = hexDigit(byte >> 4)
                        output[written + 2] = hexDigit(byte & 0x0F)
                        written += 3
                    }
                }
                return written
            }
        } ?? message
    }

    /// Decodes a `grpc-message` value, leniently, as the protocol asks: a `%`
    /// not followed by two hex digits (either case) is kept as it is, and
    /// decoded bytes that are not valid UTF-8 become U+FFFD. Never fails.
    package static func decode(_ value: some Collection<UInt8>) -> String {
        guard value.contains(UInt8(ascii: "%")) else {
            return String(decoding: value, as: UTF8.self)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.count)
        var index = value.startIndex
        while index != value.endIndex {
            let byte = value[index]
            index = value.index(after: index)
            guard byte == UInt8(ascii: "%"), index != value.endIndex else {
                bytes.append(byte)
                continue
            }
            let second = value.index(after: index)
            guard second != value.endIndex,
                  let high = hexValue(value[index]), let low = hexValue(value[second])
            else {
                bytes.append(byte)  // keep the `%`; what follows is read as ordinary bytes
                continue
            }
            bytes.append(high << 4 | low)
            index = value.index(after: second)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes a `grpc-message` value given as a string; see the byte variant.
    package static func decode(_ value: String) -> String {
        decode(value.utf8)
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
