import Codec

/// A service the server can host: it registers its methods with a router.
///
/// Generated server protocols (`protoc-gen-vault`) conform to this through an
/// extension; implement the generated protocol, not this one.
public protocol RPCService: Sendable {
    /// Registers every method of the service.
    func registerMethods(with router: inout MethodRouter)
}

/// Maps `:path` to handlers. Built once before the server starts; read-only
/// afterwards.
public struct MethodRouter: Sendable {
    /// A type-erased handler: runs one call over its transport.
    struct Handler: Sendable {
        let method: MethodDescriptor
        let run: @Sendable (any ServerCallIO, ServerContext) async throws -> Void
    }

    private(set) var handlers: [String: Handler] = [:]

    /// An empty router.
    public init() {}

    /// Registers every method of `service`.
    public mutating func register(_ service: some RPCService) {
        service.registerMethods(with: &self)
    }

    /// The fully qualified names of the services registered.
    public var serviceNames: [String] {
        Array(Set(handlers.values.map(\.method.service))).sorted()
    }

    /// The handler for a `:path`, if registered.
    func handler(forPath path: Substring) -> Handler? {
        handlers[String(path)]
    }

    /// Registers a unary method.
    public mutating func registerUnary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        add(method) { io, context in
            let request = try await Self.single(Request.self, io)
            let response = try await handler(request, context)
            try await ResponseWriter<Response>(io: io).send(response)
        }
    }

    /// Registers a server-streaming method.
    public mutating func registerServerStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        add(method) { io, context in
            let request = try await Self.single(Request.self, io)
            try await handler(request, ResponseWriter(io: io), context)
        }
    }

    /// Registers a client-streaming method.
    public mutating func registerClientStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (RequestStream<Request>, ServerContext) async throws -> Response
    ) {
        add(method) { io, context in
            let response = try await handler(RequestStream(io: io), context)
            try await ResponseWriter<Response>(io: io).send(response)
        }
    }

    /// Registers a bidirectional-streaming method.
    public mutating func registerBidirectionalStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (RequestStream<Request>, ResponseWriter<Response>, ServerContext) async throws -> Void
    ) {
        add(method) { io, context in
            try await handler(RequestStream(io: io), ResponseWriter(io: io), context)
        }
    }

    private mutating func add(_ method: MethodDescriptor, _ run: @escaping @Sendable (any ServerCallIO, ServerContext) async throws -> Void) {
        precondition(handlers[method.path] == nil, "\(method.path) registered twice")
        handlers[method.path] = Handler(method: method, run: run)
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
