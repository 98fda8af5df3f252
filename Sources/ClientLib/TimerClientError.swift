/// The one error of the client library: a gRPC status code other than OK, a
/// message for people, and the trailing metadata the server sent with it.
///
/// Calls through ``TimerClient`` throw it when they end with a status other
/// than OK (`CANCELLED` when the calling task is cancelled,
/// `DEADLINE_EXCEEDED` when the call's deadline passes); local failures use
/// the same codes (`UNAVAILABLE` for a closed client or an unreachable server,
/// `FAILED_PRECONDITION` for an offline change the timer's state does not
/// allow).
public struct TimerClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The status code (never `.ok`).
    public var code: StatusCode
    /// What went wrong, for people (the server's `grpc-message`).
    public var message: String
    /// The trailing metadata that came with the status (e.g. `retry-after`).
    public var metadata: Metadata

    /// An error with `code` and `message`.
    public init(code: StatusCode, message: String, metadata: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    /// The error a call through the gRPC layer ended with.
    public init(_ error: RPCError) {
        self.init(code: error.code, message: error.message, metadata: error.metadata)
    }

    /// `CODE: message`, e.g. `NOT_FOUND: timer not found`.
    public var description: String {
        message.isEmpty ? code.description : "\(code): \(message)"
    }

    /// How long the server asked the client to wait before trying again, if
    /// it said (`grpc-retry-pushback-ms`, else `retry-after` in seconds): set
    /// on `RESOURCE_EXHAUSTED` from the sync rate limit.
    public var retryAfter: Duration? {
        if let milliseconds = metadata["grpc-retry-pushback-ms"].flatMap({ Int64($0) }), milliseconds >= 0 {
            return .milliseconds(milliseconds)
        }
        if let seconds = metadata["retry-after"].flatMap({ Int64($0) }), seconds >= 0 {
            return .seconds(seconds)
        }
        return nil
    }

    /// The error of a call made on a client that was closed.
    static let closed = TimerClientError(code: .unavailable, message: "the client is closed")

    /// The error of a call whose task was cancelled.
    static let cancelled = TimerClientError(code: .cancelled, message: "the call was cancelled by the client")
}

extension RPCError {
    /// The same error as the client library reports it.
    var clientError: TimerClientError { TimerClientError(self) }
}
