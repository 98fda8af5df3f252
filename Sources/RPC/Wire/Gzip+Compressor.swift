import CZlib

/// Not Sendable: a compressor is used by one call or connection at a time.
@available(*, unavailable)
extension Gzip.Compressor: Sendable {}

extension Gzip {
    /// Compresses whole messages into gzip members. Owns one zlib deflate
    /// stream, freed when the compressor is.
    package final class Compressor {
        private let stream: UnsafeMutablePointer<z_stream>
        /// Where deflate writes before the bytes are appended to the caller's buffer.
        private let scratch: UnsafeMutableRawBufferPointer

        /// A compressor at `level` (0 no compression … 9 smallest; nil: zlib's
        /// default, 6).
        ///
        /// - Throws: ``RPCError`` `INTERNAL` when zlib cannot set up (out of memory).
        package init(level: Int? = nil) throws(RPCError) {
            let level = level.map { Int32(min(max($0, 0), 9)) } ?? Z_DEFAULT_COMPRESSION
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            let code = deflateInit2_(stream, level, Z_DEFLATED, Gzip.windowBits, 8, Z_DEFAULT_STRATEGY,
                                     zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard code == Z_OK else {
                let reason = Gzip.describe(code, stream)
                stream.deinitialize(count: 1)
                stream.deallocate()
                throw RPCError(code: .internalError, message: "gzip compressor could not start: \(reason)")
            }
            scratch = .allocate(byteCount: Gzip.scratchSize, alignment: 16)
        }

        deinit {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
            scratch.deallocate()
        }

        /// Appends the gzip encoding of `input` to `output`.
        ///
        /// - Throws: ``RPCError`` `RESOURCE_EXHAUSTED` for an input of 4 GiB or
        ///   more (no gRPC message can be that large), `INTERNAL` if zlib fails;
        ///   `output` is then as it was.
        package func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws(RPCError) {
            guard input.count <= Int(UInt32.max) else {
                throw RPCError(code: .resourceExhausted,
                               message: "message of \(input.count) bytes is too large to compress (at most \(UInt32.max))")
            }
            var code = deflateReset(stream)
            guard code == Z_OK else {
                throw RPCError(code: .internalError, message: "gzip compression failed: \(Gzip.describe(code, stream))")
            }
            defer {
                stream.pointee.next_in = nil
                stream.pointee.next_out = nil
            }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            let start = output.count
            repeat {
                stream.pointee.next_out = scratch.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(scratch.count)
                code = deflate(stream, Z_FINISH)
                let produced = scratch.count - Int(stream.pointee.avail_out)
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<produced]))
                // Z_OK: the scratch buffer filled up, call again; Z_BUF_ERROR means no progress was possible.
                guard code == Z_STREAM_END || (code == Z_OK && produced > 0) else {
                    output.removeSubrange(start...)
                    throw RPCError(code: .internalError, message: "gzip compression failed: \(Gzip.describe(code, stream))")
                }
            } while code != Z_STREAM_END
        }

        /// The gzip encoding of `input`.
        package func compress(_ input: [UInt8]) throws(RPCError) -> [UInt8] {
            var output: [UInt8] = []
            try input.withUnsafeBytesTyped { (bytes) throws(RPCError) in try compress(bytes, appendingTo: &output) }
            return output
        }
    }
}
