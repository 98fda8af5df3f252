import Codec
import Testing
@testable import RPC

/// Unary methods answered on the event loop, as the health check is.
struct InlineEchoService: RPCService {
    static let name = "test.InlineEcho"
    static let get = MethodDescriptor(service: name, method: "Get", kind: .unary)
    static let fail = MethodDescriptor(service: name, method: "Fail", kind: .unary)
    static let echo = MethodDescriptor(service: name, method: "Echo", kind: .unary)

    func registerMethods(with router: inout MethodRouter) {
        router.registerInlineUnary(Self.get) { (request: VaultTimer, context: ServerContext) in
            context.addInitialMetadata("x-initial", "inline")
            context.addTrailingMetadata("x-trailing-bin", binary: [9, 8, 7])
            var response = request
            response.deviceID = context.requestMetadata["x-device"] ?? ""
            response.clientRef = context.lastRequestWasCompressed ? "compressed" : "plain"
            return response
        }
        // Without a context: the call makes none.
        router.registerInlineUnary(Self.echo) { (request: VaultTimer) -> VaultTimer in
            guard request.id >= 0 else { throw RPCError(code: .invalidArgument, message: "id \(request.id) is negative") }
            return request
        }
        router.registerInlineUnary(Self.fail) { (request: VaultTimer, _: ServerContext) -> VaultTimer in
            throw RPCError(code: .failedPrecondition, message: "timer \(request.id) refused", metadata: Metadata(["x-reason": "inline"]))
        }
    }
}

@Suite("Unary calls answered on the event loop", .timeLimit(.minutes(1)))
struct InlineCallTests {
    func withServer(configure: (inout GRPCServer.Configuration) -> Void = { _ in },
                    _ body: (GRPCChannel) async throws -> Void) async throws {
        var configuration = GRPCServer.Configuration(address: "127.0.0.1:0", eventLoops: 1)
        configure(&configuration)
        let server = GRPCServer(configuration: configuration, services: [InlineEchoService()])
        try server.start()
        let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
        do {
            try await body(channel)
        } catch {
            channel.close()
            await server.shutdown(grace: .seconds(1))
            throw error
        }
        channel.close()
        await server.shutdown(grace: .seconds(1))
    }

    func expectStatus(_ code: StatusCode, _ message: String, _ call: () async throws(RPCError) -> Void) async {
        do {
            try await call()
            Issue.record("the call succeeded; expected \(code)")
        } catch {
            #expect(error.code == code)
            #expect(error.message == message)
        }
    }

    @Test("the response carries the handler's initial and trailing metadata")
    func metadataBothWays() async throws {
        try await withServer { channel in
            var options = CallOptions()
            options.metadata.add("x-device", "tablet")
            let response: UnaryResponse<VaultTimer> = try await channel.unaryWithMetadata(
                InlineEchoService.get, request: VaultTimer.with { $0.id = 11; $0.description = "déjà vu" }, options: options)
            #expect(response.message.id == 11)
            #expect(response.message.description == "déjà vu")
            #expect(response.message.deviceID == "tablet")
            #expect(response.message.clientRef == "plain")
            #expect(response.initialMetadata["x-initial"] == "inline")
            #expect(response.trailingMetadata[binary: "x-trailing-bin"] == [9, 8, 7])
        }
    }

    @Test("a thrown error is the status, with its message and metadata")
    func errorStatus() async throws {
        try await withServer { channel in
            do {
                let _: VaultTimer = try await channel.unary(InlineEchoService.fail, request: VaultTimer.with { $0.id = 4 }, options: CallOptions())
                Issue.record("the call succeeded")
            } catch let error as RPCError {
                #expect(error.code == .failedPrecondition)
                #expect(error.message == "timer 4 refused")
                #expect(error.metadata["x-reason"] == "inline")
            }
        }
    }

