import Codec
import RPC
import Glibc

/// Why an interop test case failed: what was expected and what came.
public struct InteropFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The client side of gRPC's interop test cases (grpc/grpc
/// doc/interop-test-descriptions.md) that apply to unary, server-streaming
/// and bidirectional calls, run against any server of `grpc.testing.TestService`.
public struct InteropTestCases: Sendable {
    /// The case names `--test_case` accepts, in the order `all` runs them.
    public static let names = [
        "empty_unary", "large_unary", "client_compressed_unary", "server_compressed_unary",
        "server_streaming", "server_compressed_streaming", "ping_pong", "empty_stream",
        "custom_metadata", "status_code_and_message", "special_status_message",
        "unimplemented_method", "unimplemented_service", "cancel_after_first_response",
        "timeout_on_sleeping_server", "concurrent_large_unary", "rpc_soak",
    ]

    /// Settings of `rpc_soak` (grpc's `--soak_*` flags).
    public struct Soak: Sendable {
        public var iterations = 10
        public var maxFailures = 0
        public var maxAcceptableLatency: Duration = .milliseconds(1_000)
        public var overallTimeout: Duration = .seconds(10)
        public init() {}
    }

    let channel: any RPCChannel
    let client: GRPCTesting.TestServiceClient
    let soak: Soak
    /// How long any one call may take here (the cases' own deadlines are shorter).
    let callTimeout: Duration = .seconds(20)

    public init(channel: any RPCChannel, soak: Soak = Soak()) {
        self.channel = channel
        self.client = GRPCTesting.TestServiceClient(channel: channel)
        self.soak = soak
    }

    /// Runs the case called `name`.
    ///
    /// - Throws: ``InteropFailure`` (or the ``RPCError`` of a call that
    ///   should have succeeded) when it fails.
    public func run(_ name: String) async throws {
        switch name {
        case "empty_unary": try await emptyUnary()
        case "large_unary": try await largeUnary()
        case "client_compressed_unary": try await clientCompressedUnary()
        case "server_compressed_unary": try await serverCompressedUnary()
        case "server_streaming": try await serverStreaming(compressed: false)
        case "server_compressed_streaming": try await serverStreaming(compressed: true)
        case "ping_pong": try await pingPong()
        case "empty_stream": try await emptyStream()
        case "custom_metadata": try await customMetadata()
        case "status_code_and_message": try await statusCodeAndMessage("test status message")
        case "special_status_message": try await statusCodeAndMessage("\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n")
        case "unimplemented_method": try await unimplementedMethod()
        case "unimplemented_service": try await unimplementedService()
        case "cancel_after_first_response": try await cancelAfterFirstResponse()
        case "timeout_on_sleeping_server": try await timeoutOnSleepingServer()
        case "concurrent_large_unary": try await concurrentLargeUnary(calls: 1_000)
        case "rpc_soak": try await rpcSoak()
        default: throw InteropFailure("unknown test case '\(name)'; known: \(Self.names.joined(separator: ", "))")
        }
    }

    // MARK: Helpers

    /// The largest payload the cases ask for, as zeros to compare with.
    static let zeros = [UInt8](repeating: 0, count: 1 << 20)

