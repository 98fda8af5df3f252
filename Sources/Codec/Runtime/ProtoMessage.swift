/// A protobuf message of the Service Vault API as a Swift value.
///
/// Every message of `proto/servicevault/timer/v1` has a hand-written value type
/// conforming to this protocol. Encoding and decoding go through protobuf-c
/// (`protobuf_c_message_pack` / `protobuf_c_message_unpack`), so the bytes are
/// exactly what any protobuf implementation reads and writes.
///
/// Fields follow proto3 rules: a scalar field that is not `optional` in the
/// proto is a plain value with its zero default; an `optional` scalar and a
/// message-typed field are Swift optionals, so "absent" stays distinguishable
/// from "zero". Fields this version does not know are kept in `unknownFields`
/// and written back when the message is encoded again.
public protocol ProtoMessage: Sendable, Hashable {
    /// The fully qualified protobuf name, e.g. `servicevault.timer.v1.Timer`.
    static var protoMessageName: String { get }

    /// A message with every field at its default (zero, empty or absent).
    init()

    /// Decodes a message from its protobuf wire encoding.
    ///
    /// The bytes are only read during the call. For any other collection of
    /// bytes use ``init(serializedBytes:)-(some Collection<UInt8>)``.
    ///
    /// - Throws: ``CodecError`` when the bytes are not a valid encoding of this
    ///   message (truncated, wrong wire type, overlong varint, a length past the
    ///   end, a string that is not UTF-8). Nothing is leaked on any path.
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError)

    /// Encodes the message in the protobuf wire format.
    ///
    /// - Throws: ``CodecError`` when a string field holds U+0000, which the
    ///   protobuf-c runtime cannot carry; nothing is truncated silently.
    func serializedBytes() throws(CodecError) -> [UInt8]

    /// Encodes the message after `headroom` zero bytes, which the caller
    /// fills in place (a gRPC message header, say), so the encoding is not
    /// copied to make room for them.
    ///
    /// - Throws: as ``serializedBytes()``.
    func serializedBytes(headroom: Int) throws(CodecError) -> [UInt8]

    /// Fields read from the wire that this version of the message does not
    /// define, preserved verbatim.
    var unknownFields: UnknownFields { get set }
}

extension ProtoMessage {
    /// The encoding, copied after `headroom` zero bytes.
    public func serializedBytes(headroom: Int) throws(CodecError) -> [UInt8] {
        precondition(headroom >= 0, "negative headroom")
        let encoded = try serializedBytes()
        var bytes = [UInt8](repeating: 0, count: headroom)
        bytes.append(contentsOf: encoded)
        return bytes
    }

    /// Decodes a message from its protobuf wire encoding held in any collection
    /// of bytes (`[UInt8]`, `ArraySlice<UInt8>`, `Data`, …).
    ///
    /// - Throws: ``CodecError`` as ``init(serializedBytes:)-(UnsafeRawBufferPointer)``.
    @inlinable
    public init(serializedBytes bytes: some Collection<UInt8>) throws(CodecError) {
        // The closures of the standard library's buffer accessors throw untyped
        // errors, so the typed one travels out in a Result.
        let decoded = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(CodecError) in try Self(serializedBytes: UnsafeRawBufferPointer(buffer)) }
        } ?? Array(bytes).withUnsafeBytes { raw in
            Result { () throws(CodecError) in try Self(serializedBytes: raw) }
        }
        // Moved out of the Result: get() would copy the message (a reference
        // count per string and sub-message).
        switch consume decoded {
        case .success(let message): self = message
        case .failure(let error): throw error
        }
    }

    /// Builds a message by mutating a default one:
    /// `CreateTimerRequest.with { $0.accountID = 7; $0.description = "Design" }`.
    public static func with(_ configure: (inout Self) throws -> Void) rethrows -> Self {
        var message = Self()
        try configure(&message)
        return message
    }
}

/// A protobuf enum as a Swift value: the known cases plus `unrecognized`, so a
/// value added by a newer peer decodes instead of failing (proto3 open enums).
public protocol ProtoEnum: Sendable, Hashable, RawRepresentable where RawValue == Int32 {
    /// The value for any wire number; unknown numbers become `unrecognized`.
    init(rawValue: Int32)
}
