/// Resolving names, and refusing what Swift cannot express.
extension StubGenerator {
    /// Member names the generated `…Methods` enum declares besides the methods.
    static let reservedMethodNames: Set<String> = ["all", "serviceName"]

    /// Names of the `RPC` module the generated code uses unqualified: a
    /// message referenced by the same bare name would be ambiguous.
    static let runtimeNames: Set<String> = [
        "BidirectionalCall", "CallOptions", "MethodDescriptor", "MethodRouter", "RPCChannel", "RPCError",
        "RPCService", "RequestStream", "ResponseStream", "ResponseWriter", "Sendable", "ServerContext",
    ]

    /// Resolves every Swift name of a file's services.
    ///
    /// - Throws: ``GeneratorError`` when two methods of a service get the same
    ///   Swift name or a name the `…Methods` enum already uses (`all`,
    ///   `serviceName`); when a message is named `Type`, `Protocol`, `Self` or
    ///   `Any`, which Swift cannot nest; when a message of the package has the
    ///   name of a generated type, or a referenced message the bare name of an
    ///   `RPC` or generated type (use `rename=` or `namespace=`); when a
    ///   method's type is not in the request.
    func plan(_ file: ProtoFile) throws(GeneratorError) -> [ServicePlan] {
        let namespace = options.namespaces[file.package]
        let generatedNames = Set(file.services.flatMap { ["\($0.name)Methods", "\($0.name)Provider", "\($0.name)Client"] })
        for message in messages.values.sorted(by: { $0.fullName < $1.fullName })
        where message.package == file.package && message.path.count == 1 {
            let swiftName = options.renames[message.fullName] ?? message.path[0]
            if generatedNames.contains(swiftName) {
                throw GeneratorError("\(file.name): message \(message.fullName) has the Swift name \(swiftName), "
                    + "which the stubs declare for a service: give the message another with rename=")
            }
        }
        var services: [ServicePlan] = []
        for service in file.services {
            let fullName = file.package.isEmpty ? service.name : "\(file.package).\(service.name)"
            var methods: [ServicePlan.Method] = []
            var protoNameOf: [String: String] = [:]
            for method in service.methods {
                let context = "\(file.name): method \(fullName).\(method.name)"
                let swiftName = SwiftName.lowerCamelCase(method.name)
                guard SwiftName.isIdentifier(Substring(swiftName)) else {
                    throw GeneratorError("\(context): `\(swiftName)` is not a Swift name")
                }
                if let other = protoNameOf[swiftName] {
                    throw GeneratorError("\(context): \(other) and \(method.name) both become `\(swiftName)` in Swift")
                }
                if Self.reservedMethodNames.contains(swiftName) {
                    throw GeneratorError("\(context): its Swift name `\(swiftName)` is taken by \(service.name)Methods.\(swiftName)")
                }
                protoNameOf[swiftName] = method.name
                let kind: ServicePlan.Method.Kind = switch (method.clientStreaming, method.serverStreaming) {
                case (false, false): .unary
                case (false, true): .serverStreaming
                case (true, false): .clientStreaming
                case (true, true): .bidirectionalStreaming
                }
                methods.append(ServicePlan.Method(
                    protoName: method.name,
                    swiftName: SwiftName.escaped(swiftName),
                    kind: kind,
                    requestType: try swiftType(method.inputType, context: context, generatedNames: generatedNames),
                    responseType: try swiftType(method.outputType, context: context, generatedNames: generatedNames),
                    comment: Self.normalizedComment(method.comment),
                    isDeprecated: method.isDeprecated
                ))
            }
            services.append(ServicePlan(
                fullName: fullName,
                comment: Self.normalizedComment(service.comment),
                isDeprecated: service.isDeprecated,
                namespace: namespace,
                methodsType: "\(service.name)Methods",
                providerType: "\(service.name)Provider",
                clientType: "\(service.name)Client",
                methods: methods
            ))
        }
        return services
    }

    /// The Swift reference to a message: its package's namespace if any, then
    /// its names from the outermost message down, each replaced by its
    /// `rename=` if it has one (`.grpc.health.v1.HealthCheckRequest` →
    /// `GRPCHealthV1.HealthCheckRequest`; `.servicevault.timer.v1.Timer` →
    /// `VaultTimer`).
    func swiftType(_ protoType: String, context: String, generatedNames: Set<String>) throws(GeneratorError) -> String {
        let fullName = protoType.hasPrefix(".") ? String(protoType.dropFirst()) : protoType
        guard let message = messages[fullName] else {
            throw GeneratorError("\(context): type \(fullName) is not a message of the request")
        }
        var components: [String] = []
        var protoPrefix = message.package
        for name in message.path {
            protoPrefix = protoPrefix.isEmpty ? name : "\(protoPrefix).\(name)"
            let swiftName = options.renames[protoPrefix] ?? name
            if SwiftName.unsupportedTypeNames.contains(swiftName) {
                throw GeneratorError("\(context): message \(protoPrefix) cannot be named \(swiftName) in Swift: "
                    + "give it another name with rename=\(protoPrefix):<SwiftName>")
            }
            components.append(SwiftName.escaped(swiftName))
        }
        if let namespace = options.namespaces[message.package] {
            components.insert(namespace, at: 0)
        }
        let first = components[0]
        if Self.runtimeNames.contains(first) || generatedNames.contains(first) {
            throw GeneratorError("\(context): message \(fullName) would be written `\(first)`, which names "
                + (Self.runtimeNames.contains(first) ? "a type of the RPC module" : "a generated type")
                + ": give it another name with rename= or nest its package with namespace=")
        }
        return components.joined(separator: ".")
    }

    /// A proto leading comment as documentation text: the one space after
    /// `//` and trailing spaces removed, and empty lines at either end.
    static func normalizedComment(_ comment: String) -> String {
        var lines = comment.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            var line = line.hasPrefix(" ") ? line.dropFirst() : line
            while line.last?.isWhitespace == true { line = line.dropLast() }
            return line
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}
