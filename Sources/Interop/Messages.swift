import Codec
import CProtobufC
import InteropProtoC

/// The messages of `grpc.testing`, gRPC's interoperability test protocol
/// (proto/grpc/testing, from grpc/grpc): what `interop-server` and
/// `interop-client` exchange with any other gRPC implementation. Names and
/// numbers are upstream's. Only the messages the test services use are here.
public enum GRPCTesting {}


extension GRPCTesting {
    /// An empty message.
    public struct Empty: ProtoMessage {
        public static let protoMessageName = "grpc.testing.Empty"
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// A boolean that can be absent (upstream's stand-in for google.protobuf.BoolValue).
    public struct BoolValue: ProtoMessage {
        public static let protoMessageName = "grpc.testing.BoolValue"
        public var value = false
        public var unknownFields = UnknownFields()
        public init() {}
        public init(_ value: Bool) { self.value = value }
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// The type of payload that should be returned.
    public enum PayloadType: ProtoEnum {
        /// Compressable text format.
        case compressable
        /// A value this version does not know, kept as its number.
        case unrecognized(Int32)

        public init(rawValue: Int32) { self = rawValue == 0 ? .compressable : .unrecognized(rawValue) }
        public var rawValue: Int32 {
            switch self {
            case .compressable: 0
            case .unrecognized(let value): value
            }
        }
    }

    /// How a client reached the server with respect to gRPCLB.
    public enum GrpclbRouteType: ProtoEnum {
        case unknown, fallback, backend
        /// A value this version does not know, kept as its number.
        case unrecognized(Int32)

        public init(rawValue: Int32) {
            switch rawValue {
            case 0: self = .unknown
            case 1: self = .fallback
            case 2: self = .backend
            default: self = .unrecognized(rawValue)
            }
        }
        public var rawValue: Int32 {
            switch self {
            case .unknown: 0
            case .fallback: 1
            case .backend: 2
            case .unrecognized(let value): value
            }
        }
    }

    /// A block of data, to make a message as large as a test needs.
    public struct Payload: ProtoMessage {
        public static let protoMessageName = "grpc.testing.Payload"
        public var type: PayloadType = .compressable
        public var body: [UInt8] = []
        public var unknownFields = UnknownFields()
        public init() {}
        /// A COMPRESSABLE payload of `size` zero bytes.
        public init(zeros size: Int) { body = [UInt8](repeating: 0, count: max(0, size)) }
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// A status the client asks the server to return.
    public struct EchoStatus: ProtoMessage {
        public static let protoMessageName = "grpc.testing.EchoStatus"
        public var code: Int32 = 0
        public var message = ""
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Load report data (mirrors ORCA's); the maps are written in key order.
    public struct TestOrcaReport: ProtoMessage {
        public static let protoMessageName = "grpc.testing.TestOrcaReport"
        public var cpuUtilization: Double = 0
        public var memoryUtilization: Double = 0
        public var requestCost: [String: Double] = [:]
        public var utilization: [String: Double] = [:]
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Unary request.
    public struct SimpleRequest: ProtoMessage {
        public static let protoMessageName = "grpc.testing.SimpleRequest"
        public var responseType: PayloadType = .compressable
        public var responseSize: Int32 = 0
        public var payload: Payload?
        public var fillUsername = false
        public var fillOauthScope = false
        public var responseCompressed: BoolValue?
        public var responseStatus: EchoStatus?
        public var expectCompressed: BoolValue?
        public var fillServerID = false
        public var fillGrpclbRouteType = false
        public var orcaPerQueryReport: TestOrcaReport?
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Unary response.
    public struct SimpleResponse: ProtoMessage {
        public static let protoMessageName = "grpc.testing.SimpleResponse"
        public var payload: Payload?
        public var username = ""
        public var oauthScope = ""
        public var serverID = ""
        public var grpclbRouteType: GrpclbRouteType = .unknown
        public var hostname = ""
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Client-streaming request.
    public struct StreamingInputCallRequest: ProtoMessage {
        public static let protoMessageName = "grpc.testing.StreamingInputCallRequest"
        public var payload: Payload?
        public var expectCompressed: BoolValue?
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Client-streaming response.
    public struct StreamingInputCallResponse: ProtoMessage {
        public static let protoMessageName = "grpc.testing.StreamingInputCallResponse"
        public var aggregatedPayloadSize: Int32 = 0
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// How one response of a stream should look and when it should come.
    public struct ResponseParameters: ProtoMessage {
        public static let protoMessageName = "grpc.testing.ResponseParameters"
        public var size: Int32 = 0
        public var intervalUs: Int32 = 0
        public var compressed: BoolValue?
        public var unknownFields = UnknownFields()
        public init() {}
        public init(size: Int32, intervalUs: Int32 = 0) {
            self.size = size
            self.intervalUs = intervalUs
        }
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Server-streaming (and bidirectional) request.
    public struct StreamingOutputCallRequest: ProtoMessage {
        public static let protoMessageName = "grpc.testing.StreamingOutputCallRequest"
        public var responseType: PayloadType = .compressable
        public var responseParameters: [ResponseParameters] = []
        public var payload: Payload?
        public var responseStatus: EchoStatus?
        public var orcaOobReport: TestOrcaReport?
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Server-streaming response.
    public struct StreamingOutputCallResponse: ProtoMessage {
        public static let protoMessageName = "grpc.testing.StreamingOutputCallResponse"
        public var payload: Payload?
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Reconnect test: the backoff the client used.
    public struct ReconnectParams: ProtoMessage {
        public static let protoMessageName = "grpc.testing.ReconnectParams"
        public var maxReconnectBackoffMs: Int32 = 0
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }

    /// Reconnect test: what the server saw.
    public struct ReconnectInfo: ProtoMessage {
        public static let protoMessageName = "grpc.testing.ReconnectInfo"
        public var passed = false
        public var backoffMs: [Int32] = []
        public var unknownFields = UnknownFields()
        public init() {}
        public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) { self = try Self.unpack(bytes) }
        public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
    }
}

extension GRPCTesting {
    /// Every message type here, for exhaustive tests.
    public static var messageTypes: [any ProtoMessage.Type] {
        [Empty.self, BoolValue.self, Payload.self, EchoStatus.self, TestOrcaReport.self,
         SimpleRequest.self, SimpleResponse.self,
         StreamingInputCallRequest.self, StreamingInputCallResponse.self,
         ResponseParameters.self, StreamingOutputCallRequest.self, StreamingOutputCallResponse.self,
         ReconnectParams.self, ReconnectInfo.self]
    }
}
