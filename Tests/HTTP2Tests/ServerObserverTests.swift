import Synchronization
import Testing
@testable import HTTP2

/// Records what an `HTTP2ServerObserver` is told.
final class RecordingObserver: HTTP2ServerObserver {
    struct Events {
        var opened = 0
        var closed = 0
        /// The streams reported open and not closed, over all connections.
        var streams = 0
        var goAways: [HTTP2GoAwayReason] = []
        var failures: [HTTP2ConnectionFailure] = []
    }
    let events = Mutex(Events())

    func connectionOpened() { events.withLock { $0.opened += 1 } }
    func connectionClosed(openStreams: Int) {
        events.withLock {
            $0.closed += 1
            $0.streams -= openStreams
        }
    }
    func streamsChanged(by delta: Int) { events.withLock { $0.streams += delta } }
    func goAwaySent(_ reason: HTTP2GoAwayReason) { events.withLock { $0.goAways.append(reason) } }
    func connectionFailed(_ failure: HTTP2ConnectionFailure) { events.withLock { $0.failures.append(failure) } }

    /// The events once `count` connections have closed (the client sees the
    /// close a moment before the observer hears of it).
    func afterClosed(_ count: Int) async -> Events {
        let deadline = ContinuousClock.now + .seconds(10)
        while events.withLock({ $0.closed }) < count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return events.withLock { $0 }
    }
}

@Suite("Server observer", .timeLimit(.minutes(1)))
struct ServerObserverTests {
    func withServer(_ configure: (inout HTTP2Configuration) -> Void, _ body: (UInt16, RecordingObserver) async throws -> Void) async throws {
        let observer = RecordingObserver()
        var configuration = HTTP2Configuration()
        configuration.observer = observer
        configure(&configuration)
        let loop = try EventLoop(name: "observer-test")
        defer { loop.stop() }
        let server = try HTTP2Server(address: Socket.Address(host: "127.0.0.1", port: 0), loops: [loop],
                                     configuration: configuration, tls: nil) { _ in QuietDelegate() }
        defer { server.stopAccepting() }
        try await body(server.address.port, observer)
    }

    @Test("a header block that never ends: one stream open, GOAWAY header_timeout, the stream leaves with the connection")
    func headerTimeout() async throws {
        try await withServer({ $0.headerBlockTimeout = .milliseconds(100) }) { port, observer in
            let client = try RawClient(port: port)
            client.handshake()
            client.send(frame(type: 4, flags: 1, stream: 0, payload: []))
            client.send(frame(type: 1, flags: 0x1, stream: 1, payload: [0x83, 0x86, 0x84]))
            _ = client.readUntilClosed()
            let events = await observer.afterClosed(1)
            #expect(events.opened == 1)
            #expect(events.goAways == [.headerTimeout])
            #expect(events.failures.isEmpty)
            #expect(events.streams == 0)
        }
    }

    @Test("a request answered at once opens and closes its stream within a round: nothing reported, nothing left")
    func answeredStream() async throws {
        try await withServer({ _ in }) { port, observer in
            let client = try RawClient(port: port)
            client.handshake()
            client.send(frame(type: 4, flags: 1, stream: 0, payload: []))
            client.send(frame(type: 1, flags: 0x5, stream: 1, payload: [0x82, 0x86, 0x84, 0x41, 0x01, 0x61]))
            client.send(frame(type: 7, flags: 0, stream: 0, payload: [UInt8](repeating: 0, count: 8)))  // The client goes away.
            let frames = client.readUntilClosed()
            #expect(frames.contains { $0.type == 1 }, "the request was answered")
            let events = await observer.afterClosed(1)
            #expect(events.streams == 0)
            #expect(events.goAways.isEmpty)
        }
    }

    @Test("rapid resets past the burst get GOAWAY reset_flood, reported once")
    func resetFlood() async throws {
        try await withServer({
            $0.maxStreamResetBurst = 2
            $0.streamResetsPerSecond = 1
        }) { port, observer in
            let client = try RawClient(port: port)
            client.handshake()
            client.send(frame(type: 4, flags: 1, stream: 0, payload: []))
            var bytes: [UInt8] = []
            for stream in stride(from: UInt32(1), through: 15, by: 2) {
                bytes += frame(type: 1, flags: 0x4, stream: stream, payload: [0x83, 0x86, 0x84, 0x41, 0x01, 0x61])
                bytes += frame(type: 3, flags: 0, stream: stream, payload: [0, 0, 0, 8])
            }
            client.send(bytes)
            let goAway = try #require(client.readUntilClosed().first { $0.type == 7 })
            #expect(goAwayCode(goAway.payload) == 11)
            let events = await observer.afterClosed(1)
            #expect(events.goAways == [.resetFlood])
            #expect(events.streams == 0)
        }
    }

    @Test("SETTINGS never acknowledged: GOAWAY handshake_timeout; no preface at all: a handshake_timeout failure")
    func handshakeTimeouts() async throws {
        try await withServer({ $0.handshakeTimeout = .milliseconds(100) }) { port, observer in
            let acknowledging = try RawClient(port: port)
            acknowledging.handshake()  // Its own SETTINGS, but no ACK of ours.
            #expect(acknowledging.readUntilClosed().contains { $0.type == 7 })
            let silent = try RawClient(port: port)
            silent.send(Array("PRI * HTTP/2.0\r\n".utf8))
            #expect(!silent.readUntilClosed().contains { $0.type == 7 })
            let events = await observer.afterClosed(2)
            #expect(events.opened == 2)
            #expect(events.goAways == [.handshakeTimeout])
            #expect(events.failures == [.handshakeTimeout])
        }
    }

    @Test("an unanswered keepalive PING is a keepalive_timeout failure, without GOAWAY")
    func keepaliveTimeout() async throws {
        try await withServer({
            $0.keepaliveInterval = .milliseconds(100)
            $0.keepaliveTimeout = .milliseconds(100)
        }) { port, observer in
            let client = try RawClient(port: port)
            client.handshake()
            client.send(frame(type: 4, flags: 1, stream: 0, payload: []))
            _ = client.readUntilClosed()
            let events = await observer.afterClosed(1)
            #expect(events.failures == [.keepaliveTimeout])
            #expect(events.goAways.isEmpty)
        }
    }
}
