import Codec
import Foundation
import Testing
@testable import RPC

/// grpcio (the official gRPC implementation, from Python) calling our server
/// over real sockets: Tests/interop/health_client.py and reflection_client.py.
/// A peer prints "ok …" per check and "PASS" at the end; a failed check
/// prints "FAIL: …", which the transcript in the failure message shows.
@Suite("Interop: grpcio clients against our server", .timeLimit(.minutes(1)))
struct InteropClientTests {
    static let timerService = "servicevault.timer.v1.TimerService"

    /// The client arguments for our server on `port`.
    static func target(_ port: Int, _ transport: InteropTransport, _ paths: InteropEnvironment.Paths) -> [String] {
        var arguments = ["--target", "127.0.0.1:\(port)"]
        if transport == .tls {
            arguments += ["--tls-ca", paths.certificate("ca.pem"), "--server-name", "localhost"]
        }
        return arguments
    }

    @Test("grpcio health client: Check, NOT_FOUND, Watch sees a change, Watch of an unknown service stays open",
          arguments: [InteropTransport.h2c, .tls])
    func health(_ transport: InteropTransport) async throws {
        let paths = try await InteropEnvironment.prepare()
        try await withOurServer(transport, healthServices: [Self.timerService]) { server, health in
            let arguments = Self.target(server.port, transport, paths) + ["--service", Self.timerService]
            try await withPeer("health_client.py", arguments) { peer in
                var passed = false
                var changed = false
                while let line = await peer.nextLine() {
                    if line == "WATCHING \(Self.timerService)" {
                        // The peer holds a Watch that has seen SERVING: change the status under it.
                        health.setStatus(.notServing, for: Self.timerService)
                        changed = true
                    }
                    if line == "PASS" { passed = true }
                }
                let status = await peer.exitStatus()
                #expect(status == 0, "\(peer.transcript)")
                #expect(changed && passed, "\(peer.transcript)")
            }
        }
    }

    @Test("grpcio reflection client (v1alpha) and v1 stubs: list, describe, file by symbol and by name, NOT_FOUND",
          arguments: [InteropTransport.h2c, .tls])
    func reflection(_ transport: InteropTransport) async throws {
        let paths = try await InteropEnvironment.prepare()
        let timerSet = try await InteropEnvironment.timerServiceDescriptorSet()
        try await withOurServer(transport, descriptorSets: [timerSet]) { server, _ in
            var arguments = Self.target(server.port, transport, paths)
            for service in ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                            "grpc.reflection.v1alpha.ServerReflection", Self.timerService] {
                arguments += ["--expect-service", service]
            }
            arguments += [
                "--expect-file", "\(Self.timerService)=servicevault/timer/v1/timer_service.proto",
                "--expect-file", "grpc.health.v1.Health=grpc/health/v1/health.proto",
                "--expect-file", "grpc.reflection.v1.ServerReflection=grpc/reflection/v1/reflection.proto",
                "--expect-fields", "\(Self.timerService).CreateTimer=account_id,description,project_id,billing_rate_id,client_ref,device_id,start",
                "--expect-fields", "grpc.health.v1.Health.Check=service",
            ]
            try await withPeer("reflection_client.py", arguments) { peer in
                var passed = false
                while let line = await peer.nextLine() {
                    if line == "PASS" { passed = true }
                }
                let status = await peer.exitStatus()
                #expect(status == 0, "\(peer.transcript)")
                #expect(passed, "\(peer.transcript)")
            }
        }
    }
}
