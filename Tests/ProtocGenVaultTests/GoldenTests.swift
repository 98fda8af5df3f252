import Foundation
import Testing

/// One run of protoc over the golden protos, and the folder under
/// `Golden/expected/` holding what it must write, byte for byte.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    /// The folder under `Golden/expected/`.
    var name: String
    /// The `--vault_opt` value.
    var options: String

    var testDescription: String { name }

    /// The command the DO NOT EDIT line of golden files names.
    static let command = "command=UPDATE_GOLDEN=1 swift test --filter ProtocGenVaultTests"

    static let all = [
        // Every part, in a namespace, with a rename and package visibility.
        GoldenCase(name: "namespaced", options: "visibility=package,namespace=kitchen.v1:KitchenV1,"
            + "rename=kitchen.v1.Timer:KitchenTimer,import=Codec,import=RPC,\(command)"),
        // The server side with the method descriptors, public, no namespace.
        GoldenCase(name: "server", options: "client=false,rename=kitchen.v1.Timer:KitchenTimer,"
            + "import=Codec,import=RPC,\(command)"),
        // The client side alone, with file names from the whole path.
        GoldenCase(name: "client", options: "server=false,methods=false,file_naming=PathToUnderscores,"
            + "rename=kitchen.v1.Timer:KitchenTimer,import=Codec,import=RPC,\(command)"),
    ]
}

/// Golden tests: real protoc runs the built plugin over `Golden/protos/` and
/// the output must equal `Golden/expected/<case>/`. `UPDATE_GOLDEN=1`
/// rewrites the expected files instead (review the diff before committing).
@Suite("Generated stubs match the golden files")
struct GoldenTests {
    /// The golden protos: `kitchen.proto` has two services with every kind of
    /// call; `pantry.proto` has messages only, so it yields no file.
    static let protos = ["kitchen/v1/kitchen.proto", "pantry/v1/pantry.proto"]

    @Test(arguments: GoldenCase.all)
    func golden(_ golden: GoldenCase) throws {
        let plugin = try requirePlugin()
        let output = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try runProcess("protoc", [
            "-I.", "--plugin=protoc-gen-vault=\(plugin)", "--vault_out=\(output.path)", "--vault_opt=\(golden.options)",
        ] + Self.protos, in: goldenRoot.appendingPathComponent("protos"))
        try #require(result.status == 0, "protoc failed: \(result.errors)")
        let generated = try files(under: output)
        #expect(generated.count == 1, "one file: kitchen.proto has services, pantry.proto has none")

        let expectedFolder = goldenRoot.appendingPathComponent("expected/\(golden.name)")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: expectedFolder)
            for (path, data) in generated {
                let url = expectedFolder.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: url)
            }
            return
        }
        let expected = try files(under: expectedFolder)
        #expect(generated.keys.sorted() == expected.keys.sorted(), "the files written differ from Golden/expected/\(golden.name)")
        for (path, data) in generated.sorted(by: { $0.key < $1.key }) {
            guard let want = expected[path] else { continue }
            #expect(data == want, "\(path) differs from Golden/expected/\(golden.name) at \(firstDifference(data, want)); UPDATE_GOLDEN=1 rewrites it")
        }
    }

    @Test("the same request gives the same bytes")
    func deterministic() throws {
        let plugin = try requirePlugin()
        var outputs: [[String: Data]] = []
        for _ in 0..<2 {
            let output = try temporaryFolder()
            defer { try? FileManager.default.removeItem(at: output) }
            let result = try runProcess("protoc", [
                "-I.", "--plugin=protoc-gen-vault=\(plugin)", "--vault_out=\(output.path)",
                "--vault_opt=\(GoldenCase.all[0].options)",
            ] + Self.protos, in: goldenRoot.appendingPathComponent("protos"))
            try #require(result.status == 0, "protoc failed: \(result.errors)")
            outputs.append(try files(under: output))
        }
        #expect(outputs[0] == outputs[1])
    }
}
