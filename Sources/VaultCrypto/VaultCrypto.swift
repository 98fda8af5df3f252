import COpenSSL

/// The cryptography the service needs beyond TLS, through OpenSSL's EVP
/// interface: SHA-256 (API tokens are stored as hashes), random bytes (tokens,
/// nonces), constant-time comparison, and AES-256-GCM (live state at rest in
/// Redis).
public enum VaultCrypto {}

/// Why a cryptographic operation failed.
public struct CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed, with OpenSSL's reason when it gave one.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// `what`, followed by the first error on OpenSSL's queue (which is cleared).
    static func openSSL(_ what: String) -> CryptoError {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return CryptoError(what) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return CryptoError("\(what): \(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
    }
}

extension VaultCrypto {
    /// The SHA-256 digest of `bytes` (32 bytes).
    public static func sha256<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        digest(bytes, EVP_sha256(), length: 32, name: "SHA-256")
    }

    /// The SHA-1 digest of `bytes` (20 bytes). Not for security: Redis names
    /// its cached scripts by their SHA-1 (`EVALSHA`).
    public static func sha1<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        digest(bytes, EVP_sha1(), length: 20, name: "SHA-1")
    }

    private static func digest<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, _ type: OpaquePointer?, length expected: Int, name: String
    ) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: expected)
        var length: UInt32 = 0
        let ok = bytes.withContiguousStorageIfAvailable { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &digest, &length, type, nil)
        } ?? Array(bytes).withUnsafeBufferPointer { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &digest, &length, type, nil)
        }
        // EVP_Digest fails only when memory runs out.
        precondition(ok == 1 && Int(length) == expected, "\(name) failed")
        return digest
    }

    /// `count` bytes from OpenSSL's cryptographically secure generator.
    public static func randomBytes(count: Int) throws(CryptoError) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max))
        var bytes = [UInt8](repeating: 0, count: count)
        guard count == 0 || RAND_bytes(&bytes, Int32(count)) == 1 else {
            throw CryptoError.openSSL("the random generator failed")
        }
        return bytes
    }

    /// Whether `a` and `b` are equal, in time that depends only on their
    /// lengths, not on where they differ (for secrets such as tokens).
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}
