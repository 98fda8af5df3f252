import Foundation
import Glibc
import Synchronization
import Testing
@testable import HTTP2

/// A blocking HTTP/1.1 client for tests only: its reads time out after 5 s,
/// so no test can hang, and a timed-out read is told apart from a close.
final class MetricsTestClient {
    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// How a read of everything the server sends ended.
    enum End: Equatable {
        case closed       // EOF
        case reset        // ECONNRESET
        case timedOut     // the server kept the connection open
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    private var ended: End?

    init(port: UInt16, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            let code = errno
            close(fd)
            throw HTTP2Error.system("connect", code)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads up to `limit` more bytes into the buffer; false at the end.
    @discardableResult
    private func fill(limit: Int = 65_536) -> Bool {
        if ended != nil { return false }
        var chunk = [UInt8](repeating: 0, count: limit)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            buffer += chunk[0..<n]
            return true
        }
        ended = n == 0 ? .closed : errno == ECONNRESET ? .reset : .timedOut
        return false
    }

    /// The next response; `head` when it answers a HEAD (no body follows).
    /// Nil when the connection ends first. Reads `chunk` bytes at a time.
    func readResponse(head: Bool = false, chunk: Int = 65_536) -> Response? {
        var end: Int?
        while true {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                    end = i
                    break
                }
            }
            if end != nil { break }
            if !fill(limit: chunk) { return nil }
        }
        let headerEnd = end!
        let lines = buffer[0..<headerEnd].split(separator: 13, omittingEmptySubsequences: false).enumerated()
            .map { String(decoding: $0.offset == 0 ? $0.element[...] : $0.element.dropFirst(), as: UTF8.self) }
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else { return nil }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " })))
        }
        buffer.removeFirst(headerEnd + 4)
        var response = Response(status: status, headers: headers, body: [])
        let length = head ? 0 : Int(response.header("Content-Length") ?? "0") ?? 0
        while buffer.count < length {
            if !fill(limit: chunk) { return nil }
        }
        response.body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return response
    }

    /// Reads until the server closes (or 5 s pass): how it ended and the
    /// bytes not yet read as a response.
    func readUntilEnd() -> (end: End, rest: [UInt8]) {
        while fill() {}
        defer { buffer = [] }
        return (ended ?? .timedOut, buffer)
    }
}

/// Waits for `condition`, checking every millisecond, for at most `limit`.
func waitUntil(within limit: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        if ContinuousClock.now > deadline { return false }
        usleep(1_000)
    }
    return true
}

/// The contents of a (small, /proc) file.
func readFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// This process's descriptors (from /proc/self/fd) that are TCP sockets with
/// `port` at either end: the server's listener and connections, and test
/// clients connected to it. Other tests running meanwhile do not use the
/// port, so they do not count.
func descriptorsOnPort(_ port: UInt16) -> Int {
    func portOf(_ storage: sockaddr_storage) -> UInt16? {
        var storage = storage
        return withUnsafePointer(to: &storage) { pointer -> UInt16? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET: pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            case AF_INET6: pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            default: nil
            }
        }
    }
    func name(of fd: Int32, peer: Bool) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length) }
        }
        return rc == 0 ? portOf(storage) : nil
    }
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let fd = Int32(entryName) else { continue }
        var target = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/self/fd/\(entryName)", &target, target.count - 1)
        guard n > 0, String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self).hasPrefix("socket:") else { continue }
        if name(of: fd, peer: false) == port || name(of: fd, peer: true) == port { count += 1 }
    }
    return count
}

/// A case of a malformed request.
struct MalformedRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var status: Int = 400
    /// Part of the body saying what is wrong.
    var says: String

    var testDescription: String { name }
}

let blockingSocketTestsEnabled = ProcessInfo.processInfo.environment["TIMERD_BLOCKING_SOCKET_TESTS"] == "1"

/// Run alone (`TIMERD_BLOCKING_SOCKET_TESTS=1`; `make test` and
/// `scripts/leak-check` do, in a run of their own): their test clients block
/// in `recv` and poll with `usleep`, which holds Swift's cooperative threads
/// (two on a 2-core machine) for seconds, long enough to make the deadlines
/// of unrelated tests in a parallel run late.
@Suite("Metrics HTTP server", .enabled(if: blockingSocketTestsEnabled), .serialized, .timeLimit(.minutes(1)))
struct MetricsHTTPServerTests {
    static let body = Array("# HELP vault_up Whether the server is up.\n# TYPE vault_up gauge\nvault_up 1\n".utf8)

