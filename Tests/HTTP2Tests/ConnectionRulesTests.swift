import Glibc
import Synchronization
import Testing
@testable import HTTP2

/// A delegate that answers each request with 204 and nothing more: these
/// tests are about the connection.
class QuietDelegate: HTTP2ConnectionDelegate {
    func headersReceived(_ connection: HTTP2Connection, stream: Int32, category: HeadersCategory, headers: HTTP2HeaderBlock, endStream: Bool) {
        if category == .request {
            connection.respond(stream, headers: [HTTP2Header(":status", "204")], endStream: true)
        }
    }
    func data(_ connection: HTTP2Connection, stream: Int32, bytes: UnsafeRawBufferPointer) {}
    func peerFinished(_ connection: HTTP2Connection, stream: Int32) {}
    func streamClosed(_ connection: HTTP2Connection, stream: Int32, errorCode: UInt32) {}
    func streamWritable(_ connection: HTTP2Connection, stream: Int32) {}
    func goAwayReceived(_ connection: HTTP2Connection, lastStreamID: Int32, errorCode: UInt32) {}
    func connectionActive(_ connection: HTTP2Connection) {}
    func connectionClosed(_ connection: HTTP2Connection, error: HTTP2Error?) {}
}

/// A delegate that keeps every header block it is given, as text, and answers
/// each request with 204.
final class RecordingDelegate: QuietDelegate {
    struct Block: Equatable {
        var stream: Int32
        var fields: [String]
    }
    /// Shared with the test, which reads the blocks once the connection is over.
    final class Log: Sendable {
        let blocks = Mutex<[Block]>([])
    }
    let log: Log
    init(_ log: Log) { self.log = log }
    override func headersReceived(_ connection: HTTP2Connection, stream: Int32, category: HeadersCategory, headers: HTTP2HeaderBlock, endStream: Bool) {
        var fields: [String] = []
        for index in 0..<headers.count {
            let (name, value) = headers[index]
            fields.append(String(decoding: name, as: UTF8.self) + ": " + String(decoding: value, as: UTF8.self))
        }
        log.blocks.withLock { $0.append(Block(stream: stream, fields: fields)) }
        super.headersReceived(connection, stream: stream, category: category, headers: headers, endStream: endStream)
    }
}

/// A blocking TCP client speaking raw HTTP/2 frames, for tests only (its
/// reads time out after 5 s so no test can hang).
struct RawClient: ~Copyable {
    let fd: Int32

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw HTTP2Error.system("connect", errno) }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The client connection preface and an empty SETTINGS frame.
    func handshake() {
        send(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + frame(type: 4, flags: 0, stream: 0, payload: []))
    }

    /// Reads frames until the server closes the connection; returns them as
    /// (type, flags, payload).
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

func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
    let length = payload.count
    return [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags,
            UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)] + payload
}

/// The error code of a GOAWAY frame's payload.
func goAwayCode(_ payload: [UInt8]) -> UInt32 {
    payload.count >= 8 ? UInt32(payload[4]) << 24 | UInt32(payload[5]) << 16 | UInt32(payload[6]) << 8 | UInt32(payload[7]) : 0
}

@Suite("Connection rules", .timeLimit(.minutes(1)))
struct ConnectionRulesTests {
    func withServer(_ configure: (inout HTTP2Configuration) -> Void, _ body: (UInt16) throws -> Void) throws {
        var configuration = HTTP2Configuration()
        configure(&configuration)
        let loop = try EventLoop(name: "rules-test")
        defer { loop.stop() }
        let server = try HTTP2Server(address: Socket.Address(host: "127.0.0.1", port: 0), loops: [loop],
                                     configuration: configuration, tls: nil) { _ in QuietDelegate() }
        defer { server.stopAccepting() }
        try body(server.address.port)
    }

    @Test("a PING flood gets GOAWAY(ENHANCE_YOUR_CALM, too_many_pings) and the connection is closed")
    func pingStrikes() throws {
        try withServer({ $0.maxPingStrikes = 2 }) { port in
            let client = try RawClient(port: port)
            client.handshake()
            for i in 0..<10 { client.send(frame(type: 6, flags: 0, stream: 0, payload: [UInt8](repeating: UInt8(i), count: 8))) }
            let frames = client.readUntilClosed()
            let goAway = try #require(frames.first { $0.type == 7 })
            #expect(goAwayCode(goAway.payload) == 11)
            #expect(String(decoding: goAway.payload.dropFirst(8), as: UTF8.self) == "too_many_pings")
            // Only the pings before the limit were answered.
            #expect(frames.filter { $0.type == 6 && $0.flags & 1 == 1 }.count <= 4)
        }
    }

