// interop-server: gRPC's interop test server (grpc.testing.TestService, plus
// grpc.health.v1 and server reflection) on this project's gRPC layer, with the
// flags of grpc's own interop servers, so that any implementation's interop
// client can be pointed at it.
//
//   interop-server --port=N [--use_tls=true --tls_cert_file=PEM --tls_key_file=PEM]
//
// Prints `READY <port>` on standard output once it accepts connections
// (--port=0 picks a free port). SIGTERM or SIGINT: graceful shutdown, exit 0.
import ArgumentParser
import Interop
import RPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@main
struct InteropServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-server",
        abstract: "Serves grpc.testing.TestService for gRPC interop tests.")

    @Option(name: .customLong("port"), help: "The port to listen on (0: any free port, printed as READY <port>).")
    var port: Int = 0

    @Option(name: .customLong("host"), help: "The address to listen on.")
    var host: String = "0.0.0.0"

    @Option(name: .customLong("use_tls"), help: "Serve TLS (ALPN h2) instead of plaintext HTTP/2.")
    var useTLS: Bool = false

    @Option(name: .customLong("tls_cert_file"), help: "PEM certificate chain (with --use_tls=true).")
    var certificateChain: String?

    @Option(name: .customLong("tls_key_file"), help: "PEM private key (with --use_tls=true).")
    var privateKey: String?

    @Option(name: .customLong("max_concurrent_streams"), help: "SETTINGS_MAX_CONCURRENT_STREAMS per connection.")
    var maxConcurrentStreams: Int = 100

    @Option(name: .customLong("handshake_timeout_ms"), help: "Time a new connection has for its preface and SETTINGS.")
    var handshakeTimeoutMs: Int = 10_000

    @Option(name: .customLong("header_block_timeout_ms"), help: "Time a header block (HEADERS and its CONTINUATIONs) has to arrive.")
    var headerBlockTimeoutMs: Int = 10_000

    @Option(name: .customLong("event_loops"), help: "I/O threads (0: one per core).")
    var eventLoops: Int = 0

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535, not \(port)") }
        if useTLS && (certificateChain == nil || privateKey == nil) {
            throw ValidationError("--use_tls=true needs --tls_cert_file and --tls_key_file")
        }
        guard maxConcurrentStreams > 0 else { throw ValidationError("--max_concurrent_streams must be positive") }
        guard handshakeTimeoutMs > 0 else { throw ValidationError("--handshake_timeout_ms must be positive") }
        guard headerBlockTimeoutMs > 0 else { throw ValidationError("--header_block_timeout_ms must be positive") }
        guard eventLoops >= 0 else { throw ValidationError("--event_loops must be 0 or more") }
    }

    func run() async throws {
        // Before the server starts, so that a signal sent as soon as READY is
        // read is not lost.
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT])

        var configuration = GRPCServer.Configuration(
            address: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)",
            eventLoops: eventLoops,
            tls: useTLS ? (certificateChain!, privateKey!) : nil)
        configuration.maxConcurrentStreams = maxConcurrentStreams
        configuration.handshakeTimeout = .milliseconds(handshakeTimeoutMs)
        configuration.headerBlockTimeout = .milliseconds(headerBlockTimeoutMs)

        let health = HealthService(services: ["grpc.testing.TestService"])
        let reflection = try ReflectionService(descriptorSets: [EmbeddedDescriptorSets.interop,
                                                                EmbeddedDescriptorSets.standardServices])
        let server = GRPCServer(configuration: configuration, services: [TestService(), health, reflection])
        do {
            try server.start()
        } catch {
            writeLine("interop-server: \(error.message)", to: 2)
            throw ExitCode(1)
        }
        writeLine("READY \(server.port)", to: 1)

        let received = await signals.next()
        writeLine("interop-server: signal \(received), shutting down", to: 2)
        health.enterShutdown()
        await server.shutdown(grace: .seconds(5))
    }
}
