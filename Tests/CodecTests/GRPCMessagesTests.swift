import Foundation
import Testing
@testable import Codec

/// The messages of the standard gRPC services (health, reflection v1 and
/// v1alpha) against `protoc`, as ``ProtocCrossCheckTests`` does for the timer
/// API: bytes `protoc --encode` makes from a text-format fixture decode to the
/// expected Swift value, and what Swift encodes decodes with `protoc --decode`
/// to the same text. Every reflection fixture is checked under both packages.
@Suite("gRPC health and reflection messages")
struct GRPCMessagesTests {
    static let protoArguments = [
        "-Iproto", "-I/usr/include",
        "grpc/health/v1/health.proto",
        "grpc/reflection/v1/reflection.proto",
        "grpc/reflection/v1alpha/reflection.proto",
    ]

    func fixture(_ name: String) throws -> [UInt8] {
        let url = repositoryRoot.appendingPathComponent("Tests/CodecTests/Fixtures/\(name)")
        return try [UInt8](Data(contentsOf: url))
    }

    func protocEncode(_ type: String, _ text: [UInt8]) throws -> [UInt8] {
        try run("protoc", ["--encode=\(type)"] + Self.protoArguments, input: text)
    }

    func protocDecode(_ type: String, _ bytes: [UInt8]) throws -> String {
        String(decoding: try run("protoc", ["--decode=\(type)"] + Self.protoArguments, input: bytes), as: UTF8.self)
    }

