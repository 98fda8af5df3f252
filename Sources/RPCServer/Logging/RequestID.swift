import RPC

/// The id of one call: in each of its log lines (`request_id`), its audit
/// rows, and its response (`x-request-id` initial metadata, also on an error
/// answered with trailers only).
///
/// The client's `x-request-id` is used when it is sane: 1 to 128 characters,
/// each printable ASCII other than the space (`!` to `~`), and not shaped
/// like an API token (`svt_…`, a client that sent its token by mistake).
/// Any other value is replaced whole by a generated id, never cut or
/// escaped: a log line or audit row never carries a control character, an
/// unbounded header or a token from it. Without one an id is generated: 32
/// lowercase hex digits (16 random bytes).
package enum RequestID {
    /// The metadata key, in requests and responses.
    package static let metadataKey = "x-request-id"
    /// The longest client id used as it is.
    package static let maximumLength = 128

    /// The id of a call with `requestMetadata`.
    package static func of(_ requestMetadata: Metadata) -> String {
        if let given = requestMetadata[metadataKey], isSane(given) { return given }
        return generate()
    }

    /// Whether a client's id is used as it is.
    package static func isSane(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= maximumLength, !text.hasPrefix(APIToken.prefix) else { return false }
        return bytes.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// A new id: 16 bytes from the system's random source as 32 hex digits.
    package static func generate() -> String {
        var random = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for half in 0..<2 {
                let value = random.next()
                for nibble in 0..<16 {
                    buffer[half * 16 + nibble] = hex[Int(value >> UInt64(60 - 4 * nibble) & 0xF)]
                }
            }
            return 32
        }
    }
}