    func withServer(_ configure: (inout MetricsHTTPServer.Configuration) -> Void = { _ in },
                    render: @escaping MetricsHTTPServer.Render = { MetricsHTTPServerTests.body },
                    _ body: (MetricsHTTPServer) throws -> Void) async throws {
        var configuration = MetricsHTTPServer.Configuration()
        configure(&configuration)
        let loop = try EventLoop(name: "metrics-test")
        defer { loop.stop() }
        let server = try MetricsHTTPServer(address: Socket.Address(host: "127.0.0.1", port: 0), loop: loop,
                                           configuration: configuration, render: render)
        #expect(server.port != 0)
        do {
            try body(server)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test("GET /metrics answers 200 with the rendered body and the Prometheus content type")
    func get() async throws {
        let renders = Atomic<Int>(0)
        try await withServer(render: {
            renders.add(1, ordering: .relaxed)
            return MetricsHTTPServerTests.body
        }) { server in
            let client = try MetricsTestClient(port: server.port)
            client.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Prometheus/2.53.0\r\nAccept: text/plain\r\n\r\n")
            let response = try #require(client.readResponse())
            #expect(response.status == 200)
            #expect(response.body == Self.body)
            #expect(response.headers.map(\.name) == ["Date", "Content-Type", "Content-Length"])
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(response.header("Content-Length") == String(Self.body.count))
            let date = try #require(response.header("Date"))
            #expect(date.hasSuffix(" GMT") && date.count == 29)

            client.send("GET /metrics?name[]=vault_up&x=%20 HTTP/1.1\r\nHost: a\r\n\r\n")
            let withQuery = try #require(client.readResponse())
            #expect(withQuery.status == 200)
            #expect(withQuery.body == Self.body)
            #expect(renders.load(ordering: .relaxed) == 2)
        }
    }

    @Test("HEAD /metrics answers the headers a GET would get, without the body")
    func head() async throws {
        try await withServer { server in
            let client = try MetricsTestClient(port: server.port)
            client.send("HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            let response = try #require(client.readResponse(head: true))
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == String(Self.body.count))
            #expect(response.header("Content-Type") == MetricsHTTPServer.metricsContentType)
            // No body was sent: the next response starts right after.
            client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            let next = try #require(client.readResponse())
            #expect(next.status == 200)
            #expect(next.body == Self.body)
        }
    }

    @Test("another path gets 404 and the connection stays open")
    func notFound() async throws {
        try await withServer { server in
            let client = try MetricsTestClient(port: server.port)
            for path in ["/", "/metrics/", "/metricsx", "/METRICS", "/%6Detrics", "/health"] {
                client.send("GET \(path) HTTP/1.1\r\nHost: a\r\n\r\n")
                let response = try #require(client.readResponse())
                #expect(response.status == 404, "\(path)")
                #expect(response.text.contains("/metrics"))
                #expect(response.header("Connection") == nil)
            }
            client.send("HEAD /nothing HTTP/1.1\r\nHost: a\r\n\r\n")
            let head = try #require(client.readResponse(head: true))
            #expect(head.status == 404)
            client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponse()?.status == 200)
        }
    }

    @Test("another method gets 405 with Allow; one with a body is closed after it")
    func methodNotAllowed() async throws {
        try await withServer { server in
            let client = try MetricsTestClient(port: server.port)
            for method in ["POST", "PUT", "DELETE", "OPTIONS", "get", "PATCH"] {
                client.send("\(method) /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
                let response = try #require(client.readResponse())
                #expect(response.status == 405, "\(method)")
                #expect(response.header("Allow") == "GET, HEAD")
                #expect(response.header("Connection") == nil)
            }
            // The body is not read, so the connection cannot go on.
            client.send("POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
            let response = try #require(client.readResponse())
            #expect(response.status == 405)
            #expect(response.header("Connection") == "close")
            #expect(client.readUntilEnd().end == .closed)
        }
    }

    static let malformed: [MalformedRequest] = [
        MalformedRequest(name: "no HTTP version", bytes: Array("GET /metrics\r\nHost: a\r\n\r\n".utf8), says: "request line"),
        MalformedRequest(name: "two spaces", bytes: Array("GET  /metrics HTTP/1.1\r\n\r\n".utf8), says: "request line"),
        MalformedRequest(name: "target not a path", bytes: Array("GET metrics HTTP/1.1\r\n\r\n".utf8), says: "starting with /"),
        MalformedRequest(name: "absolute URL", bytes: Array("GET http://a/metrics HTTP/1.1\r\n\r\n".utf8), says: "starting with /"),
        MalformedRequest(name: "malformed version", bytes: Array("GET /metrics HTTP/1.x\r\n\r\n".utf8), says: "HTTP version"),
        MalformedRequest(name: "HTTP/2.0 request line", bytes: Array("GET /metrics HTTP/2.0\r\n\r\n".utf8), status: 505, says: "HTTP/2.0"),
        MalformedRequest(name: "HTTP/0.9 style", bytes: Array("GET /metrics HTTP/0.9\r\n\r\n".utf8), status: 505, says: "use HTTP/1.1"),
        MalformedRequest(name: "HTTP/2 preface", bytes: Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0],
                         says: "not HTTP/2"),
        MalformedRequest(name: "header without colon", bytes: Array("GET /metrics HTTP/1.1\r\nHost a\r\n\r\n".utf8), says: "colon"),
        MalformedRequest(name: "space before colon", bytes: Array("GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n".utf8), says: "header name"),
        MalformedRequest(name: "folded header", bytes: Array("GET /metrics HTTP/1.1\r\nX: a\r\n b\r\n\r\n".utf8), says: "folded"),
        MalformedRequest(name: "bare LF", bytes: Array("GET /metrics HTTP/1.1\nHost: a\n\n".utf8), says: "CRLF"),
        MalformedRequest(name: "bare CR", bytes: Array("GET /metrics HTTP/1.1\rHost: a\r\n\r\n".utf8), says: "CR not followed"),
        MalformedRequest(name: "non-ASCII byte", bytes: Array("GET /metrics HTTP/1.1\r\nX: caf\u{e9}\r\n\r\n".utf8), says: "printable ASCII"),
        MalformedRequest(name: "control byte", bytes: Array("GET /metrics HTTP/1.1\r\nX: a\u{1}b\r\n\r\n".utf8), says: "0x1"),
        MalformedRequest(name: "NUL in the request line, nothing after", bytes: [0x47, 0x45, 0x54, 0x00], says: "0x0"),
        MalformedRequest(name: "leading empty line", bytes: Array("\r\nGET /metrics HTTP/1.1\r\n\r\n".utf8), says: "request line"),
        MalformedRequest(name: "GET with a body", bytes: Array("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".utf8), says: "body"),
        MalformedRequest(name: "GET chunked", bytes: Array("GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8), says: "body"),
        MalformedRequest(name: "HEAD with a body", bytes: Array("HEAD /metrics HTTP/1.1\r\nContent-Length: 1\r\n\r\nx".utf8), says: "body"),
        MalformedRequest(name: "malformed Content-Length", bytes: Array("GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n".utf8),
                         says: "Content-Length"),
        MalformedRequest(name: "conflicting Content-Length",
                         bytes: Array("GET /metrics HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 2\r\n\r\n".utf8), says: "conflicting"),
        MalformedRequest(name: "Content-Length and Transfer-Encoding",
                         bytes: Array("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n".utf8),
                         says: "both"),
        MalformedRequest(name: "two Host headers", bytes: Array("GET /metrics HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n".utf8), says: "Host"),
        MalformedRequest(name: "TLS client hello", bytes: [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00], says: "0x16"),
    ]

    @Test("a malformed request gets 400 (505 for another version) saying what is wrong, then the connection is closed",
          arguments: malformed)
    func malformedRequest(_ request: MalformedRequest) async throws {
        try await withServer { server in
            let client = try MetricsTestClient(port: server.port)
            client.send(request.bytes)
            let response = try #require(client.readResponse())
            #expect(response.status == request.status)
            #expect(response.text.contains(request.says), "\(response.text)")
            #expect(response.text.hasSuffix("\n") && response.text.count < 100)
            #expect(response.header("Connection") == "close")
            #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(client.readUntilEnd().end == .closed)
        }
    }

    @Test("a header section over the limit gets 400 and the connection is closed; one at the limit is served")
    func oversizedHeaders() async throws {
        try await withServer { server in
            let start = "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Padding: "
            let atLimit = start + String(repeating: "a", count: 8192 - start.utf8.count - 4) + "\r\n\r\n"
            #expect(atLimit.utf8.count == 8192)
            let client = try MetricsTestClient(port: server.port)
            client.send(atLimit)
            #expect(client.readResponse()?.status == 200)

            let over = try MetricsTestClient(port: server.port)
            over.send(start + String(repeating: "a", count: 8192 - start.utf8.count - 3) + "\r\n\r\n")
            let response = try #require(over.readResponse())
            #expect(response.status == 400)
            #expect(response.text == "the header section is over 8192 bytes\n")
            #expect(over.readUntilEnd().end == .closed)

            // Far over, and never ending: refused once the limit is passed.
            let endless = try MetricsTestClient(port: server.port)
            endless.send("GET /metrics HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: 20_000))
            #expect(endless.readResponse()?.status == 400)
            #expect(endless.readUntilEnd().end != .timedOut)
        }
    }

    @Test("a client that sends half a request, or nothing, is closed after the request timeout")
    func slowClient() async throws {
        // Long enough for the idle client below to send its request in time
        // however busy the machine.
        try await withServer({ $0.requestTimeout = .seconds(1) }) { server in
            let half = try MetricsTestClient(port: server.port)
            half.send("GET /metrics HTTP/1.1\r\nHost: ")
            let silent = try MetricsTestClient(port: server.port)
            #expect(half.readUntilEnd() == (.closed, []))
            #expect(silent.readUntilEnd() == (.closed, []))
            // A kept-alive connection that goes quiet after a response too.
            let idle = try MetricsTestClient(port: server.port)
            idle.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(idle.readResponse()?.status == 200)
            #expect(idle.readUntilEnd() == (.closed, []))
            #expect(waitUntil { server.statistics.openConnections == 0 })
        }
    }

    @Test("HTTP/1.1 keeps the connection open, pipelined requests are answered in order, Connection: close and HTTP/1.0 close")
    func keepAlive() async throws {
        try await withServer { server in
            let client = try MetricsTestClient(port: server.port)
            client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponse()?.body == Self.body)
            client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponse()?.body == Self.body)

            // Three in one write, the last asking to close.
            client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nGET /other HTTP/1.1\r\nHost: a\r\n\r\n"
                        + "HEAD /metrics HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n")
            #expect(client.readResponse()?.status == 200)
            #expect(client.readResponse()?.status == 404)
            let last = try #require(client.readResponse(head: true))
            #expect(last.status == 200)
            #expect(last.header("Connection") == "close")
            #expect(client.readUntilEnd() == (.closed, []))

            let old = try MetricsTestClient(port: server.port)
            old.send("GET /metrics HTTP/1.0\r\n\r\n")
            let response = try #require(old.readResponse())
            #expect(response.status == 200)
            #expect(response.header("Connection") == "close")
            #expect(old.readUntilEnd() == (.closed, []))

            let oldKept = try MetricsTestClient(port: server.port)
            oldKept.send("GET /metrics HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            let kept = try #require(oldKept.readResponse())
            #expect(kept.header("Connection") == "keep-alive")
            oldKept.send("GET /metrics HTTP/1.0\r\n\r\n")
            #expect(oldKept.readResponse()?.body == Self.body)
            #expect(oldKept.readUntilEnd() == (.closed, []))
        }
    }

    /// The most a socket's send buffer grows to (`tcp_wmem`'s maximum).
    static let largestSendBuffer = Int(readFile("/proc/sys/net/ipv4/tcp_wmem").split(whereSeparator: \.isWhitespace).last ?? "") ?? 4 << 20

    @Test("a large body reaches a slow reader whole, the rest waiting in the server's write buffer",
          arguments: [1 << 20, largestSendBuffer * 2])
    func largeBodySlowReader(size: Int) async throws {
        let large = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        try await withServer(render: { large }) { server in
            let client = try MetricsTestClient(port: server.port, receiveBuffer: 4096)
            client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            if size > Self.largestSendBuffer {
                // The socket cannot take it all: the rest waits in the server.
                #expect(waitUntil { server.statistics.responsesWaitedForSocket == 1 })
                #expect(server.statistics.bufferedBytes > 0)
            }
            let response = try #require(client.readResponse(chunk: 1024))
            #expect(response.status == 200)
            #expect(response.body.count == large.count)
            #expect(response.body == large)
            #expect(waitUntil { server.statistics.bufferedBytes == 0 })
            // The connection goes on.
            client.send("HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(client.readResponse(head: true)?.header("Content-Length") == String(large.count))
        }
    }

    @Test("a reader that stops reading is closed after the write timeout")
    func stalledReader() async throws {
        let large = [UInt8](repeating: 0x61, count: Self.largestSendBuffer * 2)
        try await withServer({ $0.writeTimeout = .milliseconds(200) }, render: { large }) { server in
            let client = try MetricsTestClient(port: server.port, receiveBuffer: 4096)
            client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(waitUntil { server.statistics.responsesWaitedForSocket == 1 })
            #expect(waitUntil { server.statistics.openConnections == 0 })
            #expect(server.statistics.bufferedBytes == 0)
            withExtendedLifetime(client) {}
        }
    }

    @Test("connections past the limit are accepted and closed at once; the others are served")
    func connectionLimit() async throws {
        try await withServer({ $0.maxConnections = 3 }) { server in
            let kept = try (0..<3).map { _ in try MetricsTestClient(port: server.port) }
            #expect(waitUntil { server.statistics.openConnections == 3 })
            for _ in 0..<5 {
                let extra = try MetricsTestClient(port: server.port)
                extra.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
                let (end, rest) = extra.readUntilEnd()
                #expect(end != .timedOut)
                #expect(rest.isEmpty)
            }
            #expect(server.statistics.refusedConnections == 5)
            for client in kept {
                client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(client.readResponse()?.body == Self.body)
            }
            #expect(server.statistics.openConnections == 3)
        }
    }

    @Test("every socket is closed: after served, refused, malformed and timed-out connections, and at shutdown")
    func noDescriptorLeak() async throws {
        let loop = try EventLoop(name: "metrics-leak")
        defer { loop.stop() }
        var configuration = MetricsHTTPServer.Configuration()
        configuration.maxConnections = 4
        configuration.requestTimeout = .seconds(1)
        let server = try MetricsHTTPServer(address: Socket.Address(host: "127.0.0.1", port: 0), loop: loop,
                                           configuration: configuration) { Self.body }
        let port = server.port
        #expect(descriptorsOnPort(port) == 1)  // The listening socket.
        do {
            for round in 0..<3 {
                do {
                    // The server shuts its side after the response and closes
                    // when this side does.
                    let bad = try MetricsTestClient(port: port)
                    bad.send("GET /metrics HTTP/9.9\r\n\r\n")
                    #expect(bad.readResponse()?.status == 505)
                    #expect(bad.readUntilEnd().end == .closed)
                }
                #expect(waitUntil { server.statistics.openConnections == 0 })
                let served = try MetricsTestClient(port: port)
                served.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(served.readResponse()?.status == 200)
                let slow = try MetricsTestClient(port: port)
                slow.send("GET /met")
                let gone = try MetricsTestClient(port: port)
                gone.send("GET /metrics HTTP/1.1\r\n")
                let idle = try MetricsTestClient(port: port)
                var clients = [served, slow, gone, idle]
                #expect(waitUntil { server.statistics.openConnections == 4 })
                let refused = try MetricsTestClient(port: port)
                #expect(refused.readUntilEnd().end != .timedOut)
                if round == 0 {
                    // Closed by the server at the request timeout.
                    #expect(slow.readUntilEnd() == (.closed, []))
                }
                clients.removeAll()  // Closes the rest from this side.
                #expect(waitUntil { server.statistics.openConnections == 0 })
            }
            #expect(server.statistics.refusedConnections == 3)
            let open = try MetricsTestClient(port: port)
            open.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(open.readResponse()?.status == 200)
            #expect(descriptorsOnPort(port) == 3)  // Listener, the server's end, the client's end.
            await server.shutdown()
            // Shutdown closed the open connection too.
            #expect(open.readUntilEnd().end == .closed)
        }
        #expect(server.statistics.openConnections == 0)
        #expect(waitUntil { descriptorsOnPort(port) == 0 })
    }

    @Test("shutdown closes idle connections and the listener; stop is idempotent")
    func shutdownClosesEverything() async throws {
        let loop = try EventLoop(name: "metrics-stop")
        defer { loop.stop() }
        let server = try MetricsHTTPServer(address: Socket.Address(host: "127.0.0.1", port: 0), loop: loop) { Self.body }
        let client = try MetricsTestClient(port: server.port)
        #expect(waitUntil { server.statistics.openConnections == 1 })
        await server.shutdown()
        #expect(client.readUntilEnd() == (.closed, []))
        server.stop()
        await server.shutdown()
        #expect(throws: HTTP2Error.self) { try MetricsTestClient(port: server.port) }
    }
}

extension MetricsHTTPServerTests {
    @Test("a loop that stops closes the server's sockets, and shutdown afterwards returns")
    func loopStopsFirst() async throws {
        let loop = try EventLoop(name: "metrics-loop-stop")
        let server = try MetricsHTTPServer(address: Socket.Address(host: "127.0.0.1", port: 0), loop: loop) { Self.body }
        let client = try MetricsTestClient(port: server.port)
        client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        loop.stop()
        #expect(client.readUntilEnd() == (.closed, []))
        #expect(waitUntil { descriptorsOnPort(server.port) == 1 })  // The client's end only.
        await server.shutdown()
        withExtendedLifetime(client) {}
    }

    @Test("a client that shuts its side after the request gets the whole response")
    func halfClosedClient() async throws {
        try await withServer { server in
            let client = try MetricsTestClient(port: server.port)
            client.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            Glibc.shutdown(client.fd, Int32(SHUT_WR))
            #expect(client.readResponse()?.body == Self.body)
            #expect(client.readUntilEnd() == (.closed, []))
        }
    }
}

@Suite("Metrics HTTP request parser")
struct MetricsHTTPRequestParserTests {
    typealias Parser = MetricsHTTPServer.RequestParser

    @Test("bytes arriving one at a time parse as the whole request does")
    func byteByByte() {
        let request = Array("GET /metrics?a=b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /".utf8)
        var whole = Parser(maxHeaderBytes: 8192)
        let expected = whole.parse(request)
        guard case .request(let parsed, let length) = expected else {
            Issue.record("not parsed: \(expected)")
            return
        }
        #expect(parsed == MetricsHTTPServer.Request(method: .get, target: "/metrics?a=b", minorVersion: 1, keepAlive: false, hasBody: false))
        #expect(parsed.path == "/metrics")
        #expect(length == request.count - 5)
        var piecewise = Parser(maxHeaderBytes: 8192)
        var result = Parser.Result.incomplete
        for end in 1...request.count {
            result = piecewise.parse(Array(request[0..<end]))
            if result != .incomplete { break }
        }
        #expect(result == expected)
    }

    @Test("a bad request line is refused before the header section ends")
    func earlyRejection() {
        var parser = Parser(maxHeaderBytes: 8192)
        #expect(parser.parse(Array("FOO bar\r\n".utf8)) == .rejected(.bad("the request line must be METHOD SP TARGET SP HTTP-VERSION")))
    }

    @Test("random bytes never crash the parser and never make it take more than the limit")
    func randomInput() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let pieces = ["GET ", "HEAD ", "/metrics", " HTTP/1.1", " HTTP/1.0", "\r\n", "\r", "\n", ":", " ", "Host: a",
                      "Content-Length: 0", "Transfer-Encoding: x", "Connection: close", "\t", "\u{0}", "\u{7f}", "é"].map { Array($0.utf8) }
        for _ in 0..<5_000 {
            var input: [UInt8] = []
            for _ in 0..<(next() % 12) {
                input += next() % 4 == 0 ? [UInt8(truncatingIfNeeded: next())] : pieces[Int(next() % UInt64(pieces.count))]
            }
            var parser = Parser(maxHeaderBytes: 64)
            var result = Parser.Result.incomplete
            for end in stride(from: 0, through: input.count, by: Int(next() % 5) + 1) {
                result = parser.parse(Array(input[0..<end]))
                if result != .incomplete { break }
            }
            if case .request(_, let length) = result { #expect(length <= 64) }
        }
    }
}
