/// The plugin's parameters: protoc's `--vault_opt=key=value,…`,
/// comma-separated; a key given twice keeps the last value, except the
/// repeatable `namespace`, `rename` and `import`. (protoc also takes
/// parameters before a colon in `--vault_out`, but it splits there at the
/// first colon, which `namespace` and `rename` values contain.)
/// ``ProtocGenVault/helpText`` documents each key.
struct GeneratorOptions: Sendable, Hashable {
    /// How an output file is named after its proto path (`file_naming=`).
    enum FileNaming: String, Sendable, Hashable {
        /// `a/b/c.proto` → `a/b/c.grpc.swift`.
        case fullPath = "FullPath"
        /// `a/b/c.proto` → `a_b_c.grpc.swift`: one folder, and no two files of
        /// a module with the same name, which Swift does not allow.
        case pathToUnderscores = "PathToUnderscores"
    }

    /// The access level of every generated declaration.
    enum Visibility: String, Sendable, Hashable {
        /// `public`: the stubs are part of the module's API.
        case `public`
        /// `package`: the stubs are visible to the other modules of the package only.
        case `package`
    }

    /// Emit the `<Service>Provider` protocol and its registration (`server=`).
    var server = true
    /// Emit the `<Service>Client` struct (`client=`).
    var client = true
    /// Emit the `<Service>Methods` enum (`methods=`), which the other two use.
    var methods = true
    /// `visibility=`.
    var visibility = Visibility.public
    /// Proto package → the Swift enum its types are nested in (`namespace=`).
    var namespaces: [String: String] = [:]
    /// Fully qualified message name → its Swift name (`rename=`).
    var renames: [String: String] = [:]
    /// The modules imported at the top of each file, in the order given (`import=`).
    var imports: [String] = []
    /// `file_naming=`.
    var fileNaming = FileNaming.fullPath
    /// The command named in the DO NOT EDIT line (`command=`).
    var command = "make proto"

    /// Default options: server, client and methods, public, no namespace,
    /// rename or import.
    init() {}

    /// Parses protoc's parameter string.
    ///
    /// - Throws: ``GeneratorError`` naming the first bad entry: an unknown
    ///   key, a value that is not allowed, a package given two namespaces, a
    ///   message given two names, or all of server, client and methods off.
    init(parameter: String) throws(GeneratorError) {
        for entry in parameter.split(separator: ",") {
            let entry = entry.trimmingWhitespace()
            if entry.isEmpty { continue }
            guard let equals = entry.firstIndex(of: "=") else {
                throw GeneratorError("parameter `\(entry)` is not key=value")
            }
            let key = String(entry[..<equals])
            let value = entry[entry.index(after: equals)...]
            switch key {
            case "server": server = try Self.bool(key, value)
            case "client": client = try Self.bool(key, value)
            case "methods": methods = try Self.bool(key, value)
            case "visibility":
                guard let parsed = Visibility(rawValue: String(value)) else {
                    throw GeneratorError("visibility=\(value): expected public or package")
                }
                visibility = parsed
            case "namespace":
                let (package, swiftName) = try Self.pair(key, value, left: "proto package", right: "Swift enum", dotted: true)
                if let earlier = namespaces[package], earlier != swiftName {
                    throw GeneratorError("namespace=\(value): package \(package) already has namespace \(earlier)")
                }
                namespaces[package] = swiftName
            case "rename":
                let (message, swiftName) = try Self.pair(key, value, left: "message", right: "Swift name", dotted: false)
                if let earlier = renames[message], earlier != swiftName {
                    throw GeneratorError("rename=\(value): message \(message) is already renamed \(earlier)")
                }
                renames[message] = swiftName
            case "import":
                guard SwiftName.isQualifiedIdentifier(value) else {
                    throw GeneratorError("import=\(value): expected a Swift module name")
                }
                if !imports.contains(String(value)) { imports.append(String(value)) }
            case "file_naming":
                guard let parsed = FileNaming(rawValue: String(value)) else {
                    throw GeneratorError("file_naming=\(value): expected FullPath or PathToUnderscores")
                }
                fileNaming = parsed
            case "command":
                guard !value.isEmpty, !value.contains(where: \.isNewline) else {
                    throw GeneratorError("command=\(value): expected the command that regenerates the file, on one line")
                }
                command = String(value)
            default:
                throw GeneratorError("unknown parameter `\(key)` (known: server, client, methods, visibility, namespace, rename, import, file_naming, command)")
            }
        }
        if !server && !client && !methods {
            throw GeneratorError("server=false, client=false and methods=false leave nothing to generate")
        }
    }

    private static func bool(_ key: String, _ value: Substring) throws(GeneratorError) -> Bool {
        switch value {
        case "true": return true
        case "false": return false
        default: throw GeneratorError("\(key)=\(value): expected true or false")
        }
    }

    /// Splits `proto.name:SwiftName`; a leading dot on the proto name is
    /// dropped. The Swift name may be dotted (`Outer.Inner`) only if `dotted`.
    private static func pair(
        _ key: String, _ value: Substring, left: String, right: String, dotted: Bool
    ) throws(GeneratorError) -> (String, String) {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw GeneratorError("\(key)=\(value): expected <\(left)>:<\(right)>")
        }
        let protoName = parts[0].hasPrefix(".") ? parts[0].dropFirst() : parts[0]
        guard SwiftName.isQualifiedIdentifier(protoName) else {
            throw GeneratorError("\(key)=\(value): `\(protoName)` is not a valid \(left) name")
        }
        guard dotted ? SwiftName.isQualifiedIdentifier(parts[1]) : SwiftName.isIdentifier(parts[1]) else {
            throw GeneratorError("\(key)=\(value): `\(parts[1])` is not a valid \(right)")
        }
        return (String(protoName), String(parts[1]))
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> Substring {
        var text = self
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return text
    }
}
