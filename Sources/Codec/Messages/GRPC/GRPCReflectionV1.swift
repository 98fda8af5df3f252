import TimerProtoC

/// The messages of `grpc.reflection.v1`, the standard gRPC server reflection
/// protocol (grpc/grpc doc/server-reflection.md), so that tools such as grpcurl
/// can list and describe the services without the proto files. Package, message
/// and field names and numbers are those of the standard.
///
/// ``GRPCReflectionV1Alpha`` holds the same messages under the older package
/// name; the Swift shapes of the two are identical.
public enum GRPCReflectionV1 {}

extension GRPCReflectionV1 {
    /// One question about the server's services and types.
    public struct ServerReflectionRequest: ProtoMessage {
        /// The question: the proto's `message_request` oneof, at most one of
        /// these on the wire (when several arrive, the last one counts).
        public enum MessageRequest: Sendable, Hashable {
            /// The file with this name, and the files it imports.
            case fileByFilename(String)
            /// The file that declares this fully qualified symbol (a service,
            /// method, message or enum), and the files it imports.
            case fileContainingSymbol(String)
            /// The file that declares this extension, and the files it imports.
            case fileContainingExtension(ExtensionRequest)
            /// The extension numbers known for this fully qualified message type.
            case allExtensionNumbersOfType(String)
            /// The names of the services (the value is not looked at).
            case listServices(String)
        }

        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.reflection.v1.ServerReflectionRequest"

        /// The host the question is about (unused by servers with a single host).
        public var host = ""
        /// The question; nil when the request asks none. A case holding an
        /// empty string is still a question, and is written to the wire.
        public var messageRequest: MessageRequest?
        /// Fields not known to this version, written back on encode.
        public var unknownFields = UnknownFields()

        /// A message with every field at its default.
        public init() {}

        /// Decodes from the protobuf wire format.
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
            self = try Self.unpack(bytes)
        }

        /// Encodes in the protobuf wire format.
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Names an extension: the message it extends and its number.
    public struct ExtensionRequest: ProtoMessage {
        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.reflection.v1.ExtensionRequest"

        /// The fully qualified name of the extended message.
        public var containingType = ""
        /// The extension's field number.
        public var extensionNumber: Int32 = 0
        /// Fields not known to this version, written back on encode.
        public var unknownFields = UnknownFields()

        /// A message with every field at its default.
        public init() {}

        /// Decodes from the protobuf wire format.
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
            self = try Self.unpack(bytes)
        }

        /// Encodes in the protobuf wire format.
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// The answer to one ServerReflectionRequest.
    public struct ServerReflectionResponse: ProtoMessage {
        /// The answer: the proto's `message_response` oneof, at most one of
        /// these on the wire (when several arrive, the last one counts).
        public enum MessageResponse: Sendable, Hashable {
            /// Serialized FileDescriptorProtos, for the file_* questions.
            case fileDescriptorResponse(FileDescriptorResponse)
            /// For all_extension_numbers_of_type.
            case allExtensionNumbersResponse(ExtensionNumberResponse)
            /// For list_services.
            case listServicesResponse(ListServiceResponse)
            /// When the question could not be answered.
            case errorResponse(ErrorResponse)
        }

        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.reflection.v1.ServerReflectionResponse"

        /// The host answered for.
        public var validHost = ""
        /// The question, echoed.
        public var originalRequest: ServerReflectionRequest?
        /// The answer; nil when the response carries none.
        public var messageResponse: MessageResponse?
        /// Fields not known to this version, written back on encode.
        public var unknownFields = UnknownFields()

        /// A message with every field at its default.
        public init() {}

        /// Decodes from the protobuf wire format.
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
            self = try Self.unpack(bytes)
        }

        /// Encodes in the protobuf wire format.
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Files as serialized google.protobuf.FileDescriptorProto messages.
    public struct FileDescriptorResponse: ProtoMessage {
        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.reflection.v1.FileDescriptorResponse"

        /// One serialized FileDescriptorProto per file.
        public var fileDescriptorProto: [[UInt8]] = []
        /// Fields not known to this version, written back on encode.
        public var unknownFields = UnknownFields()

        /// A message with every field at its default.
        public init() {}

        /// Decodes from the protobuf wire format.
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
            self = try Self.unpack(bytes)
        }

        /// Encodes in the protobuf wire format.
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// The extension numbers of a message type.
    public struct ExtensionNumberResponse: ProtoMessage {
        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.reflection.v1.ExtensionNumberResponse"

        /// The fully qualified name of the message.
        public var baseTypeName = ""
        /// Its extension numbers.
        public var extensionNumber: [Int32] = []
        /// Fields not known to this version, written back on encode.
        public var unknownFields = UnknownFields()

