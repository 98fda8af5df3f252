/// Turns proto services into Swift stubs for the `RPC` module: per service
/// `S`, the `SMethods` enum of method descriptors, the `SProvider` protocol a
/// server implements (with its registration), and the `SClient` struct. Which
/// of them a file gets, and how names map, is set by ``GeneratorOptions``.
///
/// Generation is pure: the same request always gives the same bytes.
struct StubGenerator: Sendable {
    /// The parsed parameters.
    let options: GeneratorOptions
    /// Every message of the request, by fully qualified name without the leading dot.
    let messages: [String: ProtoMessageType]

    /// A generator for the files of one request.
    init(options: GeneratorOptions, files: [ProtoFile]) {
        self.options = options
        var messages: [String: ProtoMessageType] = [:]
        for file in files {
            for message in file.messages { messages[message.fullName] = message }
        }
        self.messages = messages
    }

    /// Answers a whole request: one file per requested proto that declares a
    /// service, or the first error (and no file). Two outputs with the same
    /// file name are an error, since one Swift module cannot compile both.
    static func respond(to request: PluginRequest) -> PluginResponse {
        do throws(GeneratorError) {
            let options = try GeneratorOptions(parameter: request.parameter)
            let generator = StubGenerator(options: options, files: request.protoFiles)
            var generated: [PluginResponse.File] = []
            var protoNameOf: [Substring: String] = [:]
            for name in request.filesToGenerate {
                guard let file = request.protoFiles.first(where: { $0.name == name }) else {
                    throw GeneratorError("\(name): asked to generate a file the request does not contain")
                }
                guard let output = try generator.generate(file) else { continue }
                let fileName = output.name.split(separator: "/").last ?? Substring(output.name)
                if let other = protoNameOf[fileName] {
                    throw GeneratorError("\(other) and \(name) both give a file named \(fileName), which one Swift "
                        + "module cannot hold: use file_naming=PathToUnderscores")
                }
                protoNameOf[fileName] = name
                generated.append(output)
            }
            return PluginResponse(files: generated)
        } catch {
            return PluginResponse(error: error.message)
        }
    }

    /// The output path for a proto path: `a/b.proto` → `a/b.grpc.swift`, or
    /// `a_b.grpc.swift` with ``GeneratorOptions/FileNaming/pathToUnderscores``.
    static func outputName(for protoName: String, naming: GeneratorOptions.FileNaming) -> String {
        let stem = protoName.hasSuffix(".proto") ? String(protoName.dropLast(".proto".count)) : protoName
        switch naming {
        case .fullPath: return stem + ".grpc.swift"
        case .pathToUnderscores: return stem.split(separator: "/").joined(separator: "_") + ".grpc.swift"
        }
    }

    /// The stubs of one file, or nil when it declares no service.
    ///
    /// - Throws: ``GeneratorError`` for a construct the stubs cannot express
    ///   (see ``plan(_:)``).
    func generate(_ file: ProtoFile) throws(GeneratorError) -> PluginResponse.File? {
        guard !file.services.isEmpty else { return nil }
        let services = try plan(file)
        return PluginResponse.File(
            name: Self.outputName(for: file.name, naming: options.fileNaming), content: emit(file, services))
    }
}
