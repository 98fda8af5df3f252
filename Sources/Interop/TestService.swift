import Codec
import RPC

/// `grpc.testing.TestService` as gRPC's interop tests expect a server to
/// implement it (grpc/grpc doc/interop-test-descriptions.md, "Server"): empty
/// and sized payloads, echoed statuses and metadata, per-message compression,
/// response intervals. `UnimplementedCall` stays unimplemented, as the tests
/// require.
public struct TestService: GRPCTesting.TestServiceProvider {
    /// The metadata the tests ask the server to echo.
    static let echoInitialKey = "x-grpc-test-echo-initial"
    static let echoTrailingKey = "x-grpc-test-echo-trailing-bin"

    /// The largest payload a request may ask for (the interop tests ask for at
    /// most about 300 KB; the server's message limit applies anyway).
    static let maxPayloadSize: Int32 = 4 << 20

    public init() {}

    public func emptyCall(_ request: GRPCTesting.Empty, context: ServerContext) async throws -> GRPCTesting.Empty {
        Self.echoMetadata(context)
        return GRPCTesting.Empty()
    }

    public func unaryCall(_ request: GRPCTesting.SimpleRequest, context: ServerContext) async throws -> GRPCTesting.SimpleResponse {
        try Self.simpleResponse(to: request, context: context)
    }

    public func cacheableUnaryCall(_ request: GRPCTesting.SimpleRequest, context: ServerContext) async throws -> GRPCTesting.SimpleResponse {
        context.addInitialMetadata("cache-control", "max-age=60, public")
        return try Self.simpleResponse(to: request, context: context)
    }

    public func streamingOutputCall(_ request: GRPCTesting.StreamingOutputCallRequest,
                                    responses: ResponseWriter<GRPCTesting.StreamingOutputCallResponse>,
                                    context: ServerContext) async throws {
        Self.echoMetadata(context)
        try await Self.respond(to: request, with: responses, context: context)
    }

    public func streamingInputCall(_ requests: RequestStream<GRPCTesting.StreamingInputCallRequest>,
                                   context: ServerContext) async throws -> GRPCTesting.StreamingInputCallResponse {
        Self.echoMetadata(context)
        var total: Int32 = 0
        for try await request in requests {
            try Self.checkCompression(expected: request.expectCompressed, context: context)
            total &+= Int32(clamping: request.payload?.body.count ?? 0)
        }
        var response = GRPCTesting.StreamingInputCallResponse()
        response.aggregatedPayloadSize = total
        return response
    }

    public func fullDuplexCall(_ requests: RequestStream<GRPCTesting.StreamingOutputCallRequest>,
                               responses: ResponseWriter<GRPCTesting.StreamingOutputCallResponse>,
                               context: ServerContext) async throws {
        Self.echoMetadata(context)
        for try await request in requests {
            try await Self.respond(to: request, with: responses, context: context)
        }
    }

    public func halfDuplexCall(_ requests: RequestStream<GRPCTesting.StreamingOutputCallRequest>,
                               responses: ResponseWriter<GRPCTesting.StreamingOutputCallResponse>,
                               context: ServerContext) async throws {
        Self.echoMetadata(context)
        var buffered: [GRPCTesting.StreamingOutputCallRequest] = []
        for try await request in requests { buffered.append(request) }
        for request in buffered {
            try await Self.respond(to: request, with: responses, context: context)
        }
    }

    public func unimplementedCall(_ request: GRPCTesting.Empty, context: ServerContext) async throws -> GRPCTesting.Empty {
        throw RPCError(code: .unimplemented, message: "grpc.testing.TestService/UnimplementedCall is not implemented")
    }

    // MARK: Behaviour shared by the methods

    /// Echoes `x-grpc-test-echo-initial` as initial metadata and
    /// `x-grpc-test-echo-trailing-bin` as trailing metadata.
    static func echoMetadata(_ context: ServerContext) {
        if let value = context.requestMetadata[echoInitialKey] {
            context.addInitialMetadata(echoInitialKey, value)
        }
        if let value = context.requestMetadata[binary: echoTrailingKey] {
            context.addTrailingMetadata(echoTrailingKey, binary: value)
        }
    }

    /// A request with `expect_compressed` true must have come compressed.
    static func checkCompression(expected: GRPCTesting.BoolValue?, context: ServerContext) throws {
        if expected?.value == true && !context.lastRequestWasCompressed {
            throw RPCError(code: .invalidArgument, message: "expected a compressed request message, got an uncompressed one")
        }
    }

    /// The status a request asks for, thrown unless it is OK.
    static func checkStatus(_ status: GRPCTesting.EchoStatus?) throws {
        guard let status, status.code != 0 else { return }
        throw RPCError(code: StatusCode(number: Int(status.code)), message: status.message)
    }

    /// A payload of `size` zero bytes; INVALID_ARGUMENT for a size out of range.
    static func payload(size: Int32, type: GRPCTesting.PayloadType) throws -> GRPCTesting.Payload {
        guard type == .compressable else {
            throw RPCError(code: .invalidArgument, message: "payload type \(type.rawValue) is not supported (only COMPRESSABLE)")
        }
        guard size >= 0, size <= maxPayloadSize else {
            throw RPCError(code: .invalidArgument, message: "payload size \(size) is out of range (0...\(maxPayloadSize))")
        }
        return GRPCTesting.Payload(zeros: Int(size))
    }

    static func simpleResponse(to request: GRPCTesting.SimpleRequest, context: ServerContext) throws -> GRPCTesting.SimpleResponse {
        echoMetadata(context)
        try checkCompression(expected: request.expectCompressed, context: context)
        if let compressed = request.responseCompressed {
            if compressed.value { context.responseCompression = .gzip }
            context.compressResponseMessages = compressed.value
        }
        try checkStatus(request.responseStatus)
        var response = GRPCTesting.SimpleResponse()
        if request.responseSize > 0 {
            response.payload = try payload(size: request.responseSize, type: request.responseType)
        }
        return response
    }

    /// Sends the responses `request` describes, each after its interval;
    /// then the status it asks for.
    static func respond(to request: GRPCTesting.StreamingOutputCallRequest,
                        with responses: ResponseWriter<GRPCTesting.StreamingOutputCallResponse>,
                        context: ServerContext) async throws {
        if request.responseParameters.contains(where: { $0.compressed?.value == true }) {
            context.responseCompression = .gzip
        }
        for parameters in request.responseParameters {
            guard parameters.intervalUs >= 0 else {
                throw RPCError(code: .invalidArgument, message: "interval_us \(parameters.intervalUs) is negative")
            }
            if parameters.intervalUs > 0 {
                // Cancellation (deadline, client reset) ends the wait at once.
                try await Task.sleep(for: .microseconds(Int(parameters.intervalUs)))
            }
            var response = GRPCTesting.StreamingOutputCallResponse()
            response.payload = try payload(size: parameters.size, type: request.responseType)
            context.compressResponseMessages = parameters.compressed?.value ?? true
            try await responses.send(response)
        }
        try checkStatus(request.responseStatus)
    }
}
