import LiveState
import RPC
import Storage
import TimerDomain

/// What a log line may say about an error: its kind, and its message only
/// where the message cannot quote data.
///
/// PostgreSQL's messages and details may quote values of a statement (a
/// key that violated a constraint, text that did not parse), so a failed
/// statement is logged by its code and SQLSTATE alone; connection failures
/// keep libpq's or hiredis' message (hosts and ports, never passwords). Our
/// own errors (`RPCError`, `TimerDomainError`) name ids, fields and states,
/// never descriptions, client_refs or tokens. Of any other error only its
/// type is logged.
package enum LoggableError {
    /// One line about `error` that is safe to log.
    package static func summary(_ error: any Error) -> String {
        switch error {
        case let error as RPCError:
            return error.description
        case let error as TimerDomainError:
            return "TimerDomainError: \(error.message)"
        case let error as StorageError:
            var text = "StorageError.\(error.code)"
            if let state = error.sqlState { text += " [\(state)]" }
            switch error.code {
            case .connectionFailed, .connectionLost, .unavailable, .timedOut, .cancelled:
                text += ": \(error.message)"
            case .invalidURL, .invalidArgument, .queryFailed, .unsupported, .migrationFailed:
                break
            }
            return text
        case let error as LiveStateError:
            switch error.code {
            // A sealing failure names Redis keys and state key ids, never a value.
            case .connectionFailed, .connectionClosed, .ioFailed, .unavailable, .timedOut, .cancelled, .shutdown, .connectionUnusable,
                 .cryptoFailed:
                return "LiveStateError.\(error.code): \(error.message)"
            default:
                return "LiveStateError.\(error.code)"
            }
        case is CancellationError:
            return "cancelled"
        default:
            return String(describing: type(of: error))
        }
    }
}
