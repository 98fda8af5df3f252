/// The one error type of a gRPC call: a status code other than OK, a message
/// for people, and the trailing metadata that came with it.
///
/// A server handler throws it to end a call with that status; any other error
/// a handler throws ends the call with `UNKNOWN` and a generic message (the
/// error's text is not sent to the client). A client call throws it when the
/// call ends with a status other than OK.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The status code (never `.ok`).
    public var code: StatusCode
    /// What went wrong, for people; sent as `grpc-message`.
    public var message: String
    /// Trailing metadata sent with the status.
    public var metadata: Metadata

    /// Creates an error.
    public init(code: StatusCode, message: String, metadata: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    /// `CODE: message`.
    public var description: String {
        message.isEmpty ? code.description : "\(code): \(message)"
    }
}
