import Foundation
import Testing

/// The committed protoc-c output must be exactly what `make proto` makes from
/// proto/ now: a proto change without regenerating fails here.
@Suite("Generated code is fresh")
struct GeneratedCodeTests {
    func files(under root: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in enumerator {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            result[relative] = try Data(contentsOf: url)
        }
        return result
    }

    @Test("Sources/TimerProtoC matches scripts/gen-proto")
    func protobufCOutput() throws {
        let fresh = FileManager.default.temporaryDirectory.appendingPathComponent("gen-proto-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: fresh) }
        _ = try run("scripts/gen-proto", ["--out", fresh.path])

        let committed = try files(under: repositoryRoot.appendingPathComponent("Sources/TimerProtoC"))
        let regenerated = try files(under: fresh)
        #expect(!regenerated.isEmpty)
        #expect(Set(committed.keys) == Set(regenerated.keys), "files differ: run `make proto`")
        for (path, data) in regenerated where committed[path] != data {
            Issue.record("Sources/TimerProtoC/\(path) is stale: run `make proto`")
        }
    }
}
