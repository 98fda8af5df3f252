import CZlib

/// gzip (RFC 1952) message compression through zlib, for `grpc-encoding: gzip`.
///
/// Each message is one gzip member, made and read with a fresh compression
/// context as gRPC requires; a ``Compressor`` or ``Decompressor`` resets its
/// zlib stream before each message, so a call or a connection can keep one and
/// reuse it instead of paying zlib's setup for every message.
package enum Gzip {
    /// `windowBits` for zlib: a 32 KiB window (15) with the gzip wrapper (+16).
    static let windowBits: Int32 = 15 + 16

    /// The size of the buffer zlib writes into before bytes are appended to
    /// the caller's array (so the array grows with the data, never zero-filled ahead).
    static let scratchSize = 32 * 1024

    /// Turns a zlib return code and the stream's message into words.
    static func describe(_ code: Int32, _ stream: UnsafeMutablePointer<z_stream>) -> String {
        if let message = stream.pointee.msg {
            return "\(String(cString: message)) (zlib \(code))"
        }
        switch code {
        case Z_MEM_ERROR: return "out of memory (zlib \(code))"
        case Z_STREAM_ERROR: return "invalid stream state (zlib \(code))"
        case Z_BUF_ERROR: return "no progress possible (zlib \(code))"
        case Z_NEED_DICT: return "a preset dictionary is required (zlib \(code))"
        case Z_DATA_ERROR: return "invalid or corrupt data (zlib \(code))"
        case Z_VERSION_ERROR: return "incompatible zlib version (zlib \(code))"
        default: return "zlib error \(code)"
        }
    }
}
