import CZlib

/// Not Sendable: a decompressor is used by one call or connection at a time.
@available(*, unavailable)
extension Gzip.Decompressor: Sendable {}

extension Gzip {
    /// Decompresses gzip data, never producing more than a given limit: a
    /// small input that would inflate to gigabytes (a zip bomb) stops one byte
    /// past the limit. Owns one zlib inflate stream, freed when the
    /// decompressor is.
    package final class Decompressor {
        private let stream: UnsafeMutablePointer<z_stream>
        /// Where inflate writes before the bytes are appended to the caller's buffer.
        private let scratch: UnsafeMutableRawBufferPointer

        /// A decompressor.
        ///
        /// - Throws: ``RPCError`` `INTERNAL` when zlib cannot set up (out of memory).
        package init() throws(RPCError) {
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            let code = inflateInit2_(stream, Gzip.windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard code == Z_OK else {
                let reason = Gzip.describe(code, stream)
                stream.deinitialize(count: 1)
                stream.deallocate()
                throw RPCError(code: .internalError, message: "gzip decompressor could not start: \(reason)")
            }
            scratch = .allocate(byteCount: Gzip.scratchSize, alignment: 16)
        }

        deinit {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
            scratch.deallocate()
        }

        /// Appends the decompression of `input` (one or more gzip members) to
        /// `output`.
        ///
        /// - Parameter limit: the most bytes the decompressed data may have.
        /// - Throws: ``RPCError`` `RESOURCE_EXHAUSTED` when the data inflates
        ///   to more than `limit` bytes (decompression stops there);
        ///   `INTERNAL` for data that is not gzip, is corrupt, or is truncated.
        ///   `output` is then as it was.
        package func decompress(_ input: UnsafeRawBufferPointer, limit: Int, appendingTo output: inout [UInt8]) throws(RPCError) {
            let start = output.count
            do throws(RPCError) {
                try inflateAll(input, limit: max(0, limit), output: &output)
            } catch {
                output.removeSubrange(start...)
                throw error
            }
        }

        /// The decompression of `input`, at most `limit` bytes; see
        /// ``decompress(_:limit:appendingTo:)``.
        package func decompress(_ input: [UInt8], limit: Int) throws(RPCError) -> [UInt8] {
            var output: [UInt8] = []
            try input.withUnsafeBytesTyped { (bytes) throws(RPCError) in try decompress(bytes, limit: limit, appendingTo: &output) }
            return output
        }

        private func inflateAll(_ input: UnsafeRawBufferPointer, limit: Int, output: inout [UInt8]) throws(RPCError) {
            guard input.count <= Int(UInt32.max) else {
                throw RPCError(code: .resourceExhausted,
                               message: "compressed message of \(input.count) bytes is too large (at most \(UInt32.max))")
            }
            var code = inflateReset(stream)
            guard code == Z_OK else { throw failure(code) }
            defer {
                stream.pointee.next_in = nil
                stream.pointee.next_out = nil
            }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            // Most messages inflate to a few times their compressed size; the array grows past that as needed.
            output.reserveCapacity(output.count + min(limit, input.count * 3))
            var produced = 0
            while true {
                // Never ask for more than one byte past the limit: that byte proves the data is over it.
                let remaining = limit - produced
                let room = remaining < scratch.count ? remaining + 1 : scratch.count
                stream.pointee.next_out = scratch.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(room)
                code = inflate(stream, Z_NO_FLUSH)
                let got = room - Int(stream.pointee.avail_out)
                produced += got
                if produced > limit {
                    throw RPCError(code: .resourceExhausted,
                                   message: "decompressed message is larger than the maximum of \(limit) bytes")
                }
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<got]))
                switch code {
                case Z_STREAM_END:
                    if stream.pointee.avail_in == 0 { return }
                    // Another gzip member follows (RFC 1952 allows several).
                    code = inflateReset(stream)
                    guard code == Z_OK else { throw failure(code) }
                case Z_OK, Z_BUF_ERROR:
                    // Room left for output, yet inflate stopped: it needs input that is not there.
                    if got < room {
                        guard stream.pointee.avail_in == 0 else { throw failure(code) }
                        throw RPCError(code: .internalError, message: "gzip decompression failed: the data is truncated")
                    }
                default:
                    throw failure(code)
                }
            }
        }

        private func failure(_ code: Int32) -> RPCError {
            RPCError(code: .internalError, message: "gzip decompression failed: \(Gzip.describe(code, stream))")
        }
    }
}
