import Testing
@testable import RPC

@Suite("length-prefixed message framing")
struct WireFramingTests {
    // MARK: Framer

    @Test("frames a message: flag, big-endian length, bytes")
    func framesIdentity() throws {
        var framer = MessageFramer()
        var buffer: [UInt8] = [0xEE]
        try framer.append([1, 2, 3], to: &buffer)
        try framer.append([], to: &buffer)
        #expect(buffer == [0xEE, 0, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0, 0])
    }

    @Test("writes lengths big-endian")
    func bigEndianLength() {
        var buffer: [UInt8] = []
        MessageFramer.appendHeader(compressed: true, length: 0x0102_0304, to: &buffer)
        MessageFramer.appendHeader(compressed: false, length: Int(UInt32.max), to: &buffer)
        #expect(buffer == [1, 1, 2, 3, 4, 0, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test("identity never sets the compressed flag")
    func identityIgnoresCompress() throws {
        var framer = MessageFramer(encoding: .identity)
        var buffer: [UInt8] = []
        try framer.append([9, 9], compress: true, to: &buffer)
        #expect(buffer == [0, 0, 0, 0, 2, 9, 9])
    }

    @Test("gzip compresses when asked, and may send a message as it is")
    func gzipFraming() throws {
        var framer = MessageFramer(encoding: .gzip)
        let message = [UInt8](repeating: 7, count: 10_000)
        var buffer: [UInt8] = []
        try framer.append(message, to: &buffer)
        #expect(buffer[0] == 1)
        let length = Int(buffer[1]) << 24 | Int(buffer[2]) << 16 | Int(buffer[3]) << 8 | Int(buffer[4])
        #expect(length == buffer.count - 5)
        #expect(length < 200)
        #expect(try Gzip.Decompressor().decompress(Array(buffer[5...]), limit: 10_000) == message)

        var plain: [UInt8] = []
        try framer.append([1, 2], compress: false, to: &plain)
        #expect(plain == [0, 0, 0, 0, 2, 1, 2])
    }

    @Test("a framer shares a compressor it is given")
    func sharedCompressor() throws {
        let compressor = try Gzip.Compressor()
        var first = MessageFramer(encoding: .gzip, compressor: compressor)
        var second = MessageFramer(encoding: .gzip, compressor: compressor)
        var buffer: [UInt8] = []
        try first.append(Array("one".utf8), to: &buffer)
        try second.append(Array("two".utf8), to: &buffer)
        var deframer = MessageDeframer(encoding: .gzip)
        #expect(try deframer.messages(in: buffer) == [Array("one".utf8), Array("two".utf8)])
    }

    // MARK: Deframer basics

    @Test("reads one message")
    func readsOne() throws {
        var deframer = MessageDeframer()
        #expect(try deframer.messages(in: [0, 0, 0, 0, 3, 1, 2, 3]) == [[1, 2, 3]])
        #expect(!deframer.isInsideMessage)
        try deframer.finish()
    }

    @Test("reads many messages from one chunk, zero-length ones included")
    func readsMany() throws {
        let messages: [[UInt8]] = [[], [1], [], [], [2, 3], Array(repeating: 4, count: 300), []]
        var deframer = MessageDeframer()
        #expect(try deframer.messages(in: Self.frame(messages)) == messages)
        try deframer.finish()
    }

    @Test("a zero-length message is returned as soon as its header is read")
    func zeroLengthAtEndOfChunk() throws {
        var deframer = MessageDeframer()
        #expect(try deframer.messages(in: [0, 0, 0]) == [])
        #expect(deframer.isInsideMessage)
        #expect(try deframer.messages(in: [0, 0]) == [[]])
        #expect(!deframer.isInsideMessage)
    }

    @Test("next(from:) consumes exactly one message at a time")
    func nextConsumes() throws {
        var deframer = MessageDeframer()
        let bytes = Self.frame([[1], [2, 2], [3, 3, 3]]) + [0, 0]
        try bytes.withUnsafeBytes { (raw) throws in
            var input = raw
            #expect(try deframer.next(from: &input) == [1])
            #expect(input.count == bytes.count - 6)
            #expect(try deframer.next(from: &input) == [2, 2])
            #expect(try deframer.next(from: &input) == [3, 3, 3])
            #expect(input.count == 2)
            #expect(try deframer.next(from: &input) == nil)
            #expect(input.isEmpty)
        }
        #expect(deframer.isInsideMessage)
    }

    @Test("splitting the stream at every byte position gives the same messages")
    func everySplit() throws {
        let messages: [[UInt8]] = [[], [1, 2, 3, 4, 5, 6, 7], [], [8], Array(0...200)]
        let bytes = Self.frame(messages)
        for split in 0...bytes.count {
            var deframer = MessageDeframer()
            var got = try deframer.messages(in: Array(bytes[..<split]))
            got += try deframer.messages(in: Array(bytes[split...]))
            #expect(got == messages, "split at \(split)")
            try deframer.finish()
        }
    }

    @Test("splitting at every pair of positions gives the same messages")
    func everyPairOfSplits() throws {
        let messages: [[UInt8]] = [[1, 2, 3], [], [4, 5]]
        let bytes = Self.frame(messages)
        for first in 0...bytes.count {
            for second in first...bytes.count {
                var deframer = MessageDeframer()
                var got = try deframer.messages(in: Array(bytes[..<first]))
                got += try deframer.messages(in: Array(bytes[first..<second]))
                got += try deframer.messages(in: Array(bytes[second...]))
                #expect(got == messages, "splits at \(first), \(second)")
            }
        }
    }

    @Test("one byte at a time, and random chunks, give the same messages")
    func byteByByteAndRandomChunks() throws {
        var random = WireRandom(seed: 1)
        let messages: [[UInt8]] = (0..<40).map { index in
            (0..<Int(random.next(below: index % 5 == 0 ? 2_000 : 40))).map { _ in UInt8(truncatingIfNeeded: random.next(below: 256)) }
        }
        let bytes = Self.frame(messages)
        var deframer = MessageDeframer()
        var got: [[UInt8]] = []
        for byte in bytes { got += try deframer.messages(in: [byte]) }
        #expect(got == messages)

        for _ in 0..<50 {
            var deframer = MessageDeframer()
            var got: [[UInt8]] = []
            var offset = 0
            while offset < bytes.count {
                let size = min(bytes.count - offset, Int(random.next(below: 700)))
                got += try deframer.messages(in: Array(bytes[offset..<(offset + size)]))
                offset += size
            }
            #expect(got == messages)
            try deframer.finish()
        }
    }

    // MARK: Limits

    @Test("a message of exactly the maximum size is accepted")
    func exactlyMax() throws {
        var deframer = MessageDeframer(maxMessageSize: 16)
        let message = [UInt8](repeating: 1, count: 16)
        #expect(try deframer.messages(in: Self.frame([message])) == [message])
    }

    @Test("one byte over the maximum fails at the header, naming both sizes")
    func overMax() throws {
        var deframer = MessageDeframer(maxMessageSize: 16)
        let error = try #require(throws: RPCError.self) { try deframer.messages(in: [0, 0, 0, 0, 17]) }
        #expect(error.code == .resourceExhausted)
        #expect(error.message == "received message of 17 bytes is larger than the maximum of 16 bytes")
    }

    @Test("a huge declared length fails before any body arrives")
    func hugeDeclaredLength() throws {
        var deframer = MessageDeframer()
        let error = try #require(throws: RPCError.self) { try deframer.messages(in: [0, 0xFF, 0xFF, 0xFF, 0xFF]) }
        #expect(error.code == .resourceExhausted)
        #expect(error.message.contains("4294967295 bytes"))
        #expect(error.message.contains("4194304 bytes"))
    }

    @Test("the default maximum is 4 MiB: a 4 MiB message in 16 KiB chunks arrives whole")
    func fourMiBInChunks() throws {
        let size = 4 * 1024 * 1024
        #expect(MessageDeframer.defaultMaxMessageSize == size)
        var message = [UInt8](repeating: 0, count: size)
        for index in stride(from: 0, to: size, by: 4_093) { message[index] = UInt8(truncatingIfNeeded: index) }
        let bytes = Self.frame([message])
        var deframer = MessageDeframer()
        var got: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 16 * 1024)
            got += try deframer.messages(in: Array(bytes[offset..<end]))
            offset = end
        }
        #expect(got.count == 1)
        #expect(got.first == message)

