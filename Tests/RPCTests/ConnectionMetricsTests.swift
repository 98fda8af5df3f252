import Codec
import Glibc
import HTTP2
import Testing
import VaultMetrics

@testable import RPC

/// The server's connection metrics (`ServerConnectionMetrics`), read back
/// from a Prometheus registry after real connections: gRPC channels, and raw
/// sockets for what a well-behaved client never does.
@Suite("Connection metrics", .timeLimit(.minutes(1)))
struct ConnectionMetricsTests {
    /// The value of the series `series` in the registry's text, or nil.
    func value(_ registry: PrometheusRegistry, _ series: String) -> String? {
        registry.render().split(separator: "\n").first { $0.hasPrefix(series + " ") }.map { String($0.dropFirst(series.count + 1)) }
    }

    /// Waits until `series` reads `expected` (the loops update the metrics
    /// after the client sees what they did); false if it never does.
    func reaches(_ registry: PrometheusRegistry, _ series: String, _ expected: String) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if value(registry, series) == expected { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return value(registry, series) == expected
    }

    func startServer(_ configure: (inout GRPCServer.Configuration) -> Void = { _ in },
                     services: [any RPCService] = [EchoService()]) throws -> (GRPCServer, PrometheusRegistry) {
        let registry = PrometheusRegistry()
        var configuration = GRPCServer.Configuration(address: "127.0.0.1:0", eventLoops: 1)
        configuration.metricsFactory = registry
        configure(&configuration)
        let server = GRPCServer(configuration: configuration, services: services)
        try server.start()
        return (server, registry)
    }

    @Test("open connections and streams show in the gauges, and go back to 0 once closed")
    func gauges() async throws {
        let echo = EchoService()
        let (server, registry) = try startServer(services: [echo])
        #expect(value(registry, "grpc_server_connections") == "0")
        #expect(value(registry, "grpc_server_streams") == "0")
        for reason in HTTP2GoAwayReason.allCases {
            #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"\(reason.rawValue)\"}") == "0",
                    "every reason's series exists from the start")
        }
        for failure in HTTP2ConnectionFailure.allCases {
            #expect(value(registry, "grpc_server_connection_errors_total{reason=\"\(failure.rawValue)\"}") == "0")
        }

        let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
        let hanging = (0..<2).map { _ in
            Task {
                let _: VaultTimer = try await channel.unary(EchoService.hang, request: VaultTimer(), options: CallOptions())
            }
        }
        await echo.hangStarted.wait(for: 2)
        #expect(await reaches(registry, "grpc_server_streams", "2"))
        #expect(value(registry, "grpc_server_connections") == "1")
        #expect(value(registry, "grpc_server_connections_accepted_total") == "1")

        for task in hanging { task.cancel() }
        for task in hanging { _ = await task.result }
        await echo.cancellations.wait(for: 2)
        #expect(await reaches(registry, "grpc_server_streams", "0"), "reset streams are closed")
        let _: VaultTimer = try await channel.unary(EchoService.get, request: VaultTimer(), options: CallOptions())
        #expect(await reaches(registry, "grpc_server_streams", "0"), "a finished call's stream is closed")

