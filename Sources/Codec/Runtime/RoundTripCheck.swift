/// The codec's invariant on arbitrary input, shared by the fuzzer and by the
/// test that replays inputs it once found: whatever the bytes, decoding either
/// throws a ``CodecError`` or yields a value that encodes and decodes back to
/// itself, for every message type.
package enum RoundTripCheck {
    /// Checks `bytes` against one message type chosen by its first byte (so a
    /// fuzzer can steer), and returns a description of any broken invariant.
    package static func check(_ bytes: [UInt8]) -> String? {
        guard let selector = bytes.first else { return nil }
        let types = MessageTypes.all
        let type = types[Int(selector) % types.count]
        return check(type, Array(bytes.dropFirst()))
    }

    /// Checks `bytes` as a message of `type`.
    package static func check<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) -> String? {
        let value: M
        do {
            value = try M(serializedBytes: bytes)
        } catch {
            return nil  // Refusing bad input is correct.
        }
        do {
            let encoded = try value.serializedBytes()
            let again = try M(serializedBytes: encoded)
            guard again == value else {
                return "\(M.protoMessageName): value changed through encode/decode"
            }
            guard try again.serializedBytes() == encoded else {
                return "\(M.protoMessageName): encoding is not stable"
            }
            return nil
        } catch {
            return "\(M.protoMessageName): a decoded value failed to round-trip: \(error)"
        }
    }
}
