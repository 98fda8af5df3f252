/// Per-call settings of a client call.
public struct CallOptions: Sendable, Hashable {
    /// How long the caller waits; sent as `grpc-timeout`, and the call fails
    /// with `DEADLINE_EXCEEDED` locally when it passes. nil: no deadline.
    public var timeout: Duration?
    /// Request metadata (e.g. `authorization`).
    public var metadata: Metadata
    /// Compress request messages with this encoding (`grpc-encoding`).
    public var compression: Compression
    /// The largest response message accepted; larger ones fail the call with
    /// `RESOURCE_EXHAUSTED`. nil: the channel's limit.
    public var maxReceiveMessageSize: Int?

    /// Options with no deadline, no metadata and no compression.
    public init(timeout: Duration? = nil, metadata: Metadata = Metadata(), compression: Compression = .identity,
                maxReceiveMessageSize: Int? = nil) {
        self.timeout = timeout
        self.metadata = metadata
        self.compression = compression
        self.maxReceiveMessageSize = maxReceiveMessageSize
    }
}

/// A message encoding (`grpc-encoding`).
public enum Compression: String, Sendable, Hashable, CaseIterable {
    /// No compression.
    case identity
    /// gzip (RFC 1952), through zlib.
    case gzip
}
