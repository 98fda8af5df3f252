import CProtobufC
import TimerProtoC

/// Explains why protobuf-c refused some bytes.
///
/// protobuf-c only reports that unpacking failed. When it does, this walks the
/// input once more against the message descriptor and names the first problem
/// with its byte offset, so a client learns what it sent wrong. It runs only on
/// the failure path and costs nothing on success.
enum WireDiagnosis {
    static func explain(_ bytes: UnsafeRawBufferPointer, descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> String {
        var scanner = Scanner(bytes: bytes)
        return scanner.scan(descriptor: descriptor, end: bytes.count, depth: 0)
            ?? "the input is not a valid encoding of this message"
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func varint(end: Int) -> Result<UInt64, Failure> {
            let start = offset
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < end else { return .failure(.init("truncated varint at byte \(start)")) }
                let byte = bytes[offset]
                offset += 1
                if shift == 63, byte > 1 {
                    return .failure(.init("varint at byte \(start) is longer than 64 bits"))
                }
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return .success(value) }
                shift += 7
                if shift > 63 { return .failure(.init("varint at byte \(start) is longer than 10 bytes")) }
            }
        }

        struct Failure: Error {
            var text: String
            init(_ text: String) { self.text = text }
        }

        mutating func scan(descriptor: UnsafePointer<ProtobufCMessageDescriptor>?, end: Int, depth: Int) -> String? {
            while offset < end {
                let tagOffset = offset
                let tag: UInt64
                switch varint(end: end) {
                case .success(let value): tag = value
                case .failure(let failure): return failure.text
                }
                let number = tag >> 3
                let wireType = Int(tag & 7)
                if number == 0 { return "field number 0 at byte \(tagOffset)" }
                if number > 536_870_911 { return "field number \(number) at byte \(tagOffset) is out of range" }
                let field = descriptor.flatMap { protobuf_c_message_descriptor_get_field($0, UInt32(number)) }
                let name = field.flatMap { $0.pointee.name.map { String(cString: $0) } } ?? "#\(number)"
                if wireType == 3 || wireType == 4 {
                    return "field \(name) at byte \(tagOffset) uses the group wire type \(wireType), which is not supported"
                }
                if wireType > 5 {
                    return "field \(name) at byte \(tagOffset) has invalid wire type \(wireType)"
                }
                if let field, let expected = Self.wireTypes(field.pointee), !expected.contains(wireType) {
                    return "field \(name) (number \(number)) at byte \(tagOffset) has wire type \(wireType), expected \(expected.map(String.init).joined(separator: " or "))"
                }
                switch wireType {
                case 0:
                    if case .failure(let failure) = varint(end: end) { return "field \(name): \(failure.text)" }
                case 1, 5:
                    let width = wireType == 1 ? 8 : 4
                    guard end - offset >= width else {
                        return "field \(name) at byte \(tagOffset) needs \(width) bytes, \(end - offset) left"
                    }
                    offset += width
                case 2:
                    let lengthOffset = offset
                    let length: UInt64
                    switch varint(end: end) {
                    case .success(let value): length = value
                    case .failure(let failure): return "field \(name): \(failure.text)"
                    }
                    guard length <= UInt64(end - offset) else {
                        return "field \(name): length \(length) at byte \(lengthOffset) runs past the end (\(end - offset) bytes left)"
                    }
                    let fieldEnd = offset + Int(length)
                    if let field, field.pointee.type == PROTOBUF_C_TYPE_MESSAGE, depth < 64 {
                        let sub = field.pointee.descriptor?.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                        if let problem = scan(descriptor: sub, end: fieldEnd, depth: depth + 1) {
                            return "in field \(name): \(problem)"
                        }
                    }
                    offset = fieldEnd
                default:
                    preconditionFailure("wire types 3, 4, 6 and 7 are refused above")
                }
            }
            return nil
        }

        /// The wire types a field may arrive with (packed repeated scalars also as 2).
        static func wireTypes(_ field: ProtobufCFieldDescriptor) -> [Int]? {
            let scalar: Int
            switch field.type {
            case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_UINT32,
                 PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_UINT64,
                 PROTOBUF_C_TYPE_BOOL, PROTOBUF_C_TYPE_ENUM:
                scalar = 0
            case PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_SFIXED64, PROTOBUF_C_TYPE_DOUBLE:
                scalar = 1
            case PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_SFIXED32, PROTOBUF_C_TYPE_FLOAT:
                scalar = 5
            case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_BYTES, PROTOBUF_C_TYPE_MESSAGE:
                return [2]
            default:
                return nil
            }
            return field.label == PROTOBUF_C_LABEL_REPEATED ? [scalar, 2] : [scalar]
        }
    }
}
