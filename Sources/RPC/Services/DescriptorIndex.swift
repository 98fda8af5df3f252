/// The files of one or more `google.protobuf.FileDescriptorSet`s, indexed for
/// server reflection: by file name, and by every symbol they declare
/// (packages' messages, nested messages, enums, services, methods,
/// extensions).
///
/// Reads the descriptors' wire format directly, for the few fields it needs,
/// so reflection needs no descriptor.proto bindings.
struct DescriptorIndex: Sendable {
    struct File: Sendable {
        let name: String
        let bytes: [UInt8]
        let dependencies: [String]
    }

    private(set) var files: [String: File] = [:]
    private(set) var symbols: [String: String] = [:]
    /// Extension numbers by extended message, with the declaring file.
    private(set) var extensions: [String: [(number: Int32, file: String)]] = [:]
    private(set) var services: [String] = []

    /// Indexes the serialized FileDescriptorSets; a malformed set is skipped
    /// with its error returned.
    init(descriptorSets: [[UInt8]]) throws(RPCError) {
        for set in descriptorSets {
            var reader = WireReader(set)
            while let field = try reader.next() {
                if field.number == 1, case .bytes(let file) = field.value { try add(file: file) }
            }
        }
    }

    private mutating func add(file bytes: [UInt8]) throws(RPCError) {
        var name = "", package = ""
        var dependencies: [String] = []
        var messages: [[UInt8]] = [], enums: [[UInt8]] = [], services: [[UInt8]] = [], extensions: [[UInt8]] = []
        var reader = WireReader(bytes)
        while let field = try reader.next() {
            guard case .bytes(let value) = field.value else { continue }
            switch field.number {
            case 1: name = String(decoding: value, as: UTF8.self)
            case 2: package = String(decoding: value, as: UTF8.self)
            case 3: dependencies.append(String(decoding: value, as: UTF8.self))
            case 4: messages.append(value)
            case 5: enums.append(value)
            case 6: services.append(value)
            case 7: extensions.append(value)
            default: break
            }
        }
        guard files[name] == nil else { return }  // The same file from two sets.
        files[name] = File(name: name, bytes: bytes, dependencies: dependencies)
        let prefix = package.isEmpty ? "" : package + "."
        if !package.isEmpty { symbols[package] = symbols[package] ?? name }
        for message in messages { try addMessage(message, prefix: prefix, file: name) }
        for item in enums { symbols[prefix + (try Self.name(of: item))] = name }
        for service in services {
            let serviceName = prefix + (try Self.name(of: service))
            symbols[serviceName] = name
            self.services.append(serviceName)
            var reader = WireReader(service)
            while let field = try reader.next() {
                if field.number == 2, case .bytes(let method) = field.value {
                    symbols[serviceName + "." + (try Self.name(of: method))] = name
                }
            }
        }
        for item in extensions { try addExtension(item, file: name) }
    }

    private mutating func addMessage(_ bytes: [UInt8], prefix: String, file: String) throws(RPCError) {
        let full = prefix + (try Self.name(of: bytes))
        symbols[full] = file
        var reader = WireReader(bytes)
        while let field = try reader.next() {
            guard case .bytes(let value) = field.value else { continue }
            switch field.number {
            case 3: try addMessage(value, prefix: full + ".", file: file)
            case 4: symbols[full + "." + (try Self.name(of: value))] = file
            case 6: try addExtension(value, file: file)
            default: break
            }
        }
    }

    private mutating func addExtension(_ bytes: [UInt8], file: String) throws(RPCError) {
        var extendee = "", number: Int32 = 0
        var reader = WireReader(bytes)
        while let field = try reader.next() {
            switch (field.number, field.value) {
            case (2, .bytes(let value)): extendee = String(decoding: value, as: UTF8.self)
            case (3, .varint(let value)): number = Int32(truncatingIfNeeded: value)
            default: break
            }
        }
        if extendee.hasPrefix(".") { extendee.removeFirst() }
        extensions[extendee, default: []].append((number, file))
    }

    private static func name(of bytes: [UInt8]) throws(RPCError) -> String {
        var reader = WireReader(bytes)
        while let field = try reader.next() {
            if field.number == 1, case .bytes(let value) = field.value { return String(decoding: value, as: UTF8.self) }
        }
        return ""
    }

    /// `file` and every file it imports, transitively, `file` first.
    func withDependencies(_ file: String) -> [[UInt8]] {
        var seen: Set<String> = []
        var order: [[UInt8]] = []
        var pending = [file]
        while let next = pending.popLast() {
            guard !seen.contains(next), let entry = files[next] else { continue }
            seen.insert(next)
            order.append(entry.bytes)
            pending.append(contentsOf: entry.dependencies.reversed())
        }
        return order
    }
}

/// Just enough of the protobuf wire format to walk descriptors.
struct WireReader {
    enum Value { case varint(UInt64), bytes([UInt8]), fixed }
    struct Field { let number: UInt64; let value: Value }

    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() throws(RPCError) -> Field? {
        guard offset < bytes.count else { return nil }
        let tag = try varint()
        switch tag & 7 {
        case 0: return Field(number: tag >> 3, value: .varint(try varint()))
        case 1: try skip(8); return Field(number: tag >> 3, value: .fixed)
        case 5: try skip(4); return Field(number: tag >> 3, value: .fixed)
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count - offset) else { throw Self.malformed }
            let start = offset
            offset += Int(length)
            return Field(number: tag >> 3, value: .bytes(Array(bytes[start..<offset])))
        default:
            throw Self.malformed
        }
    }

    private mutating func varint() throws(RPCError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw Self.malformed
    }

    private mutating func skip(_ count: Int) throws(RPCError) {
        guard bytes.count - offset >= count else { throw Self.malformed }
        offset += count
    }

    static let malformed = RPCError(code: .internalError, message: "an embedded descriptor set is malformed")
}
