import CoreMetrics
import Codec

/// A service the server can host: it registers its methods with a router.
///
/// Generated server protocols (`protoc-gen-vault`) conform to this through an
/// extension; implement the generated protocol, not this one.
public protocol RPCService: Sendable {
    /// Registers every method of the service.
    func registerMethods(with router: inout MethodRouter)
}

/// Encodes a unary response message after room for its gRPC message header
/// (``MessageFramer/headerLength`` bytes, written in place by
/// ``ResponseWriting/frameUnary(_:framer:context:)``), mapping codec errors
/// to `INTERNAL`.
func encodeResponse<M: ProtoMessage>(_ message: M) throws(RPCError) -> [UInt8] {
    do {
        return try message.serializedBytes(headroom: MessageFramer.headerLength)
    } catch {
        throw RPCError(code: .internalError, message: "response could not be encoded: \(error)")
    }
}

/// Maps `:path` to handlers. Built once before the server starts; read-only
/// afterwards.
public struct MethodRouter: Sendable {
    /// A type-erased handler.
    /// A class, so a call takes it with one reference, not a copy of its parts.
    final class Handler: Sendable {
        /// How the call runs.
        enum Body: Sendable {
            /// Streams: the handler drives the call through its transport.
            case streaming(@Sendable (any ServerCallIO, ServerContext) async throws -> Void)
            /// Unary: the one request in, the one response out (serialized
            /// after room for its message header, see ``encodeResponse(_:)``),
            /// so the server hands the call over once and back once.
            case unary(@Sendable ([UInt8], ServerContext) async throws -> [UInt8])
            /// Unary, answered on the event loop itself: for calls that need
            /// no I/O and cannot block. The response as ``unary(_:)``'s.
            case inline(InlineRun)
        }

        /// An inline handler: given the call's context, or not (then none is
        /// made for the call: no allocation, no lock).
        enum InlineRun: Sendable {
            case withContext(@Sendable ([UInt8], ServerContext) throws -> [UInt8])
            case plain(@Sendable ([UInt8]) throws -> [UInt8])

            var needsContext: Bool {
                if case .withContext = self { return true }
                return false
            }

            /// Runs the handler; `context` is there when it needs one.
            func callAsFunction(_ request: [UInt8], _ context: ServerContext?) throws -> [UInt8] {
                switch self {
                case .withContext(let run):
                    guard let context else { throw RPCError(code: .internalError, message: "the handler has no call context") }
                    return try run(request, context)
                case .plain(let run):
                    return try run(request)
                }
            }
        }
        let method: MethodDescriptor
        let body: Body
        /// Its calls' metrics.
        let metrics: CallMetrics

        init(method: MethodDescriptor, body: Body, metrics: CallMetrics) {
            self.method = method
            self.body = body
            self.metrics = metrics
        }
    }

    private(set) var handlers: [String: Handler] = [:]
    /// Where the calls' metrics go.
    private let metricsFactory: any MetricsFactory
    /// The metrics of calls to paths no method serves.
    let unknownMethodMetrics: CallMetrics

    /// An empty router whose calls' metrics go to `metricsFactory` (by
    /// default the one `MetricsSystem.bootstrap` installed, or none).
    public init(metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.metricsFactory = metricsFactory
        unknownMethodMetrics = .unknownMethod(factory: metricsFactory)
    }

    /// Registers every method of `service`.
    public mutating func register(_ service: some RPCService) {
        service.registerMethods(with: &self)
    }

    /// The fully qualified names of the services registered.
    public var serviceNames: [String] {
        Array(Set(handlers.values.map(\.method.service))).sorted()
    }

    /// The handler for a `:path`, if registered.
    func handler(forPath path: String) -> Handler? {
        handlers[path]
    }

    /// Registers a unary method.
    public mutating func registerUnary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        add(method, .unary { bytes, context in
            let request = try decodeRequest(Request.self, bytes)
            return try encodeResponse(try await handler(request, context))
        })
    }

    /// Registers a unary method answered on the event loop, without a hop to
    /// Swift's concurrency pool: only for handlers that finish at once, never
    /// block and never wait (e.g. a health check reading in-memory state).
    public mutating func registerInlineUnary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, ServerContext) throws -> Response
    ) {
        add(method, .inline(.withContext { bytes, context in
            let request = try decodeRequest(Request.self, bytes)
            return try encodeResponse(try handler(request, context))
        }))
    }

    /// Registers a unary method answered on the event loop whose handler needs
    /// nothing of the call but its request (no metadata, no deadline): the
    /// call then makes no ``ServerContext``. Otherwise as
    /// ``registerInlineUnary(_:_:)-(_,(Request,ServerContext)->Response)``.
    public mutating func registerInlineUnary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request) throws -> Response
    ) {
        add(method, .inline(.plain { bytes in
            let request = try decodeRequest(Request.self, bytes)
            return try encodeResponse(try handler(request))
        }))
    }

    /// Registers a server-streaming method.
    public mutating func registerServerStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        add(method, .streaming { io, context in
            let request = try await Self.single(Request.self, io)
            try await handler(request, ResponseWriter(io: io), context)
        })
    }

    /// Registers a client-streaming method.
    public mutating func registerClientStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (RequestStream<Request>, ServerContext) async throws -> Response
    ) {
        add(method, .streaming { io, context in
            let response = try await handler(RequestStream(io: io), context)
            try await ResponseWriter<Response>(io: io).send(response)
        })
    }

    /// Registers a bidirectional-streaming method.
    public mutating func registerBidirectionalStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (RequestStream<Request>, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        add(method, .streaming { io, context in
            try await handler(RequestStream(io: io), ResponseWriter(io: io), context)
        })
    }

    private mutating func add(_ method: MethodDescriptor, _ body: Handler.Body) {
        precondition(handlers[method.path] == nil, "\(method.path) registered twice")
        handlers[method.path] = Handler(method: method, body: body, metrics: CallMetrics(method, factory: metricsFactory))
    }

    /// Reads exactly one request message (unary and server-streaming calls).
    private static func single<Request: ProtoMessage>(_: Request.Type, _ io: any ServerCallIO) async throws(RPCError) -> Request {
        guard let bytes = try await io.receive() else {
            throw RPCError(code: .internalError, message: "expected one request message, got none")
        }
        if try await io.receive() != nil {
            throw RPCError(code: .internalError, message: "expected one request message, got more")
        }
        return try decodeRequest(Request.self, bytes)
    }
}
