/// Redis Cluster's key space: 16,384 hash slots, a key's slot being the
/// CRC16 (XMODEM) of the key, or of its hash tag, modulo 16,384.
///
/// A hash tag is the part of the key between the first `{` and the first
/// `}` after it, when that part is not empty: `user:{42}:events` and
/// `user:{42}:timer:{7}:state` both hash `42`, so every key of user 42 is in
/// one slot and a script may touch them together (`LiveKeys`).
package enum RedisClusterSlot {
    /// The number of slots.
    package static let count = 16_384

    /// The slot of `key`.
    package static func of<Key: Collection<UInt8>>(_ key: Key) -> Int {
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            let afterOpen = key.index(after: open)
            if let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen {
                return Int(crc16(key[afterOpen..<close]) & 0x3FFF)
            }
        }
        return Int(crc16(key) & 0x3FFF)
    }

    /// The slot of `key`, given as text.
    package static func of(_ key: String) -> Int {
        of(key.utf8)
    }

    /// The key that decides where `command` runs, or nil for a command that
    /// may run on any node (`PING`, `PUBLISH`, a script given no keys).
    ///
    /// The first key of a command is its first argument, except for scripts
    /// and functions (`EVAL script numkeys key…`), whose first key follows
    /// the key count. Multi-key commands must keep their keys in one slot,
    /// as Redis Cluster requires; `LiveKeys` does.
    package static func routingKey(of command: [[UInt8]]) -> [UInt8]? {
        guard let name = command.first else { return nil }
        switch uppercased(name) {
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard command.count > 3, let keys = Int(String(decoding: command[2], as: UTF8.self)), keys > 0 else { return nil }
            return command[3]
        case "PING", "ECHO", "PUBLISH", "TIME", "INFO", "CLUSTER", "SCRIPT", "FUNCTION", "CONFIG", "CLIENT",
             "COMMAND", "DBSIZE", "FLUSHALL", "FLUSHDB", "AUTH", "HELLO", "SELECT", "ASKING", "READONLY", "READWRITE":
            return nil
        default:
            return command.count > 1 ? command[1] : nil
        }
    }

    private static func uppercased(_ name: [UInt8]) -> String {
        String(decoding: name.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }

    /// CRC16-CCITT as Redis Cluster computes it (XMODEM: polynomial 0x1021,
    /// initial value 0, no reflection).
    static func crc16<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte)) & 0xFF]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
