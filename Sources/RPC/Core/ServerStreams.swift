import Codec

/// Sends the responses of a server-streaming or bidirectional call.
public struct ResponseWriter<Message: ProtoMessage>: Sendable {
    let io: any ServerCallIO

    init(io: any ServerCallIO) { self.io = io }

    /// Sends one message. Suspends while the client is slow to read, so memory
    /// stays bounded however fast the handler produces.
    ///
    /// - Throws: ``RPCError`` when the call was cancelled (client reset,
    ///   deadline, shutdown) or the message cannot be encoded.
    public func send(_ message: Message) async throws(RPCError) {
        let bytes: [UInt8]
        do {
            bytes = try message.serializedBytes()
        } catch {
            throw RPCError(code: .internalError, message: "response could not be encoded: \(error)")
        }
        try await io.send(bytes)
    }
}

/// The requests of a client-streaming or bidirectional call, as they arrive.
public struct RequestStream<Message: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias Failure = RPCError

    let io: any ServerCallIO

    init(io: any ServerCallIO) { self.io = io }

    /// Iterates over the requests.
    public func makeAsyncIterator() -> Iterator { Iterator(io: io) }

    /// Yields each request; throws ``RPCError`` (`INVALID_ARGUMENT` for an
    /// undecodable message, or the call's cancellation).
    public struct Iterator: AsyncIteratorProtocol {
        let io: any ServerCallIO

        /// The next request, or nil once the client has finished.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(RPCError) -> Message? {
            guard let bytes = try await io.receive() else { return nil }
            return try decodeRequest(Message.self, bytes)
        }

        /// The next request, or nil once the client has finished.
        public mutating func next() async throws(RPCError) -> Message? {
            try await next(isolation: nil)
        }
    }
}

/// Decodes a request message, mapping codec errors to `INVALID_ARGUMENT`.
func decodeRequest<M: ProtoMessage>(_: M.Type, _ bytes: [UInt8]) throws(RPCError) -> M {
    do {
        return try M(serializedBytes: bytes)
    } catch {
        throw RPCError(code: .invalidArgument, message: "request is not a valid \(M.protoMessageName): \(error.reason)")
    }
}
