import Codec
import Foundation
import Testing
@testable import RPC

/// Our channel calling grpcio's standard health server
/// (Tests/interop/health_server.py) over real sockets, h2c and TLS.
@Suite("Interop: our client against grpcio's health server", .timeLimit(.minutes(1)))
struct InteropServerTests {
    static let knownService = "servicevault.timer.v1.TimerService"
    /// Long enough never to end a call that works; short enough that a call
    /// that would hang fails the test with DEADLINE_EXCEEDED instead.
    static let options = CallOptions(timeout: .seconds(15))

    /// Starts grpcio's health server (h2c, or TLS with `certificate`) and
    /// runs `body` with its port once it printed READY (and the process, whose
    /// transcript lists the calls it received).
    func withGRPCIOServer(_ transport: InteropTransport, certificate: String = "server",
                          _ body: (Int, InteropEnvironment.Paths, PeerProcess) async throws -> Void) async throws {
        let paths = try await InteropEnvironment.prepare()
        var arguments = ["--port", "0", "--service", Self.knownService]
        if transport == .tls {
            arguments += ["--tls", paths.certificate("\(certificate).pem"), paths.certificate("\(certificate).key")]
        }
        try await withPeer("health_server.py", arguments) { peer in
            guard let ready = await peer.line(startingWith: "READY "), let port = Int(ready.dropFirst("READY ".count)) else {
                Issue.record("grpcio's health server did not print READY <port>\n\(peer.transcript)")
                return
            }
            try await body(port, paths, peer)
        }
    }

    @Test("h2c: Check of the server and of a service SERVING, unknown service NOT_FOUND, Watch sends SERVING")
    func h2c() async throws {
        try await withGRPCIOServer(.h2c) { port, _, peer in
            let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(port)"))
            defer { channel.close() }
            let client = GRPCHealthV1.HealthClient(channel: channel)
            #expect(try await client.check(healthRequest(""), options: Self.options).status == .serving)
            #expect(try await client.check(healthRequest(Self.knownService), options: Self.options).status == .serving)
            do throws(RPCError) {
                let response = try await client.check(healthRequest("no.such.Service"), options: Self.options)
                Issue.record("Check of an unknown service answered \(response.status)\n\(peer.transcript)")
            } catch {
                #expect(error.code == .notFound, "\(error)")
            }
            var watch = client.watch(healthRequest(Self.knownService), options: Self.options).makeAsyncIterator()
            #expect(try await watch.next()?.status == .serving)
        }
    }

    @Test("TLS verified against the test CA: Check and Watch")
    func tls() async throws {
        try await withGRPCIOServer(.tls) { port, paths, _ in
            let channel = try GRPCChannel(configuration: .init(
                target: "127.0.0.1:\(port)", tls: .init(trustRoots: paths.certificate("ca.pem"), serverName: "localhost")))
            defer { channel.close() }
            let client = GRPCHealthV1.HealthClient(channel: channel)
            #expect(try await client.check(healthRequest(""), options: Self.options).status == .serving)
            var watch = client.watch(healthRequest(Self.knownService), options: Self.options).makeAsyncIterator()
            #expect(try await watch.next()?.status == .serving)
        }
    }

    @Test("TLS trusting another CA: UNAVAILABLE, saying the certificate failed verification")
    func wrongCA() async throws {
        try await withGRPCIOServer(.tls) { port, paths, _ in
            let channel = try GRPCChannel(configuration: .init(
                target: "127.0.0.1:\(port)", tls: .init(trustRoots: paths.certificate("wrong-ca.pem"), serverName: "localhost")))
            defer { channel.close() }
            do throws(RPCError) {
                let response = try await GRPCHealthV1.HealthClient(channel: channel).check(healthRequest(""), options: Self.options)
                Issue.record("a server whose certificate the client cannot verify answered \(response.status)")
            } catch {
                #expect(error.code == .unavailable, "\(error)")
                #expect(error.message.contains("certificate"), "\(error)")
            }
        }
    }

    @Test("TLS with a server name the certificate does not carry: UNAVAILABLE")
    func serverNameMismatch() async throws {
        try await withGRPCIOServer(.tls) { port, paths, _ in
            let channel = try GRPCChannel(configuration: .init(
                target: "127.0.0.1:\(port)", tls: .init(trustRoots: paths.certificate("ca.pem"), serverName: "timers.example.com")))
            defer { channel.close() }
            do throws(RPCError) {
                let response = try await GRPCHealthV1.HealthClient(channel: channel).check(healthRequest(""), options: Self.options)
                Issue.record("a server whose certificate names another host answered \(response.status)")
            } catch {
                #expect(error.code == .unavailable, "\(error)")
                #expect(error.message.contains("certificate"), "\(error)")
            }
        }
    }
}