        /// A message with every field at its default.
        public init() {}

        /// Decodes from the protobuf wire format.
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
            self = try Self.unpack(bytes)
        }

        /// Encodes in the protobuf wire format.
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// The services of the server.
    public struct ListServiceResponse: ProtoMessage {
        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.reflection.v1.ListServiceResponse"

        /// One entry per service.
        public var service: [ServiceResponse] = []
        /// Fields not known to this version, written back on encode.
        public var unknownFields = UnknownFields()

        /// A message with every field at its default.
        public init() {}

        /// Decodes from the protobuf wire format.
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
            self = try Self.unpack(bytes)
        }

        /// Encodes in the protobuf wire format.
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// One service.
    public struct ServiceResponse: ProtoMessage {
        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.reflection.v1.ServiceResponse"

        /// Its fully qualified name.
        public var name = ""
        /// Fields not known to this version, written back on encode.
        public var unknownFields = UnknownFields()

        /// A message with every field at its default.
        public init() {}

        /// Decodes from the protobuf wire format.
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
            self = try Self.unpack(bytes)
        }

        /// Encodes in the protobuf wire format.
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Why a question could not be answered.
    public struct ErrorResponse: ProtoMessage {
        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.reflection.v1.ErrorResponse"

        /// A gRPC status code.
        public var errorCode: Int32 = 0
        /// What went wrong.
        public var errorMessage = ""
        /// Fields not known to this version, written back on encode.
        public var unknownFields = UnknownFields()

        /// A message with every field at its default.
        public init() {}

        /// Decodes from the protobuf wire format.
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
            self = try Self.unpack(bytes)
        }

        /// Encodes in the protobuf wire format.
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }
}

// MARK: - protobuf-c

// A member of a oneof is written to the wire whenever its case is set, empty
// string or not, except that protobuf-c skips a string member that points at
// the descriptor's default (`protobuf_c_empty_string`). Strings of a set case
// are therefore always copied into the arena, never left at that default.

