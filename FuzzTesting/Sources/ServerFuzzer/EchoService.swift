import Codec
import RPC

/// An echo service with one method of each kind, so the fuzzer reaches
/// unary (in a task and inline), server-, client- and bidirectional
/// streaming, response metadata and handler errors. The message is
/// `grpc.health.v1.HealthCheckRequest` both ways (one string field).
///
/// A request whose text starts with `fail:` ends the call with that status
/// (`fail:5` is NOT_FOUND); request metadata whose key starts with `echo-`
/// comes back as initial and trailing metadata.
struct EchoService: RPCService {
    typealias Message = GRPCHealthV1.HealthCheckRequest

    static let service = "fuzz.Echo"
    static let get = MethodDescriptor(service: service, method: "Get", kind: .unary)
    static let inline = MethodDescriptor(service: service, method: "Inline", kind: .unary)
    static let expand = MethodDescriptor(service: service, method: "Expand", kind: .serverStreaming)
    static let collect = MethodDescriptor(service: service, method: "Collect", kind: .clientStreaming)
    static let update = MethodDescriptor(service: service, method: "Update", kind: .bidirectionalStreaming)

    /// Handlers that have started and not returned: 0 once a run is over.
    nonisolated(unsafe) static var running = 0

    func registerMethods(with router: inout MethodRouter) {
        router.registerUnary(Self.get) { (request: Message, context: ServerContext) in
            Self.running += 1
            defer { Self.running -= 1 }
            return try Self.answer(request, context)
        }
        router.registerInlineUnary(Self.inline) { (request: Message, context: ServerContext) in
            try Self.answer(request, context)
        }
        router.registerServerStreaming(Self.expand) { (request: Message, responses: ResponseWriter<Message>, context: ServerContext) in
            Self.running += 1
            defer { Self.running -= 1 }
            let reply = try Self.answer(request, context)
            // As many responses as the text has characters, at most 8.
            for index in 0..<min(reply.service.utf8.count, 8) {
                var message = reply
                message.service = String(reply.service.prefix(index + 1))
                try await responses.send(message)
            }
        }
        router.registerClientStreaming(Self.collect) { (requests: RequestStream<Message>, context: ServerContext) in
            Self.running += 1
            defer { Self.running -= 1 }
            var joined = Message()
            for try await request in requests {
                joined.service += try Self.answer(request, context).service
                if joined.service.utf8.count > 4096 { break }
            }
            return joined
        }
        router.registerBidirectionalStreaming(Self.update) { (requests: RequestStream<Message>, responses: ResponseWriter<Message>, context: ServerContext) in
            Self.running += 1
            defer { Self.running -= 1 }
            for try await request in requests {
                try await responses.send(try Self.answer(request, context))
            }
        }
    }

    /// The echo of one request, or the error it asks for.
    static func answer(_ request: Message, _ context: ServerContext) throws(RPCError) -> Message {
        if request.service.hasPrefix("fail:") {
            let code = StatusCode(number: Int(request.service.dropFirst(5).prefix(2)) ?? 2)
            throw RPCError(code: code, message: String(request.service.dropFirst(5)))
        }
        for entry in context.requestMetadata where entry.key.hasPrefix("echo-") {
            switch entry.value {
            case .string(let text):
                context.addInitialMetadata(entry.key, text)
                context.addTrailingMetadata(entry.key, text)
            case .binary(let bytes):
                context.addInitialMetadata(entry.key, binary: bytes)
                context.addTrailingMetadata(entry.key, binary: bytes)
            }
        }
        return request
    }
}