    @Test("a request of many DATA frames, compressed, and a compressed response")
    func largeAndCompressed() async throws {
        try await withServer(configure: { $0.compressResponses = true }) { channel in
            let request = VaultTimer.with { $0.description = String(repeating: "many frames ", count: 100_000) }
            let plain: UnaryResponse<VaultTimer> = try await channel.unaryWithMetadata(InlineEchoService.get, request: request, options: CallOptions())
            #expect(plain.message.description == request.description)
            #expect(plain.message.clientRef == "plain")
            let gzip: UnaryResponse<VaultTimer> = try await channel.unaryWithMetadata(InlineEchoService.get, request: request,
                                                                                      options: CallOptions(compression: .gzip))
            #expect(gzip.message.description == request.description)
            #expect(gzip.message.clientRef == "compressed")
            #expect(gzip.wasCompressed)
        }
    }

    @Test("a handler without a context: the response compressed as a context would decide, and its error as status")
    func withoutContext() async throws {
        let request = VaultTimer.with { $0.id = 7; $0.description = String(repeating: "no context ", count: 10_000) }
        for compressResponses in [false, true] {
            try await withServer(configure: { $0.compressResponses = compressResponses }) { channel in
                let response: UnaryResponse<VaultTimer> = try await channel.unaryWithMetadata(InlineEchoService.echo, request: request,
                                                                                              options: CallOptions(compression: .gzip))
                #expect(response.message == request)
                #expect(response.wasCompressed == compressResponses)
                #expect(response.initialMetadata.isEmpty && response.trailingMetadata.isEmpty)
                await expectStatus(.invalidArgument, "id -1 is negative") { () throws(RPCError) in
                    let _: VaultTimer = try await channel.unary(InlineEchoService.echo, request: VaultTimer.with { $0.id = -1 }, options: CallOptions())
                }
            }
        }
    }

    @Test("no request message, or two, is INTERNAL; too large is RESOURCE_EXHAUSTED; the connection serves on")
    func wrongRequests() async throws {
        try await withServer(configure: { $0.maxReceiveMessageSize = 1_000 }) { channel in
            await expectStatus(.internalError, "expected one request message, got none") { () async throws(RPCError) in
                let _: VaultTimer = try await channel.clientStreaming(InlineEchoService.get, requests: [VaultTimer](), options: CallOptions())
            }
            await expectStatus(.internalError, "expected one request message, got more") { () async throws(RPCError) in
                let _: VaultTimer = try await channel.clientStreaming(InlineEchoService.get, requests: [VaultTimer(), VaultTimer()], options: CallOptions())
            }
            let large = VaultTimer.with { $0.description = String(repeating: "x", count: 2_000) }
            do {
                let _: VaultTimer = try await channel.unary(InlineEchoService.get, request: large, options: CallOptions())
                Issue.record("the call succeeded")
            } catch let error as RPCError {
                #expect(error.code == .resourceExhausted)
            }
            let after: VaultTimer = try await channel.unary(InlineEchoService.get, request: VaultTimer.with { $0.id = 1 }, options: CallOptions())
            #expect(after.id == 1)
        }
    }

    @Test("a request still open at its deadline is answered DEADLINE_EXCEEDED")
    func deadline() async throws {
        try await withServer { channel in
            let started = ContinuousClock.now
            let call: BidirectionalCall<VaultTimer, VaultTimer> = channel.bidirectionalStreaming(InlineEchoService.get,
                                                                                                 options: CallOptions(timeout: .milliseconds(200)))
            try await call.send(VaultTimer.with { $0.id = 2 })  // The request never ends.
            var responses = call.responses.makeAsyncIterator()
            do {
                _ = try await responses.next()
                Issue.record("a response arrived")
            } catch let error as RPCError {
                #expect(error.code == .deadlineExceeded)
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            let after: VaultTimer = try await channel.unary(InlineEchoService.get, request: VaultTimer.with { $0.id = 3 }, options: CallOptions())
            #expect(after.id == 3)
        }
    }

    @Test("requests reset by the client before they end: the connection serves on")
    func clientReset() async throws {
        try await withServer { channel in
            for i in 0..<50 {
                let call: BidirectionalCall<VaultTimer, VaultTimer> = channel.bidirectionalStreaming(InlineEchoService.get, options: CallOptions())
                try await call.send(VaultTimer.with { $0.id = Int64(i) })
                call.responses.cancel()
            }
            let after: VaultTimer = try await channel.unary(InlineEchoService.get, request: VaultTimer.with { $0.id = 99 }, options: CallOptions())
            #expect(after.id == 99)
        }
    }
}
