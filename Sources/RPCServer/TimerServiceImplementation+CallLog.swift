import Logging
import RPC
import Storage
import Synchronization
import TimerDomain

/// One log line per call, `call`, with its request id (see ``RequestID``):
///
/// - `method`, `request_id`, `user_id` (once the token is known), `grpc_code`
///   (`OK`, `NOT_FOUND`, …), `duration_ms`, `peer`;
/// - at debug for OK and for the caller's errors (bad input, no such timer,
///   no token, a cancelled call);
/// - at warning for a dependency's fault: PostgreSQL or Redis unreachable
///   (UNAVAILABLE) or too slow for the deadline (DEADLINE_EXCEEDED);
/// - at error for a failure of the server itself (INTERNAL, UNKNOWN,
///   DATA_LOSS);
/// - a warning or error adds `error`, what failed (``LoggableError``).
///
/// No line carries a token, the `authorization` header, a description or a
/// client_ref: the metadata above is all a line holds.
extension TimerServiceImplementation {
    /// What one call's line says, filled in as the call goes.
    final class CallLog: Sendable {
        /// The call's id, as answered in `x-request-id`.
        let requestID: String
        private let user = Atomic<Int64>(0)

        init(requestID: String) {
            self.requestID = requestID
        }

        /// The caller's user, once authenticated.
        var userID: Int64? {
            get { let id = user.load(ordering: .relaxed); return id == 0 ? nil : id }
            set { user.store(newValue ?? 0, ordering: .relaxed) }
        }
    }

    /// Runs a whole call: gives it its request id (answered as `x-request-id`
    /// initial metadata, before anything else can be sent), runs `body`,
    /// turns any error into the status it stands for, and logs the call's
    /// line once it ends.
    func logged<Result>(
        _ context: ServerContext, _ method: String, _ body: (CallLog) async throws -> Result
    ) async throws -> Result {
        let started = ContinuousClock.now
        let call = CallLog(requestID: RequestID.of(context.requestMetadata))
        context.addInitialMetadata(RequestID.metadataKey, call.requestID)
        do {
            let result = try await body(call)
            // Cancelled (by the client, or at its deadline): the answer is
            // not sent. A watch ends this way without an error.
            let status = Task.isCancelled ? RPCError(code: .cancelled, message: "") : nil
            logCall(call, method, context, started: started, status: status, cause: nil)
            return result
        } catch {
            let status = Self.status(for: error)
            logCall(call, method, context, started: started, status: status, cause: error)
            throw status
        }
    }

    /// The request id this call answered with (``logged(_:_:_:)`` set it).
    func requestID(_ context: ServerContext) -> String? {
        context.initialMetadata[RequestID.metadataKey]
    }

    private func logCall(
        _ call: CallLog, _ method: String, _ context: ServerContext, started: ContinuousClock.Instant,
        status: RPCError?, cause: (any Error)?
    ) {
        let level = status.map { Self.logLevel(for: $0, cause: cause) } ?? .debug
        guard logger.logLevel <= level else { return }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1_000
            + Double(elapsed.components.attoseconds / 1_000_000_000) / 1_000_000
        var metadata: Logger.Metadata = [
            "method": .string(method),
            "request_id": .string(call.requestID),
            "grpc_code": .string(status?.code.description ?? "OK"),
            "duration_ms": .stringConvertible((milliseconds * 1_000).rounded() / 1_000),
            "peer": .string(context.peer),
        ]
        if let user = call.userID { metadata["user_id"] = .stringConvertible(user) }
        if level > .debug, let cause { metadata["error"] = .string(LoggableError.summary(cause)) }
        logger.log(level: level, "call", metadata: metadata)
    }

    /// The level of a call's line that ended with `status`, caused by `cause`
    /// (the error thrown inside the call).
    static func logLevel(for status: RPCError, cause: (any Error)?) -> Logger.Level {
        switch status.code {
        case .internalError, .unknown, .dataLoss:
            return .error
        case .unavailable, .deadlineExceeded:
            // Said by the service itself (a watch ended by shutdown), or a
            // dependency that failed or was too slow.
            switch cause {
            case is RPCError, is TimerDomainError, is CancellationError, nil: return .debug
            default: return .warning
            }
        default:
            return .debug
        }
    }
}
