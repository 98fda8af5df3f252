import CProtobufC
import TimerProtoC

/// `google.protobuf.Timestamp`: a point in time as seconds and nanoseconds
/// since the Unix epoch (UTC), independent of any time zone or calendar.
public struct Timestamp: ProtoMessage, Comparable {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "google.protobuf.Timestamp"

    /// Seconds since 1970-01-01T00:00:00Z. Valid timestamps lie between
    /// 0001-01-01 and 9999-12-31 (``isValid``).
    public var seconds: Int64 = 0
    /// Non-negative fraction of a second, 0 to 999,999,999 nanoseconds.
    public var nanos: Int32 = 0
    /// Fields not known to this version.
    public var unknownFields = UnknownFields()

    /// The epoch.
    public init() {}

    /// A timestamp from its two fields.
    public init(seconds: Int64, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }

    /// Whether the value is in the range the protobuf definition allows
    /// (years 1 to 9999, nanos in 0..<1e9).
    public var isValid: Bool {
        seconds >= -62_135_596_800 && seconds <= 253_402_300_799 && nanos >= 0 && nanos < 1_000_000_000
    }

    /// Orders by seconds, then nanos.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanos) < (rhs.seconds, rhs.nanos)
    }

    /// Decodes from the protobuf wire format.
    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
        self = try Self.unpack(bytes)
    }

    /// Encodes in the protobuf wire format.
    public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
}

extension Timestamp: CMessage {
    package typealias CStruct = Google__Protobuf__Timestamp

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { google__protobuf__timestamp__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.seconds = seconds
        c.pointee.nanos = nanos
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        seconds = c.pointee.seconds
        nanos = c.pointee.nanos
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

/// `google.protobuf.Duration`: a signed span of time as seconds and nanoseconds.
///
/// Converts exactly to and from Swift's `Duration` (``duration``, ``init(_:)``).
public struct ProtoDuration: ProtoMessage, Comparable {
    /// The fully qualified protobuf name.
    public static let protoMessageName = "google.protobuf.Duration"

    /// Whole seconds, -315,576,000,000 to +315,576,000,000 (about 10,000 years).
    public var seconds: Int64 = 0
    /// Fraction of a second with the same sign as `seconds` (or zero),
    /// -999,999,999 to +999,999,999 nanoseconds.
    public var nanos: Int32 = 0
    /// Fields not known to this version.
    public var unknownFields = UnknownFields()

    /// Zero.
    public init() {}

    /// A duration from its two fields.
    public init(seconds: Int64, nanos: Int32 = 0) {
        self.seconds = seconds
        self.nanos = nanos
    }

    /// The same span from a Swift `Duration`, truncated to whole nanoseconds.
    public init(_ duration: Swift.Duration) {
        let (seconds, attoseconds) = duration.components
        var s = seconds
        var n = attoseconds / 1_000_000_000
        // Swift keeps attoseconds non-negative; protobuf wants the sign of seconds.
        if s < 0 && n > 0 {
            s += 1
            n -= 1_000_000_000
        }
        self.init(seconds: s, nanos: Int32(n))
    }

    /// The span as a Swift `Duration`.
    public var duration: Swift.Duration {
        .seconds(seconds) + .nanoseconds(Int64(nanos))
    }

    /// Orders by total length.
    public static func < (lhs: ProtoDuration, rhs: ProtoDuration) -> Bool {
        lhs.duration < rhs.duration
    }

    /// Decodes from the protobuf wire format.
    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws(CodecError) {
        self = try Self.unpack(bytes)
    }

    /// Encodes in the protobuf wire format.
    public func serializedBytes() throws(CodecError) -> [UInt8] { try Self.pack(self) }
}

extension ProtoDuration: CMessage {
    package typealias CStruct = Google__Protobuf__Duration

    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { google__protobuf__duration__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.seconds = seconds
        c.pointee.nanos = nanos
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        seconds = c.pointee.seconds
        nanos = c.pointee.nanos
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
