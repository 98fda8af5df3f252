import Codec
import Glibc
import HTTP2
import RPC

/// Feeds one input to a real server connection as the bytes a client sends,
/// and checks that the connection ends cleanly.
///
/// One end of a Unix socket pair is an `HTTP2Connection` (server role) with
/// the gRPC connection handler, on an event loop without a thread that the
/// harness drives round by round; the harness writes the input into the other
/// end and reads and drops what the server answers. Handler tasks run on the
/// same thread (``SerialJobs``), between rounds. When the input is written
/// and everything has settled, the client end is shut down: the server sees
/// the end of the stream and closes, which must cancel every call.
///
/// The first byte of an input sets up the run (the rest is the client's bytes):
///
/// | bits | meaning |
/// |------|---------|
/// | 0    | send the client preface and an empty SETTINGS first |
/// | 1    | and a SETTINGS ACK (with bit 0) |
/// | 2–4  | 0: write the bytes at once; k: in pieces of 2^(k+3) bytes, letting the server settle between them |
/// | 5–6  | server configuration: default, gzip responses, tight limits, both |
/// | 7    | end with `close` instead of `shutdown(SHUT_WR)` |
///
/// After each run: no connection, source, live timer, queued task or job is
/// left, and no echo handler is still running. A broken invariant traps.
final class ServerHarness {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    static let emptySettings: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 0, 0]
    static let settingsAck: [UInt8] = [0, 0, 0, 4, 1, 0, 0, 0, 0]

    let loop: EventLoop
    let router: MethodRouter
    /// Indexed by bits 5–6 of the first byte.
    let configurations: [GRPCServer.Configuration]
    private let sink = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    private var input: [UInt8] = []
    /// When set, gets everything the server sends (the replayer's `--trace`).
    var trace: ((UnsafeRawBufferPointer) -> Void)?

    init() throws {
        loop = try EventLoop(name: "server-fuzzer", startThread: false)
        var router = MethodRouter()
        router.register(HealthService(services: [EchoService.service]))
        router.register(try ReflectionService(descriptorSets: [EmbeddedDescriptorSets.standardServices]))
        router.register(EchoService())

        let standard = GRPCServer.Configuration(address: "127.0.0.1:0", eventLoops: 1)
        var gzip = standard
        gzip.compressResponses = true
        var tight = standard
        tight.maxReceiveMessageSize = 64
        tight.maxSendMessageSize = 64
        tight.maxConcurrentStreams = 4
        tight.maxHeaderListSize = 512
        tight.maxPingStrikes = 0
        var tightGzip = tight
        tightGzip.compressResponses = true
        configurations = [standard, gzip, tight, tightGzip]
        self.router = router
    }

    deinit {
        loop.releaseAll()
        sink.deallocate()
    }

    /// Runs one input; traps when an invariant breaks.
    func run(_ data: UnsafeRawBufferPointer) {
        guard let control = data.first else { return }
        let body = UnsafeRawBufferPointer(rebasing: data.dropFirst())
        input.removeAll(keepingCapacity: true)
        if control & 0x01 != 0 {
            input += Self.preface
            input += Self.emptySettings
            if control & 0x02 != 0 { input += Self.settingsAck }
        }
        input.append(contentsOf: body)
        let pieceBits = Int((control >> 2) & 0x07)
        let piece = pieceBits == 0 ? Int.max : 1 << (pieceBits + 3)
        // A factory (and connection registry) per run, as a server has one
        // for its lifetime: what the run leaves behind cannot hide in it.
        let factory = ServerConnectionFactory(configuration: configurations[Int((control >> 5) & 0x03)], router: router)
        let closeAtEnd = control & 0x80 != 0
        input.withUnsafeBytes { bytes in
            exchange(bytes, piece: piece, factory: factory, closeAtEnd: closeAtEnd)
        }
    }

    private func exchange(_ bytes: UnsafeRawBufferPointer, piece: Int, factory: ServerConnectionFactory, closeAtEnd: Bool) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            fatalError("socketpair: \(String(cString: strerror(errno)))")
        }
        var client = pair[0]
        do {
            let connection = try HTTP2Connection(fd: pair[1], role: .server, loop: loop, configuration: factory.http2, tls: nil)
            connection.delegate = factory.makeDelegate(for: connection)
            try connection.start()
        } catch {
            fatalError("the server connection did not start: \(error)")
        }

        var offset = 0
        var pieceEnd = 0
        var ended = false
        // Every step makes progress or the run is over; generous, as a
        // stream's messages may each take a few rounds between loop and task.
        let maxSteps = 10_000 + 8 * bytes.count
        var steps = 0
        while true {
            steps += 1
            if steps > maxSteps {
                fatalError("the server did not settle after \(maxSteps) steps (\(offset) of \(bytes.count) bytes written)")
            }
            if offset < pieceEnd && client >= 0 {
                let n = send(client, bytes.baseAddress! + offset, pieceEnd - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if n > 0 {
                    offset += n
                } else if n < 0 && errno != EAGAIN && errno != EINTR {
                    offset = bytes.count  // The server closed: the rest is never read.
                    pieceEnd = offset
                }
            }
            loop.runRound(timeout: 0)
            SerialJobs.drain()
            drainOutput(client)
            let settled = !loop.hasQueuedWork && SerialJobs.isEmpty && (client < 0 || unreadByServer(client) == 0)
            guard settled else { continue }
            let open = loop.registeredSources > 0
            if !open { break }
            if offset < bytes.count {
                if offset == pieceEnd { pieceEnd = min(bytes.count, piece == Int.max ? bytes.count : offset + piece) }
                continue
            }
            if !ended {
                ended = true
                if closeAtEnd {
                    close(client)
                    client = -1
                } else {
                    shutdown(client, Int32(SHUT_WR))
                }
            }
        }
        if client >= 0 { close(client) }
        checkFinished(factory)
    }

    /// Reads and drops what the server sent.
    private func drainOutput(_ client: Int32) {
        guard client >= 0 else { return }
        while true {
            let n = recv(client, sink.baseAddress, sink.count, Int32(MSG_DONTWAIT))
            if n <= 0 { return }
            trace?(UnsafeRawBufferPointer(rebasing: sink[..<n]))
        }
    }

    /// Bytes written to `client` that the server has not read.
    private func unreadByServer(_ client: Int32) -> Int32 {
        var queued: Int32 = 0
        _ = ioctl(client, UInt(TIOCOUTQ), &queued)
        return queued
    }

    private func checkFinished(_ factory: ServerConnectionFactory) {
        var left: [String] = []
        if factory.openConnections != 0 { left.append("\(factory.openConnections) open connections") }
        if loop.registeredSources != 0 { left.append("\(loop.registeredSources) registered sources") }
        if loop.liveTimers != 0 { left.append("\(loop.liveTimers) live timers") }
        if loop.hasQueuedWork { left.append("queued loop work") }
        if !SerialJobs.isEmpty { left.append("queued jobs") }
        if EchoService.running != 0 { left.append("\(EchoService.running) echo handlers running") }
        if !left.isEmpty {
            fatalError("the connection closed, but left: \(left.joined(separator: ", "))")
        }
        // Cancelled timers wait in the heap for their deadlines; dropping them
        // now keeps every run's allocations balanced, so the leak check only
        // runs for runs that may leak.
        loop.dropCancelledTimers()
    }
}
