/// The one error type of the `TimerDomain` module.
///
/// Each code corresponds to one gRPC status (`grpcStatusCode`); the message is
/// written for the caller (it names the field or the state and the action) and
/// can be sent as `grpc-message` as it is.
package struct TimerDomainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    package enum Code: Sendable, Hashable {
        /// The input is malformed or out of range (INVALID_ARGUMENT). `field`
        /// names the offending request field.
        case invalidArgument
        /// The timer has been deleted (NOT_FOUND): deleted timers accept no
        /// command other than a replayed delete.
        case notFound
        /// A `client_ref` was already used for a timer that has since been
        /// deleted (ALREADY_EXISTS): the key is spent and creates nothing new.
        case alreadyExists
        /// The state machine does not allow the command from the current state
        /// (FAILED_PRECONDITION), e.g. pausing a stopped timer.
        case failedPrecondition
        /// `expected_sync_version` does not match the timer (ABORTED): someone
        /// else changed it; re-read and decide again.
        case aborted
        /// A money computation does not fit in 64 bits (OUT_OF_RANGE).
        case outOfRange
        /// Stored state breaks the timer's invariants (INTERNAL), e.g. a
        /// running timer without an open session. Never the caller's fault.
        case inconsistentState

        /// The `google.rpc.Code` number this maps to.
        package var grpcStatusCode: Int32 {
            switch self {
            case .invalidArgument: 3
            case .notFound: 5
            case .alreadyExists: 6
            case .failedPrecondition: 9
            case .aborted: 10
            case .outOfRange: 11
            case .inconsistentState: 13
            }
        }
    }

    /// What kind of failure this is.
    package var code: Code
    /// A one-line description for the caller.
    package var message: String
    /// The request field at fault, for `invalidArgument` (e.g. `"description"`).
    package var field: String?

    /// Creates an error.
    package init(code: Code, message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// An `invalidArgument` error about one field.
    static func invalid(_ field: String, _ message: String) -> TimerDomainError {
        TimerDomainError(code: .invalidArgument, message: message, field: field)
    }

    /// The code and message on one line.
    package var description: String {
        "TimerDomainError.\(code): \(message)"
    }
}
