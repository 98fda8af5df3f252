import CProtobufC
import TimerProtoC

/// Random, valid wire encodings of any message, driven by its protobuf-c
/// descriptor: every field kind, extreme integers, unknown enum numbers,
/// empty / long / non-ASCII strings, large repeated fields, absent optionals
/// and unknown fields.
struct RandomMessages {
    var rng: SplitMix64

    static let texts: [String] = [
        "", "a", "Design review", "Ünïcödé façade", "東京での会議", "🧭⏱️💶 tracking",
        "e\u{301} combining", "tab\tnew\nline", "'; DROP TABLE timers; --", "\u{7F}\u{80}\u{FFFD}",
        "𝄞 outside the BMP",
    ]

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func string() -> String {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            // Long: tens of kilobytes of mixed text.
            let piece = Self.texts.randomElement(using: &rng)! + " "
            return String(repeating: piece, count: Int.random(in: 1_000...4_000, using: &rng))
        case 1:
            let scalars = (0..<Int.random(in: 1...40, using: &rng)).map { _ -> Character in
                var value: UInt32
                repeat { value = UInt32.random(in: 1...0x10FFFF, using: &rng) } while (0xD800...0xDFFF).contains(value)
                return Character(Unicode.Scalar(value)!)
            }
            return String(scalars)
        default:
            return Self.texts.randomElement(using: &rng)!
        }
    }

    mutating func int64() -> Int64 {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return [Int64.min, Int64.max, 0, -1, 1].randomElement(using: &rng)!
        case 1: return Int64.random(in: Int64.min...Int64.max, using: &rng)
        case 2: return Int64.random(in: -300...300, using: &rng)
        default: return Int64.random(in: 0...1_000_000_000, using: &rng)
        }
    }

    mutating func int32() -> Int32 {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return [Int32.min, Int32.max, 0, -1].randomElement(using: &rng)!
        case 1: return Int32.random(in: Int32.min...Int32.max, using: &rng)
        default: return Int32.random(in: -100...100_000, using: &rng)
        }
    }

    mutating func enumNumber(_ descriptor: UnsafePointer<ProtobufCEnumDescriptor>?) -> Int32 {
        if chance(0.15) || descriptor == nil {
            // A number this version does not know: must survive decoding.
            return [Int32(99), -7, Int32.max, 1_000].randomElement(using: &rng)!
        }
        let values = descriptor!.pointee.values!
        let count = Int(descriptor!.pointee.n_values)
        return values[Int.random(in: 0..<count, using: &rng)].value
    }

    /// One scalar value of a field, written without its tag.
    mutating func scalar(_ field: ProtobufCFieldDescriptor, into w: inout WireWriter) {
        switch field.type {
        case PROTOBUF_C_TYPE_INT32: w.varint(UInt64(bitPattern: Int64(int32())))
        case PROTOBUF_C_TYPE_INT64: w.varint(UInt64(bitPattern: int64()))
        case PROTOBUF_C_TYPE_UINT32: w.varint(UInt64(UInt32(truncatingIfNeeded: int64())))
        case PROTOBUF_C_TYPE_UINT64: w.varint(UInt64(bitPattern: int64()))
        case PROTOBUF_C_TYPE_SINT32:
            let v = int32()
            w.varint(UInt64(UInt32(bitPattern: (v << 1) ^ (v >> 31))))
        case PROTOBUF_C_TYPE_SINT64:
            let v = int64()
            w.varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
        case PROTOBUF_C_TYPE_BOOL: w.varint(Bool.random(using: &rng) ? 1 : 0)
        case PROTOBUF_C_TYPE_ENUM:
            let e = field.descriptor?.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            w.varint(UInt64(bitPattern: Int64(enumNumber(e))))
        case PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_SFIXED32, PROTOBUF_C_TYPE_FLOAT:
            w.fixed32(UInt32(truncatingIfNeeded: int64()))
        case PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_SFIXED64, PROTOBUF_C_TYPE_DOUBLE:
            w.fixed64(UInt64(bitPattern: int64()))
        default:
            preconditionFailure("not a scalar")
        }
    }

    static func wireType(_ field: ProtobufCFieldDescriptor) -> UInt8 {
        switch field.type {
        case PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_SFIXED32, PROTOBUF_C_TYPE_FLOAT: 5
        case PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_SFIXED64, PROTOBUF_C_TYPE_DOUBLE: 1
        case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_BYTES, PROTOBUF_C_TYPE_MESSAGE: 2
        default: 0
        }
    }

    /// One occurrence of a field, tag included.
    mutating func occurrence(_ field: ProtobufCFieldDescriptor, depth: Int, into w: inout WireWriter) {
        switch field.type {
        case PROTOBUF_C_TYPE_STRING:
            w.tag(field.id, 2)
            w.lengthDelimited(Array(string().utf8))
        case PROTOBUF_C_TYPE_BYTES:
            w.tag(field.id, 2)
            w.lengthDelimited((0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        case PROTOBUF_C_TYPE_MESSAGE:
            w.tag(field.id, 2)
            let sub = field.descriptor!.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
            w.lengthDelimited(message(sub, depth: depth + 1))
        default:
            w.tag(field.id, Self.wireType(field))
            scalar(field, into: &w)
        }
    }

    /// A random valid encoding of the message `descriptor` describes.
    mutating func message(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, depth: Int = 0) -> [UInt8] {
        var w = WireWriter()
        let fields = UnsafeBufferPointer(start: descriptor.pointee.fields, count: Int(descriptor.pointee.n_fields))
        var order = Array(fields.indices)
        if chance(0.2) { order.shuffle(using: &rng) }  // Any field order is valid.
        for index in order {
            let field = fields[index]
            if field.label == PROTOBUF_C_LABEL_REPEATED {
                let nested = field.type == PROTOBUF_C_TYPE_MESSAGE
                let count: Int
                if depth == 0 && chance(0.05) {
                    count = nested ? Int.random(in: 100...300, using: &rng) : Int.random(in: 500...2_000, using: &rng)
                } else {
                    count = depth > 2 ? 0 : Int.random(in: 0...4, using: &rng)
                }
                if count > 0, Self.wireType(field) != 2, chance(0.5) {
                    // Packed encoding, as proto3 writers use for repeated scalars.
                    var payload = WireWriter()
                    for _ in 0..<count { scalar(field, into: &payload) }
                    w.tag(field.id, 2)
                    w.lengthDelimited(payload.bytes)
                } else {
                    for _ in 0..<count { occurrence(field, depth: depth, into: &w) }
                }
            } else {
                // Absent (optional unset, message NULL, proto3 default) or present.
                if field.type == PROTOBUF_C_TYPE_MESSAGE && depth > 3 { continue }
                if chance(0.7) { occurrence(field, depth: depth, into: &w) }
            }
        }
        if chance(0.15) {
            // Fields of a newer version of the message.
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let number = UInt32.random(in: 1_000...5_000, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: w.tag(number, 0); w.varint(UInt64(bitPattern: int64()))
                case 1: w.tag(number, 1); w.fixed64(UInt64(bitPattern: int64()))
                case 2: w.tag(number, 2); w.lengthDelimited(Array(string().utf8))
                default: w.tag(number, 5); w.fixed32(UInt32(truncatingIfNeeded: int64()))
                }
            }
        }
        return w.bytes
    }
}