        channel.close()
        #expect(await reaches(registry, "grpc_server_connections", "0"))
        #expect(value(registry, "grpc_server_connections_accepted_total") == "1")
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"shutdown\"}") == "0", "the client closed, not the server")
        await server.shutdown(grace: .seconds(1))
    }

    @Test("streams still open when a connection drops leave the gauge with it")
    func streamsOfADroppedConnection() async throws {
        let (server, registry) = try startServer()
        let client = try RawHTTP2Client(port: server.port)
        client.handshake()
        // Two requests whose bodies never come: both streams stay open.
        for stream: UInt32 in [1, 3] {
            client.send(rawFrame(type: 1, flags: 0x4, stream: stream, payload: RawHTTP2Client.request(path: "/test.Echo/Hang")))
        }
        #expect(await reaches(registry, "grpc_server_streams", "2"))
        #expect(value(registry, "grpc_server_connections") == "1")
        client.close()
        #expect(await reaches(registry, "grpc_server_connections", "0"))
        #expect(value(registry, "grpc_server_streams") == "0")
        await server.shutdown(grace: .seconds(1))
    }

    @Test("graceful shutdown counts once per connection: the notice, and the GOAWAY after it if the client stayed")
    func shutdownGoAway() async throws {
        let (server, registry) = try startServer()
        let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
        defer { channel.close() }
        let _: VaultTimer = try await channel.unary(EchoService.get, request: VaultTimer(), options: CallOptions())
        let raw = try RawHTTP2Client(port: server.port)
        raw.handshake()
        #expect(await reaches(registry, "grpc_server_connections", "2"))

        await server.shutdown(grace: .seconds(5))
        #expect(await reaches(registry, "grpc_server_connections", "0"))
        // The channel left after the notice; the raw client stayed for the GOAWAY.
        let goAways = raw.readUntilClosed().filter { $0.type == 7 }
        #expect(goAways.count == 2, "the raw client saw the notice and the GOAWAY")
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"shutdown\"}") == "2")
        for reason in HTTP2GoAwayReason.allCases where reason != .shutdown {
            #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"\(reason.rawValue)\"}") == "0")
        }
    }

    @Test("an idle connection's GOAWAY counts as idle")
    func idleGoAway() async throws {
        let (server, registry) = try startServer { $0.maxConnectionIdle = .milliseconds(100) }
        let client = try RawHTTP2Client(port: server.port)
        client.handshake()
        client.send(rawFrame(type: 4, flags: 1, stream: 0, payload: []))  // ACK the server's SETTINGS.
        let goAway = try #require(client.readUntilClosed().first { $0.type == 7 })
        #expect(String(decoding: goAway.payload.dropFirst(8), as: UTF8.self) == "max_idle")
        #expect(await reaches(registry, "grpc_server_connections", "0"))
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"idle\"}") == "1")
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"shutdown\"}") == "0")
        await server.shutdown(grace: .seconds(1))
    }

    @Test("nghttp2's own GOAWAY for a connection error counts as protocol_error, a PING flood as too_many_pings")
    func violationGoAways() async throws {
        let (server, registry) = try startServer()

        let badFrame = try RawHTTP2Client(port: server.port)
        badFrame.handshake()
        badFrame.send(rawFrame(type: 0, flags: 0, stream: 0, payload: [1, 2, 3]))  // DATA on stream 0.
        let protocolError = try #require(badFrame.readUntilClosed().first { $0.type == 7 })
        #expect(RawHTTP2Client.goAwayCode(protocolError.payload) == 1)

        let pings = try RawHTTP2Client(port: server.port)
        pings.handshake()
        for i in 0..<10 { pings.send(rawFrame(type: 6, flags: 0, stream: 0, payload: [UInt8](repeating: UInt8(i), count: 8))) }
        let calm = try #require(pings.readUntilClosed().first { $0.type == 7 })
        #expect(RawHTTP2Client.goAwayCode(calm.payload) == 11)

        #expect(await reaches(registry, "grpc_server_connections", "0"))
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"protocol_error\"}") == "1")
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"too_many_pings\"}") == "1")
        #expect(value(registry, "grpc_server_connections_accepted_total") == "2")
        await server.shutdown(grace: .seconds(1))
    }

    @Test("streams past the limit, again and again, count as too_many_violations; a run of CONTINUATIONs as frame_flood")
    func abuseGoAways() async throws {
        let (server, registry) = try startServer { $0.maxConcurrentStreams = 1 }

        // One stream open (never ended), then 101 more at once: each is
        // refused, and the 101st refusal is one past the 100 violations a
        // connection may make.
        let streams = try RawHTTP2Client(port: server.port)
        streams.handshake()
        var burst: [UInt8] = []
        for index in 0..<102 {
            burst += rawFrame(type: 1, flags: 0x4, stream: UInt32(1 + 2 * index), payload: RawHTTP2Client.request(path: "/test.Echo/Collect"))
        }
        streams.send(burst)
        let frames = streams.readUntilClosed()
        let calm = try #require(frames.first { $0.type == 7 }, "no GOAWAY in \(frames.map(\.type))")
        #expect(RawHTTP2Client.goAwayCode(calm.payload) == 11)
        #expect(frames.filter { $0.type == 3 }.count >= 100, "refused streams are reset")

        // A header block split over more CONTINUATIONs than the 8 allowed.
        let continuations = try RawHTTP2Client(port: server.port)
        continuations.handshake()
        var block = RawHTTP2Client.request(path: "/test.Echo/Collect")
        var split = rawFrame(type: 1, flags: 0, stream: 1, payload: Array(block.prefix(2)))
        block.removeFirst(2)
        for _ in 0..<12 {
            split += rawFrame(type: 9, flags: 0, stream: 1, payload: Array(block.prefix(1)))
            block.removeFirst(min(1, block.count))
        }
        continuations.send(split)
        let flood = try #require(continuations.readUntilClosed().first { $0.type == 7 })
        #expect(RawHTTP2Client.goAwayCode(flood.payload) == 11)

        #expect(await reaches(registry, "grpc_server_connections", "0"))
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"too_many_violations\"}") == "1")
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"frame_flood\"}") == "1")
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"protocol_error\"}") == "0")
        await server.shutdown(grace: .seconds(1))
    }

    @Test("a client that speaks plain text to the TLS port counts as a tls_handshake connection error")
    func tlsHandshakeFailure() async throws {
        let paths = try await InteropEnvironment.prepare()
        let (server, registry) = try startServer {
            $0.tls = (certificateChain: paths.certificate("server.pem"), privateKey: paths.certificate("server.key"))
        }
        let client = try RawHTTP2Client(port: server.port)
        client.handshake()  // The HTTP/2 preface where a TLS ClientHello belongs.
        _ = client.readUntilClosed()
        #expect(await reaches(registry, "grpc_server_connection_errors_total{reason=\"tls_handshake\"}", "1"))
        #expect(await reaches(registry, "grpc_server_connections", "0"))
        for reason in HTTP2GoAwayReason.allCases {
            #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"\(reason.rawValue)\"}") == "0", "no GOAWAY before TLS")
        }
        await server.shutdown(grace: .seconds(1))
    }

    @Test("a peer that never completes the handshake counts as a handshake_timeout connection error")
    func handshakeTimeout() async throws {
        let (server, registry) = try startServer { $0.handshakeTimeout = .milliseconds(100) }
        let client = try RawHTTP2Client(port: server.port)
        client.send(Array("PRI * HTTP/2.0\r\n".utf8))  // Half a preface, then silence.
        _ = client.readUntilClosed()
        #expect(await reaches(registry, "grpc_server_connection_errors_total{reason=\"handshake_timeout\"}", "1"))
        #expect(await reaches(registry, "grpc_server_connections", "0"))
        #expect(value(registry, "grpc_server_goaways_sent_total{reason=\"handshake_timeout\"}") == "0", "no GOAWAY to a peer that never spoke HTTP/2")
        await server.shutdown(grace: .seconds(1))
    }
}

