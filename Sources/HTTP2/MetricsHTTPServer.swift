import CLinux
import Glibc
import Synchronization

/// A small HTTP/1.1 server for Prometheus scrapes, run on one of the event
/// loops the gRPC connections use, never blocking it.
///
/// It serves one resource: `GET /metrics` (and `HEAD /metrics`; a query is
/// allowed and ignored) answers 200 with what `render` returns, as
/// `text/plain; version=0.0.4`. Another path gets 404, another method 405
/// with `Allow: GET, HEAD`, and a malformed request 400 (505 for an HTTP
/// version other than 1.0 and 1.1) with one line saying what is wrong, and
/// then the connection is closed.
///
/// Requests are read strictly and within bounds (see ``Configuration``):
/// - the header section must arrive whole within `requestTimeout` of the
///   connection being ready for it (accepted, or done with the previous
///   response); an idle keep-alive connection is closed after as long;
/// - it must fit in `maxHeaderBytes`, and a request has no body;
/// - one request is answered at a time: nothing more is read while a response
///   is being written, so pipelined requests are answered in order, and a
///   connection holds at most one response and `maxHeaderBytes` of input;
/// - a response that makes no progress for `writeTimeout` (a reader that
///   stopped reading) closes the connection;
/// - beyond `maxConnections`, new connections are accepted and closed at once;
/// - after a response that ends the connection, the server shuts its side and
///   reads and drops what the peer still sends (64 KiB, 2 s at most) before
///   closing, so that closing on unread input (a reset) does not destroy the
///   response before the peer reads it.
///
/// HTTP/1.1 connections stay open unless the request says
/// `Connection: close`; HTTP/1.0 ones only when it says
/// `Connection: keep-alive`. A missing `Host` is accepted: there is one
/// resource and no virtual hosts, so it says nothing the server needs, and a
/// probe typed by hand still works; two `Host` headers are refused.
///
/// Listening starts in ``init(address:loop:configuration:render:)``;
/// ``stop()`` or ``shutdown()`` closes the listening socket and every
/// connection.
package final class MetricsHTTPServer: Sendable {
    /// Makes the response body: the metrics in Prometheus' text format.
    /// Called on the loop's thread, once per GET (not for HEAD), so it must be
    /// quick and must not block.
    package typealias Render = @Sendable () -> [UInt8]

    /// Limits and timeouts.
    package struct Configuration: Sendable {
        /// How long a client has to send a request's whole header section,
        /// counted from the connection's accept or the end of the previous
        /// response; also how long an idle connection stays open.
        package var requestTimeout: Duration = .seconds(10)
        /// How long writing a response may go without any byte taken by
        /// the peer before the connection is closed.
        package var writeTimeout: Duration = .seconds(30)
        /// Connections open at once; more are accepted and closed at once.
        package var maxConnections = 64
        /// The largest header section accepted, request line included.
        package var maxHeaderBytes = 8 << 10

        package init() {}
    }

    /// Counters, updated on the loop and readable from anywhere.
    package struct Statistics: Sendable, Hashable {
        /// Connections open now.
        package var openConnections = 0
        /// Connections accepted and served, since the start.
        package var acceptedConnections = 0
        /// Connections closed at once because `maxConnections` were open.
        package var refusedConnections = 0
        /// Requests answered (any status).
        package var responses = 0
        /// Response bytes waiting for the peer to read, across connections.
        package var bufferedBytes = 0
        /// Responses that did not fit in the socket at once and waited for it
        /// to drain (EPOLLOUT).
        package var responsesWaitedForSocket = 0
    }

    /// The loop the server runs on.
    package let loop: EventLoop
    /// The address actually bound (the port resolved when 0 was asked for).
    package let address: Socket.Address

    private let listener: Mutex<Listener?>
    private let shared: Shared

    /// The port listened on (useful after asking for port 0).
    package var port: UInt16 { address.port }

    /// What the server has done so far.
    package var statistics: Statistics { shared.statistics.withLock { $0 } }

    /// Binds `address` and starts accepting on `loop`.
    ///
    /// - Throws: ``HTTP2Error`` when the address cannot be resolved or bound.
    package init(address: Socket.Address, loop: EventLoop, configuration: Configuration = Configuration(),
                 render: @escaping Render) throws(HTTP2Error) {
        precondition(configuration.maxConnections > 0 && configuration.maxHeaderBytes > 0)
        self.loop = loop
        let fd = try Socket.listen(address, backlog: 128)
        self.address = Socket.Address(host: address.host, port: Socket.localPort(fd))
        let shared = Shared(configuration: configuration, render: render)
        self.shared = shared
        let listener = Listener(fd: fd, loop: loop, shared: shared)
        self.listener = Mutex(listener)
        loop.execute {
            do {
                try loop.register(fd, events: EPOLLIN.rawValue, source: listener)
            } catch {
                listener.stop()
            }
        }
    }

    /// Stops accepting and closes every connection, soon, on the loop (a
    /// response being written is cut short). Returns at once; idempotent.
    package func stop() {
        guard let listener = self.listener.withLock({ $0.take() }) else { return }
        loop.execute { listener.stop() }
    }

    /// Like ``stop()``, and returns once the listening socket and every
    /// connection are closed, or the loop has stopped (which closes them).
    /// Call it before the loop stops or while it stops, not long after: a
    /// loop that never ran the server's first task cannot tell.
    package func shutdown() async {
        guard let listener = self.listener.withLock({ $0.take() }) else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = OnceResumer(continuation)
            // A loop that stops before running the task drops it, and `done`
            // with it: its deinit resumes. One that had stopped before the
            // task was handed in never runs nor drops it: the flag, set
            // before the loop drops its tasks, says so.
            loop.execute {
                listener.stop()
                done.resume()
            }
            if shared.loopStopped.load(ordering: .acquiring) { done.resume() }
        }
    }

    /// What the listener and the connections share: settings and counters.
    final class Shared: Sendable {
        let configuration: Configuration
        let render: Render
        let statistics = Mutex(Statistics())
        /// Set when the loop stopped with the listener registered.
        let loopStopped = Atomic<Bool>(false)

        init(configuration: Configuration, render: @escaping Render) {
            self.configuration = configuration
            self.render = render
        }

        func count(_ update: (inout Statistics) -> Void) {
            statistics.withLock { update(&$0) }
        }
    }

    /// Resumes a continuation exactly once: when asked, or when released
    /// without having been asked.
    private final class OnceResumer: Sendable {
        private let continuation: Mutex<CheckedContinuation<Void, Never>?>
        init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = Mutex(continuation) }
        func resume() { continuation.withLock { $0.take() }?.resume() }
        deinit { resume() }
    }

    /// The listening socket, and the connections it accepted. Loop thread
    /// only (Sendable to be handed to the loop).
    final class Listener: EventLoopSource, @unchecked Sendable {
        let fd: Int32
        let loop: EventLoop
        let shared: Shared
        private var connections: [Int32: Connection] = [:]
        private var stopped = false
        private var paused = false

        init(fd: Int32, loop: EventLoop, shared: Shared) {
            self.fd = fd
            self.loop = loop
            self.shared = shared
        }

        func handleEvents(_ events: UInt32) {
            // A bounded number per round, so a burst of connections cannot
            // starve the loop's other sockets.
            for _ in 0..<64 {
                let client = clinux_accept_nonblocking(fd)
                if client < 0 {
                    let code = errno
                    if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                        pauseAccepting()
                    }
                    return
                }
                guard connections.count < shared.configuration.maxConnections else {
                    close(client)
                    shared.count { $0.refusedConnections += 1 }
                    continue
                }
                let connection = Connection(fd: client, listener: self)
                do {
                    try loop.register(client, events: EPOLLIN.rawValue, source: connection)
                } catch {
                    close(client)
                    continue
                }
                connections[client] = connection
                shared.count {
                    $0.openConnections += 1
                    $0.acceptedConnections += 1
                }
                connection.start()
            }
        }

        /// Out of descriptors or memory: the pending connection stays in the
        /// backlog and the socket stays readable, so stop watching it for a
        /// moment rather than spin.
        private func pauseAccepting() {
            guard !paused else { return }
            paused = true
            loop.modify(fd, events: 0)
            loop.schedule(after: .milliseconds(100)) { [weak self] in
                guard let self, !self.stopped else { return }
                self.paused = false
                self.loop.modify(self.fd, events: EPOLLIN.rawValue)
            }
        }

        /// Called by a connection as it closes.
        func closed(_ connection: Connection) {
            connections[connection.fd] = nil
            shared.count { $0.openConnections -= 1 }
        }

        deinit {
            // Never registered: the loop stopped before the task that would
            // have registered it ran.
            if !stopped { close(fd) }
        }

        func loopStopped() {
            shared.loopStopped.store(true, ordering: .releasing)
            stop()
        }

        func stop() {
            guard !stopped else { return }
            stopped = true
            loop.deregister(fd)
            close(fd)
            for connection in Array(connections.values) { connection.close() }
        }
    }
}
