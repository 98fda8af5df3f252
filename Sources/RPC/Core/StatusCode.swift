/// A gRPC status code, as carried in the `grpc-status` trailer.
///
/// The numbers are fixed by the gRPC protocol; a number outside them reads as
/// ``unknown`` (as the protocol asks of clients).
public enum StatusCode: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Success.
    case ok = 0
    /// The operation was cancelled, typically by the caller.
    case cancelled = 1
    /// An error with no better code, or a status number this code does not know.
    case unknown = 2
    /// The request is invalid whatever the state of the system.
    case invalidArgument = 3
    /// The deadline expired before the operation could complete.
    case deadlineExceeded = 4
    /// A requested entity was not found.
    case notFound = 5
    /// The entity a client tried to create already exists.
    case alreadyExists = 6
    /// The caller is not allowed to do this.
    case permissionDenied = 7
    /// A resource (quota, rate, message size) is exhausted.
    case resourceExhausted = 8
    /// The system is not in the state the operation needs.
    case failedPrecondition = 9
    /// Aborted, typically by a concurrency conflict; retry at a higher level.
    case aborted = 10
    /// Past the valid range.
    case outOfRange = 11
    /// Not implemented or not supported by this server.
    case unimplemented = 12
    /// An invariant the system relies on is broken.
    case internalError = 13
    /// The service is currently unavailable; retrying may succeed.
    case unavailable = 14
    /// Unrecoverable data loss or corruption.
    case dataLoss = 15
    /// The request has no valid credentials.
    case unauthenticated = 16

    /// The code for a `grpc-status` number; unknown numbers are ``unknown``.
    public init(number: Int) {
        self = StatusCode(rawValue: number) ?? .unknown
    }

    /// The name the gRPC documentation uses, e.g. `DEADLINE_EXCEEDED`.
    public var description: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internalError: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }
}
