/// The four kinds of gRPC call.
public enum CallKind: Sendable, Hashable {
    /// One request, one response.
    case unary
    /// One request, a stream of responses.
    case serverStreaming
    /// A stream of requests, one response.
    case clientStreaming
    /// Streams both ways.
    case bidirectionalStreaming
}

/// Names one method of a service, e.g. `servicevault.timer.v1.TimerService`
/// / `CreateTimer`, which is called at the HTTP/2 path
/// `/servicevault.timer.v1.TimerService/CreateTimer`.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// The fully qualified service name.
    public let service: String
    /// The method name.
    public let method: String
    /// The kind of call.
    public let kind: CallKind

    /// Creates a descriptor.
    public init(service: String, method: String, kind: CallKind) {
        self.service = service
        self.method = method
        self.kind = kind
    }

    /// The HTTP/2 `:path`: `/service/method`.
    public var path: String { "/\(service)/\(method)" }

    /// The path.
    public var description: String { path }
}
