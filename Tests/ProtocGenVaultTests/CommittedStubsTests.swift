import Foundation
import Testing

/// The stubs committed under `Sources/` are exactly what `scripts/gen-proto`
/// makes now with this plugin: a generator or proto change without
/// regenerating fails here.
@Suite("Committed stubs are fresh")
struct CommittedStubsTests {
    @Test("every *.grpc.swift under Sources matches scripts/gen-proto --out")
    func fresh() throws {
        let plugin = try requirePlugin()
        let fresh = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: fresh) }
        // PROTOC_GEN_VAULT keeps gen-proto from running `swift build`, which
        // would wait for the build lock this test run holds.
        let result = try runProcess("scripts/gen-proto", ["--out", fresh.path], environment: ["PROTOC_GEN_VAULT": plugin])
        try #require(result.status == 0, "scripts/gen-proto failed: \(result.errors)")

        let regenerated = try files(under: fresh.appendingPathComponent("Sources")).filter { $0.key.hasSuffix(".grpc.swift") }
        #expect(regenerated.keys.sorted() == [
            "ClientLib/Generated/servicevault/timer/v1/timer_service.grpc.swift",
            "Interop/Generated/grpc/testing/test.grpc.swift",
            "RPC/Generated/grpc_health_v1_health.grpc.swift",
            "RPC/Generated/grpc_reflection_v1_reflection.grpc.swift",
            "RPC/Generated/grpc_reflection_v1alpha_reflection.grpc.swift",
            "RPCServer/Generated/servicevault/timer/v1/timer_service.grpc.swift",
        ])
        let sources = repositoryRoot.appendingPathComponent("Sources")
        for (path, data) in regenerated.sorted(by: { $0.key < $1.key }) {
            let committed = try? Data(contentsOf: sources.appendingPathComponent(path))
            #expect(committed == data, "Sources/\(path) is stale or missing: run `make proto`")
        }
        let committed = try files(under: sources).keys.filter { $0.hasSuffix(".grpc.swift") }
        for path in committed.sorted() where regenerated[path] == nil {
            Issue.record("Sources/\(path) is not made by `make proto`: remove it")
        }
    }
}
