#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `protoc-gen-vault`: the protoc plugin that writes Swift service stubs for
/// the `RPC` module. protoc runs it with a serialized `CodeGeneratorRequest`
/// on standard input and reads a `CodeGeneratorResponse` from standard
/// output; `--help` prints ``helpText``.
@main
enum ProtocGenVault {
    /// The usage text: how to run the plugin and every parameter.
    static let helpText = """
        protoc-gen-vault: Swift service stubs for the RPC module, as a protoc plugin.

        Usage:
          protoc --plugin=protoc-gen-vault=PATH --vault_out=DIR [--vault_opt=KEY=VALUE,...] FILE.proto...

        For each proto file that declares services, writes DIR/<path>.grpc.swift (the proto
        path with .proto replaced). Files without services produce nothing. For each service S:
          SMethods    an enum of MethodDescriptor constants, one per method (lowerCamelCase
                      names: CreateTimer -> createTimer), plus `serviceName` and `all`
          SProvider   the protocol a server implements (refines RPCService), with an
                      extension whose registerMethods(with:) registers every method
          SClient     a struct making typed calls through any RPCChannel

        Parameters (comma-separated; --vault_opt may be repeated). Give them with --vault_opt,
        not before a colon in --vault_out: protoc splits that at the first colon, and the
        values of namespace= and rename= contain one.
          server=true|false      emit SProvider and its registration (default true)
          client=true|false      emit SClient (default true)
          methods=true|false     emit SMethods (default true). SProvider and SClient refer to
                                 SMethods, so a file with methods=false compiles only in a
                                 module that sees SMethods from another generated file.
          visibility=public|package
                                 access level of every declaration (default public)
          namespace=PKG:Enum     nest the types of proto package PKG in `extension Enum` (the
                                 enum is declared elsewhere), e.g. grpc.health.v1:GRPCHealthV1
                                 gives GRPCHealthV1.HealthClient and message references such as
                                 GRPCHealthV1.HealthCheckRequest. Repeatable.
          rename=MSG:Name        the Swift name of message MSG (fully qualified), e.g.
                                 servicevault.timer.v1.Timer:VaultTimer; the namespace of its
                                 package still applies. Repeatable.
          import=Module          a module imported at the top of each file, in the order given.
                                 Repeatable; nothing is imported unless asked.
          file_naming=FullPath|PathToUnderscores
                                 output path: a/b/c.grpc.swift (default) or a_b_c.grpc.swift.
                                 A Swift module cannot hold two files of the same name, so
                                 a/v1/x.proto and a/v2/x.proto generated for one module need
                                 PathToUnderscores (the same values as protoc-gen-swift's).
          command=TEXT           the command named in the DO NOT EDIT line (default make proto)

        Where the parts go: SMethods is the contract both sides use. When a server and its
        clients live in one module, generate one file with everything. When they live in
        modules that must not depend on each other (a server module and a client library),
        generate each module's file with methods=true: each module declares its own SMethods,
        identical because they come from the same proto; code that imports both modules
        names the one it means (ClientLib.TimerServiceMethods).

        Unsupported (reported through protoc, nothing written): two outputs with the same file
        name (see file_naming); two methods of a service with the same Swift name; a method
        whose Swift name is `all` or `serviceName`; a message named Type, Protocol, Self or
        Any; a message whose Swift name is that of a generated type, or that would be written
        with the bare name of an RPC type (use rename= or namespace=).
        """

    /// Answers one protoc request from standard input on standard output, or
    /// prints ``helpText`` for `--help`.
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.contains("--help") || arguments.contains("-h") {
            print(helpText)
            return
        }
        if let argument = arguments.first {
            fail("unknown argument \(argument); see --help", status: 64)
        }
        if isatty(STDIN_FILENO) != 0 {
            fail("run by protoc (--plugin=protoc-gen-vault=PATH), not by hand; see --help", status: 64)
        }
        guard let input = readAll(STDIN_FILENO) else {
            fail("cannot read standard input: \(String(cString: strerror(errno)))", status: 1)
        }
        guard writeAll(respond(to: input), to: STDOUT_FILENO) else {
            fail("cannot write standard output: \(String(cString: strerror(errno)))", status: 1)
        }
    }

    /// The serialized response to a serialized request. Never fails: bytes
    /// that are not a request, bad parameters and unsupported constructs all
    /// give a response whose `error` says what is wrong.
    static func respond(to requestBytes: [UInt8]) -> [UInt8] {
        guard let request = PluginRequest(serializedBytes: requestBytes) else {
            return PluginResponse(error: "protoc-gen-vault: standard input is not a CodeGeneratorRequest").serializedBytes()
        }
        return StubGenerator.respond(to: request).serializedBytes()
    }

    /// Prints `message` on standard error and exits with `status`.
    private static func fail(_ message: String, status: Int32) -> Never {
        _ = writeAll(Array("protoc-gen-vault: \(message)\n".utf8), to: STDERR_FILENO)
        exit(status)
    }

    /// Everything up to end of file; nil on a read error.
    private static func readAll(_ descriptor: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += chunk[..<count]
            } else if count == 0 {
                return bytes
            } else if errno != EINTR {
                return nil
            }
        }
    }

    /// Writes every byte; false on a write error.
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count >= 0 {
                offset += count
            } else if errno != EINTR {
                return false
            }
        }
        return true
    }
}
