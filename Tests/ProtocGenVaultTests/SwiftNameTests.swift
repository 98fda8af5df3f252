import Testing
@testable import protoc_gen_vault

@Suite("Proto names become Swift names")
struct SwiftNameTests {
    @Test(arguments: [
        ("CreateTimer", "createTimer"),
        ("ServerReflectionInfo", "serverReflectionInfo"),
        ("Check", "check"),
        ("HTTPStatus", "httpStatus"),
        ("URL", "url"),
        ("ABC1Thing", "abc1Thing"),
        ("get_timer", "getTimer"),
        ("Get_URL", "getURL"),
        ("getTimer", "getTimer"),
        ("_Private", "private"),
    ])
    func lowerCamelCase(_ proto: String, _ swift: String) {
        #expect(SwiftName.lowerCamelCase(proto) == swift)
    }

    @Test func keywordsGetBackticks() {
        #expect(SwiftName.escaped("import") == "`import`")
        #expect(SwiftName.escaped("default") == "`default`")
        #expect(SwiftName.escaped("self") == "`self`")
        #expect(SwiftName.escaped("init") == "`init`")
        #expect(SwiftName.escaped("createTimer") == "createTimer")
        #expect(SwiftName.escaped(SwiftName.lowerCamelCase("Private")) == "`private`")
    }

    @Test func identifiers() {
        #expect(SwiftName.isIdentifier("GRPCHealthV1"))
        #expect(SwiftName.isIdentifier("_x1"))
        #expect(!SwiftName.isIdentifier("1x"))
        #expect(!SwiftName.isIdentifier(""))
        #expect(!SwiftName.isIdentifier("a.b"))
        #expect(SwiftName.isQualifiedIdentifier("Outer.Inner"))
        #expect(!SwiftName.isQualifiedIdentifier("Outer..Inner"))
    }

    @Test func outputNames() {
        #expect(StubGenerator.outputName(for: "grpc/health/v1/health.proto", naming: .fullPath) == "grpc/health/v1/health.grpc.swift")
        #expect(StubGenerator.outputName(for: "grpc/health/v1/health.proto", naming: .pathToUnderscores)
            == "grpc_health_v1_health.grpc.swift")
    }

    @Test func commentsLoseTheSpaceAfterSlashesAndBlankEnds() {
        #expect(StubGenerator.normalizedComment(" One.\n Two:\n   indented  \n\n") == "One.\nTwo:\n  indented")
        #expect(StubGenerator.normalizedComment("") == "")
    }
}
