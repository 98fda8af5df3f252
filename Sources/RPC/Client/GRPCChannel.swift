import Codec
import HTTP2
import Synchronization

/// A client connection to one gRPC server: every call is a stream
/// multiplexed on one HTTP/2 connection (h2c, or TLS with ALPN `h2`).
///
/// The connection is opened on the first call and opened again on the next
/// call after it is lost; calls in flight when it is lost fail with
/// `UNAVAILABLE`. Reconnection with backoff and retries belong to the layer
/// above (ClientLib).
public final class GRPCChannel: RPCChannel {
    /// Where to connect and how.
    public struct Configuration: Sendable {
        /// The server, `host:port`.
        public var target: String
        /// TLS: verify the server against these PEM roots (the system's when
        /// nil) under `serverName` (the target's host when nil). nil: h2c.
        public var tls: TLS?
        /// The largest response message accepted (RESOURCE_EXHAUSTED beyond).
        public var maxReceiveMessageSize: Int
        /// Sent as `user-agent`.
        public var userAgent: String

        /// TLS settings of a channel.
        public struct TLS: Sendable {
            /// PEM file of the roots to trust; nil: the system's.
            public var trustRoots: String?
            /// The name the certificate must carry; nil: the target's host.
            public var serverName: String?
            /// Whether to verify the certificate at all (only for tests).
            public var verify: Bool

            /// TLS verified against `trustRoots` (or the system's roots).
            public init(trustRoots: String? = nil, serverName: String? = nil, verify: Bool = true) {
                self.trustRoots = trustRoots
                self.serverName = serverName
                self.verify = verify
            }
        }

        /// A channel to `target` over h2c unless `tls` is given.
        public init(target: String, tls: TLS? = nil) {
            self.target = target
            self.tls = tls
            self.maxReceiveMessageSize = 4 << 20
            self.userAgent = "servicevault-grpc-swift/1"
        }
    }

    private let configuration: Configuration
    private let address: Socket.Address
    private let loop: EventLoop
    private let ownsLoop: Bool
    private let tls: TLSContext?
    private let handler: ClientConnectionHandler
    private let baseHeaders: [HTTP2Header]

