import CProtobufC
import PluginProtoC

/// Decoding a `CodeGeneratorRequest` with protobuf-c: unpacked, copied into
/// Swift values, freed.
extension PluginRequest {
    /// Field numbers on the paths of `SourceCodeInfo.Location`.
    private enum FieldNumber {
        /// `FileDescriptorProto.service`.
        static let service: Int32 = 6
        /// `ServiceDescriptorProto.method`.
        static let method: Int32 = 2
    }

    /// Decodes a serialized `google.protobuf.compiler.CodeGeneratorRequest`;
    /// nil when the bytes are not one. The protobuf-c message is freed before
    /// this returns.
    init?(serializedBytes bytes: [UInt8]) {
        let unpacked = bytes.withUnsafeBufferPointer { buffer in
            var empty: UInt8 = 0
            return withUnsafePointer(to: &empty) { emptyPointer in
                google__protobuf__compiler__code_generator_request__unpack(
                    nil, buffer.count, buffer.baseAddress ?? emptyPointer)
            }
        }
        guard let unpacked else { return nil }
        defer { google__protobuf__compiler__code_generator_request__free_unpacked(unpacked, nil) }
        let request = unpacked.pointee
        self.init(
            filesToGenerate: Self.array(request.file_to_generate, request.n_file_to_generate).map(Self.string),
            parameter: Self.string(request.parameter),
            protoFiles: Self.array(request.proto_file, request.n_proto_file).map { Self.file($0.pointee) }
        )
    }

    private static func file(_ file: Google__Protobuf__FileDescriptorProto) -> ProtoFile {
        let package = string(file.package)
        var comments: [[Int32]: String] = [:]
        if let info = file.source_code_info {
            for location in array(info.pointee.location, info.pointee.n_location) {
                let path = Array(UnsafeBufferPointer(start: location.pointee.path, count: location.pointee.n_path))
                guard path.first == FieldNumber.service, let text = location.pointee.leading_comments else { continue }
                comments[path] = String(cString: text)
            }
        }
        var messages: [ProtoMessageType] = []
        for message in array(file.message_type, file.n_message_type) {
            collect(message.pointee, package: package, outer: [], into: &messages)
        }
        let services = array(file.service, file.n_service).enumerated().map { serviceIndex, service in
            let servicePath = [FieldNumber.service, Int32(serviceIndex)]
            let methods = array(service.pointee.method, service.pointee.n_method).enumerated().map { methodIndex, method in
                let options = method.pointee.options?.pointee
                return ProtoMethod(
                    name: string(method.pointee.name),
                    inputType: string(method.pointee.input_type),
                    outputType: string(method.pointee.output_type),
                    clientStreaming: method.pointee.client_streaming != 0,
                    serverStreaming: method.pointee.server_streaming != 0,
                    comment: comments[servicePath + [FieldNumber.method, Int32(methodIndex)]] ?? "",
                    isDeprecated: options.map { $0.has_deprecated != 0 && $0.deprecated != 0 } ?? false
                )
            }
            let options = service.pointee.options?.pointee
            return ProtoService(
                name: string(service.pointee.name),
                comment: comments[servicePath] ?? "",
                isDeprecated: options.map { $0.has_deprecated != 0 && $0.deprecated != 0 } ?? false,
                methods: methods
            )
        }
        return ProtoFile(name: string(file.name), package: package, messages: messages, services: services)
    }

    /// Appends `message` and the messages nested in it.
    private static func collect(
        _ message: Google__Protobuf__DescriptorProto, package: String, outer: [String], into messages: inout [ProtoMessageType]
    ) {
        let path = outer + [string(message.name)]
        let fullName = ([package].filter { !$0.isEmpty } + path).joined(separator: ".")
        messages.append(ProtoMessageType(fullName: fullName, package: package, path: path))
        for nested in array(message.nested_type, message.n_nested_type) {
            collect(nested.pointee, package: package, outer: path, into: &messages)
        }
    }

    /// The non-null pointers of a protobuf-c repeated field.
    private static func array<Element>(_ base: UnsafeMutablePointer<UnsafeMutablePointer<Element>?>?, _ count: Int) -> [UnsafeMutablePointer<Element>] {
        guard let base else { return [] }
        return UnsafeBufferPointer(start: base, count: count).compactMap { $0 }
    }

    /// A protobuf-c string field, `""` when absent.
    private static func string(_ text: UnsafeMutablePointer<CChar>?) -> String {
        text.map { String(cString: $0) } ?? ""
    }
}
