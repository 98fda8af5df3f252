/// `bytea` values as query parameters.
package enum Bytea {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The text form PostgreSQL reads for a `bytea` parameter: `\x` and two
    /// lowercase hex digits per byte (pass it as a `$n::bytea` parameter).
    package static func parameter(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
