import HTTP2

/// Metadata to and from HTTP/2 header fields: `-bin` values travel base64
/// (unpadded), names are lower case, and names the protocol reserves are
/// never sent as metadata.
enum MetadataCoding {
    /// Appends `metadata` as header fields, skipping reserved names.
    static func append(_ metadata: Metadata, to headers: inout [HTTP2Header]) {
        for entry in metadata where !isReserved(entry.key) {
            switch entry.value {
            case .string(let value): headers.append(HTTP2Header(entry.key, value))
            case .binary(let bytes): headers.append(HTTP2Header(entry.key, Base64.encode(bytes)))
            }
        }
    }

    /// Names that belong to HTTP/2 or gRPC itself, not to applications.
    static func isReserved(_ name: String) -> Bool {
        if name.hasPrefix(":") { return true }
        if name.hasPrefix("grpc-") { return true }
        switch name {
        case "content-type", "te", "user-agent", "content-length", "connection", "host", "keep-alive",
             "proxy-connection", "transfer-encoding", "upgrade", "accept-encoding", "content-encoding":
            return true
        default:
            return false
        }
    }
}
