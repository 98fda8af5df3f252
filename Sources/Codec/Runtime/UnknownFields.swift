/// Fields of a decoded message that its definition here does not know, kept so
/// that a message passed through this code loses nothing (proto3 semantics).
public struct UnknownFields: Sendable, Hashable {
    /// One unknown field as it was on the wire.
    public struct Field: Sendable, Hashable {
        /// The field number.
        public var number: UInt32
        /// The wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
        public var wireType: UInt8
        /// The field's bytes after its tag, exactly as on the wire (for
        /// length-delimited fields this includes the length prefix).
        public var payload: [UInt8]

        /// Creates a field.
        public init(number: UInt32, wireType: UInt8, payload: [UInt8]) {
            self.number = number
            self.wireType = wireType
            self.payload = payload
        }
    }

    /// nil when there are none, the usual case: an empty value then costs no
    /// reference counting when a message is copied or destroyed.
    private var storage: [Field]?

    /// The fields in wire order.
    public var fields: [Field] {
        get { storage ?? [] }
        set { storage = newValue.isEmpty ? nil : newValue }
    }

    /// No unknown fields.
    public init() {}

    /// Whether there are none.
    public var isEmpty: Bool { storage == nil }
}