extension GRPCReflectionV1.ServerReflectionRequest: CMessage {
    package typealias CStruct = Grpc__Reflection__V1__ServerReflectionRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__reflection__v1__server_reflection_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !host.isEmpty { c.pointee.host = try arena.cString(host, path: "grpc.reflection.v1.ServerReflectionRequest.host") }
        switch messageRequest {
        case nil:
            break
        case .fileByFilename(let value)?:
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME
            c.pointee.file_by_filename = try arena.cString(value, path: "grpc.reflection.v1.ServerReflectionRequest.file_by_filename")
        case .fileContainingSymbol(let value)?:
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL
            c.pointee.file_containing_symbol = try arena.cString(value, path: "grpc.reflection.v1.ServerReflectionRequest.file_containing_symbol")
        case .fileContainingExtension(let value)?:
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION
            c.pointee.file_containing_extension = try arena.message(value)
        case .allExtensionNumbersOfType(let value)?:
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE
            c.pointee.all_extension_numbers_of_type = try arena.cString(value, path: "grpc.reflection.v1.ServerReflectionRequest.all_extension_numbers_of_type")
        case .listServices(let value)?:
            c.pointee.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES
            c.pointee.list_services = try arena.cString(value, path: "grpc.reflection.v1.ServerReflectionRequest.list_services")
        }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        host = try CRead.string(c.pointee.host, "grpc.reflection.v1.ServerReflectionRequest.host")
        switch c.pointee.message_request_case {
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
            messageRequest = .fileByFilename(try CRead.string(c.pointee.file_by_filename, "grpc.reflection.v1.ServerReflectionRequest.file_by_filename"))
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
            messageRequest = .fileContainingSymbol(try CRead.string(c.pointee.file_containing_symbol, "grpc.reflection.v1.ServerReflectionRequest.file_containing_symbol"))
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
            messageRequest = .fileContainingExtension(try CRead.message(c.pointee.file_containing_extension) ?? .init())
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
            messageRequest = .allExtensionNumbersOfType(try CRead.string(c.pointee.all_extension_numbers_of_type, "grpc.reflection.v1.ServerReflectionRequest.all_extension_numbers_of_type"))
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
            messageRequest = .listServices(try CRead.string(c.pointee.list_services, "grpc.reflection.v1.ServerReflectionRequest.list_services"))
        default:
            messageRequest = nil
        }
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCReflectionV1.ExtensionRequest: CMessage {
    package typealias CStruct = Grpc__Reflection__V1__ExtensionRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__reflection__v1__extension_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !containingType.isEmpty { c.pointee.containing_type = try arena.cString(containingType, path: "grpc.reflection.v1.ExtensionRequest.containing_type") }
        c.pointee.extension_number = extensionNumber
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        containingType = try CRead.string(c.pointee.containing_type, "grpc.reflection.v1.ExtensionRequest.containing_type")
        extensionNumber = c.pointee.extension_number
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCReflectionV1.ServerReflectionResponse: CMessage {
    package typealias CStruct = Grpc__Reflection__V1__ServerReflectionResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__reflection__v1__server_reflection_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !validHost.isEmpty { c.pointee.valid_host = try arena.cString(validHost, path: "grpc.reflection.v1.ServerReflectionResponse.valid_host") }
        c.pointee.original_request = try arena.message(originalRequest)
        switch messageResponse {
        case nil:
            break
        case .fileDescriptorResponse(let value)?:
            c.pointee.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE
            c.pointee.file_descriptor_response = try arena.message(value)
        case .allExtensionNumbersResponse(let value)?:
            c.pointee.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE
            c.pointee.all_extension_numbers_response = try arena.message(value)
        case .listServicesResponse(let value)?:
            c.pointee.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE
            c.pointee.list_services_response = try arena.message(value)
        case .errorResponse(let value)?:
            c.pointee.message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE
            c.pointee.error_response = try arena.message(value)
        }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        validHost = try CRead.string(c.pointee.valid_host, "grpc.reflection.v1.ServerReflectionResponse.valid_host")
        originalRequest = try CRead.message(c.pointee.original_request)
        switch c.pointee.message_response_case {
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE:
            messageResponse = .fileDescriptorResponse(try CRead.message(c.pointee.file_descriptor_response) ?? .init())
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE:
            messageResponse = .allExtensionNumbersResponse(try CRead.message(c.pointee.all_extension_numbers_response) ?? .init())
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE:
            messageResponse = .listServicesResponse(try CRead.message(c.pointee.list_services_response) ?? .init())
        case GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE:
            messageResponse = .errorResponse(try CRead.message(c.pointee.error_response) ?? .init())
        default:
            messageResponse = nil
        }
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCReflectionV1.FileDescriptorResponse: CMessage {
    package typealias CStruct = Grpc__Reflection__V1__FileDescriptorResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__reflection__v1__file_descriptor_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        (c.pointee.n_file_descriptor_proto, c.pointee.file_descriptor_proto) = arena.binaryDataArray(fileDescriptorProto)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        fileDescriptorProto = CRead.binaryDataArray(c.pointee.n_file_descriptor_proto, c.pointee.file_descriptor_proto)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCReflectionV1.ExtensionNumberResponse: CMessage {
    package typealias CStruct = Grpc__Reflection__V1__ExtensionNumberResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__reflection__v1__extension_number_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !baseTypeName.isEmpty { c.pointee.base_type_name = try arena.cString(baseTypeName, path: "grpc.reflection.v1.ExtensionNumberResponse.base_type_name") }
        (c.pointee.n_extension_number, c.pointee.extension_number) = arena.scalars(extensionNumber)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        baseTypeName = try CRead.string(c.pointee.base_type_name, "grpc.reflection.v1.ExtensionNumberResponse.base_type_name")
        extensionNumber = CRead.scalars(c.pointee.n_extension_number, c.pointee.extension_number)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCReflectionV1.ListServiceResponse: CMessage {
    package typealias CStruct = Grpc__Reflection__V1__ListServiceResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__reflection__v1__list_service_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        (c.pointee.n_service, c.pointee.service) = try arena.messages(service)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        service = try CRead.messages(c.pointee.n_service, c.pointee.service)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCReflectionV1.ServiceResponse: CMessage {
    package typealias CStruct = Grpc__Reflection__V1__ServiceResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__reflection__v1__service_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !name.isEmpty { c.pointee.name = try arena.cString(name, path: "grpc.reflection.v1.ServiceResponse.name") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        name = try CRead.string(c.pointee.name, "grpc.reflection.v1.ServiceResponse.name")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCReflectionV1.ErrorResponse: CMessage {
    package typealias CStruct = Grpc__Reflection__V1__ErrorResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__reflection__v1__error_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.error_code = errorCode
        if !errorMessage.isEmpty { c.pointee.error_message = try arena.cString(errorMessage, path: "grpc.reflection.v1.ErrorResponse.error_message") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        errorCode = c.pointee.error_code
        errorMessage = try CRead.string(c.pointee.error_message, "grpc.reflection.v1.ErrorResponse.error_message")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
