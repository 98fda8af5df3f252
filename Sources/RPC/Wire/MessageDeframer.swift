/// Reads gRPC's length-prefixed messages out of a stream's DATA, chunk by
/// chunk as it arrives.
///
/// DATA frame boundaries have nothing to do with message boundaries: one
/// chunk may hold several messages, a message may span many chunks, and a
/// 5-byte header may itself be split. Feed each chunk to ``next(from:)``
/// until it returns nil, then call ``finish()`` at the end of the stream.
///
/// Limits are enforced before memory is spent: a declared length over
/// ``maxMessageSize`` fails as soon as the header is read, and a body is
/// buffered as its bytes arrive, never allocated up front from the untrusted
/// length. A compressed message is inflated with the same limit on its
/// decompressed size, stopping one byte past it.
///
/// After an error, every later call throws the same error. Errors are
/// stream errors: they end this call, not the connection.
///
/// Not Sendable: it may hold a ``Gzip/Decompressor``; one call uses it at a time.
package struct MessageDeframer {
    /// The default limit on a received message: 4 MiB, as gRPC implementations use.
    package static let defaultMaxMessageSize = 4 * 1024 * 1024

    /// The largest message accepted, in bytes, before and after decompression.
    package let maxMessageSize: Int
    /// The call's `grpc-encoding`; nil when the peer sent none.
    package let encoding: Compression?

    private enum State {
        /// Reading a header: `received` of its 5 bytes so far, accumulated in `flag` and `length`.
        case header(flag: UInt8, length: UInt32, received: Int)
        /// Reading a body of `length` bytes; those received so far are in `body`.
        case body(compressed: Bool, length: Int)
        /// The stream ended after a whole message (or before any).
        case finished
        /// A message broke a rule; every later call throws this.
        case failed(RPCError)
    }

    private var state: State = .header(flag: 0, length: 0, received: 0)
    /// Whether the message ``next(from:)`` returned last came compressed (flag 1).
    package private(set) var lastMessageCompressed = false
    /// The bytes of a body that spans chunks.
    private var body: [UInt8] = []
    private var decompressor: Gzip.Decompressor?

    /// A deframer for a call whose `grpc-encoding` is `encoding` (nil: none
    /// sent). With `gzip`, `decompressor` is used if given (a connection may
    /// share one among its calls), else one is made for the first compressed
    /// message.
    ///
    /// - Parameter maxMessageSize: the largest message accepted, compressed
    ///   or decompressed; at least 0.
    package init(maxMessageSize: Int = MessageDeframer.defaultMaxMessageSize,
                 encoding: Compression? = nil,
                 decompressor: Gzip.Decompressor? = nil) {
        self.maxMessageSize = max(0, maxMessageSize)
        self.encoding = encoding
        self.decompressor = encoding == .gzip ? decompressor : nil
    }

    /// Whether part of a message has been received but not all of it.
    package var isInsideMessage: Bool {
        switch state {
        case .header(_, _, let received): received > 0
        case .body: true
        case .finished, .failed: false
        }
    }

    /// The memory held for a body that spans chunks: it follows the bytes
    /// received, never the length a header declares.
    var bufferedCapacity: Int { body.capacity }

    /// Reads from `input` until a message is complete, and returns it;
    /// `input` then starts after that message. Returns nil when `input` is
    /// used up without completing one: its bytes are kept for the next call.
    ///
    /// Call it in a loop for each chunk: `while let message = try deframer.next(from: &chunk) { … }`.
    /// A zero-length message is returned as soon as its header is read.
    ///
    /// - Throws: ``RPCError``: `RESOURCE_EXHAUSTED` for a message over
    ///   ``maxMessageSize`` (declared or decompressed); `INTERNAL` for a
    ///   compressed flag other than 0 or 1, a compressed message without a
    ///   `grpc-encoding` (or with `identity`), data that does not decompress,
    ///   or bytes after ``finish()``.
    package mutating func next(from input: inout UnsafeRawBufferPointer) throws(RPCError) -> [UInt8]? {
        if case .body(let compressed, _) = state { lastMessageCompressed = compressed }
        do throws(RPCError) {
            return try step(&input)
        } catch {
            state = .failed(error)
            body = []
            throw error
        }
    }

    /// Every message `chunk` completes, in order; a convenience over
    /// ``next(from:)`` for callers that hold arrays.
    package mutating func messages(in chunk: [UInt8]) throws(RPCError) -> [[UInt8]] {
        try chunk.withUnsafeBytesTyped { (bytes) throws(RPCError) -> [[UInt8]] in
            var input = bytes
            var messages: [[UInt8]] = []
            while let message = try next(from: &input) { messages.append(message) }
            return messages
        }
    }

    /// Ends the stream (END_STREAM arrived).
    ///
    /// - Throws: ``RPCError`` `INTERNAL` ("stream ended inside a message")
    ///   when part of a message is still missing, or the error that failed
    ///   the deframer earlier.
    package mutating func finish() throws(RPCError) {
        switch state {
        case .failed(let error):
            throw error
        case .finished, .header(_, _, 0):
            state = .finished
        case .header(_, _, let received):
            fail(RPCError(code: .internalError,
                          message: "stream ended inside a message (\(received) of \(MessageFramer.headerLength) header bytes received)"))
        case .body(_, let length):
            fail(RPCError(code: .internalError,
                          message: "stream ended inside a message (\(body.count) of \(length) bytes received)"))
        }
        if case .failed(let error) = state { throw error }
    }

    private mutating func fail(_ error: RPCError) {
        state = .failed(error)
        body = []
    }

    private mutating func step(_ input: inout UnsafeRawBufferPointer) throws(RPCError) -> [UInt8]? {
        while true {
            switch state {
            case .failed(let error):
                throw error

            case .finished:
                guard input.isEmpty else {
                    throw RPCError(code: .internalError, message: "\(input.count) message bytes after the end of the stream")
                }
                return nil

            case .header(var flag, var length, var received):
                while received < MessageFramer.headerLength, let byte = input.first {
                    input = UnsafeRawBufferPointer(rebasing: input.dropFirst())
                    if received == 0 {
                        try checkFlag(byte)
                        flag = byte
                    } else {
                        length = length << 8 | UInt32(byte)
                    }
                    received += 1
                }
                guard received == MessageFramer.headerLength else {
                    state = .header(flag: flag, length: length, received: received)
                    return nil
                }
                let declared = Int(length)
                guard declared <= maxMessageSize else {
                    throw RPCError(code: .resourceExhausted,
                                   message: "received \(flag == 1 ? "compressed " : "")message of \(declared) bytes is larger than the maximum of \(maxMessageSize) bytes")
                }
                state = .body(compressed: flag == 1, length: declared)
                lastMessageCompressed = flag == 1

            case .body(let compressed, let length):
                if body.isEmpty, input.count >= length {
                    // The whole body is here: read it in place, no buffering.
                    let bytes = UnsafeRawBufferPointer(rebasing: input.prefix(length))
                    input = UnsafeRawBufferPointer(rebasing: input.dropFirst(length))
                    state = .header(flag: 0, length: 0, received: 0)
                    guard compressed else { return [UInt8](bytes) }
                    return try Self.inflate(bytes, with: activeDecompressor(), maxMessageSize: maxMessageSize)
                }
                let take = min(length - body.count, input.count)
                let needed = body.count + take
                if needed > body.capacity {
                    // Grow with the data, never past the declared length.
                    body.reserveCapacity(min(length, max(needed, body.capacity * 2)))
                }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.prefix(take)))
                input = UnsafeRawBufferPointer(rebasing: input.dropFirst(take))
                guard body.count == length else { return nil }
                state = .header(flag: 0, length: 0, received: 0)
                if compressed {
                    let decompressor = try activeDecompressor()
                    let limit = maxMessageSize
                    let message = try body.withUnsafeBytesTyped { (bytes) throws(RPCError) in
                        try Self.inflate(bytes, with: decompressor, maxMessageSize: limit)
                    }
                    body.removeAll(keepingCapacity: true)
                    return message
                }
                let message = body
                body = []
                return message
            }
        }
    }

    private func checkFlag(_ flag: UInt8) throws(RPCError) {
        switch flag {
        case 0:
            return
        case 1:
            switch encoding {
            case .gzip: return
            case nil: throw RPCError(code: .internalError, message: "compressed flag set but no grpc-encoding")
            case .identity: throw RPCError(code: .internalError, message: "compressed flag set but grpc-encoding is identity")
            }
        default:
            throw RPCError(code: .internalError, message: "invalid compressed flag \(flag) in message header (expected 0 or 1)")
        }
    }

    /// The decompressor, made on first use.
    private mutating func activeDecompressor() throws(RPCError) -> Gzip.Decompressor {
        if let decompressor { return decompressor }
        let decompressor = try Gzip.Decompressor()
        self.decompressor = decompressor
        return decompressor
    }

    private static func inflate(_ bytes: UnsafeRawBufferPointer, with decompressor: Gzip.Decompressor,
                                maxMessageSize: Int) throws(RPCError) -> [UInt8] {
        // An empty body decompresses to an empty message, whatever the flag says.
        guard !bytes.isEmpty else { return [] }
        var message: [UInt8] = []
        do throws(RPCError) {
            try decompressor.decompress(bytes, limit: maxMessageSize, appendingTo: &message)
        } catch where error.code == .resourceExhausted {
            throw RPCError(code: .resourceExhausted,
                           message: "decompressed message is larger than the maximum of \(maxMessageSize) bytes (compressed size \(bytes.count) bytes)")
        }
        return message
    }
}
