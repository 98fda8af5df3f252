import CoreMetrics
import HTTP2

/// The metrics of one method's calls on the server, in the families and
/// labels of grpc-ecosystem's go-grpc-prometheus, so its dashboards and
/// alerts apply as they are:
///
/// ```
/// grpc_server_started_total{grpc_type, grpc_service, grpc_method}
/// grpc_server_handled_total{grpc_type, grpc_service, grpc_method, grpc_code}
/// grpc_server_handling_seconds{grpc_type, grpc_service, grpc_method}     histogram
/// ```
/// `grpc_code` is the status code's name as gRPC-Go writes it (`OK`,
/// `Canceled`, `DeadlineExceeded`, …). Every code's series exists from the
/// start, at zero, so a rate over it never misses a series. Calls to
/// methods that are not served count under service and method `unknown`,
/// so no request can add series.
///
/// Made once per method when it is registered; a call costs an increment when it starts and an
/// increment and a histogram observation when it ends, never a lock.
package final class CallMetrics: Sendable {
    private let starts: Counter
    private let handled: [Counter]
    private let handling: CoreMetrics.Timer

    /// The metrics of calls to `method`.
    package convenience init(_ method: MethodDescriptor, factory: any MetricsFactory) {
        self.init(service: method.service, method: method.method, type: Self.typeName(method.kind), factory: factory)
    }

    /// The metrics of calls to paths no method serves.
    package static func unknownMethod(factory: any MetricsFactory) -> CallMetrics {
        CallMetrics(service: "unknown", method: "unknown", type: "unary", factory: factory)
    }

    private init(service: String, method: String, type: String, factory: any MetricsFactory) {
        let labels = [("grpc_type", type), ("grpc_service", service), ("grpc_method", method)]
        starts = Counter(label: "grpc_server_started_total", dimensions: labels, factory: factory)
        handled = StatusCode.allCases.map { code in
            Counter(label: "grpc_server_handled_total", dimensions: labels + [("grpc_code", Self.codeName(code))], factory: factory)
        }
        handling = CoreMetrics.Timer(label: "grpc_server_handling_seconds", dimensions: labels, factory: factory)
    }

    /// A call began; returns the time it began, for `finished`.
    package func started() -> UInt64 {
        starts.increment()
        return EventLoop.now()
    }

    /// A call that began at `start` ended with `code`.
    package func finished(_ code: StatusCode, startedAt start: UInt64) {
        handled[code.rawValue].increment()
        handling.recordNanoseconds(Int64(truncatingIfNeeded: EventLoop.now() &- start))
    }

    static func typeName(_ kind: CallKind) -> String {
        switch kind {
        case .unary: "unary"
        case .serverStreaming: "server_stream"
        case .clientStreaming: "client_stream"
        case .bidirectionalStreaming: "bidi_stream"
        }
    }

    /// The name gRPC-Go gives a code (`codes.Code.String()`).
    static func codeName(_ code: StatusCode) -> String {
        switch code {
        case .ok: "OK"
        case .cancelled: "Canceled"
        case .unknown: "Unknown"
        case .invalidArgument: "InvalidArgument"
        case .deadlineExceeded: "DeadlineExceeded"
        case .notFound: "NotFound"
        case .alreadyExists: "AlreadyExists"
        case .permissionDenied: "PermissionDenied"
        case .resourceExhausted: "ResourceExhausted"
        case .failedPrecondition: "FailedPrecondition"
        case .aborted: "Aborted"
        case .outOfRange: "OutOfRange"
        case .unimplemented: "Unimplemented"
        case .internalError: "Internal"
        case .unavailable: "Unavailable"
        case .dataLoss: "DataLoss"
        case .unauthenticated: "Unauthenticated"
        }
    }
}
