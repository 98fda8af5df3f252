import HTTP2
import Synchronization

/// The gRPC server side of one HTTP/2 connection: validates request headers,
/// routes calls to handlers, and feeds each call its stream's events.
/// Confined to the connection's loop.
final class ServerConnectionHandler: HTTP2ConnectionDelegate {
    private let router: MethodRouter
    private let limits: ServerLimits
    private let maxHeaderListSize: Int
    /// Strong: the cycle registry → connection → handler → registry ends
    /// when the connection closes and leaves the registry. (A weak reference
    /// would give the registry a side table, which LeakSanitizer reports as
    /// a leak when the registry is still alive at exit.)
    private let registry: ConnectionRegistry
    /// The previous request's header values, reused when the next request
    /// repeats them (a client calls the same methods over and over).
    private var recent = RequestHeaders.Recent()
    /// The handler of the previous call, by its path.
    private var lastRoute: (path: String, handler: MethodRouter.Handler)?
    private var calls: [StreamKey: ServerCall] = [:]
    /// Calls answered on the loop (health checks and the like).
    private var inlineCalls: [StreamKey: InlineCall] = [:]

    init(router: MethodRouter, limits: ServerLimits, maxHeaderListSize: Int, registry: ConnectionRegistry) {
        self.router = router
        self.limits = limits
        self.maxHeaderListSize = maxHeaderListSize
        self.registry = registry
    }

    func headersReceived(_ connection: HTTP2Connection, stream: Int32, category: HeadersCategory, headers: HTTP2HeaderBlock, endStream: Bool) {
        guard category == .request else {
            // Trailers from a client carry nothing for us; with END_STREAM
            // they end the request as a DATA frame's would.
            if category == .trailers && endStream { peerFinished(connection, stream: stream) }
            return
        }
        var request = RequestHeaders(maxHeaderListSize: maxHeaderListSize, reusing: recent)
        for index in 0..<headers.count {
            let (name, value) = headers[index]
            // A rejected request is answered with its status by finish().
            if case .reject = request.add(name: name.assumingMemoryBound(to: UInt8.self), value: value.assumingMemoryBound(to: UInt8.self)) { break }
        }
        let repeatsRecent = request.repeatsRecent
        switch request.finish() {
        case .rejected(.http(let status, let message)):
            let unknown = router.unknownMethodMetrics
            unknown.finished(.internalError, startedAt: unknown.started())
            connection.respond(stream, headers: [
                HTTP2Header(":status", String(status)),
                HTTP2Header("content-type", "text/plain"),
                HTTP2Header("grpc-status", String(StatusCode.internalError.rawValue)),
                HTTP2Header("grpc-message", PercentEncoding.encode(message)),
            ], endStream: true)
        case .rejected(.grpc(let error)):
            let unknown = router.unknownMethodMetrics
            unknown.finished(error.code, startedAt: unknown.started())
            Self.respondTrailersOnly(connection, stream: stream, error: error)
        case .request(let request):
            // Kept for the next request, unless it repeats what is kept already.
            if !repeatsRecent { recent = RequestHeaders.Recent(request) }
            guard let handler = handler(forPath: request.path) else {
                let unknown = router.unknownMethodMetrics
                unknown.finished(.unimplemented, startedAt: unknown.started())
                Self.respondTrailersOnly(connection, stream: stream, error: unimplemented(Substring(request.path)))
                return
            }
            if case .inline(let run) = handler.body {
                startInline(run, handler: handler, request: request, stream: stream, endStream: endStream, connection: connection)
                return
            }
            let call = ServerCall(stream: stream, connection: connection, limits: limits, encoding: request.encoding)
            calls[StreamKey(stream)] = call
            call.start(request: request, handler: handler, peer: connection.peer)
            if endStream { call.requestEnded() }
        }
    }

    func data(_ connection: HTTP2Connection, stream: Int32, bytes: UnsafeRawBufferPointer) {
        if !inlineCalls.isEmpty, let index = inlineCalls.index(forKey: StreamKey(stream)) {
            inlineCalls.values[index].received(bytes, stream: stream, connection: connection, limits: limits)
        } else if let call = calls[StreamKey(stream)] {
            call.received(bytes)
        } else {
            connection.consume(bytes.count, on: stream)  // A rejected request's body.
        }
    }

    func peerFinished(_ connection: HTTP2Connection, stream: Int32) {
        if !inlineCalls.isEmpty, var call = inlineCalls.removeValue(forKey: StreamKey(stream)) {
            call.requestEnded(stream: stream, connection: connection, limits: limits)
        } else {
            calls[StreamKey(stream)]?.requestEnded()
        }
    }

    func streamClosed(_ connection: HTTP2Connection, stream: Int32, errorCode: UInt32) {
        if !inlineCalls.isEmpty, var call = inlineCalls.removeValue(forKey: StreamKey(stream)) {
            call.abandon()  // Reset by the client, or closed after an early answer.
        } else {
            calls.removeValue(forKey: StreamKey(stream))?.closed(errorCode: errorCode)
        }
    }

    func streamWritable(_ connection: HTTP2Connection, stream: Int32) {
        calls[StreamKey(stream)]?.writable()
    }