    var options: CallOptions { CallOptions(timeout: callTimeout) }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw InteropFailure(message()) }
    }

    /// Checks that `payload` is `size` zero bytes (absent counts as empty).
    static func expectZeros(_ payload: GRPCTesting.Payload?, size: Int, _ what: String) throws {
        let body = payload?.body ?? []
        try expect(body.count == size, "\(what): payload of \(body.count) bytes, expected \(size)")
        let zero = body.isEmpty || body.withUnsafeBytes { bytes in
            // memchr-speed even in a debug build: compare with a zeroed buffer.
            Self.zeros.withUnsafeBytes { memcmp(bytes.baseAddress!, $0.baseAddress!, min(bytes.count, $0.count)) == 0 }
        }
        try expect(body.count <= Self.zeros.count && zero, "\(what): payload is not all zeros")
    }

    /// Runs `call`, which must fail with `code` (and `message`, if given).
    static func expectStatus<T>(_ code: StatusCode, message: String? = nil, _ what: String,
                                _ call: () async throws(RPCError) -> T) async throws {
        do {
            _ = try await call()
        } catch {
            try expect(error.code == code, "\(what): status \(error.code), expected \(code) (message: \(error.message))")
            if let message {
                try expect(error.message == message, "\(what): status message \(error.message.debugDescription), expected \(message.debugDescription)")
            }
            return
        }
        throw InteropFailure("\(what): the call succeeded, expected \(code)")
    }

    static func largeRequest() -> GRPCTesting.SimpleRequest {
        var request = GRPCTesting.SimpleRequest()
        request.responseSize = 314_159
        request.payload = GRPCTesting.Payload(zeros: 271_828)
        return request
    }

    static func streamingRequest(sizes: [Int32], intervalUs: [Int32]? = nil) -> GRPCTesting.StreamingOutputCallRequest {
        var request = GRPCTesting.StreamingOutputCallRequest()
        request.responseParameters = sizes.indices.map { i in
            GRPCTesting.ResponseParameters(size: sizes[i], intervalUs: intervalUs?[i] ?? 0)
        }
        return request
    }

    // MARK: Cases

    func emptyUnary() async throws {
        _ = try await client.emptyCall(GRPCTesting.Empty(), options: options)
    }

    func largeUnary() async throws {
        let response = try await client.unaryCall(Self.largeRequest(), options: options)
        try Self.expectZeros(response.payload, size: 314_159, "large_unary")
    }

    func clientCompressedUnary() async throws {
        // The probe: an uncompressed request claiming to be compressed is refused.
        var probe = Self.largeRequest()
        probe.expectCompressed = GRPCTesting.BoolValue(true)
        try await Self.expectStatus(.invalidArgument, "client_compressed_unary probe") { () async throws(RPCError) in
            try await client.unaryCall(probe, options: options)
        }
        var compressedOptions = options
        compressedOptions.compression = .gzip
        let compressed = try await client.unaryCall(probe, options: compressedOptions)
        try Self.expectZeros(compressed.payload, size: 314_159, "client_compressed_unary (compressed)")

        var plain = Self.largeRequest()
        plain.expectCompressed = GRPCTesting.BoolValue(false)
        let uncompressed = try await client.unaryCall(plain, options: options)
        try Self.expectZeros(uncompressed.payload, size: 314_159, "client_compressed_unary (uncompressed)")
    }

    func serverCompressedUnary() async throws {
        for compress in [true, false] {
            var request = Self.largeRequest()
            request.responseCompressed = GRPCTesting.BoolValue(compress)
            let response: UnaryResponse<GRPCTesting.SimpleResponse> = try await channel.unaryWithMetadata(
                GRPCTesting.TestServiceMethods.unaryCall, request: request, options: options)
            let what = "server_compressed_unary (response_compressed=\(compress))"
            try Self.expectZeros(response.message.payload, size: 314_159, what)
            try Self.expect(response.wasCompressed == compress,
                            "\(what): the response came \(response.wasCompressed ? "compressed" : "uncompressed")")
        }
    }

    func serverStreaming(compressed: Bool) async throws {
        let name = compressed ? "server_compressed_streaming" : "server_streaming"
        let sizes: [Int32] = compressed ? [31_415, 92_653] : [31_415, 9, 2_653, 58_979]
        var request = Self.streamingRequest(sizes: sizes)
        if compressed {
            request.responseParameters[0].compressed = GRPCTesting.BoolValue(true)
            request.responseParameters[1].compressed = GRPCTesting.BoolValue(false)
        }
        var received: [Int] = []
        let stream = client.streamingOutputCall(request, options: options)
        for try await response in stream {
            let index = min(received.count, sizes.count - 1)
            try Self.expectZeros(response.payload, size: Int(sizes[index]), "\(name) response \(received.count)")
            if compressed {
                // The first response must come compressed, the second not.
                let expected = index == 0
                try Self.expect(stream.lastMessageWasCompressed == expected,
                                "\(name): response \(index) came \(stream.lastMessageWasCompressed ? "compressed" : "uncompressed")")
            }
            received.append(response.payload?.body.count ?? 0)
        }
        try Self.expect(received == sizes.map(Int.init), "\(name): response sizes \(received), expected \(sizes)")
    }

    func pingPong() async throws {
        let responseSizes: [Int32] = [31_415, 9, 2_653, 58_979]
        let requestSizes = [27_182, 8, 1_828, 45_904]
        let call = client.fullDuplexCall(options: options)
        var responses = call.responses.makeAsyncIterator()
        for i in responseSizes.indices {
            var request = Self.streamingRequest(sizes: [responseSizes[i]])
            request.payload = GRPCTesting.Payload(zeros: requestSizes[i])
            try await call.send(request)
            guard let response = try await responses.next() else {
                throw InteropFailure("ping_pong: the stream ended after \(i) responses, expected 4")
            }
            try Self.expectZeros(response.payload, size: Int(responseSizes[i]), "ping_pong response \(i)")
        }
        try await call.finish()
        let extra = try await responses.next()
        try Self.expect(extra == nil, "ping_pong: a fifth response came")
    }

    func emptyStream() async throws {
        let call = client.fullDuplexCall(options: options)
        try await call.finish()
        var responses = call.responses.makeAsyncIterator()
        let first = try await responses.next()
        try Self.expect(first == nil, "empty_stream: a response came")
    }

    func customMetadata() async throws {
        let initialValue = "test_initial_metadata_value"
        let trailingValue: [UInt8] = [0xab, 0xab, 0xab]
        var metadata = Metadata()
        metadata.add(TestService.echoInitialKey, initialValue)
        metadata.add(TestService.echoTrailingKey, binary: trailingValue)
        let response: UnaryResponse<GRPCTesting.SimpleResponse> = try await channel.unaryWithMetadata(
            GRPCTesting.TestServiceMethods.unaryCall, request: Self.largeRequest(),
            options: CallOptions(timeout: callTimeout, metadata: metadata))
        try Self.expectZeros(response.message.payload, size: 314_159, "custom_metadata")
        let initial = response.initialMetadata[TestService.echoInitialKey]
        try Self.expect(initial == initialValue,
                        "custom_metadata: initial metadata \(TestService.echoInitialKey) is \(initial.debugDescription), expected \(initialValue)")
        let trailing = response.trailingMetadata[binary: TestService.echoTrailingKey]
        try Self.expect(trailing == trailingValue,
                        "custom_metadata: trailing metadata \(TestService.echoTrailingKey) is \(trailing.map { "\($0)" } ?? "absent"), expected \(trailingValue)")
    }

    func statusCodeAndMessage(_ message: String) async throws {
        var request = GRPCTesting.SimpleRequest()
        var status = GRPCTesting.EchoStatus()
        status.code = 2
        status.message = message
        request.responseStatus = status
        try await Self.expectStatus(.unknown, message: message, "status echo") { () async throws(RPCError) in
            try await client.unaryCall(request, options: options)
        }
    }

    func unimplementedMethod() async throws {
        try await Self.expectStatus(.unimplemented, "unimplemented_method") { () async throws(RPCError) in
            try await client.unimplementedCall(GRPCTesting.Empty(), options: options)
        }
    }

    func unimplementedService() async throws {
        let other = GRPCTesting.UnimplementedServiceClient(channel: channel)
        try await Self.expectStatus(.unimplemented, "unimplemented_service") { () async throws(RPCError) in
            try await other.unimplementedCall(GRPCTesting.Empty(), options: options)
        }
    }

    func cancelAfterFirstResponse() async throws {
        // The first response at once, the others a second apart: the
        // cancellation comes long before the server would finish.
        let request = Self.streamingRequest(sizes: [31_415, 9, 2_653, 58_979], intervalUs: [0, 1_000_000, 1_000_000, 1_000_000])
        let stream = client.streamingOutputCall(request, options: options)
        var responses = stream.makeAsyncIterator()
        let first = try await responses.next()
        try Self.expectZeros(first?.payload, size: 31_415, "cancel_after_first_response first response")
        stream.cancel()
        try await Self.expectStatus(.cancelled, "cancel_after_first_response") { () async throws(RPCError) in
            while try await responses.next() != nil {}
        }
    }

    func timeoutOnSleepingServer() async throws {
        let request = Self.streamingRequest(sizes: [27_182], intervalUs: [10_000_000])
        let stream = client.streamingOutputCall(request, options: CallOptions(timeout: .milliseconds(1)))
        try await Self.expectStatus(.deadlineExceeded, "timeout_on_sleeping_server") { () async throws(RPCError) in
            for try await _ in stream {}
        }
    }

    func concurrentLargeUnary(calls: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<calls {
                group.addTask { try await largeUnary() }
            }
            try await group.waitForAll()
        }
    }

    func rpcSoak() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var failures: [String] = []
        var latencies: [Duration] = []
        for iteration in 0..<soak.iterations {
            guard clock.now - start < soak.overallTimeout else {
                throw InteropFailure("rpc_soak: only \(iteration) of \(soak.iterations) iterations within \(soak.overallTimeout)")
            }
            let began = clock.now
            do {
                try await largeUnary()
                let latency = clock.now - began
                latencies.append(latency)
                if latency > soak.maxAcceptableLatency {
                    failures.append("iteration \(iteration): \(latency) is more than \(soak.maxAcceptableLatency)")
                }
            } catch {
                failures.append("iteration \(iteration): \(error)")
            }
        }
        try Self.expect(failures.count <= soak.maxFailures,
                        "rpc_soak: \(failures.count) of \(soak.iterations) iterations failed (at most \(soak.maxFailures) allowed): \(failures.prefix(5).joined(separator: "; "))")
    }
}
