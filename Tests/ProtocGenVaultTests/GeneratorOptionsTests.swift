import Testing
@testable import protoc_gen_vault

@Suite("Plugin parameters")
struct GeneratorOptionsTests {
    @Test func defaults() throws {
        let options = try GeneratorOptions(parameter: "")
        #expect(options == GeneratorOptions())
        #expect(options.server && options.client && options.methods)
        #expect(options.visibility == .public)
        #expect(options.fileNaming == .fullPath)
        #expect(options.imports.isEmpty)
        #expect(options.command == "make proto")
    }

    @Test func everyKey() throws {
        let options = try GeneratorOptions(parameter: """
            server=false, client=true,methods=false,visibility=package,\
            namespace=grpc.health.v1:GRPCHealthV1,namespace=a.b:Outer.AB,\
            rename=.servicevault.timer.v1.Timer:VaultTimer,import=Codec,import=RPC,import=Codec,\
            file_naming=PathToUnderscores,command=make proto
            """)
        #expect(!options.server && options.client && !options.methods)
        #expect(options.visibility == .package)
        #expect(options.namespaces == ["grpc.health.v1": "GRPCHealthV1", "a.b": "Outer.AB"])
        #expect(options.renames == ["servicevault.timer.v1.Timer": "VaultTimer"])
        #expect(options.imports == ["Codec", "RPC"])
        #expect(options.fileNaming == .pathToUnderscores)
        #expect(options.command == "make proto")
    }

    @Test(arguments: [
        ("server=yes", "server=yes: expected true or false"),
        ("server", "parameter `server` is not key=value"),
        ("namespace=a.b:X,namespace=a.b:Y", "package a.b already has namespace X"),
        ("rename=a.M:X,rename=a.M:Y", "message a.M is already renamed X"),
        ("rename=a.M:Outer.X", "`Outer.X` is not a valid Swift name"),
        ("namespace=a b:X", "`a b` is not a valid proto package name"),
        ("import=Not A Module", "import=Not A Module: expected a Swift module name"),
        ("file_naming=DropPath", "expected FullPath or PathToUnderscores"),
    ])
    func refused(_ parameter: String, _ message: String) {
        #expect {
            try GeneratorOptions(parameter: parameter)
        } throws: { error in
            (error as? GeneratorError)?.message.contains(message) == true
        }
    }
}