        var over = MessageDeframer()
        let error = try #require(throws: RPCError.self) { try over.messages(in: [0, 0, 0x40, 0, 1]) }
        #expect(error.message == "received message of 4194305 bytes is larger than the maximum of 4194304 bytes")
    }

    @Test("a body is buffered as it arrives, not allocated from the declared length")
    func growsWithData() throws {
        var deframer = MessageDeframer()
        #expect(try deframer.messages(in: [0, 0, 0x40, 0, 0] + [UInt8](repeating: 1, count: 100)) == [])
        #expect(deframer.bufferedCapacity < 4_096)
        #expect(try deframer.messages(in: [UInt8](repeating: 2, count: 10_000)) == [])
        #expect(deframer.bufferedCapacity < 64 * 1_024)
    }

    @Test("arbitrary bytes never crash the deframer")
    func arbitraryBytes() {
        var random = WireRandom(seed: 13)
        for _ in 0..<2_000 {
            var deframer = MessageDeframer(maxMessageSize: 64, encoding: random.next(below: 2) == 0 ? .gzip : nil)
            for _ in 0..<Int(random.next(below: 4)) {
                let chunk = (0..<Int(random.next(below: 40))).map { _ in
                    // Mostly small values, so headers declare small lengths and flags of 0 or 1.
                    UInt8(truncatingIfNeeded: random.next(below: random.next(below: 4) == 0 ? 256 : 3))
                }
                _ = try? deframer.messages(in: chunk)
            }
            _ = try? deframer.finish()
        }
    }

    // MARK: Flags

    @Test("a compressed flag without grpc-encoding is INTERNAL, at the first byte")
    func compressedWithoutEncoding() throws {
        var deframer = MessageDeframer()
        let error = try #require(throws: RPCError.self) { try deframer.messages(in: [1]) }
        #expect(error == RPCError(code: .internalError, message: "compressed flag set but no grpc-encoding"))

        var identity = MessageDeframer(encoding: .identity)
        let identityError = try #require(throws: RPCError.self) { try identity.messages(in: [1, 0, 0, 0, 0]) }
        #expect(identityError.message == "compressed flag set but grpc-encoding is identity")
    }

    @Test("flag values other than 0 and 1 are INTERNAL", arguments: [2, 3, 0x80, 0xFF] as [UInt8])
    func invalidFlag(flag: UInt8) throws {
        var deframer = MessageDeframer(encoding: .gzip)
        let error = try #require(throws: RPCError.self) { try deframer.messages(in: [flag]) }
        #expect(error.code == .internalError)
        #expect(error.message == "invalid compressed flag \(flag) in message header (expected 0 or 1)")
    }

    @Test("after an error every call throws it again")
    func staysFailed() throws {
        var deframer = MessageDeframer()
        let error = try #require(throws: RPCError.self) { try deframer.messages(in: [7]) }
        let again = try #require(throws: RPCError.self) { try deframer.messages(in: [0, 0, 0, 0, 0]) }
        #expect(again == error)
        let atEnd = try #require(throws: RPCError.self) { try deframer.finish() }
        #expect(atEnd == error)
    }

    // MARK: End of stream

    @Test("the stream may end between messages")
    func cleanEnd() throws {
        var deframer = MessageDeframer()
        _ = try deframer.messages(in: Self.frame([[1]]))
        try deframer.finish()
        try deframer.finish()
        var empty = MessageDeframer()
        try empty.finish()
    }

    @Test("the stream ending inside a header is INTERNAL")
    func endInsideHeader() throws {
        var deframer = MessageDeframer()
        _ = try deframer.messages(in: [0, 0, 0])
        let error = try #require(throws: RPCError.self) { try deframer.finish() }
        #expect(error == RPCError(code: .internalError, message: "stream ended inside a message (3 of 5 header bytes received)"))
    }

    @Test("the stream ending inside a body is INTERNAL")
    func endInsideBody() throws {
        var deframer = MessageDeframer()
        _ = try deframer.messages(in: [0, 0, 0, 0, 10, 1, 2, 3])
        let error = try #require(throws: RPCError.self) { try deframer.finish() }
        #expect(error == RPCError(code: .internalError, message: "stream ended inside a message (3 of 10 bytes received)"))
    }

    @Test("bytes after the end of the stream are INTERNAL")
    func bytesAfterEnd() throws {
        var deframer = MessageDeframer()
        try deframer.finish()
        #expect(try deframer.messages(in: []) == [])
        let error = try #require(throws: RPCError.self) { try deframer.messages(in: [0]) }
        #expect(error.message == "1 message bytes after the end of the stream")
    }

    // MARK: Compressed messages

    @Test("gzip messages decompress, whatever the chunking")
    func gzipRoundTrip() throws {
        var framer = MessageFramer(encoding: .gzip)
        let messages: [[UInt8]] = [Array("hello".utf8), [], [UInt8](repeating: 42, count: 50_000), Array(0...255)]
        var bytes: [UInt8] = []
        for (index, message) in messages.enumerated() { try framer.append(message, compress: index != 1, to: &bytes) }
        for split in stride(from: 0, through: bytes.count, by: 7) {
            var deframer = MessageDeframer(encoding: .gzip)
            var got = try deframer.messages(in: Array(bytes[..<split]))
            got += try deframer.messages(in: Array(bytes[split...]))
            #expect(got == messages, "split at \(split)")
            try deframer.finish()
        }
    }

    @Test("a compressed zero-length body is an empty message")
    func compressedEmptyBody() throws {
        var deframer = MessageDeframer(encoding: .gzip)
        #expect(try deframer.messages(in: [1, 0, 0, 0, 0]) == [[]])
    }

    @Test("a decompressed size over the maximum is RESOURCE_EXHAUSTED: zip bombs stop at the limit")
    func zipBomb() throws {
        let bomb = try Gzip.Compressor(level: 9).compress([UInt8](repeating: 0, count: 64 * 1024 * 1024))
        #expect(bomb.count < 100_000)
        var bytes: [UInt8] = []
        MessageFramer.appendHeader(compressed: true, length: bomb.count, to: &bytes)
        bytes += bomb
        for chunked in [false, true] {
            var deframer = MessageDeframer(encoding: .gzip)
            let error = try #require(throws: RPCError.self) {
                if chunked {
                    for start in stride(from: 0, to: bytes.count, by: 16_384) {
                        _ = try deframer.messages(in: Array(bytes[start..<min(bytes.count, start + 16_384)]))
                    }
                } else {
                    _ = try deframer.messages(in: bytes)
                }
            }
            #expect(error.code == .resourceExhausted)
            #expect(error.message == "decompressed message is larger than the maximum of 4194304 bytes (compressed size \(bomb.count) bytes)")
        }
    }

    @Test("a decompressed message of exactly the maximum is accepted; one more byte is not")
    func decompressedLimit() throws {
        let compressor = try Gzip.Compressor()
        for (size, accepted) in [(1_000, true), (1_001, false)] {
            var bytes: [UInt8] = []
            let compressed = try compressor.compress([UInt8](repeating: 5, count: size))
            MessageFramer.appendHeader(compressed: true, length: compressed.count, to: &bytes)
            bytes += compressed
            var deframer = MessageDeframer(maxMessageSize: 1_000, encoding: .gzip)
            if accepted {
                #expect(try deframer.messages(in: bytes) == [[UInt8](repeating: 5, count: size)])
            } else {
                let error = try #require(throws: RPCError.self) { try deframer.messages(in: bytes) }
                #expect(error.code == .resourceExhausted)
            }
        }
    }

    @Test("corrupt compressed data is INTERNAL")
    func corruptCompressed() throws {
        var deframer = MessageDeframer(encoding: .gzip)
        let error = try #require(throws: RPCError.self) { try deframer.messages(in: [1, 0, 0, 0, 4, 1, 2, 3, 4]) }
        #expect(error.code == .internalError)
        #expect(error.message.hasPrefix("gzip decompression failed"))
    }

    /// Frames `messages` uncompressed.
    static func frame(_ messages: [[UInt8]]) -> [UInt8] {
        var framer = MessageFramer()
        var bytes: [UInt8] = []
        for message in messages { try? framer.append(message, to: &bytes) }
        return bytes
    }
}

/// A deterministic generator (SplitMix64), so a failing case can be replayed.
struct WireRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (bound > 0).
    mutating func next(below bound: UInt64) -> UInt64 {
        next() % bound
    }
}
