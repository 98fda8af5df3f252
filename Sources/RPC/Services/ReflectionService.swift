import Codec
import Foundation

/// gRPC server reflection (`grpc.reflection.v1` and `grpc.reflection.v1alpha`)
/// from embedded descriptor sets, so tools such as grpcurl can list and
/// describe the services without the proto files.
///
/// Answers each request on the stream in order: the file containing a symbol
/// or with a name (with the files it imports), the services, or the
/// extension numbers of a message; an unknown name gets an error response
/// with `NOT_FOUND`, and the stream goes on.
public struct ReflectionService: RPCService {
    private let index: DescriptorIndex
    private let serviceNames: [String]

    /// Reflection over `descriptorSets` (base64 of serialized
    /// FileDescriptorSets, as in ``EmbeddedDescriptorSets``), listing
    /// `services`, or every service the sets declare when nil.
    public init(descriptorSets: [String], services: [String]? = nil) throws(RPCError) {
        var decoded: [[UInt8]] = []
        for set in descriptorSets {
            guard let data = Data(base64Encoded: set, options: .ignoreUnknownCharacters) else {
                throw RPCError(code: .internalError, message: "an embedded descriptor set is not base64")
            }
            decoded.append([UInt8](data))
        }
        index = try DescriptorIndex(descriptorSets: decoded)
        serviceNames = (services ?? index.services).sorted()
    }

    public func registerMethods(with router: inout MethodRouter) {
        V1(reflection: self).registerMethods(with: &router)
        V1Alpha(reflection: self).registerMethods(with: &router)
    }

    /// A question, the same in both versions.
    enum Question {
        case fileByFilename(String)
        case fileContainingSymbol(String)
        case fileContainingExtension(type: String, number: Int32)
        case allExtensionNumbers(type: String)
        case listServices
    }

    /// An answer, the same in both versions.
    enum Answer {
        case files([[UInt8]])
        case services([String])
        case extensionNumbers(type: String, numbers: [Int32])
        case error(StatusCode, String)
    }

    func answer(_ question: Question?) -> Answer {
        switch question {
        case nil:
            return .error(.invalidArgument, "the request asks nothing (message_request is not set)")
        case .listServices:
            return .services(serviceNames)
        case .fileByFilename(let name):
            guard index.files[name] != nil else { return .error(.notFound, "unknown file \"\(name)\"") }
            return .files(index.withDependencies(name))
        case .fileContainingSymbol(let symbol):
            let trimmed = symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
            guard let file = index.symbols[trimmed] else { return .error(.notFound, "unknown symbol \"\(symbol)\"") }
            return .files(index.withDependencies(file))
        case .fileContainingExtension(let type, let number):
            guard let file = index.extensions[type]?.first(where: { $0.number == number })?.file else {
                return .error(.notFound, "no extension \(number) of \"\(type)\"")
            }
            return .files(index.withDependencies(file))
        case .allExtensionNumbers(let type):
            guard index.symbols[type] != nil else { return .error(.notFound, "unknown type \"\(type)\"") }
            return .extensionNumbers(type: type, numbers: (index.extensions[type] ?? []).map(\.number))
        }
    }

    struct V1: GRPCReflectionV1.ServerReflectionProvider {
        let reflection: ReflectionService
        typealias V = GRPCReflectionV1

        func serverReflectionInfo(_ requests: RequestStream<V.ServerReflectionRequest>,
                                  responses: ResponseWriter<V.ServerReflectionResponse>, context: ServerContext) async throws {
            for try await request in requests {
                let question: Question? = switch request.messageRequest {
                case .fileByFilename(let name): .fileByFilename(name)
                case .fileContainingSymbol(let symbol): .fileContainingSymbol(symbol)
                case .fileContainingExtension(let ext): .fileContainingExtension(type: ext.containingType, number: ext.extensionNumber)
                case .allExtensionNumbersOfType(let type): .allExtensionNumbers(type: type)
                case .listServices: .listServices
                case nil: nil
                }
                var response = V.ServerReflectionResponse()
                response.validHost = request.host
                response.originalRequest = request
                response.messageResponse = switch reflection.answer(question) {
                case .files(let files): .fileDescriptorResponse(.with { $0.fileDescriptorProto = files })
                case .services(let names): .listServicesResponse(.with { $0.service = names.map { name in .with { $0.name = name } } })
                case .extensionNumbers(let type, let numbers):
                    .allExtensionNumbersResponse(.with { $0.baseTypeName = type; $0.extensionNumber = numbers })
                case .error(let code, let message):
                    .errorResponse(.with { $0.errorCode = Int32(code.rawValue); $0.errorMessage = message })
                }
                try await responses.send(response)
            }
        }
    }

    struct V1Alpha: GRPCReflectionV1Alpha.ServerReflectionProvider {
        let reflection: ReflectionService
        typealias V = GRPCReflectionV1Alpha

        func serverReflectionInfo(_ requests: RequestStream<V.ServerReflectionRequest>,
                                  responses: ResponseWriter<V.ServerReflectionResponse>, context: ServerContext) async throws {
            for try await request in requests {
                let question: Question? = switch request.messageRequest {
                case .fileByFilename(let name): .fileByFilename(name)
                case .fileContainingSymbol(let symbol): .fileContainingSymbol(symbol)
                case .fileContainingExtension(let ext): .fileContainingExtension(type: ext.containingType, number: ext.extensionNumber)
                case .allExtensionNumbersOfType(let type): .allExtensionNumbers(type: type)
                case .listServices: .listServices
                case nil: nil
                }
                var response = V.ServerReflectionResponse()
                response.validHost = request.host
                response.originalRequest = request
                response.messageResponse = switch reflection.answer(question) {
                case .files(let files): .fileDescriptorResponse(.with { $0.fileDescriptorProto = files })
                case .services(let names): .listServicesResponse(.with { $0.service = names.map { name in .with { $0.name = name } } })
                case .extensionNumbers(let type, let numbers):
                    .allExtensionNumbersResponse(.with { $0.baseTypeName = type; $0.extensionNumber = numbers })
                case .error(let code, let message):
                    .errorResponse(.with { $0.errorCode = Int32(code.rawValue); $0.errorMessage = message })
                }
                try await responses.send(response)
            }
        }
    }
}
