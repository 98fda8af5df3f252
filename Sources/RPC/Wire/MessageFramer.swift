/// Writes gRPC's length-prefixed messages: a 1-byte compressed flag (0 or 1),
/// a 4-byte big-endian length, then the message bytes, as DATA frames carry
/// them.
///
/// With `gzip` the framer owns (or is given) a ``Gzip/Compressor``, made the
/// first time a message is compressed; a connection may share one compressor
/// among its calls' framers by passing it in, since zlib's deflate state is
/// large (about 300 KiB). Not Sendable: it may hold a compressor, which one call
/// or connection uses at a time.
package struct MessageFramer {
    /// The length of a message header: flag byte and 4-byte length.
    package static let headerLength = 5

    /// The largest message length the header can carry.
    package static let maxLength = Int(UInt32.max)

    /// The encoding compressed messages use (the call's `grpc-encoding`).
    package let encoding: Compression
    private var compressor: Gzip.Compressor?

    /// A framer for a call whose `grpc-encoding` is `encoding`; with `gzip`,
    /// `compressor` is used if given, else one is made when first needed.
    package init(encoding: Compression = .identity, compressor: Gzip.Compressor? = nil) {
        self.encoding = encoding
        self.compressor = encoding == .gzip ? compressor : nil
    }

    /// Appends `message`, framed, to `buffer`: compressed with the framer's
    /// encoding when `compress` is true and the encoding is not `identity`
    /// (flag 1), else as it is (flag 0). gRPC allows each message to choose,
    /// so callers may send small messages uncompressed.
    ///
    /// - Throws: ``RPCError`` `RESOURCE_EXHAUSTED` when the message (after
    ///   compression) is 4 GiB or more, `INTERNAL` when compression fails;
    ///   `buffer` is then as it was.
    package mutating func append(_ message: UnsafeRawBufferPointer, compress: Bool = true, to buffer: inout [UInt8]) throws(RPCError) {
        guard compress, encoding == .gzip else {
            try Self.appendUncompressed(message, to: &buffer)
            return
        }
        let compressor: Gzip.Compressor
        if let existing = self.compressor {
            compressor = existing
        } else {
            compressor = try Gzip.Compressor()
            self.compressor = compressor
        }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Self.headerLength))
        try compressor.compress(message, appendingTo: &buffer)
        let length = buffer.count - start - Self.headerLength
        guard length <= Self.maxLength else {
            buffer.removeSubrange(start...)
            throw Self.tooLarge(length)
        }
        Self.writeHeader(compressed: true, length: length, into: &buffer, at: start)
    }

    /// Appends `message`, framed, to `buffer`; see the raw-buffer variant.
    package mutating func append(_ message: [UInt8], compress: Bool = true, to buffer: inout [UInt8]) throws(RPCError) {
        try message.withUnsafeBytesTyped { (bytes) throws(RPCError) in try append(bytes, compress: compress, to: &buffer) }
    }

    /// Appends `message` uncompressed (flag 0) to `buffer`; needs no framer.
    ///
    /// - Throws: ``RPCError`` `RESOURCE_EXHAUSTED` when the message is 4 GiB
    ///   or more.
    package static func appendUncompressed(_ message: UnsafeRawBufferPointer, to buffer: inout [UInt8]) throws(RPCError) {
        guard message.count <= maxLength else { throw tooLarge(message.count) }
        buffer.reserveCapacity(buffer.count + headerLength + message.count)
        appendHeader(compressed: false, length: message.count, to: &buffer)
        buffer.append(contentsOf: message)
    }

    /// Appends a message header to `buffer`; the caller appends the
    /// `length` message bytes. `length` must be at most ``maxLength``.
    package static func appendHeader(compressed: Bool, length: Int, to buffer: inout [UInt8]) {
        precondition((0...maxLength).contains(length), "message length \(length) does not fit a gRPC message header")
        let length = UInt32(length)
        buffer.append(compressed ? 1 : 0)
        buffer.append(UInt8(truncatingIfNeeded: length >> 24))
        buffer.append(UInt8(truncatingIfNeeded: length >> 16))
        buffer.append(UInt8(truncatingIfNeeded: length >> 8))
        buffer.append(UInt8(truncatingIfNeeded: length))
    }

    /// Writes the header of an uncompressed message into the first
    /// ``headerLength`` bytes of `buffer`, which holds the message after them.
    ///
    /// - Throws: ``RPCError`` `RESOURCE_EXHAUSTED` when the message is 4 GiB
    ///   or more.
    package static func writeUncompressedHeader(into buffer: inout [UInt8]) throws(RPCError) {
        precondition(buffer.count >= headerLength, "no room for a message header")
        let length = buffer.count - headerLength
        guard length <= maxLength else { throw tooLarge(length) }
        writeHeader(compressed: false, length: length, into: &buffer, at: 0)
    }

    private static func writeHeader(compressed: Bool, length: Int, into buffer: inout [UInt8], at start: Int) {
        let length = UInt32(length)
        buffer[start] = compressed ? 1 : 0
        buffer[start + 1] = UInt8(truncatingIfNeeded: length >> 24)
        buffer[start + 2] = UInt8(truncatingIfNeeded: length >> 16)
        buffer[start + 3] = UInt8(truncatingIfNeeded: length >> 8)
        buffer[start + 4] = UInt8(truncatingIfNeeded: length)
    }

    private static func tooLarge(_ length: Int) -> RPCError {
        RPCError(code: .resourceExhausted,
                 message: "message of \(length) bytes is too large for gRPC framing (at most \(maxLength) bytes)")
    }
}
