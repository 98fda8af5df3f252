import CoreMetrics
import Glibc
import HTTP2
import Synchronization

/// A gRPC server over HTTP/2 (h2c, or TLS with ALPN `h2`), on event loops of
/// its own.
///
/// ```swift
/// let server = try GRPCServer(configuration: .init(address: "127.0.0.1:50051"), services: [MyService()])
/// try server.start()
/// …
/// await server.shutdown(grace: .seconds(10))
/// ```
public final class GRPCServer: Sendable {
    /// What the server listens on and enforces.
    public struct Configuration: Sendable {
        /// `host:port` to listen on; port 0 picks a free one (see ``port``).
        public var address: String
        /// Event loops (threads doing I/O); by default one per core.
        public var eventLoops: Int
        /// PEM certificate chain and key: serve TLS (ALPN `h2`) instead of h2c.
        public var tls: (certificateChain: String, privateKey: String)?
        /// The largest request message accepted (RESOURCE_EXHAUSTED beyond).
        public var maxReceiveMessageSize: Int
        /// The largest response message sent (RESOURCE_EXHAUSTED beyond).
        public var maxSendMessageSize: Int
        /// Concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS).
        public var maxConcurrentStreams: Int
        /// The largest request header list, in HTTP/2's accounting.
        public var maxHeaderListSize: Int
        /// Compress responses with gzip for clients that accept it.
        public var compressResponses: Bool
        /// Ping a connection after this long without traffic, and close it if
        /// the ping is not answered within `keepaliveTimeout`. nil: never.
        public var keepaliveInterval: Duration?
        /// How long a keepalive ping may go unanswered.
        public var keepaliveTimeout: Duration
        /// Client pings closer together than this count as strikes; after
        /// `maxPingStrikes` the connection gets GOAWAY `too_many_pings`.
        public var minClientPingInterval: Duration
        /// Ping strikes tolerated.
        public var maxPingStrikes: Int
        /// Close connections idle (no call) this long. nil: never.
        public var maxConnectionIdle: Duration?
        /// Close connections gracefully after this long. nil: never.
        public var maxConnectionAge: Duration?
        /// Time allowed for a new connection's HTTP/2 preface and SETTINGS.
        public var handshakeTimeout: Duration
        /// Time allowed for one request header block (HEADERS and its
        /// CONTINUATIONs) to arrive whole; past it, GOAWAY(ENHANCE_YOUR_CALM).
        public var headerBlockTimeout: Duration
        /// Where the calls' and connections' metrics go (``CallMetrics``,
        /// ``ServerConnectionMetrics``): nil for the factory
        /// `MetricsSystem.bootstrap` installed (none by default).
        public var metricsFactory: (any MetricsFactory)?

        /// Defaults: 4 MiB messages both ways, 100 streams per connection,
        /// 8 KiB of headers, no response compression.
        public init(address: String = "127.0.0.1:50051", eventLoops: Int = 0,
                    tls: (certificateChain: String, privateKey: String)? = nil) {
            self.address = address
            self.eventLoops = eventLoops
            self.tls = tls
            self.maxReceiveMessageSize = 4 << 20
            self.maxSendMessageSize = 4 << 20
            self.maxConcurrentStreams = 100
            self.maxHeaderListSize = 8 << 10
            self.compressResponses = false
            self.keepaliveInterval = .seconds(7_200)
            self.keepaliveTimeout = .seconds(20)
            self.minClientPingInterval = .seconds(300)
            self.maxPingStrikes = 2
            self.maxConnectionIdle = nil
            self.maxConnectionAge = nil
            self.handshakeTimeout = .seconds(10)
            self.headerBlockTimeout = .seconds(10)
        }
    }

    private let configuration: Configuration
    private let router: MethodRouter
    private let registry = ConnectionRegistry(trimsMemory: true)
    private let running = Mutex<(server: HTTP2Server, loops: [EventLoop])?>(nil)

    /// A server for `services` (call ``start()`` to listen).
    public init(configuration: Configuration, services: [any RPCService]) {
        self.configuration = configuration
        var router = MethodRouter(metricsFactory: configuration.metricsFactory ?? MetricsSystem.factory)
        for service in services { router.register(service) }
        self.router = router
    }

    /// The services served, by fully qualified name.
    public var serviceNames: [String] { router.serviceNames }

    /// Binds and starts serving.
    ///
    /// - Throws: ``RPCError`` (`UNAVAILABLE`) when the address cannot be bound
    ///   or the TLS files cannot be loaded.
    public func start() throws(RPCError) {
        do {
            let address = try Socket.Address(parsing: configuration.address)
            let count = configuration.eventLoops > 0 ? configuration.eventLoops : max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            var loops: [EventLoop] = []
            for index in 0..<count { loops.append(try EventLoop(name: "grpc-server-\(index)")) }
            let factory = ServerConnectionFactory(configuration: configuration, router: router, registry: registry)
            let tls = try configuration.tls.map { tls throws(HTTP2Error) in
                try TLSContext(certificateChain: tls.certificateChain, privateKey: tls.privateKey)
            }
            let server = try HTTP2Server(address: address, loops: loops, configuration: factory.http2, tls: tls) { connection in
                factory.makeDelegate(for: connection)
            }
            running.withLock { $0 = (server, loops) }
        } catch {
            throw RPCError(code: .unavailable, message: "cannot start the server on \(configuration.address): \(error)")
        }
    }

    /// The port listened on (useful after asking for port 0); 0 before ``start()``.
    /// The event loops serving the calls while the server runs, for other
    /// listeners to share (a metrics endpoint); empty before `start()` and
    /// after shutdown.
    package var eventLoops: [EventLoop] {
        running.withLock { $0?.loops ?? [] }
    }

    public var port: Int {
        running.withLock { Int($0?.server.address.port ?? 0) }
    }

    /// Stops gracefully: no new connections; each connection gets the
    /// shutdown notice and then GOAWAY with the last stream it processed;
    /// calls in flight finish; after `grace`, what is left is closed.
    public func shutdown(grace: Duration = .seconds(10)) async {
        guard let (server, loops) = running.withLock({ $0 }) else { return }
        server.stopAccepting()
        for connection in registry.beginShutdown() {
            connection.loop.execute {
                connection.shutdownNotice()
                // One round trip later, the real GOAWAY: streams the client
                // opened meanwhile are still served.
                connection.loop.schedule(after: .milliseconds(100)) {
                    connection.goAway(code: 0, debug: "server shutting down", reason: .shutdown)
                }
            }
        }
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { [registry] in
                await registry.waitUntilEmpty()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: grace)
                return false
            }
            let drained = await group.next() ?? false
            group.cancelAll()
            if !drained {
                for connection in registry.all {
                    connection.loop.execute { connection.close(error: HTTP2Error(code: .closed, message: "shutdown grace period over")) }
                }
                await registry.waitUntilEmpty()
            }
        }
        for loop in loops { loop.stop() }
        running.withLock { $0 = nil }
    }
}
