// interop-client: gRPC's interop test client on this project's gRPC layer,
// with the flags of grpc's own interop clients, so that it can be pointed at
// any implementation's interop server.
//
//   interop-client --server_host=H --server_port=N --test_case=NAME
//                  [--use_tls=true [--use_test_ca=true --ca_file=PEM] [--server_host_override=NAME]]
//                  [--soak_iterations=N --soak_max_failures=N
//                   --soak_per_iteration_max_acceptable_latency_ms=N --soak_overall_timeout_seconds=N]
//
// Exit status 0 when the case passes; otherwise 1, with the reason on stderr.
// --test_case=all runs every case in turn, on one connection; so does a
// comma-separated list of cases.
import ArgumentParser
import Interop
import RPC

@main
struct InteropClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-client",
        abstract: "Runs a gRPC interop test case against a grpc.testing.TestService server.",
        discussion: "Cases: \(InteropTestCases.names.joined(separator: ", ")), or all.")

    @Option(name: .customLong("server_host"), help: "The server's host name or address.")
    var serverHost: String = "127.0.0.1"

    @Option(name: .customLong("server_port"), help: "The server's port.")
    var serverPort: Int

    @Option(name: .customLong("test_case"), help: "The case to run.")
    var testCase: String

    @Option(name: .customLong("use_tls"), help: "Connect with TLS.")
    var useTLS: Bool = false

    @Option(name: .customLong("use_test_ca"), help: "Trust the test CA of --ca_file instead of the system's roots.")
    var useTestCA: Bool = false

    @Option(name: .customLong("ca_file"), help: "PEM file of the test CA (with --use_test_ca=true).")
    var caFile: String?

    @Option(name: .customLong("server_host_override"), help: "The name to verify in the server's certificate (and send as SNI).")
    var serverHostOverride: String?

    @Option(name: .customLong("soak_iterations"), help: "rpc_soak: calls to make.")
    var soakIterations: Int = 10

    @Option(name: .customLong("soak_max_failures"), help: "rpc_soak: failed or slow calls tolerated.")
    var soakMaxFailures: Int = 0

    @Option(name: .customLong("soak_per_iteration_max_acceptable_latency_ms"), help: "rpc_soak: a slower call counts as failed.")
    var soakMaxLatencyMs: Int = 1_000

    @Option(name: .customLong("soak_overall_timeout_seconds"), help: "rpc_soak: the time all calls must fit in.")
    var soakOverallTimeoutSeconds: Int = 10

    /// The cases to run, in order: `all`, or names separated by commas.
    var cases: [String] {
        testCase == "all" ? InteropTestCases.names : testCase.split(separator: ",").map(String.init)
    }

    func validate() throws {
        guard (1...65_535).contains(serverPort) else { throw ValidationError("--server_port must be 1...65535, not \(serverPort)") }
        for name in cases where !InteropTestCases.names.contains(name) {
            throw ValidationError("unknown --test_case '\(name)'; known: \(InteropTestCases.names.joined(separator: ", ")), all")
        }
        if useTestCA && caFile == nil { throw ValidationError("--use_test_ca=true needs --ca_file") }
        guard soakIterations > 0, soakMaxFailures >= 0, soakMaxLatencyMs > 0, soakOverallTimeoutSeconds > 0 else {
            throw ValidationError("the --soak_* values must be positive (--soak_max_failures may be 0)")
        }
    }

    func run() async throws {
        let host = serverHost.contains(":") ? "[\(serverHost)]" : serverHost
        var tls: GRPCChannel.Configuration.TLS?
        if useTLS {
            tls = .init(trustRoots: useTestCA ? caFile : nil, serverName: serverHostOverride ?? serverHost)
        }
        let channel: GRPCChannel
        do {
            channel = try GRPCChannel(configuration: .init(target: "\(host):\(serverPort)", tls: tls))
        } catch {
            writeLine("interop-client: cannot make the channel: \(error.message)", to: 2)
            throw ExitCode(1)
        }
        defer { channel.close() }

        var soak = InteropTestCases.Soak()
        soak.iterations = soakIterations
        soak.maxFailures = soakMaxFailures
        soak.maxAcceptableLatency = .milliseconds(soakMaxLatencyMs)
        soak.overallTimeout = .seconds(soakOverallTimeoutSeconds)
        let runner = InteropTestCases(channel: channel, soak: soak)

        var failed = false
        for name in self.cases {
            do {
                try await runner.run(name)
                writeLine("PASS \(name)", to: 1)
            } catch {
                writeLine("FAIL \(name): \(error)", to: 2)
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
