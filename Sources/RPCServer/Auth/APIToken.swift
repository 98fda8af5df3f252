import RPC
import VaultCrypto

/// An API token: `svt_` followed by 43 base64url characters (32 random bytes).
///
/// Only its SHA-256 hash is stored; the token itself is shown once, when it
/// is made. Looking a token up by its hash needs no constant-time comparison
/// (the hash of a guess tells nothing about the real token), and a stored
/// hash cannot be used as a token.
public struct APIToken: Sendable, Hashable {
    /// The prefix every token starts with, so a leaked one is easy to spot.
    public static let prefix = "svt_"
    /// Random bytes in a token.
    static let randomByteCount = 32
    /// Characters after the prefix (32 bytes in unpadded base64url).
    static let encodedLength = 43

    /// The token as the client sends it.
    public let text: String

    /// A new random token.
    public static func generate() throws(AuthError) -> APIToken {
        let bytes: [UInt8]
        do {
            bytes = try VaultCrypto.randomBytes(count: randomByteCount)
        } catch {
            throw AuthError("cannot make a token: \(error.message)")
        }
        return APIToken(unchecked: prefix + Base64URL.encode(bytes))
    }

    private init(unchecked text: String) { self.text = text }

    /// A token as received, checked for its shape only.
    ///
    /// - Throws: ``AuthError`` saying what is wrong with it (never repeating it).
    public init(parsing text: String) throws(AuthError) {
        guard text.hasPrefix(Self.prefix) else { throw AuthError("the token does not start with '\(Self.prefix)'") }
        let body = text.utf8.dropFirst(Self.prefix.utf8.count)
        guard body.count == Self.encodedLength, body.allSatisfy(Base64URL.isAlphabet) else {
            throw AuthError("the token is not \(Self.prefix) followed by \(Self.encodedLength) base64url characters")
        }
        self.text = text
    }

    /// The SHA-256 of the token's text: what the database stores and looks up.
    public var hash: [UInt8] { VaultCrypto.sha256(Array(text.utf8)) }

    /// The token from request metadata's `authorization: Bearer <token>`.
    ///
    /// - Throws: ``RPCError`` UNAUTHENTICATED saying what is missing or wrong.
    public static func bearer(in metadata: Metadata) throws(RPCError) -> APIToken {
        guard let header = metadata["authorization"] else {
            throw RPCError(code: .unauthenticated, message: "missing 'authorization: Bearer <token>' metadata")
        }
        // `Bearer`, in any case, then spaces, the token, and maybe spaces: read
        // as bytes, since every call passes here.
        let bytes = header.utf8
        var start = bytes.startIndex
        while start != bytes.endIndex, bytes[start] == UInt8(ascii: " ") { start = bytes.index(after: start) }
        let scheme = Array("bearer".utf8)
        var cursor = start
        for expected in scheme {
            guard cursor != bytes.endIndex, bytes[cursor] | 0x20 == expected else {
                throw RPCError(code: .unauthenticated, message: "the authorization metadata is not 'Bearer <token>'")
            }
            cursor = bytes.index(after: cursor)
        }
        var tokenStart = cursor
        while tokenStart != bytes.endIndex, bytes[tokenStart] == UInt8(ascii: " ") { tokenStart = bytes.index(after: tokenStart) }
        var tokenEnd = bytes.endIndex
        while tokenEnd != tokenStart, bytes[bytes.index(before: tokenEnd)] == UInt8(ascii: " ") { tokenEnd = bytes.index(before: tokenEnd) }
        guard tokenStart != cursor, tokenStart != tokenEnd else {
            throw RPCError(code: .unauthenticated, message: "the authorization metadata is not 'Bearer <token>'")
        }
        do {
            return try APIToken(parsing: String(Substring(header.utf8[tokenStart..<tokenEnd])))
        } catch {
            throw RPCError(code: .unauthenticated, message: "invalid token: \(error.message)")
        }
    }
}

extension APIToken: CustomStringConvertible {
    /// Never the token itself: logs and error messages must not carry it.
    public var description: String { "\(Self.prefix)…(redacted)" }
}

/// Unpadded base64url (RFC 4648 section 5).
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func isAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
