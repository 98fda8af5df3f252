/// One proto service with its Swift names resolved.
struct ServicePlan: Sendable, Hashable {
    /// The fully qualified proto name, e.g. `grpc.health.v1.Health`.
    var fullName: String
    /// The normalized leading comment, `""` when none.
    var comment: String
    /// Whether the proto marks the service `deprecated`.
    var isDeprecated: Bool
    /// The namespace enum, when the package has one.
    var namespace: String?
    /// The descriptors enum, unqualified: `HealthMethods`.
    var methodsType: String
    /// The server protocol, unqualified: `HealthProvider`.
    var providerType: String
    /// The client struct, unqualified: `HealthClient`.
    var clientType: String
    /// The methods, in proto order.
    var methods: [Method]

    /// A generated type as referenced from anywhere: `GRPCHealthV1.HealthMethods`.
    func qualified(_ type: String) -> String {
        namespace.map { "\($0).\(type)" } ?? type
    }

    /// One proto method with its Swift names resolved.
    struct Method: Sendable, Hashable {
        /// The four kinds of call, as `RPC.CallKind` names them.
        enum Kind: String, Sendable, Hashable {
            case unary, serverStreaming, clientStreaming, bidirectionalStreaming
        }

        /// The proto name, e.g. `CreateTimer`.
        var protoName: String
        /// The Swift name, escaped when a keyword, e.g. `createTimer`.
        var swiftName: String
        /// The kind of call.
        var kind: Kind
        /// The Swift reference to the request message, e.g. `CreateTimerRequest`.
        var requestType: String
        /// The Swift reference to the response message.
        var responseType: String
        /// The normalized leading comment, `""` when none.
        var comment: String
        /// Whether the proto marks the method `deprecated`.
        var isDeprecated: Bool
    }
}
