/// The one error type of the codec: what could not be encoded or decoded, and
/// why, in words that name the message and the field.
public struct CodecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Hashable {
        /// The bytes are not a valid protobuf encoding of the message
        /// (truncated, wrong wire type, overlong varint, length past the end…).
        case malformed
        /// A string field holds bytes that are not valid UTF-8.
        case invalidUTF8
        /// A string field holds U+0000, which the protobuf-c runtime cannot carry.
        case unrepresentableString
        /// The input is larger than a protobuf message can be (2 GiB).
        case tooLarge
    }

    /// The kind of failure.
    public var code: Code
    /// The fully qualified message name, with the field where one is known
    /// (`servicevault.timer.v1.Timer.description`).
    public var path: String
    /// What exactly is wrong.
    public var reason: String

    /// Creates an error.
    public init(code: Code, path: String, reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    /// One line for people: `<path>: <reason>`.
    public var description: String { "\(path): \(reason)" }
}
