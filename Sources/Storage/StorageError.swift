/// The one error type of the `Storage` module.
///
/// `code` says what kind of failure happened and what a caller may do about it
/// (retry on another connection, report bad input, give up); `sqlState` carries
/// PostgreSQL's own five-character code when the server sent one. `message`
/// and `detail` are for logs: they may quote the server and must not be sent to
/// clients as they are.
package struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    package enum Code: Sendable, Hashable {
        /// The connection URL could not be parsed; retrying will not help.
        case invalidURL
        /// An argument cannot be sent to PostgreSQL (for example a NUL byte in
        /// a text parameter, or more parameters than the protocol allows).
        case invalidArgument
        /// No connection could be established (server down, refused,
        /// authentication failed, unknown database).
        case connectionFailed
        /// The connection broke during or before a call; the connection must be
        /// discarded.
        case connectionLost
        /// The server rejected the statement; `sqlState` says why. The
        /// connection remains usable.
        case queryFailed
        /// The statement needs a protocol feature this connection does not
        /// offer (COPY). The connection remains usable.
        case unsupported
        /// The database cannot be reached: the pool has no live connection and
        /// could not open one (or is shut down). Retrying later may help; the
        /// server answers gRPC `UNAVAILABLE`.
        case unavailable
        /// The call's deadline passed while it waited for a connection or for
        /// a statement; the server answers gRPC `DEADLINE_EXCEEDED`. A
        /// statement that was running may still have taken effect.
        case timedOut
        /// The task that made the call was cancelled while it waited for a
        /// connection or for a statement.
        case cancelled
        /// A schema migration failed (its transaction was rolled back), or the
        /// database's migration history contradicts this program's.
        case migrationFailed
    }

    /// What kind of failure this is.
    package var code: Code
    /// PostgreSQL's SQLSTATE (for example `42601` for a syntax error), when the
    /// server reported one.
    package var sqlState: String?
    /// A one-line description, from libpq or the server's primary message.
    package var message: String
    /// The server's optional detail line (for example which key violated a
    /// unique constraint).
    package var detail: String?

    /// Creates an error.
    package init(code: Code, sqlState: String? = nil, message: String, detail: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
    }

    /// The code, SQLSTATE, message and detail on one line.
    package var description: String {
        var text = "StorageError.\(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }
}
