/// The `grpc-encoding` and `grpc-accept-encoding` headers: which message
/// compression a peer uses, and which it can read.
///
/// This implementation supports `identity` and `gzip` (``Compression``).
package enum MessageEncoding {
    /// Our `grpc-accept-encoding` value: every encoding we can read.
    package static let acceptEncodingValue = "identity,gzip"

    /// The encodings a peer accepts, from its `grpc-accept-encoding`.
    /// `identity` is always accepted, listed or not.
    package struct Accepted: Sendable, Hashable, CustomStringConvertible {
        private var gzip: Bool

        /// Only `identity` (no header, or one listing nothing we know).
        package static let identityOnly = Accepted(gzip: false)
        /// Everything we support.
        package static let all = Accepted(gzip: true)

        /// Whether the peer can read messages compressed with `compression`.
        package func accepts(_ compression: Compression) -> Bool {
            switch compression {
            case .identity: true
            case .gzip: gzip
            }
        }

        /// The accepted encodings we know, comma-separated.
        package var description: String { gzip ? "identity,gzip" : "identity" }
    }

    /// Parses a `grpc-encoding` value (ASCII case-insensitive; surrounding
    /// spaces and tabs ignored).
    ///
    /// - Throws: ``RPCError`` `UNIMPLEMENTED` naming the encoding and listing
    ///   the supported ones. A server sends it trailers-only, with
    ///   `grpc-accept-encoding: identity,gzip` (``acceptEncodingValue``) in
    ///   the response, as gRPC's compression rules ask.
    package static func parseEncoding(_ value: some Collection<UInt8>) throws(RPCError) -> Compression {
        if let compression = compression(named: value) { return compression }
        throw RPCError(code: .unimplemented,
                       message: "grpc-encoding \(WireText.quoted(value)) is not supported (supported: identity, gzip)")
    }

    /// Parses a `grpc-encoding` value given as a string; see the byte variant.
    package static func parseEncoding(_ value: String) throws(RPCError) -> Compression {
        try parseEncoding(value.utf8)
    }

    /// Parses a `grpc-accept-encoding` value: a comma-separated list of
    /// encodings, spaces and tabs around each tolerated, names
    /// ASCII case-insensitive. Unknown names (`deflate`, `snappy`…) and empty
    /// items are ignored. Never fails.
    package static func parseAcceptEncoding(_ value: some Collection<UInt8>) -> Accepted {
        var accepted = Accepted.identityOnly
        var itemStart = value.startIndex
        var index = value.startIndex
        while true {
            let atEnd = index == value.endIndex
            if atEnd || value[index] == UInt8(ascii: ",") {
                if compression(named: value[itemStart..<index]) == .gzip { accepted = .all }
                if atEnd { break }
                itemStart = value.index(after: index)
            }
            index = value.index(after: index)
        }
        return accepted
    }

    /// Parses a `grpc-accept-encoding` value given as a string; see the byte variant.
    package static func parseAcceptEncoding(_ value: String) -> Accepted {
        parseAcceptEncoding(value.utf8)
    }

    /// The encoding to compress responses with: the one wanted if the peer
    /// accepts it, else `identity`.
    package static func negotiate(_ wanted: Compression, accepted: Accepted) -> Compression {
        accepted.accepts(wanted) ? wanted : .identity
    }

    /// The encoding `bytes` names, spaces and tabs around it ignored, if we support it.
    private static func compression(named bytes: some Collection<UInt8>) -> Compression? {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return nil }
        var length = 0
        var position = 0
        for byte in bytes[first...] {
            position += 1
            if !isSpace(byte) { length = position }
        }
        let name = bytes[first...].prefix(length)
        if equalsIgnoringCase(name, "gzip") { return .gzip }
        if equalsIgnoringCase(name, "identity") { return .identity }
        return nil
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        var i = 0
        for byte in bytes {
            let lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
            if lower != name.utf8Start[i] { return false }
            i += 1
        }
        return true
    }
}
