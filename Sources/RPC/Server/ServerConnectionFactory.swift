import CoreMetrics
import HTTP2

/// What ``GRPCServer`` puts behind each accepted connection, without the
/// listener: the HTTP/2 settings and the gRPC connection delegate. The server
/// uses it, and so can a harness that brings its own connections (the server
/// fuzzer feeds one end of a socket pair).
package struct ServerConnectionFactory: Sendable {
    /// The HTTP/2 settings the server would use.
    package let http2: HTTP2Configuration
    private let router: MethodRouter
    private let limits: ServerLimits
    private let maxHeaderListSize: Int
    private let registry: ConnectionRegistry

    /// Connections served as `GRPCServer` with `configuration` and `router`
    /// serves them.
    package init(configuration: GRPCServer.Configuration, router: MethodRouter) {
        self.init(configuration: configuration, router: router, registry: ConnectionRegistry())
    }

    /// The same, counted in `registry` (the server's, which shutdown walks).
    init(configuration: GRPCServer.Configuration, router: MethodRouter, registry: ConnectionRegistry) {
        var http2 = HTTP2Configuration()
        http2.maxConcurrentStreams = UInt32(configuration.maxConcurrentStreams)
        // The HTTP/2 layer's hard cap is twice the limit, so a request just over
        // the limit gets a precise gRPC status from the RPC layer, not a reset.
        http2.maxHeaderListSize = UInt32(configuration.maxHeaderListSize * 2)
        http2.keepaliveInterval = configuration.keepaliveInterval
        http2.keepaliveTimeout = configuration.keepaliveTimeout
        http2.minPeerPingInterval = configuration.minClientPingInterval
        http2.maxPingStrikes = configuration.maxPingStrikes
        http2.maxIdle = configuration.maxConnectionIdle
        http2.maxAge = configuration.maxConnectionAge
        http2.handshakeTimeout = configuration.handshakeTimeout
        http2.headerBlockTimeout = configuration.headerBlockTimeout
        http2.observer = ServerConnectionMetrics.observer(factory: configuration.metricsFactory ?? MetricsSystem.factory)
        self.http2 = http2
        self.router = router
        self.registry = registry
        self.limits = ServerLimits(maxReceiveMessageSize: configuration.maxReceiveMessageSize,
                                   maxSendMessageSize: configuration.maxSendMessageSize,
                                   streamHighWater: http2.streamHighWater,
                                   compressResponses: configuration.compressResponses)
        self.maxHeaderListSize = configuration.maxHeaderListSize
    }

    /// The gRPC delegate for a new server connection (call on its loop, then
    /// start the connection). The connection counts as open until it closes;
    /// one that arrives while the server shuts down gets GOAWAY at once.
    package func makeDelegate(for connection: HTTP2Connection) -> any HTTP2ConnectionDelegate {
        if !registry.add(connection) {
            connection.loop.execute { connection.goAway(code: 0, debug: "shutting down", reason: .shutdown) }
        }
        return ServerConnectionHandler(router: router, limits: limits, maxHeaderListSize: maxHeaderListSize, registry: registry)
    }

    /// Connections made by this factory that have not closed.
    package var openConnections: Int { registry.all.count }
}
