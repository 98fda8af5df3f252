import Synchronization

/// What a server handler knows about its call, and the response metadata it
/// may add.
///
/// Shared by the handler and the transport: safe to use from any task.
public final class ServerContext: Sendable {
    /// The method called.
    public let method: MethodDescriptor
    /// The request metadata (custom headers; `authorization` among them).
    public let requestMetadata: Metadata
    /// When the client stops waiting (`grpc-timeout`), if it set one. The
    /// handler's task is cancelled at that instant.
    public let deadline: ContinuousClock.Instant?
    /// The client's address, `host:port`.
    public let peer: String

    /// The encoding of the client's compressed messages (`grpc-encoding`),
    /// `identity` when it sends none compressed.
    public let requestEncoding: Compression
    /// Whether the client accepts gzip-compressed responses
    /// (`grpc-accept-encoding`).
    public let clientAcceptsGzip: Bool

    private struct Response {
        var initial = Metadata()
        var trailing = Metadata()
        var compression: Compression
        /// Fixed once the response headers are decided.
        var compressionFixed = false
        var compressMessages = true
        var lastRequestCompressed = false
    }
    private let response: Mutex<Response>

    /// Creates a context (done by the server for each call).
    ///
    /// - Parameters:
    ///   - requestEncoding: the request's `grpc-encoding`.
    ///   - clientAcceptsGzip: whether the request's `grpc-accept-encoding` lists gzip.
    ///   - responseCompression: the server's default for the response.
    public init(method: MethodDescriptor, requestMetadata: Metadata, deadline: ContinuousClock.Instant?, peer: String,
                requestEncoding: Compression = .identity, clientAcceptsGzip: Bool = false,
                responseCompression: Compression = .identity) {
        self.method = method
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
        self.requestEncoding = requestEncoding
        self.clientAcceptsGzip = clientAcceptsGzip
        self.response = Mutex(Response(compression: clientAcceptsGzip ? responseCompression : .identity))
    }

    /// Whether the request message the handler received last came compressed
    /// (its gRPC message flag was 1). For a unary call: its one request.
    public var lastRequestWasCompressed: Bool {
        response.withLock { $0.lastRequestCompressed }
    }

    /// Records the compressed flag of the request message being handed to
    /// the handler (the server does this).
    package func requestMessageReceived(compressed: Bool) {
        // Without a request encoding no message can come compressed (the
        // deframer refuses one): nothing to record, no lock to take.
        guard requestEncoding != .identity else { return }
        response.withLock { $0.lastRequestCompressed = compressed }
    }

    /// The encoding of the response's messages (`grpc-encoding` of the
    /// response). It can change until the response headers are sent: at the
    /// first response message, or with the status. Asking for gzip from a
    /// client that does not accept it leaves the response uncompressed, as
    /// gRPC requires.
    public var responseCompression: Compression {
        get { response.withLock { $0.compression } }
        set {
            response.withLock {
                guard !$0.compressionFixed else { return }
                $0.compression = newValue == .gzip && !clientAcceptsGzip ? .identity : newValue
            }
        }
    }

    /// Whether response messages sent from now on are compressed, when the
    /// response's encoding compresses (default true). gRPC lets each message
    /// choose, e.g. to leave small or already compressed ones as they are.
    public var compressResponseMessages: Bool {
        get { response.withLock { $0.compressMessages } }
        set { response.withLock { $0.compressMessages = newValue } }
    }

    /// Fixes the response encoding (when the headers are decided) and returns it.
    package func fixResponseCompression() -> Compression {
        response.withLock {
            $0.compressionFixed = true
            return $0.compression
        }
    }

    /// What a unary response goes out with, read once its handler has
    /// returned: one lock for all of it. Fixes the response encoding.
    package struct UnaryResponse {
        package var compression: Compression
        package var compressMessages: Bool
        package var initial: Metadata
        package var trailing: Metadata

        /// Without metadata, in `compression`.
        package static func plain(_ compression: Compression = .identity) -> UnaryResponse {
            UnaryResponse(compression: compression, compressMessages: true, initial: Metadata(), trailing: Metadata())
        }
    }

    /// The unary response's parts; see ``UnaryResponse``.
    package func unaryResponse() -> UnaryResponse {
        response.withLock {
            $0.compressionFixed = true
            return UnaryResponse(compression: $0.compression, compressMessages: $0.compressMessages, initial: $0.initial, trailing: $0.trailing)
        }
    }

    /// Adds initial response metadata. Takes effect only before the first
    /// response message is sent (or, without one, before the status).
    public func addInitialMetadata(_ key: String, _ value: String) {
        response.withLock { $0.initial.add(key, value) }
    }

    /// Adds binary initial response metadata (key ending in `-bin`).
    public func addInitialMetadata(_ key: String, binary value: [UInt8]) {
        response.withLock { $0.initial.add(key, binary: value) }
    }

    /// Adds trailing metadata, sent with the status.
    public func addTrailingMetadata(_ key: String, _ value: String) {
        response.withLock { $0.trailing.add(key, value) }
    }

    /// Adds binary trailing metadata (key ending in `-bin`).
    public func addTrailingMetadata(_ key: String, binary value: [UInt8]) {
        response.withLock { $0.trailing.add(key, binary: value) }
    }

    /// The initial response metadata added so far.
    public var initialMetadata: Metadata { response.withLock { $0.initial } }

    /// The trailing metadata added so far.
    public var trailingMetadata: Metadata { response.withLock { $0.trailing } }
}
