import CHiredis

/// One reply from Redis (RESP2), copied out of hiredis memory.
package indirect enum RedisReply: Sendable, Hashable {
    /// A simple status such as `OK` or `PONG`.
    case status(String)
    /// An error reply, such as `ERR unknown command 'FOO'`. The connection
    /// remains usable.
    case error(String)
    /// An integer reply (`INCR`, `DEL`, `EXISTS`, …).
    case integer(Int64)
    /// A bulk string, byte for byte: values are binary-safe.
    case string([UInt8])
    /// The null bulk string or null array (a missing key, a timed-out `BLPOP`).
    case null
    /// A multi-bulk reply; elements may themselves be arrays.
    case array([RedisReply])

    /// Copies a hiredis reply tree. The caller still owns `reply` and frees it.
    ///
    /// - Throws: `protocolError` for a reply type hiredis 0.14 does not define.
    init(copying reply: UnsafePointer<redisReply>) throws(LiveStateError) {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STATUS:
            self = .status(Self.text(value.str, count: value.len))
        case REDIS_REPLY_ERROR:
            self = .error(Self.text(value.str, count: value.len))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(value.integer))
        case REDIS_REPLY_STRING:
            self = .string(Self.bytes(value.str, count: value.len))
        case REDIS_REPLY_NIL:
            self = .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                guard let element = value.element?[index] else {
                    throw LiveStateError(code: .protocolError, message: "array reply with a missing element")
                }
                elements.append(try RedisReply(copying: element))
            }
            self = .array(elements)
        default:
            throw LiveStateError(code: .protocolError, message: "reply of unknown type \(value.type)")
        }
    }

    /// The bulk string as UTF-8 text (invalid sequences replaced), or the
    /// status text; `nil` for other replies.
    package var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    private static func bytes(_ start: UnsafeMutablePointer<CChar>?, count: Int) -> [UInt8] {
        guard let start, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    private static func text(_ start: UnsafeMutablePointer<CChar>?, count: Int) -> String {
        String(decoding: bytes(start, count: count), as: UTF8.self)
    }
}
