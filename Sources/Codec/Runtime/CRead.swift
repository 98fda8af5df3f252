import CProtobufC

/// Copies values out of structs protobuf-c unpacked, validating as protobuf
/// requires (strings must be UTF-8).
package enum CRead {
    /// A proto3 string: NULL and the empty string both read as "".
    package static func string(_ p: UnsafePointer<CChar>?, _ path: @autoclosure () -> String) throws(CodecError) -> String {
        guard let p else { return "" }
        guard let string = String(validatingCString: p) else {
            throw CodecError(code: .invalidUTF8, path: path(), reason: "string field is not valid UTF-8")
        }
        return string
    }

    /// A sub-message: NULL reads as absent.
    package static func message<M: CMessage>(_ p: UnsafePointer<M.CStruct>?) throws(CodecError) -> M? {
        guard let p else { return nil }
        return try M(reading: p)
    }

    /// A repeated message field.
    package static func messages<M: CMessage>(_ count: Int, _ array: UnsafePointer<UnsafeMutablePointer<M.CStruct>?>?) throws(CodecError) -> [M] {
        guard count > 0, let array else { return [] }
        var result: [M] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            // protobuf-c never leaves a hole in a repeated field it unpacked.
            guard let element = array[i] else { continue }
            result.append(try M(reading: element))
        }
        return result
    }

    /// A repeated scalar field.
    package static func scalars<T: BitwiseCopyable>(_ count: Int, _ array: UnsafePointer<T>?) -> [T] {
        guard count > 0, let array else { return [] }
        return Array(UnsafeBufferPointer(start: array, count: count))
    }

    /// A repeated enum field.
    package static func enums<E: ProtoEnum, C: RawRepresentable>(_ count: Int, _ array: UnsafePointer<C>?) -> [E] where C.RawValue == UInt32 {
        guard count > 0, let array else { return [] }
        return (0..<count).map { E(rawValue: Int32(bitPattern: array[$0].rawValue)) }
    }

    /// The fields protobuf-c did not recognise, copied.
    ///
    /// - Throws: `malformed` for field number 0, which protobuf-c lets through
    ///   when the tag is an overlong varint (`80 00`) but which no valid
    ///   encoding contains, and which would not decode again once re-encoded.
    package static func unknownFields(_ base: ProtobufCMessage, _ messageName: String) throws(CodecError) -> UnknownFields {
        guard base.n_unknown_fields > 0, let fields = base.unknown_fields else { return UnknownFields() }
        var unknown: [UnknownFields.Field] = []
        unknown.reserveCapacity(Int(base.n_unknown_fields))
        for i in 0..<Int(base.n_unknown_fields) {
            let field = fields[i]
            guard field.tag != 0 else {
                throw CodecError(code: .malformed, path: messageName, reason: "field number 0 (in an overlong tag)")
            }
            let payload = field.len > 0 && field.data != nil
                ? Array(UnsafeBufferPointer(start: field.data, count: field.len)) : []
            unknown.append(.init(number: field.tag, wireType: UInt8(truncatingIfNeeded: field.wire_type.rawValue),
                                 payload: payload))
        }
        var result = UnknownFields()
        result.fields = unknown
        return result
    }
}

/// Conversions between Swift enums and the C enums protobuf-c generates.
extension ProtoEnum {
    /// The Swift value of a C enum field (any number, known or not).
    @inline(__always)
    package init<C: RawRepresentable>(c: C) where C.RawValue == UInt32 {
        self.init(rawValue: Int32(bitPattern: c.rawValue))
    }

    /// The C enum value for this case.
    @inline(__always)
    package func c<C: RawRepresentable>() -> C where C.RawValue == UInt32 {
        // Imported C enums accept every raw value.
        C(rawValue: UInt32(bitPattern: rawValue))!
    }
}

extension CRead {
    /// A `bytes` value, copied; a NULL data pointer reads as no bytes.
    package static func binaryData(_ value: ProtobufCBinaryData) -> [UInt8] {
        guard value.len > 0, let data = value.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: value.len))
    }

    /// A repeated `bytes` field, each element copied.
    package static func binaryDataArray(_ count: Int, _ array: UnsafePointer<ProtobufCBinaryData>?) -> [[UInt8]] {
        guard count > 0, let array else { return [] }
        return (0..<count).map { binaryData(array[$0]) }
    }
}
