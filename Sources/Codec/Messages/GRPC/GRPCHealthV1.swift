import TimerProtoC

/// The messages of `grpc.health.v1`, the standard gRPC health checking protocol
/// (grpc/grpc doc/health-checking.md), served so that load balancers and
/// orchestrators can probe the server. Package, message and field names and
/// numbers are those of the standard.
public enum GRPCHealthV1 {}

extension GRPCHealthV1 {
    /// Asks about one service; the empty name asks about the server as a whole.
    public struct HealthCheckRequest: ProtoMessage {
        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.health.v1.HealthCheckRequest"

        /// A fully qualified service name, or "" for the whole server.
        public var service = ""
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

    /// The serving status of the service asked about.
    public struct HealthCheckResponse: ProtoMessage {
        /// Whether the service can take calls.
        public enum ServingStatus: ProtoEnum {
            /// Not known.
            case unknown
            /// Taking calls.
            case serving
            /// Not taking calls (e.g. shutting down, or a dependency is down).
            case notServing
            /// Only in Watch: the server does not know the service.
            case serviceUnknown
            /// A value this version does not know, kept as its number.
            case unrecognized(Int32)

            /// The case for a wire number; unknown numbers become `unrecognized`.
            public init(rawValue: Int32) {
                switch rawValue {
                case 0: self = .unknown
                case 1: self = .serving
                case 2: self = .notServing
                case 3: self = .serviceUnknown
                default: self = .unrecognized(rawValue)
                }
            }

            /// The wire number.
            public var rawValue: Int32 {
                switch self {
                case .unknown: 0
                case .serving: 1
                case .notServing: 2
                case .serviceUnknown: 3
                case .unrecognized(let value): value
                }
            }
        }

        /// The fully qualified protobuf name.
        public static let protoMessageName = "grpc.health.v1.HealthCheckResponse"

        /// The status.
        public var status: ServingStatus = .unknown
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

extension GRPCHealthV1.HealthCheckRequest: CMessage {
    package typealias CStruct = Grpc__Health__V1__HealthCheckRequest

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__health__v1__health_check_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        if !service.isEmpty { c.pointee.service = try arena.cString(service, path: "grpc.health.v1.HealthCheckRequest.service") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        service = try CRead.string(c.pointee.service, "grpc.health.v1.HealthCheckRequest.service")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCHealthV1.HealthCheckResponse: CMessage {
    package typealias CStruct = Grpc__Health__V1__HealthCheckResponse

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__health__v1__health_check_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.status = status.c()
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        status = .init(c: c.pointee.status)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
