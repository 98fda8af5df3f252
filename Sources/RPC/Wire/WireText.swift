/// Renders untrusted wire bytes inside error messages: quoted, printable ASCII
/// as is, everything else escaped, and cut short so a hostile peer cannot make
/// a message grow without bound.
enum WireText {
    /// The longest input rendered in full; longer inputs end with `…`.
    static let maxQuotedBytes = 64

    /// `bytes` as a double-quoted string: printable ASCII kept, `"` and `\`
    /// escaped with a backslash, other bytes as `\xNN`; at most
    /// ``maxQuotedBytes`` input bytes are shown.
    static func quoted(_ bytes: some Collection<UInt8>) -> String {
        var text = "\""
        var shown = 0
        for byte in bytes {
            if shown == maxQuotedBytes {
                text += "…"
                break
            }
            shown += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                text.unicodeScalars.append("\\")
                text.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x20...0x7E:
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                text += "\\x" + hex(byte)
            }
        }
        text += "\""
        return text
    }

    /// `text` quoted the same way as its UTF-8 bytes.
    static func quoted(_ text: String) -> String {
        quoted(text.utf8)
    }

    /// One byte as `'c'` when printable ASCII, else as `0xNN`.
    static func describe(byte: UInt8) -> String {
        if (0x21...0x7E).contains(byte) {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "0x" + hex(byte)
    }

    /// Two uppercase hex digits.
    static func hex(_ byte: UInt8) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
        return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}
