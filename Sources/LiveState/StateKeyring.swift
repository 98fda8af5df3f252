import Foundation
import VaultCrypto

/// The AES-256-GCM keys that seal what the server keeps in Redis (timer
/// states and events), with the id of each so a key can be rotated.
///
/// **Configuration** (`--state-key`, `TIMERD_STATE_KEY`): one or more keys
/// separated by commas, each 32 bytes written as 64 hex digits or as base64
/// (standard or URL alphabet, padding optional), optionally prefixed by an id
/// and a colon: `k2:BASE64,k1:BASE64`. The first key seals; every key opens.
/// A key without an id gets one from its SHA-256 (`sha` + the first 8 hex
/// digits), so the same key has the same id on every instance.
///
/// Rotation: deploy `new,old` to every instance (new values are sealed with
/// `new`, old ones still open), wait out the 24-hour state TTL and the event
/// log, then deploy `new` alone.
///
/// **Sealed form**: `0x01`, the id's length (1 byte), the id (ASCII), then
/// nonce ‖ ciphertext ‖ tag. The associated data is the Redis key the value
/// is stored under plus the id, so a value copied to another key, or its id
/// byte changed, does not open.
package struct StateKeyring: Sendable {
    /// One key and its id.
    package struct Key: Sendable {
        /// The id stored with every value it seals (1 to 32 characters of
        /// `A-Z a-z 0-9 _ -`).
        package let id: String
        fileprivate let cipher: VaultCrypto.AESGCM
    }

    /// The key that seals; listed first in the configuration.
    package let current: Key
    /// Every key, by id (the current one included).
    private let keys: [String: Key]

    private static let formatVersion: UInt8 = 1

    /// Parses a configuration value as described above.
    ///
    /// - Throws: `invalidArgument` naming what is wrong (empty, a key that is
    ///   not 32 bytes, a bad id, a repeated id); the message never contains
    ///   key material.
    package init(parsing text: String) throws(LiveStateError) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Self.invalid("the state key is empty; give 32 bytes as 64 hex digits or base64")
        }
        var ordered: [Key] = []
        var byID: [String: Key] = [:]
        for (index, part) in parts.enumerated() {
            let position = "state key \(index + 1)"
            guard !part.isEmpty else { throw Self.invalid("\(position) is empty") }
            var id: String?
            var material = Substring(part)
            if let colon = part.firstIndex(of: ":") {
                id = String(part[..<colon])
                material = part[part.index(after: colon)...]
            }
            guard let bytes = Self.decodeKey(String(material)) else {
                throw Self.invalid("\(position) is not 32 bytes written as 64 hex digits or base64")
            }
            let keyID = id ?? Self.derivedID(bytes)
            guard Self.isValidID(keyID) else {
                throw Self.invalid("\(position) has id \"\(keyID)\"; an id is 1 to 32 of A-Z a-z 0-9 _ -")
            }
            guard byID[keyID] == nil else {
                throw Self.invalid("\(position) repeats the id \"\(keyID)\"")
            }
            let cipher: VaultCrypto.AESGCM
            do {
                cipher = try VaultCrypto.AESGCM(key: bytes)
            } catch {
                throw Self.invalid("\(position) cannot be used: \(error.message)")
            }
            let key = Key(id: keyID, cipher: cipher)
            ordered.append(key)
            byID[keyID] = key
        }
        self.current = ordered[0]
        self.keys = byID
    }

    /// A new random key in the configuration's hex form.
    package static func generateKey() throws(LiveStateError) -> String {
        do {
            return try VaultCrypto.randomBytes(count: VaultCrypto.AESGCM.keyLength)
                .map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        } catch {
            throw LiveStateError(code: .invalidArgument, message: "no random key could be made: \(error.message)")
        }
    }

    /// The ids of every key, the current one first.
    package var ids: [String] {
        [current.id] + keys.keys.filter { $0 != current.id }.sorted()
    }

    /// Seals `plaintext` with the current key for storage under `redisKey`.
    package func seal(_ plaintext: [UInt8], for redisKey: String) throws(LiveStateError) -> [UInt8] {
        let id = Array(current.id.utf8)
        do {
            let box = try current.cipher.seal(plaintext, authenticating: Self.associatedData(redisKey, id))
            return [Self.formatVersion, UInt8(id.count)] + id + box
        } catch {
            throw LiveStateError(code: .cryptoFailed, message: "sealing a value failed: \(error.message)")
        }
    }

    /// Opens a value read from `redisKey`.
    ///
    /// - Throws: `cryptoFailed` when the value is not in the sealed form, was
    ///   sealed with a key id this keyring lacks (the message names the id),
    ///   or does not authenticate (another key with the same id, a value
    ///   altered or moved to another key).
    package func open(_ sealed: [UInt8], from redisKey: String) throws(LiveStateError) -> [UInt8] {
        guard sealed.count >= 2, sealed[0] == Self.formatVersion else {
            throw LiveStateError(code: .cryptoFailed, message: "the value under \(redisKey) is not a sealed value of format 1")
        }
        let idLength = Int(sealed[1])
        guard sealed.count >= 2 + idLength else {
            throw LiveStateError(code: .cryptoFailed, message: "the value under \(redisKey) is truncated")
        }
        let idBytes = Array(sealed[2..<(2 + idLength)])
        let id = String(decoding: idBytes, as: UTF8.self)
        guard let key = keys[id] else {
            throw LiveStateError(
                code: .cryptoFailed,
                message: "the value under \(redisKey) was sealed with state key \"\(id)\", which is not configured (have: \(ids.joined(separator: ", ")))")
        }
        do {
            return try key.cipher.open(Array(sealed[(2 + idLength)...]), authenticating: Self.associatedData(redisKey, idBytes))
        } catch {
            throw LiveStateError(
                code: .cryptoFailed,
                message: "the value under \(redisKey) does not open with state key \"\(id)\": a different key with that id, or an altered value")
        }
    }

    // MARK: - Parsing

    private static func associatedData(_ redisKey: String, _ id: [UInt8]) -> [UInt8] {
        Array(redisKey.utf8) + [0] + id
    }

    private static func invalid(_ message: String) -> LiveStateError {
        LiveStateError(code: .invalidArgument, message: message)
    }

    private static func isValidID(_ id: String) -> Bool {
        (1...32).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x2D
        }
    }

    private static func derivedID(_ key: [UInt8]) -> String {
        "sha" + VaultCrypto.sha256(key).prefix(4).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// 32 bytes from 64 hex digits or base64 (either alphabet, padding optional).
    private static func decodeKey(_ text: String) -> [UInt8]? {
        if text.utf8.count == 64, text.utf8.allSatisfy({ $0.isHexDigit }) {
            var bytes: [UInt8] = []
            var iterator = text.utf8.makeIterator()
            while let high = iterator.next(), let low = iterator.next() {
                bytes.append(high.hexValue << 4 | low.hexValue)
            }
            return bytes
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), data.count == VaultCrypto.AESGCM.keyLength else { return nil }
        return Array(data)
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }

    fileprivate var hexValue: UInt8 {
        switch self {
        case 0x30...0x39: self - 0x30
        case 0x41...0x46: self - 0x41 + 10
        default: self - 0x61 + 10
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
