/// A stream id (or a file descriptor) as a dictionary key, hashed by a multiply and a
/// shift instead of the standard SipHash: a lookup happens several times per
/// request, and these tables are small (a connection's open streams, which
/// SETTINGS_MAX_CONCURRENT_STREAMS bounds), so collisions a peer could steer
/// by choosing ids cost little. The dictionary's per-instance seed is still
/// mixed in.
package struct StreamKey: Hashable, Sendable {
    package let id: Int32

    @inlinable
    package init(_ id: Int32) { self.id = id }

    @inlinable
    package static func == (a: StreamKey, b: StreamKey) -> Bool { a.id == b.id }

    @inlinable
    package func hash(into hasher: inout Hasher) { hasher.combine(id) }

    @inlinable
    package func _rawHashValue(seed: Int) -> Int {
        // Fibonacci hashing; the high half folded down, since tables use the low bits.
        let mixed = (UInt64(UInt32(bitPattern: id)) ^ UInt64(UInt(bitPattern: seed))) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed ^ (mixed >> 32))
    }
}
