import Codec

/// Something that carries client calls to a server: the HTTP/2 client
/// connection, or a wrapper that adds reconnection, retries or credentials.
/// Generated clients (`protoc-gen-vault`) call through it.
public protocol RPCChannel: Sendable {
    /// Makes a unary call: one request, one response.
    ///
    /// - Throws: ``RPCError`` when the call ends with a status other than OK,
    ///   or with `CANCELLED` when the calling task is cancelled (the stream is
    ///   reset).
    func unary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, request: Request, options: CallOptions
    ) async throws(RPCError) -> Response

    /// Starts a server-streaming call; the responses arrive through the
    /// returned sequence, which throws ``RPCError`` if the call fails.
    func serverStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, request: Request, options: CallOptions
    ) -> ResponseStream<Response>

    /// Makes a client-streaming call: sends every element of `requests`, then
    /// waits for the one response.
    func clientStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, requests: [Request], options: CallOptions
    ) async throws(RPCError) -> Response

    /// Starts a bidirectional-streaming call.
    func bidirectionalStreaming<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, options: CallOptions
    ) -> BidirectionalCall<Request, Response>
}

/// The transport side of one client call's responses.
protocol ClientResponseSource: AnyObject, Sendable {
    /// The next response message, nil after the OK status; throws the call's
    /// non-OK status as ``RPCError``.
    func receive() async throws(RPCError) -> [UInt8]?
    /// The response headers' metadata, once they have arrived.
    func initialMetadata() async throws(RPCError) -> Metadata
    /// The trailers' metadata, once the call has ended.
    func trailingMetadata() async -> Metadata
    /// Gives up on the call: resets the stream if it is still open.
    func cancel()
    /// Whether the message ``receive()`` returned last came compressed.
    var lastMessageWasCompressed: Bool { get }
}

/// The transport side of one client call's requests (streaming calls).
protocol ClientRequestSink: AnyObject, Sendable {
    /// Sends one request message; suspends while the server is slow to read.
    func send(_ message: [UInt8]) async throws(RPCError)
    /// Ends the request stream (END_STREAM).
    func finish() async throws(RPCError)
}

/// The responses of a server-streaming or bidirectional call.
///
/// Iterate it once. Cancelling the iterating task, or dropping the sequence
/// before it ends, resets the stream.
public struct ResponseStream<Message: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias Failure = RPCError

    let source: any ClientResponseSource

    init(source: any ClientResponseSource) { self.source = source }

    /// A stream that fails at once with `error`: for calls that could not
    /// start, and for channels that refuse a call before sending it (a
    /// wrapper that was closed, or whose own checks failed).
    public init(failed error: RPCError) { self.source = FailedSource(error: error) }

    /// The response headers' metadata.
    public func initialMetadata() async throws(RPCError) -> Metadata { try await source.initialMetadata() }

    /// The trailing metadata, once the stream has ended.
    public func trailingMetadata() async -> Metadata { await source.trailingMetadata() }

    /// Stops the call: the stream is reset and iteration ends with `CANCELLED`.
    public func cancel() { source.cancel() }

    /// Whether the response yielded last came compressed (its gRPC message
    /// flag was 1). Read it after the iterator returns that response.
    public var lastMessageWasCompressed: Bool { source.lastMessageWasCompressed }

    /// Iterates over the responses.
    public func makeAsyncIterator() -> Iterator { Iterator(source: source) }

    /// Yields each response; throws ``RPCError`` when the call fails.
    public struct Iterator: AsyncIteratorProtocol {
        let source: any ClientResponseSource

        /// The next response, or nil after the OK status.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCError) -> Message? {
            guard let bytes = try await source.receive() else { return nil }
            do {
                return try Message(serializedBytes: bytes)
            } catch {
                source.cancel()
                throw RPCError(code: .internalError, message: "response is not a valid \(Message.protoMessageName): \(error.reason)")
            }
        }

        /// The next response, or nil after the OK status.
        public mutating func next() async throws(RPCError) -> Message? {
            try await next(isolation: nil)
        }
    }

    private final class FailedSource: ClientResponseSource {
        let error: RPCError
        init(error: RPCError) { self.error = error }
        func receive() async throws(RPCError) -> [UInt8]? { throw error }
        func initialMetadata() async throws(RPCError) -> Metadata { throw error }
        func trailingMetadata() async -> Metadata { error.metadata }
        func cancel() {}
        var lastMessageWasCompressed: Bool { false }
    }
}

/// A bidirectional-streaming call in progress: send requests, read responses.
public struct BidirectionalCall<Request: ProtoMessage, Response: ProtoMessage>: Sendable {
    let sink: any ClientRequestSink
    /// The responses, as they arrive.
    public let responses: ResponseStream<Response>

    init(sink: any ClientRequestSink, responses: ResponseStream<Response>) {
        self.sink = sink
        self.responses = responses
    }

    /// Sends one request; suspends while the server is slow to read.
    public func send(_ request: Request) async throws(RPCError) {
        let bytes: [UInt8]
        do {
            bytes = try request.serializedBytes()
        } catch {
            throw RPCError(code: .internalError, message: "request could not be encoded: \(error)")
        }
        try await sink.send(bytes)
    }

    /// Ends the request side; the server sees the end of its request stream.
    public func finish() async throws(RPCError) { try await sink.finish() }
}

/// A unary call's response with the metadata that came with it.
public struct UnaryResponse<Message: ProtoMessage>: Sendable {
    /// The response message.
    public var message: Message
    /// The response headers' metadata.
    public var initialMetadata: Metadata
    /// The trailers' metadata.
    public var trailingMetadata: Metadata
    /// Whether the response message came compressed.
    public var wasCompressed: Bool
}

extension RPCChannel {
    /// Makes a unary call and returns the response with its initial and
    /// trailing metadata. (On the wire a unary call is a server-streaming
    /// call with exactly one response; this reads it as one.)
    ///
    /// - Throws: ``RPCError`` as ``unary(_:request:options:)`` does; its
    ///   `metadata` holds the trailers of a failed call.
    public func unaryWithMetadata<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor, request: Request, options: CallOptions
    ) async throws(RPCError) -> UnaryResponse<Response> {
        let stream: ResponseStream<Response> = serverStreaming(method, request: request, options: options)
        let initial = try await stream.initialMetadata()
        var iterator = stream.makeAsyncIterator()
        guard let message = try await iterator.next() else {
            throw RPCError(code: .internalError, message: "the server sent no response message")
        }
        let compressed = stream.lastMessageWasCompressed
        if try await iterator.next() != nil {
            stream.cancel()
            throw RPCError(code: .internalError, message: "the server sent more than one response message")
        }
        return UnaryResponse(message: message, initialMetadata: initial, trailingMetadata: await stream.trailingMetadata(),
                             wasCompressed: compressed)
    }
}
