import CProtobufC
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Memory for one encode or decode: the C structs, strings and arrays that
/// protobuf-c reads (`pack`) or writes (`unpack`, through ``allocator``) live
/// here and are all released together when the arena ends.
///
/// A bump allocator over a few large blocks, so a message tree costs a handful
/// of `malloc` calls instead of one per string and sub-message. Nothing
/// allocated here outlives the call that made the arena.
package struct Arena: ~Copyable {
    /// The first block the arena allocated, kept apart so that a small
    /// message costs one `malloc` (none when the caller lends a first block).
    private var firstBlock: UnsafeMutableRawPointer?
    private var moreBlocks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private var nextBlockSize = 2048

    /// The size of the block ``withArena(_:)`` lends from the stack: a full
    /// `Timer` fits in it, encoded or decoded.
    package static let stackBlockSize = 2048

    package init() {}

    /// An arena whose first allocations come from `block` (16-byte aligned),
    /// which the caller owns and keeps valid while the arena lives.
    package init(lending block: UnsafeMutableRawBufferPointer) {
        cursor = block.baseAddress
        remaining = block.count
    }

    deinit {
        firstBlock?.deallocate()
        for block in moreBlocks { block.deallocate() }
    }

    /// Runs `body` with an arena whose first block is on the stack, so a
    /// small message costs no `malloc` for its C structs.
    @inline(__always)
    package static func withArena<R, E: Error>(_ body: (inout Arena) throws(E) -> R) throws(E) -> R {
        try withUnsafeTemporaryAllocation(byteCount: stackBlockSize, alignment: 16) { (block) throws(E) -> R in
            var arena = Arena(lending: block)
            return try body(&arena)
        }
    }

    /// Uninitialised, 16-byte aligned memory valid until the arena ends.
    @inline(__always)
    package mutating func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = max(16, (byteCount + 15) & ~15)
        if size > remaining { addBlock(holding: size) }
        let result = cursor!
        cursor = result + size
        remaining -= size
        return result
    }

    /// Starts a new block with room for at least `size` bytes.
    private mutating func addBlock(holding size: Int) {
        let blockSize = max(size, nextBlockSize)
        let block = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16)
        if firstBlock == nil { firstBlock = block } else { moreBlocks.append(block) }
        cursor = block
        remaining = blockSize
        nextBlockSize = min(nextBlockSize * 2, 1 << 20)
    }

    /// A C struct of message type `M`, initialised by protobuf-c to its defaults.
    package mutating func newMessage<M: CMessage>(_: M.Type) -> UnsafeMutablePointer<M.CStruct> {
        let descriptor = M.cDescriptor
        let raw = allocate(byteCount: descriptor.pointee.sizeof_message)
        descriptor.pointee.message_init(raw.assumingMemoryBound(to: ProtobufCMessage.self))
        return raw.bindMemory(to: M.CStruct.self, capacity: 1)
    }

    /// A NUL-terminated copy of `string`.
    ///
    /// - Throws: `unrepresentableString` when `string` contains U+0000, which a
    ///   C string cannot hold.
    package mutating func cString(_ string: String, path: @autoclosure () -> String) throws(CodecError) -> UnsafeMutablePointer<CChar> {
        var string = string
        let count = string.utf8.count
        let raw = allocate(byteCount: count + 1)
        let hasNUL: Bool = string.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return false }
            raw.copyMemory(from: base, byteCount: count)
            return memchr(base, 0, count) != nil
        }
        if hasNUL {
            throw CodecError(code: .unrepresentableString, path: path(),
                             reason: "string contains U+0000, which cannot be encoded")
        }
        raw.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
        return raw.assumingMemoryBound(to: CChar.self)
    }

    /// The C form of an optional sub-message: NULL when absent.
    package mutating func message<M: CMessage>(_ value: M?) throws(CodecError) -> UnsafeMutablePointer<M.CStruct>? {
        guard let value else { return nil }
        let c = newMessage(M.self)
        try value.write(to: c, arena: &self)
        return c
    }

    /// The C form of a repeated message field: a count and an array of pointers.
    package mutating func messages<M: CMessage>(_ values: [M]) throws(CodecError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CStruct>?>?) {
        if values.isEmpty { return (0, nil) }
        let array = allocate(byteCount: values.count * MemoryLayout<UnsafeMutableRawPointer>.stride)
            .bindMemory(to: UnsafeMutablePointer<M.CStruct>?.self, capacity: values.count)
        for i in values.indices {
            let c = newMessage(M.self)
            try values[i].write(to: c, arena: &self)
            (array + i).initialize(to: c)
        }
        return (values.count, array)
    }

    /// The C form of a repeated scalar field: a count and a copied array.
    package mutating func scalars<T: BitwiseCopyable>(_ values: [T]) -> (Int, UnsafeMutablePointer<T>?) {
        if values.isEmpty { return (0, nil) }
        let array = allocate(byteCount: values.count * MemoryLayout<T>.stride)
            .bindMemory(to: T.self, capacity: values.count)
        values.withUnsafeBufferPointer { array.initialize(from: $0.baseAddress!, count: values.count) }
        return (values.count, array)
    }

    /// The C form of a repeated enum field.
    package mutating func enums<E: ProtoEnum, C: RawRepresentable>(_ values: [E], as _: C.Type) -> (Int, UnsafeMutablePointer<C>?) where C.RawValue == UInt32 {
        if values.isEmpty { return (0, nil) }
        let array = allocate(byteCount: values.count * MemoryLayout<C>.stride)
            .bindMemory(to: C.self, capacity: values.count)
        for (i, value) in values.enumerated() {
            (array + i).initialize(to: C(rawValue: UInt32(bitPattern: value.rawValue))!)
        }
        return (values.count, array)
    }

    /// Copies unknown fields into the C message's base so protobuf-c writes them back.
    @inline(__always)
    package mutating func writeUnknownFields(_ unknown: borrowing UnknownFields, into base: inout ProtobufCMessage) {
        // Asked of every message written, nearly always with none.
        if unknown.isEmpty { return }
        writeSomeUnknownFields(unknown, into: &base)
    }

    private mutating func writeSomeUnknownFields(_ unknown: borrowing UnknownFields, into base: inout ProtobufCMessage) {
        let count = unknown.fields.count
        let array = allocate(byteCount: count * MemoryLayout<ProtobufCMessageUnknownField>.stride)
            .bindMemory(to: ProtobufCMessageUnknownField.self, capacity: count)
        for (i, field) in unknown.fields.enumerated() {
            let data = allocate(byteCount: field.payload.count)
            field.payload.withUnsafeBytes { bytes in
                if let source = bytes.baseAddress { data.copyMemory(from: source, byteCount: bytes.count) }
            }
            (array + i).initialize(to: ProtobufCMessageUnknownField(
                tag: field.number,
                wire_type: ProtobufCWireType(rawValue: UInt32(field.wireType)),
                len: field.payload.count,
                data: data.assumingMemoryBound(to: UInt8.self)))
        }
        base.n_unknown_fields = UInt32(count)
        base.unknown_fields = array
    }

    /// A protobuf-c allocator that takes its memory from the arena `arena`
    /// points to; its `free` does nothing, the arena releases everything.
    /// `arena` must stay valid and in place while protobuf-c uses it.
    package static func allocator(_ arena: UnsafeMutablePointer<Arena>) -> ProtobufCAllocator {
        ProtobufCAllocator(
            alloc: { data, size in
                data!.assumingMemoryBound(to: Arena.self).pointee.allocate(byteCount: size)
            },
            free: { _, _ in },
            allocator_data: UnsafeMutableRawPointer(arena))
    }
}

extension Arena {
    /// The C form of a `bytes` value: a length and a copy of the bytes. The
    /// data pointer is never NULL, even for no bytes.
    package mutating func binaryData(_ value: [UInt8]) -> ProtobufCBinaryData {
        let data = allocate(byteCount: value.count)
        value.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress { data.copyMemory(from: source, byteCount: bytes.count) }
        }
        return ProtobufCBinaryData(len: value.count, data: data.assumingMemoryBound(to: UInt8.self))
    }

    /// The C form of a repeated `bytes` field: a count and an array of
    /// `ProtobufCBinaryData`, each pointing at its own copy.
    package mutating func binaryDataArray(_ values: [[UInt8]]) -> (Int, UnsafeMutablePointer<ProtobufCBinaryData>?) {
        if values.isEmpty { return (0, nil) }
        let array = allocate(byteCount: values.count * MemoryLayout<ProtobufCBinaryData>.stride)
            .bindMemory(to: ProtobufCBinaryData.self, capacity: values.count)
        for i in values.indices {
            (array + i).initialize(to: binaryData(values[i]))
        }
        return (values.count, array)
    }
}