    @Test("a peer that never completes the handshake is closed")
    func handshakeTimeout() throws {
        try withServer({ $0.handshakeTimeout = .milliseconds(200) }) { port in
            let client = try RawClient(port: port)
            client.send(Array("PRI * HTTP/2.0\r\n".utf8))  // Half a preface, then silence.
            let started = ContinuousClock.now
            _ = client.readUntilClosed()
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }

    @Test("a header block that never ends gets GOAWAY(ENHANCE_YOUR_CALM) and the connection is closed")
    func slowHeaders() throws {
        try withServer({ $0.headerBlockTimeout = .milliseconds(200) }) { port in
            let client = try RawClient(port: port)
            client.handshake()
            client.send(frame(type: 4, flags: 1, stream: 0, payload: []))
            // HEADERS without END_HEADERS, and no CONTINUATION after it.
            client.send(frame(type: 1, flags: 0x1, stream: 1, payload: [0x83, 0x86, 0x84]))
            let frames = client.readUntilClosed()
            let goAway = try #require(frames.first { $0.type == 7 })
            #expect(goAwayCode(goAway.payload) == 11)
        }
    }

    @Test("a peer that never acknowledges our SETTINGS is closed")
    func settingsAckTimeout() throws {
        try withServer({ $0.handshakeTimeout = .milliseconds(200) }) { port in
            let client = try RawClient(port: port)
            client.handshake()  // Its own SETTINGS, but no ACK of ours.
            let started = ContinuousClock.now
            _ = client.readUntilClosed()
            #expect(ContinuousClock.now - started < .seconds(4))
        }
    }

    @Test("a silent peer is pinged, and closed when it does not answer")
    func keepalive() throws {
        try withServer({
            $0.keepaliveInterval = .milliseconds(100)
            $0.keepaliveTimeout = .milliseconds(100)
        }) { port in
            let client = try RawClient(port: port)
            client.handshake()
            let frames = client.readUntilClosed()  // We never answer the PING.
            #expect(frames.contains { $0.type == 6 && $0.flags & 1 == 0 })
        }
    }

    @Test("an idle connection gets GOAWAY(NO_ERROR) and is closed")
    func maxIdle() throws {
        try withServer({ $0.maxIdle = .milliseconds(100) }) { port in
            let client = try RawClient(port: port)
            client.handshake()
            client.send(frame(type: 4, flags: 1, stream: 0, payload: []))  // ACK the server's SETTINGS.
            let frames = client.readUntilClosed()
            let goAway = try #require(frames.first { $0.type == 7 })
            #expect(goAwayCode(goAway.payload) == 0)
            #expect(String(decoding: goAway.payload.dropFirst(8), as: UTF8.self) == "max_idle")
        }
    }

    @Test("a header block reaches the delegate whole and in order, across CONTINUATIONs, and the next block alone")
    func headerBlocks() throws {
        let log = RecordingDelegate.Log()
        let loop = try EventLoop(name: "blocks-test")
        defer { loop.stop() }
        let server = try HTTP2Server(address: Socket.Address(host: "127.0.0.1", port: 0), loops: [loop],
                                     configuration: HTTP2Configuration(), tls: nil) { _ in RecordingDelegate(log) }
        defer { server.stopAccepting() }
        let client = try RawClient(port: server.address.port)
        client.handshake()
        // Literal fields without indexing, new names: more fields and bytes
        // than the connection's first buffers hold.
        func literal(_ name: String, _ value: String) -> [UInt8] {
            [0x00, UInt8(name.utf8.count)] + Array(name.utf8) + [UInt8(value.utf8.count)] + Array(value.utf8)
        }
        let many = (0..<40).map { ("x-field-\($0)", String(repeating: Character(UnicodeScalar(UInt8(97 + $0 % 26))), count: $0 * 3)) }
        let start: [UInt8] = [0x83, 0x86, 0x84] + literal(":authority", "test")  // :method POST, :scheme http, :path /
        var block = start
        for (name, value) in many { block += literal(name, value) }
        let third = block.count / 3
        client.send(frame(type: 1, flags: 0x1, stream: 1, payload: Array(block[..<third])))  // HEADERS, END_STREAM
        client.send(frame(type: 9, flags: 0, stream: 1, payload: Array(block[third..<(2 * third)])))
        client.send(frame(type: 9, flags: 0x4, stream: 1, payload: Array(block[(2 * third)...])))  // END_HEADERS
        client.send(frame(type: 1, flags: 0x4 | 0x1, stream: 3, payload: start + literal("x-one", "1")))
        client.send(frame(type: 7, flags: 0, stream: 0, payload: [0, 0, 0, 0, 0, 0, 0, 0]))  // We leave.
        let frames = client.readUntilClosed()
        #expect(frames.filter { $0.type == 1 }.count == 2)  // Both answered.
        let pseudo = [":method: POST", ":scheme: http", ":path: /", ":authority: test"]
        #expect(log.blocks.withLock { $0 } == [
            RecordingDelegate.Block(stream: 1, fields: pseudo + many.map { "\($0.0): \($0.1)" }),
            RecordingDelegate.Block(stream: 3, fields: pseudo + ["x-one: 1"]),
        ])
    }

    @Test("a header list over the limit resets the stream")
    func headerListLimit() throws {
        try withServer({ $0.maxHeaderListSize = 1_024 }) { port in
            let client = try RawClient(port: port)
            client.handshake()
            // HEADERS with a literal header never indexed: name "x-big", a 2 KiB value.
            var block: [UInt8] = [0x10, 5] + Array("x-big".utf8)
            let value = [UInt8](repeating: UInt8(ascii: "v"), count: 2_048)
            block += [0x7f, UInt8(((2_048 - 127) & 0x7f) | 0x80), UInt8((2_048 - 127) >> 7)] + value
            client.send(frame(type: 1, flags: 0x4 | 0x1, stream: 1, payload: [0x83, 0x86, 0x84] + block))
            client.send(frame(type: 7, flags: 0, stream: 0, payload: [0, 0, 0, 0, 0, 0, 0, 0]))  // We leave.
            let frames = client.readUntilClosed()
            #expect(frames.contains { $0.type == 3 })  // RST_STREAM for stream 1
        }
    }
}