/// A frame: its 9-byte header and `payload`.
private func rawFrame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
    let length = payload.count
    return [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags,
            UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)] + payload
}

/// A blocking TCP client speaking raw HTTP/2 frames (reads time out after
/// 5 s, so no test can hang).
private final class RawHTTP2Client {
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            Glibc.close(fd)
            throw HTTP2Error.system("connect", errno)
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The client connection preface and an empty SETTINGS frame.
    func handshake() {
        send(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + rawFrame(type: 4, flags: 0, stream: 0, payload: []))
    }

    /// A gRPC request's header block for `path`, HPACK literals without indexing.
    static func request(path: String) -> [UInt8] {
        var block: [UInt8] = [0x83, 0x86]  // :method POST, :scheme http
        for (name, value) in [(":path", path), (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers")] {
            block += [0x00, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(value.utf8.count)] + Array(value.utf8)
        }
        return block
    }

    /// The error code of a GOAWAY frame's payload.
    static func goAwayCode(_ payload: [UInt8]) -> UInt32 {
        payload.count >= 8 ? UInt32(payload[4]) << 24 | UInt32(payload[5]) << 16 | UInt32(payload[6]) << 8 | UInt32(payload[7]) : 0
    }

    /// Reads frames until the server closes the connection: (type, flags, payload).
    func readUntilClosed() -> [(type: UInt8, flags: UInt8, payload: [UInt8])] {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            buffer += chunk[0..<n]
        }
        var frames: [(UInt8, UInt8, [UInt8])] = []
        var offset = 0
        while buffer.count - offset >= 9 {
            let length = Int(buffer[offset]) << 16 | Int(buffer[offset + 1]) << 8 | Int(buffer[offset + 2])
            guard buffer.count - offset - 9 >= length else { break }
            frames.append((buffer[offset + 3], buffer[offset + 4], Array(buffer[(offset + 9)..<(offset + 9 + length)])))
            offset += 9 + length
        }
        return frames
    }
}
