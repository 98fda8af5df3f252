import Foundation
import Testing

/// Everything `make proto` writes must be exactly what it makes from proto/
/// now: a proto change without regenerating fails here.
@Suite("Generated code is fresh")
struct GeneratedCodeTests {
    func files(under root: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return result
        }
        for case let url as URL in enumerator {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            // Python's bytecode caches beside the generated Python are not sources.
            if url.pathComponents.contains("__pycache__") { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            result[relative] = try Data(contentsOf: url)
        }
        return result
    }

    /// Folders that hold nothing but generated files: no file may be there that
    /// the generator did not make.
    static let generatedOnly = ["Sources/TimerProtoC", "Sources/InteropProtoC", "Sources/PluginProtoC", "Sources/RPC/Generated",
                                "Sources/RPCServer/Generated", "Sources/ClientLib/Generated", "Sources/Interop/Generated",
                                "Tests/interop/generated"]

    @Test("the tree matches scripts/gen-proto")
    func regenerated() throws {
        let fresh = FileManager.default.temporaryDirectory.appendingPathComponent("gen-proto-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: fresh) }
        // The plugin this test run built: a nested `swift build` would wait
        // for the build lock `swift test` holds.
        _ = try run("scripts/gen-proto", ["--out", fresh.path], environment: ["PROTOC_GEN_VAULT": builtPlugin])

        let regenerated = try files(under: fresh)
        #expect(regenerated.count > 20)
        for (path, data) in regenerated.sorted(by: { $0.key < $1.key }) {
            let committed = try? Data(contentsOf: repositoryRoot.appendingPathComponent(path))
            #expect(committed == data, "\(path) is stale or missing: run `make proto`")
        }
        for folder in Self.generatedOnly {
            for path in try files(under: repositoryRoot.appendingPathComponent(folder)).keys {
                #expect(regenerated["\(folder)/\(path)"] != nil, "\(folder)/\(path) is not made by `make proto`: remove it")
            }
        }
    }
}