    /// A channel (no connection is made until the first call).
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` for a target that is not
    ///   `host:port`, `UNAVAILABLE` when TLS cannot be set up.
    public init(configuration: Configuration) throws(RPCError) {
        self.configuration = configuration
        do {
            address = try Socket.Address(parsing: configuration.target)
        } catch {
            throw RPCError(code: .invalidArgument, message: "bad target: \(error)")
        }
        do {
            loop = try EventLoop(name: "grpc-client")
            ownsLoop = true
            tls = try configuration.tls.map { tls throws(HTTP2Error) in try TLSContext(trustRoots: tls.trustRoots, verify: tls.verify) }
        } catch {
            throw RPCError(code: .unavailable, message: "cannot set up the channel: \(error)")
        }
        baseHeaders = [
            HTTP2Header(":method", "POST"),
            HTTP2Header(":scheme", configuration.tls == nil ? "http" : "https"),
        ]
        handler = ClientConnectionHandler(address: address, loop: loop, tls: tls,
                                          serverName: configuration.tls?.serverName ?? address.host)
    }

    deinit {
        let handler = self.handler
        loop.execute { handler.close() }
        if ownsLoop { loop.stop() }
    }

    /// Closes the connection; calls in flight fail with `UNAVAILABLE`.
    public func close() {
        let handler = self.handler
        loop.execute { handler.close() }
    }

    private func headers(for method: MethodDescriptor, options: CallOptions) -> [HTTP2Header] {
        var headers = baseHeaders
        headers.append(HTTP2Header(":path", method.path))
        headers.append(HTTP2Header(":authority", address.description))
        headers.append(HTTP2Header("content-type", "application/grpc"))
        headers.append(HTTP2Header("te", "trailers"))
        headers.append(HTTP2Header("user-agent", configuration.userAgent))
        headers.append(HTTP2Header("grpc-accept-encoding", MessageEncoding.acceptEncodingValue))
        if options.compression != .identity { headers.append(HTTP2Header("grpc-encoding", options.compression.rawValue)) }
        if let timeout = options.timeout { headers.append(HTTP2Header("grpc-timeout", GRPCTimeout(roundingUp: timeout).headerValue)) }
        MetadataCoding.append(options.metadata, to: &headers)
        return headers
    }

    /// A call, not yet started.
    private func makeCall(_ method: MethodDescriptor, options: CallOptions) -> ClientCall {
        ClientCall(method: method, options: options, loop: loop, maxReceiveMessageSize: configuration.maxReceiveMessageSize)
    }

    /// Starts `call` with `body` (framed) as its request, complete if `endStream`.
    private func start(_ call: ClientCall, body: [UInt8], endStream: Bool) {
        let headers = self.headers(for: call.method, options: call.options)
        let handler = self.handler
        loop.execute { handler.start(call, headers: headers, body: body, endStream: endStream) }
    }

    private func encode<M: ProtoMessage>(_ message: M) throws(RPCError) -> [UInt8] {
        do {
            return try message.serializedBytes()
        } catch {
            throw RPCError(code: .internalError, message: "request could not be encoded: \(error)")
        }
    }

    public func unary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, request: Request, options: CallOptions
    ) async throws(RPCError) -> Response {
        let stream: ResponseStream<Response> = serverStreaming(method, request: request, options: options)
        return try await Self.single(stream)
    }

    public func serverStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, request: Request, options: CallOptions
    ) -> ResponseStream<Response> {
        do {
            let call = makeCall(method, options: options)
            start(call, body: try call.frame(try encode(request)), endStream: true)
            return ResponseStream(source: call)
        } catch {
            return ResponseStream(failed: error)
        }
    }

    public func clientStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, requests: [Request], options: CallOptions
    ) async throws(RPCError) -> Response {
        let call = makeCall(method, options: options)
        var body: [UInt8] = []
        for request in requests { body += try call.frame(try encode(request)) }
        start(call, body: body, endStream: true)
        return try await Self.single(ResponseStream<Response>(source: call))
    }

    public func bidirectionalStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, options: CallOptions
    ) -> BidirectionalCall<Request, Response> {
        let call = makeCall(method, options: options)
        start(call, body: [], endStream: false)
        return BidirectionalCall(sink: call, responses: ResponseStream(source: call))
    }

    /// Exactly one response, then the OK status.
    private static func single<Response: ProtoMessage>(_ stream: ResponseStream<Response>) async throws(RPCError) -> Response {
        var iterator = stream.makeAsyncIterator()
        guard let response = try await iterator.next() else {
            throw RPCError(code: .internalError, message: "the server sent no response message")
        }
        if try await iterator.next() != nil {
            stream.cancel()
            throw RPCError(code: .internalError, message: "the server sent more than one response message")
        }
        return response
    }
}

/// The channel's connection: opened on demand, its calls by stream id.
/// Confined to the channel's loop.
///
/// After a GOAWAY the connection drains: its streams go on while new calls
/// open a new connection, whose stream ids start again at 1. So calls are
/// kept per connection — the current one's in `calls`, each draining one's
/// in `draining` until it closes — and every delegate event is looked up on
/// the connection it came from.
final class ClientConnectionHandler: HTTP2ConnectionDelegate, @unchecked Sendable {
    private let address: Socket.Address
    private let loop: EventLoop
    private let tls: TLSContext?
    private let serverName: String
    private var connection: HTTP2Connection?
    private var active = false
    private var waiting: [(ClientCall, [HTTP2Header], [UInt8], Bool)] = []
    private var calls: [StreamKey: ClientCall] = [:]
    private var draining: [ObjectIdentifier: (connection: HTTP2Connection, calls: [StreamKey: ClientCall])] = [:]

    init(address: Socket.Address, loop: EventLoop, tls: TLSContext?, serverName: String) {
        self.address = address
        self.loop = loop
        self.tls = tls
        self.serverName = serverName
    }

    func start(_ call: ClientCall, headers: [HTTP2Header], body: [UInt8], endStream: Bool) {
        if active, let connection {
            open(call, on: connection, headers: headers, body: body, endStream: endStream)
            return
        }
        waiting.append((call, headers, body, endStream))
        if connection == nil { connect() }
    }

    private func open(_ call: ClientCall, on connection: HTTP2Connection, headers: [HTTP2Header], body: [UInt8], endStream: Bool) {
        if call.open(on: connection, headers: headers, body: body, endStream: endStream) {
            if call.stream > 0 { calls[StreamKey(call.stream)] = call }
        } else {
            call.connectionFailed(RPCError(code: .unavailable, message: "the connection to \(address) does not take new streams"))
        }
    }

    private func connect() {
        do {
            let fd = try Socket.connect(address)
            let connection = try HTTP2Connection(fd: fd, role: .client, loop: loop, configuration: HTTP2Configuration(), tls: tls, serverName: serverName)
            connection.delegate = self
            self.connection = connection
            try connection.start()
        } catch {
            connection = nil
            failWaiting(RPCError(code: .unavailable, message: "cannot connect to \(address): \(error)"))
        }
    }

    private func failWaiting(_ error: RPCError) {
        let waiting = self.waiting
        self.waiting.removeAll()
        for (call, _, _, _) in waiting { call.connectionFailed(error) }
    }

    func close() {
        let error = HTTP2Error(code: .closed, message: "the channel was closed")
        connection?.close(error: error)
        for (_, old) in draining { old.connection.close(error: error) }
    }

    /// The call on `stream` of `connection`, current or draining.
    private func call(_ connection: HTTP2Connection, _ stream: Int32) -> ClientCall? {
        connection === self.connection ? calls[StreamKey(stream)] : draining[ObjectIdentifier(connection)]?.calls[StreamKey(stream)]
    }

    func connectionActive(_ connection: HTTP2Connection) {
        active = true
        let waiting = self.waiting
        self.waiting.removeAll()
        for (call, headers, body, endStream) in waiting {
            open(call, on: connection, headers: headers, body: body, endStream: endStream)
        }
    }

    func connectionClosed(_ connection: HTTP2Connection, error: HTTP2Error?) {
        let reason = RPCError(code: .unavailable, message: "the connection to \(address) was lost\(error.map { ": \($0)" } ?? "")")
        guard connection === self.connection else {
            // A draining connection: its remaining calls end here.
            let old = draining.removeValue(forKey: ObjectIdentifier(connection))
            for (_, call) in old?.calls ?? [:] { call.connectionFailed(reason) }
            return
        }
        self.connection = nil
        active = false
        for (_, call) in calls { call.connectionFailed(reason) }
        calls.removeAll()
        failWaiting(reason)
    }

    func headersReceived(_ connection: HTTP2Connection, stream: Int32, category: HeadersCategory, headers: HTTP2HeaderBlock, endStream: Bool) {
        call(connection, stream)?.headersReceived(headers, endStream: endStream)
    }

    func data(_ connection: HTTP2Connection, stream: Int32, bytes: UnsafeRawBufferPointer) {
        if let call = call(connection, stream) {
            call.received(bytes)
        } else {
            connection.consume(bytes.count, on: stream)  // A call that already ended.
        }
    }

    func peerFinished(_ connection: HTTP2Connection, stream: Int32) {
        // The status arrives in trailers; a DATA END_STREAM without them is
        // reported when the stream closes.
    }

    func streamClosed(_ connection: HTTP2Connection, stream: Int32, errorCode: UInt32) {
        if connection === self.connection {
            calls.removeValue(forKey: StreamKey(stream))?.closed(errorCode: errorCode)
        } else {
            draining[ObjectIdentifier(connection)]?.calls.removeValue(forKey: StreamKey(stream))?.closed(errorCode: errorCode)
        }
    }

    func streamWritable(_ connection: HTTP2Connection, stream: Int32) {
        call(connection, stream)?.writable()
    }

    func goAwayReceived(_ connection: HTTP2Connection, lastStreamID: Int32, errorCode: UInt32) {
        let key = ObjectIdentifier(connection)
        var table = connection === self.connection ? calls : draining[key]?.calls ?? [:]
        // Streams above lastStreamID were not processed: retrying them is safe.
        for (stream, call) in table where stream.id > lastStreamID {
            table[stream] = nil
            call.connectionFailed(RPCError(code: .unavailable, message: "the server is going away (GOAWAY) and did not process the call"))
        }
        // The connection drains its streams; new calls go to a new connection.
        draining[key] = (connection, table)
        if self.connection === connection {
            calls.removeAll()
            active = false
            self.connection = nil
        }
    }
}
