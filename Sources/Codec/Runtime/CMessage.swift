import CProtobufC

/// The bridge between a Swift message value and its protobuf-c struct.
///
/// Each message type states its C struct and descriptor, how to fill a C struct
/// from the Swift value (allocating in an ``Arena``), and how to read the Swift
/// value back from a C struct that protobuf-c unpacked. The generic
/// ``pack(_:)`` and ``unpack(_:from:)`` do the rest.
package protocol CMessage: ProtoMessage {
    /// The protobuf-c struct generated for this message.
    associatedtype CStruct

    /// The protobuf-c descriptor of `CStruct`, a pointer to the generated global.
    static var cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { get }

    /// Fills `c`, which protobuf-c initialised to the defaults, from `self`.
    /// Everything `c` points to afterwards is allocated in `arena`.
    func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError)

    /// Reads a value from a struct protobuf-c unpacked. Copies everything it
    /// keeps: `c` is freed right after.
    init(reading c: UnsafePointer<CStruct>) throws(CodecError)
}

/// Finds the address of a generated descriptor through a struct initialised by
/// the generated `*__init` function (C globals have no stable address in Swift
/// otherwise). Called once per message type.
package func descriptor<C>(initialising _: C.Type, with initialise: (UnsafeMutablePointer<C>) -> Void) -> UnsafePointer<ProtobufCMessageDescriptor> {
    let c = UnsafeMutablePointer<C>.allocate(capacity: 1)
    defer { c.deallocate() }
    initialise(c)
    return UnsafeRawPointer(c).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor
}

extension CMessage {
    /// The protobuf-c base of a message struct.
    @inline(__always)
    package static func base(_ c: UnsafePointer<CStruct>) -> UnsafePointer<ProtobufCMessage> {
        UnsafeRawPointer(c).assumingMemoryBound(to: ProtobufCMessage.self)
    }

    /// Encodes through `protobuf_c_message_pack`, after `headroom` zero bytes.
    package static func pack(_ value: Self, headroom: Int = 0) throws(CodecError) -> [UInt8] {
        precondition(headroom >= 0, "negative headroom")
        return try Arena.withArena { (arena) throws(CodecError) -> [UInt8] in
            let c = arena.newMessage(Self.self)
            try value.write(to: c, arena: &arena)
            let message = base(c)
            let size = protobuf_c_message_get_packed_size(message)
            return [UInt8](unsafeUninitializedCapacity: headroom + size) { buffer, count in
                if headroom > 0 { buffer.baseAddress!.initialize(repeating: 0, count: headroom) }
                count = headroom + (size == 0 ? 0 : protobuf_c_message_pack(message, buffer.baseAddress! + headroom))
            }
        }
    }

    /// Encodes in place after `headroom` zero bytes (see ``ProtoMessage/serializedBytes(headroom:)``).
    public func serializedBytes(headroom: Int) throws(CodecError) -> [UInt8] {
        try Self.pack(self, headroom: headroom)
    }

    /// Decodes `bytes`: no bytes are the default message, anything else goes
    /// through ``unpackWithProtobufC(_:)``.
    package static func unpack(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> Self {
        guard bytes.count <= Int(Int32.max) else {
            throw CodecError(code: .tooLarge, path: protoMessageName,
                             reason: "\(bytes.count) bytes is more than a protobuf message can hold")
        }
        // An empty encoding is the default message (no field present): nothing
        // to ask protobuf-c, nor to allocate.
        if bytes.isEmpty { return Self() }
        return try unpackWithProtobufC(bytes)
    }

    /// Decodes through `protobuf_c_message_unpack`, even no bytes, with
    /// protobuf-c allocating from an arena that releases the whole unpacked
    /// tree (and anything a failed unpack left behind) when this returns.
    package static func unpackWithProtobufC(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> Self {
        // protobuf-c reads no byte of an empty input, so a nil base is fine there.
        let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        // The value is returned as made, not through a Result (whose get()
        // would copy it, a reference count per string and sub-message).
        return try Arena.withArena { (arena) throws(CodecError) -> Self in
            try withUnsafeMutablePointer(to: &arena) { (arena) throws(CodecError) -> Self in
                var allocator = Arena.allocator(arena)
                guard let unpacked = protobuf_c_message_unpack(cDescriptor, &allocator, bytes.count, data) else {
                    throw CodecError(code: .malformed, path: protoMessageName,
                                     reason: WireDiagnosis.explain(bytes, descriptor: cDescriptor))
                }
                return try Self(reading: UnsafeRawPointer(unpacked).assumingMemoryBound(to: CStruct.self))
            }
        }
    }
}