    func goAwayReceived(_ connection: HTTP2Connection, lastStreamID: Int32, errorCode: UInt32) {}

    func connectionActive(_ connection: HTTP2Connection) {}

    func connectionClosed(_ connection: HTTP2Connection, error: HTTP2Error?) {
        for (_, call) in calls { call.closed(errorCode: 8) }
        calls.removeAll()
        for (_, var call) in inlineCalls { call.abandon() }
        inlineCalls.removeAll()
        lastRoute = nil
        registry.remove(connection)
        registry.scheduleMemoryTrim(on: connection.loop)
    }

    /// The handler for `path`: the previous call's when the path is the same
    /// (the same string, when ``recent`` supplied it), else the router's.
    private func handler(forPath path: String) -> MethodRouter.Handler? {
        if let lastRoute, lastRoute.path == path { return lastRoute.handler }
        guard let handler = router.handler(forPath: path) else { return nil }
        lastRoute = (path, handler)
        return handler
    }

    /// The number of calls in progress.
    var activeCalls: Int { calls.count + inlineCalls.count }

    /// Starts a call answered on the loop; with END_STREAM on its headers it
    /// has no message, and is answered so at once.
    private func startInline(_ run: MethodRouter.Handler.InlineRun, handler: MethodRouter.Handler,
                             request: RequestHeaders.Request, stream: Int32, endStream: Bool, connection: HTTP2Connection) {
        if endStream {
            var call = InlineCall(handler: run, method: handler.method, metrics: handler.metrics, request: request, peer: connection.peer, limits: limits)
            call.requestEnded(stream: stream, connection: connection, limits: limits)
            return
        }
        // Made in place: a copy of the call would cost a reference count per part.
        inlineCalls[StreamKey(stream)] = InlineCall(handler: run, method: handler.method, metrics: handler.metrics, request: request, peer: connection.peer, limits: limits)
        if let timeout = request.timeout, let index = inlineCalls.index(forKey: StreamKey(stream)) {
            inlineCalls.values[index].deadlineTimer = connection.loop.schedule(after: timeout) { [self] in
                guard var expired = inlineCalls.removeValue(forKey: StreamKey(stream)) else { return }
                expired.deadlineTimer = nil
                expired.fail(RPCError(code: .deadlineExceeded, message: "deadline of \(GRPCTimeout(roundingUp: timeout).headerValue) exceeded"),
                             stream: stream, connection: connection)
            }
        }
    }

    private func unimplemented(_ path: Substring) -> RPCError {
        let parts = path.dropFirst().split(separator: "/", maxSplits: 1)
        if parts.count == 2, router.serviceNames.contains(String(parts[0])) {
            return RPCError(code: .unimplemented, message: "method \(parts[1]) is not implemented by service \(parts[0])")
        }
        if parts.count == 2 {
            return RPCError(code: .unimplemented, message: "service \(parts[0]) is not served here")
        }
        return RPCError(code: .unimplemented, message: "\"\(path)\" is not a gRPC method path (/service/method)")
    }

    /// Answers with one HEADERS frame carrying the status (no message).
    static func respondTrailersOnly(_ connection: HTTP2Connection, stream: Int32, error: RPCError) {
        ResponseWriting.sendTrailersOnly(error, trailing: error.metadata, on: stream, of: connection, context: nil)
    }
}

/// The server's open connections, so shutdown can reach them and wait for
/// them to finish.
final class ConnectionRegistry: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: HTTP2Connection] = [:]
        var drained: [CheckedContinuation<Void, Never>] = []
        var shuttingDown = false
    }
    private let state = Mutex(State())

    func add(_ connection: HTTP2Connection) -> Bool {
        state.withLock { state in
            if state.shuttingDown { return false }
            state.connections[ObjectIdentifier(connection)] = connection
            return true
        }
    }

    private let trimScheduled = Atomic<Bool>(false)
    /// Whether closing connections trims memory (a server's registry does).
    private let trimsMemory: Bool

    init(trimsMemory: Bool = false) {
        self.trimsMemory = trimsMemory
    }

    /// Gives the memory that closed connections freed back to the system, one
    /// second after a connection closes and at most once a second: glibc keeps
    /// freed memory in its arenas otherwise, so after a burst of connections
    /// (or an attack) the server's RSS would stay at its peak. The trim costs
    /// the loop a few milliseconds at most.
    func scheduleMemoryTrim(on loop: EventLoop) {
        guard trimsMemory, !trimScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = loop.schedule(after: .seconds(1)) { [self] in
            trimScheduled.store(false, ordering: .releasing)
            releaseFreedMemory()
        }
    }

    func remove(_ connection: HTTP2Connection) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.connections[ObjectIdentifier(connection)] = nil
            guard state.connections.isEmpty else { return [] }
            defer { state.drained.removeAll() }
            return state.drained
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Marks the server as shutting down and returns the open connections.
    func beginShutdown() -> [HTTP2Connection] {
        state.withLock { state in
            state.shuttingDown = true
            return Array(state.connections.values)
        }
    }

    /// All open connections now.
    var all: [HTTP2Connection] { state.withLock { Array($0.connections.values) } }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.connections.isEmpty { return true }
                state.drained.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
