/// The status a client gives a call whose response has no `grpc-status`
/// (a proxy or a non-gRPC server answered), from the HTTP `:status`, as
/// gRPC's HTTP-to-gRPC status mapping specifies.
///
/// Only for responses without `grpc-status`: when one is present it wins,
/// whatever the HTTP status. Servers never use this table.
package enum HTTPStatusMapping {
    /// The gRPC code for an HTTP status: 400 and 431 `INTERNAL`, 401
    /// `UNAUTHENTICATED`, 403 `PERMISSION_DENIED`, 404 `UNIMPLEMENTED`,
    /// 429, 502, 503 and 504 `UNAVAILABLE`, every other status (200 included)
    /// `UNKNOWN`.
    package static func code(forHTTPStatus status: Int) -> StatusCode {
        switch status {
        case 400, 431: .internalError
        case 401: .unauthenticated
        case 403: .permissionDenied
        case 404: .unimplemented
        case 429, 502, 503, 504: .unavailable
        default: .unknown
        }
    }

    /// The error for a response with HTTP status `status` and no
    /// `grpc-status`: the mapped code and the message
    /// `HTTP status 503 (no grpc-status)`.
    package static func error(forHTTPStatus status: Int) -> RPCError {
        RPCError(code: code(forHTTPStatus: status), message: "HTTP status \(status) (no grpc-status)")
    }

    /// Parses a `:status` value: exactly three ASCII digits, 100 to 999
    /// (RFC 9110 §15); nil for anything else.
    package static func parseStatus(_ value: some Collection<UInt8>) -> Int? {
        guard value.count == 3 else { return nil }
        var status = 0
        for byte in value {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            status = status * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return status >= 100 ? status : nil
    }
}
