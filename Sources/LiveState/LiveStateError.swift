/// The one error type of the `LiveState` module.
///
/// A Redis error reply (`-ERR …`) is not an error here: it is a reply,
/// `RedisReply.error`, and the connection stays usable. This type covers
/// what prevents a reply from arriving at all.
package struct LiveStateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    package enum Code: Sendable, Hashable {
        /// The Redis URL could not be parsed; retrying will not help.
        case invalidURL
        /// An argument cannot be used (an empty command, a port out of range,
        /// a NUL byte in a host name).
        case invalidArgument
        /// No connection could be established, or its setup (AUTH, SELECT)
        /// was refused.
        case connectionFailed
        /// The server closed the connection.
        case connectionClosed
        /// Reading or writing the socket failed or timed out.
        case ioFailed
        /// The server sent something that is not valid RESP.
        case protocolError
        /// hiredis ran out of memory.
        case outOfMemory
        /// An earlier failure left the connection unusable; open a new one.
        case connectionUnusable
        /// A stored value could not be sealed or opened: not in the sealed
        /// form, sealed with a key that is not configured, or altered.
        case cryptoFailed
        /// A stored value opened but is not what was stored there (a bad
        /// encoding, a missing field).
        case malformedValue
        /// Redis cannot be reached: a pool has no live connection and could
        /// not open one, so the call failed at once instead of waiting.
        /// Retrying later may help; the server answers gRPC `UNAVAILABLE`.
        case unavailable
        /// The call's deadline passed before its replies arrived; the server
        /// answers gRPC `DEADLINE_EXCEEDED`. Commands already sent may still
        /// have taken effect.
        case timedOut
        /// The task that made the call was cancelled before its replies
        /// arrived. Commands already sent may still have taken effect.
        case cancelled
        /// The pool was shut down before the call could be sent.
        case shutdown
    }

    /// What kind of failure this is.
    package var code: Code
    /// A one-line description, for logs.
    package var message: String

    /// Creates an error.
    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The code and message on one line.
    package var description: String {
        "LiveStateError.\(code): \(message)"
    }
}
