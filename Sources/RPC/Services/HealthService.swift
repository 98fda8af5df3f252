import Codec
import Synchronization

/// The standard gRPC health service (`grpc.health.v1.Health`).
///
/// The empty service name stands for the whole server. `Check` answers
/// `NOT_FOUND` for a service it does not know; `Watch` sends the current
/// status (`SERVICE_UNKNOWN` for an unknown service), then every change, and
/// keeps the stream open until the client ends it.
public final class HealthService: GRPCHealthV1.HealthProvider, Sendable {
    public typealias Status = GRPCHealthV1.HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status]
        /// `statuses[""]`, the whole server's, kept apart as well.
        var overall: Status
        var watchers: [String: [Int: AsyncStream<Status>.Continuation]] = [:]
        var nextWatcher = 0
    }
    private let state: Mutex<State>

    /// A health service that knows the server ("") and `services`, all with `status`.
    public init(services: [String] = [], status: Status = .serving) {
        var statuses: [String: Status] = ["": status]
        for service in services { statuses[service] = status }
        state = Mutex(State(statuses: statuses, overall: status))
    }

    /// Sets the status of `service` ("" for the server) and tells its watchers.
    public func setStatus(_ status: Status, for service: String = "") {
        let watchers = state.withLock { state -> [AsyncStream<Status>.Continuation] in
            state.statuses[service] = status
            if service.isEmpty { state.overall = status }
            return Array((state.watchers[service] ?? [:]).values)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// Marks every service NOT_SERVING, as a server does when it starts to
    /// shut down, so load balancers stop sending calls.
    public func enterShutdown() {
        let services = state.withLock { Array($0.statuses.keys) }
        for service in services { setStatus(.notServing, for: service) }
    }

    /// The status of `service`, nil when unknown.
    public func status(of service: String) -> Status? {
        state.withLock { state in
            // The whole server's, asked most often, without hashing.
            service.isEmpty ? state.overall : state.statuses[service]
        }
    }

    /// Registers Check to be answered on the event loop (it only reads
    /// memory), and Watch as a stream.
    public func registerMethods(with router: inout MethodRouter) {
        router.registerInlineUnary(GRPCHealthV1.HealthMethods.check) { [self] (request: GRPCHealthV1.HealthCheckRequest) in
            try currentStatus(request)
        }
        router.registerServerStreaming(GRPCHealthV1.HealthMethods.watch) { [self] (request: GRPCHealthV1.HealthCheckRequest, responses, context) in
            try await watch(request, responses: responses, context: context)
        }
    }

    public func check(_ request: GRPCHealthV1.HealthCheckRequest, context: ServerContext) async throws -> GRPCHealthV1.HealthCheckResponse {
        try currentStatus(request)
    }

    private func currentStatus(_ request: GRPCHealthV1.HealthCheckRequest) throws(RPCError) -> GRPCHealthV1.HealthCheckResponse {
        guard let status = status(of: request.service) else {
            throw RPCError(code: .notFound, message: "unknown service \"\(request.service)\"")
        }
        return GRPCHealthV1.HealthCheckResponse.with { $0.status = status }
    }

    public func watch(_ request: GRPCHealthV1.HealthCheckRequest, responses: ResponseWriter<GRPCHealthV1.HealthCheckResponse>,
                      context: ServerContext) async throws {
        let service = request.service
        let (updates, continuation) = AsyncStream<Status>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let (id, current) = state.withLock { state -> (Int, Status) in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[service, default: [:]][id] = continuation
            return (id, state.statuses[service] ?? .serviceUnknown)
        }
        defer {
            state.withLock { state in
                state.watchers[service]?[id] = nil
                if state.watchers[service]?.isEmpty == true { state.watchers[service] = nil }
            }
            continuation.finish()
        }
        var last = current
        try await responses.send(GRPCHealthV1.HealthCheckResponse.with { $0.status = current })
        // Ends when the call is cancelled (client gone, deadline, shutdown).
        for await status in updates where status != last {
            last = status
            try await responses.send(GRPCHealthV1.HealthCheckResponse.with { $0.status = status })
        }
    }
}
