/// What protoc asks of the plugin: the files to generate, every file they
/// depend on, and the parameter string (`--vault_opt`), copied out of the
/// `CodeGeneratorRequest` into plain Swift values.
struct PluginRequest: Sendable, Hashable {
    /// Proto paths to generate code for, e.g. `servicevault/timer/v1/timer_service.proto`.
    var filesToGenerate: [String]
    /// The comma-separated `key=value` options, `""` when none were given.
    var parameter: String
    /// Every file of the request, in dependency order (imports first).
    var protoFiles: [ProtoFile]
}

/// One `.proto` file, reduced to what the stubs need.
struct ProtoFile: Sendable, Hashable {
    /// The path protoc knows the file by, e.g. `grpc/health/v1/health.proto`.
    var name: String
    /// The proto package, `""` when the file declares none.
    var package: String
    /// Every message the file declares, nested ones included.
    var messages: [ProtoMessageType]
    /// The services, in declaration order.
    var services: [ProtoService]
}

/// A message type declared in a file.
struct ProtoMessageType: Sendable, Hashable {
    /// The fully qualified name without a leading dot, e.g. `grpc.health.v1.HealthCheckResponse`.
    var fullName: String
    /// The proto package of the declaring file.
    var package: String
    /// The names from the outermost message down, e.g. `["Outer", "Inner"]`.
    var path: [String]
}

/// A service declared in a file.
struct ProtoService: Sendable, Hashable {
    /// The name, e.g. `TimerService`.
    var name: String
    /// The leading comment, `""` when none.
    var comment: String
    /// Whether the proto marks the service `deprecated`.
    var isDeprecated: Bool
    /// The methods, in declaration order.
    var methods: [ProtoMethod]
}

/// A method of a service.
struct ProtoMethod: Sendable, Hashable {
    /// The name, e.g. `CreateTimer`.
    var name: String
    /// The fully qualified request type, as protoc gives it (`.pkg.Message`).
    var inputType: String
    /// The fully qualified response type, as protoc gives it (`.pkg.Message`).
    var outputType: String
    /// Whether the client sends a stream of requests.
    var clientStreaming: Bool
    /// Whether the server sends a stream of responses.
    var serverStreaming: Bool
    /// The leading comment, `""` when none.
    var comment: String
    /// Whether the proto marks the method `deprecated`.
    var isDeprecated: Bool
}
