/// Standard base64 (RFC 4648 §4) for `-bin` metadata values.
///
/// Encoding emits no padding, as gRPC asks of senders; decoding accepts padded
/// and unpadded input, as gRPC requires of receivers. Whitespace, line breaks
/// and the URL-safe alphabet are not base64 here and are rejected.
package enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Marks a byte that is not in the alphabet.
    private static let invalid: UInt8 = 0xFF

    /// The 6-bit value of each byte, or ``invalid``.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    /// The length of the unpadded encoding of `count` bytes.
    package static func encodedLength(of count: Int) -> Int {
        let remainder = count % 3
        return (count / 3) * 4 + (remainder == 0 ? 0 : remainder + 1)
    }

    /// `bytes` in standard base64, without padding.
    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        if let text = bytes.withContiguousStorageIfAvailable({ encode(buffer: $0) }) { return text }
        return Array(bytes).withUnsafeBufferPointer { encode(buffer: $0) }
    }

    private static func encode(buffer input: UnsafeBufferPointer<UInt8>) -> String {
        let length = encodedLength(of: input.count)
        guard length > 0 else { return "" }
        return alphabet.withUnsafeBufferPointer { alphabet in
            String(unsafeUninitializedCapacity: length) { output in
                var i = 0
                var o = 0
                while i + 3 <= input.count {
                    let chunk = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    output[o] = alphabet[Int(chunk >> 18)]
                    output[o + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                    output[o + 2] = alphabet[Int(chunk >> 6 & 0x3F)]
                    output[o + 3] = alphabet[Int(chunk & 0x3F)]
                    i += 3
                    o += 4
                }
                switch input.count - i {
                case 1:
                    let chunk = UInt32(input[i]) << 16
                    output[o] = alphabet[Int(chunk >> 18)]
                    output[o + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                    o += 2
                case 2:
                    let chunk = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                    output[o] = alphabet[Int(chunk >> 18)]
                    output[o + 1] = alphabet[Int(chunk >> 12 & 0x3F)]
                    output[o + 2] = alphabet[Int(chunk >> 6 & 0x3F)]
                    o += 3
                default:
                    break
                }
                return o
            }
        }
    }

    /// Decodes standard base64, padded or not.
    ///
    /// Unused low bits of the last character are ignored (`QR==` decodes
    /// like `QQ==`), as most decoders do.
    ///
    /// - Throws: ``RPCError`` with code `INTERNAL` and the message
    ///   `invalid base64: <reason>` naming the first problem: a character
    ///   outside the alphabet (with its offset), padding that does not
    ///   complete a group of four, or a length no encoding can have.
    package static func decode(_ text: some Collection<UInt8>) throws(RPCError) -> [UInt8] {
        try decode(text, describedBy: { nil })
    }

    /// Decodes standard base64 as the context-free variant does; an error
    /// message says where the text came from: `invalid base64 in <context>: <reason>`.
    /// `context` is only evaluated for an error.
    package static func decode(_ text: some Collection<UInt8>, context: @autoclosure () -> String) throws(RPCError) -> [UInt8] {
        try decode(text, describedBy: context)
    }

    private static func decode(_ text: some Collection<UInt8>, describedBy context: () -> String?) throws(RPCError) -> [UInt8] {
        let result: Result<[UInt8], RPCError>? = text.withContiguousStorageIfAvailable { decode(buffer: $0, context: context) }
        if let result { return try result.get() }
        return try Array(text).withUnsafeBufferPointer { decode(buffer: $0, context: context) }.get()
    }

    /// Decodes standard base64 given as a string; see the byte variant.
    package static func decode(_ text: String) throws(RPCError) -> [UInt8] {
        try decode(text.utf8, describedBy: { nil })
    }

    private static func decode(buffer input: UnsafeBufferPointer<UInt8>, context: () -> String?) -> Result<[UInt8], RPCError> {
        var length = input.count
        var padding = 0
        while length > 0, padding < 2, input[length - 1] == UInt8(ascii: "=") {
            length -= 1
            padding += 1
        }
        if padding > 0, input.count % 4 != 0 {
            return .failure(failure(context, "padding does not complete a group of 4 characters (length \(input.count))"))
        }
        if length % 4 == 1 {
            // A bad character says more than the length it leads to.
            if let bad = input[..<length].firstIndex(where: { decodeTable[Int($0)] == invalid }) {
                return .failure(failure(context, "\(WireText.describe(byte: input[bad])) at offset \(bad) is not a base64 character"))
            }
            return .failure(failure(context, "length \(length) is not the length of any encoding (a last group of 1 character)"))
        }
        let outputLength = (length / 4) * 3 + max(0, length % 4 - 1)
        var badOffset = -1
        let bytes = decodeTable.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: outputLength) { output, initialized in
                var i = 0
                var o = 0
                while i + 4 <= length {
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])]
                    let c = table[Int(input[i + 2])], d = table[Int(input[i + 3])]
                    guard (a | b | c | d) < 64 else {  // valid values are 0...63, `invalid` is 0xFF
                        badOffset = i
                        while table[Int(input[badOffset])] != invalid { badOffset += 1 }
                        initialized = o
                        return
                    }
                    let chunk = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    output[o] = UInt8(truncatingIfNeeded: chunk >> 16)
                    output[o + 1] = UInt8(truncatingIfNeeded: chunk >> 8)
                    output[o + 2] = UInt8(truncatingIfNeeded: chunk)
                    i += 4
                    o += 3
                }
                if length - i >= 2 {
                    var chunk: UInt32 = 0
                    for k in 0..<(length - i) {
                        let value = table[Int(input[i + k])]
                        guard value != invalid else {
                            badOffset = i + k
                            initialized = o
                            return
                        }
                        chunk |= UInt32(value) << (18 - 6 * k)
                    }
                    output[o] = UInt8(truncatingIfNeeded: chunk >> 16)
                    o += 1
                    if length - i == 3 {
                        output[o] = UInt8(truncatingIfNeeded: chunk >> 8)
                        o += 1
                    }
                }
                initialized = o
            }
        }
        if badOffset >= 0 {
            return .failure(failure(context, "\(WireText.describe(byte: input[badOffset])) at offset \(badOffset) is not a base64 character"))
        }
        return .success(bytes)
    }

    private static func failure(_ context: () -> String?, _ reason: String) -> RPCError {
        RPCError(code: .internalError, message: "invalid base64\(context().map { " in \($0)" } ?? ""): \(reason)")
    }
}
