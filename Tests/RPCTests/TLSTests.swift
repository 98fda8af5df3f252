import Codec
import Foundation
import Testing
@testable import RPC

/// Our client against our server over TLS, with the certificates of
/// `scripts/test-certs`: what is accepted, what is refused, and that a
/// refused handshake leaves the server serving.
@Suite("TLS between our client and our server", .timeLimit(.minutes(1)))
struct TLSTests {
    /// A call that would hang fails with DEADLINE_EXCEEDED instead.
    static let options = CallOptions(timeout: .seconds(15))

    static func channel(_ port: Int, trusting roots: String?, serverName: String? = "localhost") throws -> GRPCChannel {
        try GRPCChannel(configuration: .init(target: "127.0.0.1:\(port)", tls: roots.map { .init(trustRoots: $0, serverName: serverName) }))
    }

    /// Runs one step of a test; its error says which step failed.
    static func step<T>(_ what: String, _ body: () async throws(RPCError) -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw InteropError("\(what): \(error)")
        }
    }

    /// Expects a health check through `channel` to fail with UNAVAILABLE,
    /// its message containing each of `fragments`.
    static func expectRefused(_ channel: GRPCChannel, _ fragments: [String], _ what: Comment) async {
        do throws(RPCError) {
            let response = try await GRPCHealthV1.HealthClient(channel: channel).check(healthRequest(""), options: options)
            Issue.record("\(what): the call succeeded (\(response.status))")
        } catch {
            #expect(error.code == .unavailable, "\(what): \(error)")
            for fragment in fragments {
                #expect(error.message.contains(fragment), "\(what): \(error)")
            }
        }
    }

    @Test("verified against the test CA: unary and server streaming calls")
    func verified() async throws {
        let paths = try await InteropEnvironment.prepare()
        try await withOurServer(.tls, healthServices: ["a.Service"]) { server, health in
            let channel = try Self.channel(server.port, trusting: paths.certificate("ca.pem"))
            defer { channel.close() }
            let client = GRPCHealthV1.HealthClient(channel: channel)
            let checked = try await Self.step("Check") { () async throws(RPCError) in
                try await client.check(healthRequest(""), options: Self.options)
            }
            #expect(checked.status == .serving)
            var watch = client.watch(healthRequest("a.Service"), options: Self.options).makeAsyncIterator()
            let first = try await Self.step("Watch, first response") { () async throws(RPCError) in try await watch.next() }
            #expect(first?.status == .serving)
            health.setStatus(.notServing, for: "a.Service")
            let second = try await Self.step("Watch, response after the change") { () async throws(RPCError) in try await watch.next() }
            #expect(second?.status == .notServing)
        }
    }

    @Test("an IP address target is verified against the certificate's IP address")
    func ipAddressTarget() async throws {
        let paths = try await InteropEnvironment.prepare()
        try await withOurServer(.tls) { server, _ in
            // No serverName: the name checked is the target's host, 127.0.0.1,
            // which the certificate carries as an IP address (not as a DNS name).
            let channel = try Self.channel(server.port, trusting: paths.certificate("ca.pem"), serverName: nil)
            defer { channel.close() }
            #expect(try await GRPCHealthV1.HealthClient(channel: channel).check(healthRequest(""), options: Self.options).status == .serving)
        }
    }

    @Test("an expired certificate is refused, and the server goes on serving")
    func expired() async throws {
        let paths = try await InteropEnvironment.prepare()
        try await withOurServer(.tls, certificate: "expired") { server, _ in
            let channel = try Self.channel(server.port, trusting: paths.certificate("ca.pem"))
            defer { channel.close() }
            await Self.expectRefused(channel, ["certificate", "expired"], "expired certificate")
            // The same server, verification off: it still serves.
            let lenient = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)", tls: .init(verify: false)))
            defer { lenient.close() }
            #expect(try await GRPCHealthV1.HealthClient(channel: lenient).check(healthRequest(""), options: Self.options).status == .serving)
        }
    }

    @Test("a certificate from another CA is refused, either way round")
    func wrongCA() async throws {
        let paths = try await InteropEnvironment.prepare()
        try await withOurServer(.tls, certificate: "wrong-server") { server, _ in
            let channel = try Self.channel(server.port, trusting: paths.certificate("ca.pem"))
            defer { channel.close() }
            await Self.expectRefused(channel, ["certificate"], "server certificate from another CA")
        }
        try await withOurServer(.tls) { server, _ in
            let channel = try Self.channel(server.port, trusting: paths.certificate("wrong-ca.pem"))
            defer { channel.close() }
            await Self.expectRefused(channel, ["certificate"], "client trusting another CA")
            // A good client afterwards is served.
            let good = try Self.channel(server.port, trusting: paths.certificate("ca.pem"))
            defer { good.close() }
            #expect(try await GRPCHealthV1.HealthClient(channel: good).check(healthRequest(""), options: Self.options).status == .serving)
        }
    }

    @Test("a server name the certificate does not carry is refused")
    func serverNameMismatch() async throws {
        let paths = try await InteropEnvironment.prepare()
        try await withOurServer(.tls) { server, _ in
            let channel = try Self.channel(server.port, trusting: paths.certificate("ca.pem"), serverName: "timers.example.com")
            defer { channel.close() }
            await Self.expectRefused(channel, ["certificate"], "server name mismatch")
        }
    }

    @Test("TLS to an h2c server and h2c to a TLS server fail with UNAVAILABLE, without hanging")
    func mismatchedTransports() async throws {
        let paths = try await InteropEnvironment.prepare()
        try await withOurServer(.h2c) { server, _ in
            let channel = try Self.channel(server.port, trusting: paths.certificate("ca.pem"))
            defer { channel.close() }
            await Self.expectRefused(channel, [], "TLS client, h2c server")
        }
        try await withOurServer(.tls) { server, _ in
            let channel = try Self.channel(server.port, trusting: nil)
            defer { channel.close() }
            await Self.expectRefused(channel, [], "h2c client, TLS server")
        }
    }
}