    func crossCheck<M: ProtoMessage>(_ fixtureName: String, expected: M) throws {
        let text = try fixture(fixtureName)
        let protocBytes = try protocEncode(M.protoMessageName, text)
        let decoded = try M(serializedBytes: protocBytes)
        #expect(decoded == expected, "\(M.protoMessageName) from \(fixtureName)")

        let ours = try expected.serializedBytes()
        #expect(try protocDecode(M.protoMessageName, ours) == protocDecode(M.protoMessageName, protocBytes),
                "\(M.protoMessageName) from \(fixtureName)")
    }

    // MARK: - Health

    @Test("HealthCheckRequest about one service")
    func healthRequest() throws {
        let expected = GRPCHealthV1.HealthCheckRequest.with { $0.service = "servicevault.timer.v1.TimerService" }
        try crossCheck("grpc_health_request.txtpb", expected: expected)
    }

    @Test("HealthCheckResponse NOT_SERVING")
    func healthResponse() throws {
        let expected = GRPCHealthV1.HealthCheckResponse.with { $0.status = .notServing }
        try crossCheck("grpc_health_response.txtpb", expected: expected)
    }

    @Test("ServingStatus numbers are those of the standard")
    func servingStatusNumbers() throws {
        typealias Status = GRPCHealthV1.HealthCheckResponse.ServingStatus
        #expect([Status.unknown, .serving, .notServing, .serviceUnknown].map(\.rawValue) == [0, 1, 2, 3])
        #expect(Status(rawValue: 9) == .unrecognized(9))
        let response = GRPCHealthV1.HealthCheckResponse.with { $0.status = .unrecognized(9) }
        #expect(try GRPCHealthV1.HealthCheckResponse(serializedBytes: response.serializedBytes()).status == .unrecognized(9))
        #expect(try GRPCHealthV1.HealthCheckResponse.with { $0.status = .serving }.serializedBytes() == [0x08, 0x01])
    }

    // MARK: - Reflection requests, one per oneof case

    /// One fixture and the v1 value it holds.
    struct RequestCase: Sendable, CustomTestStringConvertible {
        var fixture: String
        var expected: GRPCReflectionV1.ServerReflectionRequest
        var testDescription: String { fixture }
    }

    static let requestCases: [RequestCase] = [
        RequestCase(fixture: "grpc_reflection_request_file_by_filename.txtpb", expected: .with {
            $0.host = "localhost:50051"
            $0.messageRequest = .fileByFilename("servicevault/timer/v1/timer_service.proto")
        }),
        RequestCase(fixture: "grpc_reflection_request_file_containing_symbol.txtpb", expected: .with {
            $0.messageRequest = .fileContainingSymbol("servicevault.timer.v1.TimerService.CreateTimer")
        }),
        RequestCase(fixture: "grpc_reflection_request_file_containing_extension.txtpb", expected: .with {
            $0.host = "timers.example"
            $0.messageRequest = .fileContainingExtension(.with {
                $0.containingType = "google.protobuf.MethodOptions"
                $0.extensionNumber = 72_295_728
            })
        }),
        RequestCase(fixture: "grpc_reflection_request_all_extension_numbers_of_type.txtpb", expected: .with {
            $0.messageRequest = .allExtensionNumbersOfType("google.protobuf.FieldOptions")
        }),
        RequestCase(fixture: "grpc_reflection_request_list_services.txtpb", expected: .with {
            $0.messageRequest = .listServices("")
        }),
    ]

    @Test("ServerReflectionRequest v1", arguments: requestCases)
    func requestV1(_ testCase: RequestCase) throws {
        try crossCheck(testCase.fixture, expected: testCase.expected)
    }

    @Test("ServerReflectionRequest v1alpha", arguments: requestCases)
    func requestV1Alpha(_ testCase: RequestCase) throws {
        try crossCheck(testCase.fixture, expected: Self.alpha(testCase.expected))
    }

    // MARK: - Reflection responses

    /// One fixture and the v1 value it holds.
    struct ResponseCase: Sendable, CustomTestStringConvertible {
        var fixture: String
        var expected: GRPCReflectionV1.ServerReflectionResponse
        var testDescription: String { fixture }
    }

    static let responseCases: [ResponseCase] = [
        ResponseCase(fixture: "grpc_reflection_response_file_descriptor.txtpb", expected: .with {
            $0.validHost = "localhost:50051"
            $0.originalRequest = .with {
                $0.host = "localhost:50051"
                $0.messageRequest = .fileContainingSymbol("grpc.health.v1.Health")
            }
            $0.messageResponse = .fileDescriptorResponse(.with {
                $0.fileDescriptorProto = [
                    [0x0a, 27] + Array("grpc/health/v1/health.proto".utf8)
                        + [0x12, 14] + Array("grpc.health.v1".utf8) + [0x00, 0x00, 0x22, 0x00],
                    [0x00, 0x01, 0x02, 0x00, 0xff, 0xfe, 0xfd, 0x00],
                ]
            })
        }),
        ResponseCase(fixture: "grpc_reflection_response_list_services.txtpb", expected: .with {
            $0.validHost = "localhost:50051"
            $0.originalRequest = .with { $0.messageRequest = .listServices("*") }
            $0.messageResponse = .listServicesResponse(.with {
                $0.service = [
                    "grpc.health.v1.Health",
                    "grpc.reflection.v1.ServerReflection",
                    "grpc.reflection.v1alpha.ServerReflection",
                    "servicevault.timer.v1.TimerService",
                ].map { name in .with { $0.name = name } }
            })
        }),
        ResponseCase(fixture: "grpc_reflection_response_error.txtpb", expected: .with {
            $0.originalRequest = .with { $0.messageRequest = .fileContainingSymbol("no.such.Symbol") }
            $0.messageResponse = .errorResponse(.with {
                $0.errorCode = 5
                $0.errorMessage = "symbol not found: no.such.Symbol"
            })
        }),
        ResponseCase(fixture: "grpc_reflection_response_extension_numbers.txtpb", expected: .with {
            $0.originalRequest = .with { $0.messageRequest = .allExtensionNumbersOfType("google.protobuf.FieldOptions") }
            $0.messageResponse = .allExtensionNumbersResponse(.with {
                $0.baseTypeName = "google.protobuf.FieldOptions"
                $0.extensionNumber = [1_000, 536_870_911, 50_000]
            })
        }),
    ]

    @Test("ServerReflectionResponse v1", arguments: responseCases)
    func responseV1(_ testCase: ResponseCase) throws {
        try crossCheck(testCase.fixture, expected: testCase.expected)
    }

    @Test("ServerReflectionResponse v1alpha", arguments: responseCases)
    func responseV1Alpha(_ testCase: ResponseCase) throws {
        try crossCheck(testCase.fixture, expected: Self.alpha(testCase.expected))
    }

    // MARK: - Oneofs and bytes

    @Test("every oneof case round trips, and an absent oneof stays nil")
    func oneofCases() throws {
        typealias Request = GRPCReflectionV1.ServerReflectionRequest
        let requests: [Request.MessageRequest] = [
            .fileByFilename("a.proto"), .fileByFilename(""),
            .fileContainingSymbol("pkg.Service"), .fileContainingSymbol(""),
            .fileContainingExtension(.with { $0.containingType = "pkg.M"; $0.extensionNumber = -1 }),
            .fileContainingExtension(.init()),
            .allExtensionNumbersOfType("pkg.M"), .allExtensionNumbersOfType(""),
            .listServices("*"), .listServices(""),
        ]
        for messageRequest in requests {
            let request = Request.with { $0.host = "h"; $0.messageRequest = messageRequest }
            #expect(try Request(serializedBytes: request.serializedBytes()) == request)
            let alpha = Self.alpha(request)
            #expect(try GRPCReflectionV1Alpha.ServerReflectionRequest(serializedBytes: alpha.serializedBytes()) == alpha)
        }
        let hostOnly = try Request(serializedBytes: Request.with { $0.host = "h" }.serializedBytes())
        #expect(hostOnly.messageRequest == nil)
        #expect(try Request(serializedBytes: []).messageRequest == nil)

        typealias Response = GRPCReflectionV1.ServerReflectionResponse
        let responses: [Response.MessageResponse] = [
            .fileDescriptorResponse(.with { $0.fileDescriptorProto = [[0], [], [1, 0, 2]] }),
            .fileDescriptorResponse(.init()),
            .allExtensionNumbersResponse(.with { $0.baseTypeName = "pkg.M"; $0.extensionNumber = [1, .max, .min] }),
            .allExtensionNumbersResponse(.init()),
            .listServicesResponse(.with { $0.service = [.with { $0.name = "pkg.S" }, .init()] }),
            .listServicesResponse(.init()),
            .errorResponse(.with { $0.errorCode = 12; $0.errorMessage = "unimplemented" }),
            .errorResponse(.init()),
        ]
        for messageResponse in responses {
            let response = Response.with { $0.originalRequest = .init(); $0.messageResponse = messageResponse }
            #expect(try Response(serializedBytes: response.serializedBytes()) == response)
            let alpha = Self.alpha(response)
            #expect(try GRPCReflectionV1Alpha.ServerReflectionResponse(serializedBytes: alpha.serializedBytes()) == alpha)
        }
        let noAnswer = try Response(serializedBytes: Response.with { $0.validHost = "h" }.serializedBytes())
        #expect(noAnswer.messageResponse == nil)
        #expect(noAnswer.originalRequest == nil)
    }

    @Test("a set oneof member is on the wire even when empty")
    func emptyOneofMembers() throws {
        typealias Request = GRPCReflectionV1.ServerReflectionRequest
        // Field 7 (list_services), length 0; field 5 (file_containing_extension), length 0.
        #expect(try Request.with { $0.messageRequest = .listServices("") }.serializedBytes() == [0x3a, 0x00])
        #expect(try Request.with { $0.messageRequest = .fileContainingExtension(.init()) }.serializedBytes() == [0x2a, 0x00])
        #expect(try Request(serializedBytes: [0x3a, 0x00]).messageRequest == .listServices(""))
        #expect(try Request().serializedBytes() == [])

        typealias Response = GRPCReflectionV1.ServerReflectionResponse
        // Field 4 (file_descriptor_response), length 0.
        #expect(try Response.with { $0.messageResponse = .fileDescriptorResponse(.init()) }.serializedBytes() == [0x22, 0x00])
        #expect(try Response(serializedBytes: [0x22, 0x00]).messageResponse == .fileDescriptorResponse(.init()))
    }

    @Test("of several members of one oneof on the wire, the last one counts")
    func lastOneofMemberWins() throws {
        var w = WireWriter()
        w.tag(3, 2); w.lengthDelimited(Array("first.proto".utf8))              // file_by_filename
        w.tag(5, 2); w.lengthDelimited([0x10, 0x07])                           // file_containing_extension
        w.tag(4, 2); w.lengthDelimited(Array("pkg.Last".utf8))                 // file_containing_symbol
        let request = try GRPCReflectionV1.ServerReflectionRequest(serializedBytes: w.bytes)
        #expect(request.messageRequest == .fileContainingSymbol("pkg.Last"))
        let alpha = try GRPCReflectionV1Alpha.ServerReflectionRequest(serializedBytes: w.bytes)
        #expect(alpha.messageRequest == .fileContainingSymbol("pkg.Last"))
    }

    @Test("bytes fields keep every byte, NUL included, and empty elements")
    func bytesFields() throws {
        typealias Files = GRPCReflectionV1.FileDescriptorResponse
        let files = Files.with { $0.fileDescriptorProto = [[], [0x00], [0x00, 0xff, 0x00], Array(repeating: 0, count: 300)] }
        let encoded = try files.serializedBytes()
        #expect(encoded.prefix(6) == [0x0a, 0x00, 0x0a, 0x01, 0x00, 0x0a])
        #expect(try Files(serializedBytes: encoded) == files)
        #expect(try protocDecode(Files.protoMessageName, encoded).hasPrefix("file_descriptor_proto: \"\"\nfile_descriptor_proto: \"\\000\"\n"))
    }

    @Test("a string with U+0000 in a oneof member is refused with its path")
    func nulInOneofString() throws {
        let request = GRPCReflectionV1Alpha.ServerReflectionRequest.with { $0.messageRequest = .fileByFilename("a\u{0}b") }
        #expect(throws: CodecError(code: .unrepresentableString,
                                   path: "grpc.reflection.v1alpha.ServerReflectionRequest.file_by_filename",
                                   reason: "string contains U+0000, which cannot be encoded")) {
            _ = try request.serializedBytes()
        }
    }

    @Test("every message of the gRPC protos has a Swift type", arguments: [
        ("grpc/health/v1/health.proto", "grpc.health.v1"),
        ("grpc/reflection/v1/reflection.proto", "grpc.reflection.v1"),
        ("grpc/reflection/v1alpha/reflection.proto", "grpc.reflection.v1alpha"),
    ])
    func everyMessageHasASwiftType(file: String, package: String) throws {
        let source = try String(contentsOf: repositoryRoot.appendingPathComponent("proto/\(file)"), encoding: .utf8)
        let names = source.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("message ") else { return nil }
            return String(line.dropFirst("message ".count).prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        }
        #expect(!names.isEmpty)
        for name in names {
            #expect(MessageTypes.named("\(package).\(name)") != nil, "no Swift type for \(package).\(name)")
        }
    }

    // MARK: - v1 values as v1alpha values, field by field

    static func alpha(_ v: GRPCReflectionV1.ExtensionRequest) -> GRPCReflectionV1Alpha.ExtensionRequest {
        .with { $0.containingType = v.containingType; $0.extensionNumber = v.extensionNumber }
    }

    static func alpha(_ v: GRPCReflectionV1.ServerReflectionRequest) -> GRPCReflectionV1Alpha.ServerReflectionRequest {
        .with {
            $0.host = v.host
            switch v.messageRequest {
            case nil: $0.messageRequest = nil
            case .fileByFilename(let s)?: $0.messageRequest = .fileByFilename(s)
            case .fileContainingSymbol(let s)?: $0.messageRequest = .fileContainingSymbol(s)
            case .fileContainingExtension(let e)?: $0.messageRequest = .fileContainingExtension(alpha(e))
            case .allExtensionNumbersOfType(let s)?: $0.messageRequest = .allExtensionNumbersOfType(s)
            case .listServices(let s)?: $0.messageRequest = .listServices(s)
            }
        }
    }

    static func alpha(_ v: GRPCReflectionV1.ServerReflectionResponse) -> GRPCReflectionV1Alpha.ServerReflectionResponse {
        .with {
            $0.validHost = v.validHost
            $0.originalRequest = v.originalRequest.map(alpha)
            switch v.messageResponse {
            case nil:
                $0.messageResponse = nil
            case .fileDescriptorResponse(let r)?:
                $0.messageResponse = .fileDescriptorResponse(.with { $0.fileDescriptorProto = r.fileDescriptorProto })
            case .allExtensionNumbersResponse(let r)?:
                $0.messageResponse = .allExtensionNumbersResponse(.with {
                    $0.baseTypeName = r.baseTypeName
                    $0.extensionNumber = r.extensionNumber
                })
            case .listServicesResponse(let r)?:
                $0.messageResponse = .listServicesResponse(.with {
                    $0.service = r.service.map { s in .with { $0.name = s.name } }
                })
            case .errorResponse(let r)?:
                $0.messageResponse = .errorResponse(.with {
                    $0.errorCode = r.errorCode
                    $0.errorMessage = r.errorMessage
                })
            }
        }
    }
}
