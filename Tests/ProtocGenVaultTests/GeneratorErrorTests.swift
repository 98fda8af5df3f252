import Foundation
import PluginProtoC
import Testing

/// A proto (or a parameter) the generator refuses, and the words its error
/// must contain.
struct RefusedCase: Sendable, CustomTestStringConvertible {
    var name: String
    /// Path → text of the protos; every one is passed to protoc.
    var protos: [String: String]
    var options: String = ""
    var message: String

    var testDescription: String { name }

    static func service(_ body: String, messages: String = "message M {}") -> [String: String] {
        ["refused/v1/refused.proto": """
            syntax = "proto3";
            package refused.v1;
            \(messages)
            service Thing {
            \(body)
            }
            """]
    }

    static let all = [
        RefusedCase(
            name: "two methods with one Swift name",
            protos: service("rpc GetThing(M) returns (M);\nrpc get_thing(M) returns (M);"),
            message: "GetThing and get_thing both become `getThing` in Swift"),
        RefusedCase(
            name: "a method named like a member of the Methods enum",
            protos: service("rpc All(M) returns (M);"),
            message: "its Swift name `all` is taken by ThingMethods.all"),
        RefusedCase(
            name: "a message with the bare name of an RPC type",
            protos: service("rpc Get(CallOptions) returns (CallOptions);", messages: "message CallOptions {}"),
            message: "would be written `CallOptions`, which names a type of the RPC module"),
        RefusedCase(
            name: "a message named Type",
            protos: service("rpc Get(Type) returns (M);", messages: "message M {}\nmessage Type {}"),
            message: "message refused.v1.Type cannot be named Type in Swift"),
        RefusedCase(
            name: "a message named like a generated type",
            protos: service("rpc Get(M) returns (M);", messages: "message M {}\nmessage ThingClient {}"),
            message: "message refused.v1.ThingClient has the Swift name ThingClient, which the stubs declare"),
        RefusedCase(
            name: "two outputs with one file name",
            protos: [
                "refused/v1/same.proto": "syntax = \"proto3\";\npackage refused.v1;\nmessage M {}\nservice A { rpc Get(M) returns (M); }",
                "refused/v2/same.proto": "syntax = \"proto3\";\npackage refused.v2;\nmessage M {}\nservice B { rpc Get(M) returns (M); }",
            ],
            message: "both give a file named same.grpc.swift, which one Swift module cannot hold: use file_naming=PathToUnderscores"),
        RefusedCase(
            name: "an unknown parameter", protos: service("rpc Get(M) returns (M);"), options: "colour=blue",
            message: "unknown parameter `colour`"),
        RefusedCase(
            name: "a bad visibility", protos: service("rpc Get(M) returns (M);"), options: "visibility=private",
            message: "visibility=private: expected public or package"),
        RefusedCase(
            name: "a malformed namespace", protos: service("rpc Get(M) returns (M);"), options: "namespace=refused.v1",
            message: "namespace=refused.v1: expected <proto package>:<Swift enum>"),
        RefusedCase(
            name: "nothing to generate", protos: service("rpc Get(M) returns (M);"),
            options: "server=false,client=false,methods=false", message: "leave nothing to generate"),
    ]
}

/// Unsupported input ends in a response whose `error` protoc reports, never
/// in a crash or a partial output.
@Suite("Unsupported input is reported, not crashed on")
struct GeneratorErrorTests {
    @Test(arguments: RefusedCase.all)
    func refused(_ refused: RefusedCase) throws {
        let plugin = try requirePlugin()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let protos = folder.appendingPathComponent("protos"), output = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        for (path, text) in refused.protos {
            let url = protos.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let result = try runProcess("protoc", [
            "-I.", "--plugin=protoc-gen-vault=\(plugin)", "--vault_out=\(output.path)", "--vault_opt=\(refused.options)",
        ] + refused.protos.keys.sorted(), in: protos)
        #expect(result.status != 0)
        // protoc prints a response's error after the output flag's name; a
        // plugin that crashed would read "Plugin failed with status code".
        #expect(result.errors.contains("--vault_out: "), "\(result.errors)")
        #expect(result.errors.contains(refused.message), "\(result.errors)")
        #expect(!result.errors.contains("Plugin failed"), "\(result.errors)")
        #expect(try files(under: output).isEmpty)
    }

    /// Decodes a response with protobuf-c: its error, file names and features.
    func decodeResponse(_ bytes: Data) throws -> (error: String?, files: [String], features: UInt64?) {
        let bytes = [UInt8](bytes)
        let response = try #require(bytes.withUnsafeBufferPointer { buffer in
            google__protobuf__compiler__code_generator_response__unpack(nil, buffer.count, buffer.baseAddress)
        }, "the plugin's output is not a CodeGeneratorResponse")
        defer { google__protobuf__compiler__code_generator_response__free_unpacked(response, nil) }
        let files = (0..<response.pointee.n_file).map { String(cString: response.pointee.file[$0]!.pointee.name) }
        return (
            response.pointee.error.map { String(cString: $0) },
            files,
            response.pointee.has_supported_features != 0 ? response.pointee.supported_features : nil
        )
    }

    @Test("bytes that are not a request get a response with error set, and exit status 0")
    func garbageRequest() throws {
        let plugin = try requirePlugin()
        let result = try runProcess(plugin, [], input: Data([0xFF, 0xFF, 0xFF, 0x0A]))
        #expect(result.status == 0, "\(result.errors)")
        let response = try decodeResponse(result.output)
        #expect(response.error == "protoc-gen-vault: standard input is not a CodeGeneratorRequest")
        #expect(response.files.isEmpty)
    }

    @Test("an empty request gets an empty response declaring proto3 optional support")
    func emptyRequest() throws {
        let plugin = try requirePlugin()
        let result = try runProcess(plugin, [])
        #expect(result.status == 0, "\(result.errors)")
        let response = try decodeResponse(result.output)
        #expect(response.error == nil)
        #expect(response.files.isEmpty)
        #expect(response.features == 1, "FEATURE_PROTO3_OPTIONAL")
    }

    @Test("--help documents every parameter")
    func help() throws {
        let plugin = try requirePlugin()
        let result = try runProcess(plugin, ["--help"])
        #expect(result.status == 0)
        let text = String(decoding: result.output, as: UTF8.self)
        for key in ["server=", "client=", "methods=", "visibility=", "namespace=", "rename=", "import=", "file_naming=", "command="] {
            #expect(text.contains(key), "--help does not mention \(key)")
        }
    }
}
