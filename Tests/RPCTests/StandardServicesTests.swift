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

    @Test("Check: known services SERVING, unknown NOT_FOUND")
    func check() async throws {
        try await withServer { (channel: GRPCChannel, _: HealthService) async throws in
            let client = GRPCHealthV1.HealthClient(channel: channel)
            #expect(try await client.check(.with { $0.service = "" }).status == .serving)
            #expect(try await client.check(.with { $0.service = EchoService.name }).status == .serving)
            await #expect(throws: RPCError(code: .notFound, message: "unknown service \"no.such.Service\"")) {
                try await client.check(.with { $0.service = "no.such.Service" })
            }
        }
    }

    @Test("Watch: current status, then every change; unknown services stay watched")
    func watch() async throws {
        try await withServer { (channel: GRPCChannel, health: HealthService) async throws in
            let client = GRPCHealthV1.HealthClient(channel: channel)
            var known = client.watch(.with { $0.service = EchoService.name }).makeAsyncIterator()
            let next1 = try await known.next()

            #expect(next1?.status == .serving)
            health.setStatus(.notServing, for: EchoService.name)
            let next2 = try await known.next()

            #expect(next2?.status == .notServing)

            var unknown = client.watch(.with { $0.service = "later.Service" }).makeAsyncIterator()
            let next3 = try await unknown.next()

            #expect(next3?.status == .serviceUnknown)
            // The stream stayed open: a status set later arrives on it.
            health.setStatus(.serving, for: "later.Service")
            let next4 = try await unknown.next()

            #expect(next4?.status == .serving)
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
