/// gRPC metadata: an ordered list of key-value pairs sent as HTTP/2 headers
/// (request and initial response metadata) or trailers.
///
/// Keys are lower-case ASCII. Keys ending in `-bin` carry binary values, sent
/// base64-encoded on the wire; all other values are printable ASCII strings.
/// A key may appear several times.
public struct Metadata: Sendable, Hashable, Sequence {
    /// One value: text, or bytes for `-bin` keys.
    public enum Value: Sendable, Hashable {
        /// A printable ASCII value.
        case string(String)
        /// A binary value (only for keys ending in `-bin`).
        case binary([UInt8])
    }

    /// One entry.
    public struct Entry: Sendable, Hashable {
        /// The lower-case key.
        public var key: String
        /// The value.
        public var value: Value
    }

    private var entries: [Entry] = []

    /// Empty metadata.
    public init() {}

    /// Metadata from string pairs, e.g. `["authorization": "Bearer …"]`.
    public init(_ pairs: KeyValuePairs<String, String>) {
        for (key, value) in pairs { add(key, value) }
    }

    /// Appends a text value; the key is lower-cased.
    public mutating func add(_ key: String, _ value: String) {
        entries.append(Entry(key: key.lowercased(), value: .string(value)))
    }

    /// Appends a binary value; the key is lower-cased and must end in `-bin`.
    public mutating func add(_ key: String, binary value: [UInt8]) {
        precondition(key.lowercased().hasSuffix("-bin"), "binary metadata keys end in -bin")
        entries.append(Entry(key: key.lowercased(), value: .binary(value)))
    }

    /// Appends an entry as it is.
    public mutating func add(_ entry: Entry) {
        entries.append(entry)
    }

    /// Removes every value of `key`.
    public mutating func removeAll(_ key: String) {
        let key = key.lowercased()
        entries.removeAll { $0.key == key }
    }

    /// The first text value of `key`, if any.
    public subscript(_ key: String) -> String? {
        let key = key.lowercased()
        for entry in entries where entry.key == key {
            if case .string(let value) = entry.value { return value }
        }
        return nil
    }

    /// The first binary value of `key`, if any.
    public subscript(binary key: String) -> [UInt8]? {
        let key = key.lowercased()
        for entry in entries where entry.key == key {
            if case .binary(let value) = entry.value { return value }
        }
        return nil
    }

    /// All values of `key`, in order.
    public func values(_ key: String) -> [Value] {
        let key = key.lowercased()
        return entries.filter { $0.key == key }.map(\.value)
    }

    /// The number of entries.
    public var count: Int { entries.count }

    /// Whether there are no entries.
    public var isEmpty: Bool { entries.isEmpty }

    /// Iterates over the entries in order.
    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }
}
