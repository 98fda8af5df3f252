#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CProtobufC
import PluginProtoC

/// Encoding a `CodeGeneratorResponse` with protobuf-c.
extension PluginResponse {
    /// The serialized `google.protobuf.compiler.CodeGeneratorResponse`,
    /// declaring `FEATURE_PROTO3_OPTIONAL` so protoc accepts files with proto3
    /// `optional` fields (the stubs never look at fields). Every C string
    /// made here is freed before this returns.
    func serializedBytes() -> [UInt8] {
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { strings.forEach { free($0) } }
        func copy(_ text: String) -> UnsafeMutablePointer<CChar> {
            guard let copied = strdup(text) else { fatalError("out of memory") }
            strings.append(copied)
            return copied
        }

        var response = Google__Protobuf__Compiler__CodeGeneratorResponse()
        google__protobuf__compiler__code_generator_response__init(&response)
        response.has_supported_features = 1
        response.supported_features = UInt64(GOOGLE__PROTOBUF__COMPILER__CODE_GENERATOR_RESPONSE__FEATURE__FEATURE_PROTO3_OPTIONAL.rawValue)
        if let error { response.error = copy(error) }

        let cFiles = UnsafeMutablePointer<Google__Protobuf__Compiler__CodeGeneratorResponse__File>.allocate(capacity: max(files.count, 1))
        let cFilePointers = UnsafeMutablePointer<UnsafeMutablePointer<Google__Protobuf__Compiler__CodeGeneratorResponse__File>?>
            .allocate(capacity: max(files.count, 1))
        defer {
            cFiles.deinitialize(count: files.count)
            cFiles.deallocate()
            cFilePointers.deallocate()
        }
        for (index, file) in files.enumerated() {
            (cFiles + index).initialize(to: Google__Protobuf__Compiler__CodeGeneratorResponse__File())
            google__protobuf__compiler__code_generator_response__file__init(cFiles + index)
            cFiles[index].name = copy(file.name)
            cFiles[index].content = copy(file.content)
            cFilePointers[index] = cFiles + index
        }
        response.n_file = files.count
        response.file = files.isEmpty ? nil : cFilePointers

        let size = google__protobuf__compiler__code_generator_response__get_packed_size(&response)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = size == 0 ? 0 : google__protobuf__compiler__code_generator_response__pack(&response, buffer.baseAddress)
        }
    }
}
