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

    private struct Response {
        var initial = Metadata()
        var trailing = Metadata()
    }
    private let response = Mutex(Response())

    /// Creates a context (done by the server for each call).
    public init(method: MethodDescriptor, requestMetadata: Metadata, deadline: ContinuousClock.Instant?, peer: String) {
        self.method = method
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.peer = peer
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
