import Codec
import Testing
@testable import RPC

@Suite("Health and reflection", .timeLimit(.minutes(1)))
struct StandardServicesTests {
    func withServer(_ body: (GRPCChannel, HealthService) async throws -> Void) async throws {
        let health = HealthService(services: [EchoService.name])
        let reflection = try ReflectionService(descriptorSets: [EmbeddedDescriptorSets.standardServices])
        let server = GRPCServer(configuration: .init(address: "127.0.0.1:0", eventLoops: 1), services: [health, reflection, EchoService()])
        try server.start()
        let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
        defer { channel.close() }
        do {
            try await body(channel, health)
        } catch {
            await server.shutdown(grace: .seconds(1))
            throw error
        }
        await server.shutdown(grace: .seconds(1))
    }

    /// A health request, built without a closure (closures written inside
    /// `#expect` can be miscompiled by Swift 6.3.1 into a copy of another).
    func request(_ service: String) -> GRPCHealthV1.HealthCheckRequest {
        var request = GRPCHealthV1.HealthCheckRequest()
        request.service = service
        return request
    }

    @Test("Check: known services SERVING, unknown NOT_FOUND")
    func check() async throws {
        try await withServer { (channel: GRPCChannel, _: HealthService) async throws in
            let client = GRPCHealthV1.HealthClient(channel: channel)
            let server = try await client.check(request(""))
            #expect(server.status == .serving)
            let echo = try await client.check(request(EchoService.name))
            #expect(echo.status == .serving)
            let unknown = request("no.such.Service")
            await #expect(throws: RPCError(code: .notFound, message: "unknown service \"no.such.Service\"")) {
                try await client.check(unknown)
            }
        }
    }

    @Test("Watch: current status, then every change; unknown services stay watched")
    func watch() async throws {
        try await withServer { (channel: GRPCChannel, health: HealthService) async throws in
            let client = GRPCHealthV1.HealthClient(channel: channel)
            var known = client.watch(request(EchoService.name)).makeAsyncIterator()
            let first = try await known.next()
            #expect(first?.status == .serving)
            health.setStatus(.notServing, for: EchoService.name)
            let second = try await known.next()
            #expect(second?.status == .notServing)

            var unknown = client.watch(request("later.Service")).makeAsyncIterator()
            let before = try await unknown.next()
            #expect(before?.status == .serviceUnknown)
            // The stream stayed open: a status set later arrives on it.
            health.setStatus(.serving, for: "later.Service")
            let after = try await unknown.next()
            #expect(after?.status == .serving)
        }
    }

    @Test("reflection v1 and v1alpha: list services, find files by symbol and name, NOT_FOUND for unknown names")
    func reflection() async throws {
        try await withServer { (channel: GRPCChannel, _: HealthService) async throws in
            let v1 = GRPCReflectionV1.ServerReflectionClient(channel: channel)
            let call = v1.serverReflectionInfo()
            var responses = call.responses.makeAsyncIterator()

            try await call.send(.with { $0.messageRequest = .listServices("") })
            guard case .listServicesResponse(let list)? = try await responses.next()?.messageResponse else {
                Issue.record("no list_services_response"); return
            }
            #expect(list.service.map(\.name) == ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"])

            try await call.send(.with { $0.messageRequest = .fileContainingSymbol("grpc.health.v1.Health.Check") })
            guard case .fileDescriptorResponse(let files)? = try await responses.next()?.messageResponse else {
                Issue.record("no file_descriptor_response"); return
            }
            #expect(files.fileDescriptorProto.count == 1)
            #expect(files.fileDescriptorProto.first.map { String(decoding: $0, as: UTF8.self).contains("grpc/health/v1/health.proto") } == true)

            try await call.send(.with { $0.messageRequest = .fileByFilename("grpc/reflection/v1/reflection.proto") })
            guard case .fileDescriptorResponse? = try await responses.next()?.messageResponse else {
                Issue.record("file_by_filename failed"); return
            }

            try await call.send(.with { $0.messageRequest = .fileContainingSymbol("no.such.Symbol") })
            guard case .errorResponse(let error)? = try await responses.next()?.messageResponse else {
                Issue.record("no error_response"); return
            }
            #expect(error.errorCode == Int32(StatusCode.notFound.rawValue))
            try await call.finish()
            #expect(try await responses.next() == nil)

            let alpha = GRPCReflectionV1Alpha.ServerReflectionClient(channel: channel).serverReflectionInfo()
            try await alpha.send(.with { $0.messageRequest = .fileContainingSymbol("grpc.health.v1.HealthCheckResponse.ServingStatus") })
            var alphaResponses = alpha.responses.makeAsyncIterator()
            guard case .fileDescriptorResponse? = try await alphaResponses.next()?.messageResponse else {
                Issue.record("v1alpha found nothing"); return
            }
            try await alpha.finish()
        }
    }
}
