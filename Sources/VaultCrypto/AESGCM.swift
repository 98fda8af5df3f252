import COpenSSL

extension VaultCrypto {
    /// AES-256-GCM authenticated encryption with a 256-bit key, a random
    /// 96-bit nonce per message and a 128-bit tag.
    ///
    /// A sealed box is `nonce (12) ‖ ciphertext ‖ tag (16)`. The associated
    /// data is authenticated but not encrypted: bind a ciphertext to where it
    /// belongs (e.g. its Redis key), so it cannot be moved elsewhere.
    public struct AESGCM: Sendable {
        /// Key length in bytes.
        public static let keyLength = 32
        /// Nonce length in bytes.
        public static let nonceLength = 12
        /// Tag length in bytes.
        public static let tagLength = 16

        private let key: [UInt8]

        /// A cipher with `key`, which must be 32 bytes.
        public init(key: [UInt8]) throws(CryptoError) {
            guard key.count == Self.keyLength else {
                throw CryptoError("an AES-256-GCM key is \(Self.keyLength) bytes, got \(key.count)")
            }
            self.key = key
        }

        /// Encrypts `plaintext` under a fresh random nonce.
        public func seal(_ plaintext: [UInt8], authenticating associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
            try seal(plaintext, nonce: try VaultCrypto.randomBytes(count: Self.nonceLength), authenticating: associatedData)
        }

        /// Encrypts with the given nonce. Never reuse a nonce with the same
        /// key: ``seal(_:authenticating:)`` picks a random one (this form is
        /// for known-answer tests).
        public func seal(_ plaintext: [UInt8], nonce: [UInt8], authenticating associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
            guard nonce.count == Self.nonceLength else {
                throw CryptoError("an AES-256-GCM nonce is \(Self.nonceLength) bytes, got \(nonce.count)")
            }
            let context = try Self.context()
            defer { EVP_CIPHER_CTX_free(context) }
            guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else {
                throw CryptoError.openSSL("AES-256-GCM encryption could not start")
            }
            var length: Int32 = 0
            if !associatedData.isEmpty {
                guard EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                    throw CryptoError.openSSL("AES-256-GCM could not take the associated data")
                }
            }
            var box = nonce + [UInt8](repeating: 0, count: plaintext.count + Self.tagLength)
            var written = 0
            try box.withUnsafeMutableBufferPointer { (out) throws(CryptoError) in
                let body = out.baseAddress! + Self.nonceLength
                if !plaintext.isEmpty {
                    guard EVP_EncryptUpdate(context, body, &length, plaintext, Int32(plaintext.count)) == 1 else {
                        throw CryptoError.openSSL("AES-256-GCM encryption failed")
                    }
                    written = Int(length)
                }
                guard EVP_EncryptFinal_ex(context, body + written, &length) == 1 else {
                    throw CryptoError.openSSL("AES-256-GCM encryption failed")
                }
                written += Int(length)
                guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), body + written) == 1 else {
                    throw CryptoError.openSSL("AES-256-GCM gave no tag")
                }
            }
            return box
        }

        /// Decrypts and authenticates a sealed box.
        ///
        /// - Throws: ``CryptoError`` when the box is too short, or was not
        ///   sealed with this key and associated data, or was altered.
        public func open(_ box: [UInt8], authenticating associatedData: [UInt8] = []) throws(CryptoError) -> [UInt8] {
            guard box.count >= Self.nonceLength + Self.tagLength else {
                throw CryptoError("a sealed box is at least \(Self.nonceLength + Self.tagLength) bytes, got \(box.count)")
            }
            let context = try Self.context()
            defer { EVP_CIPHER_CTX_free(context) }
            let bodyLength = box.count - Self.nonceLength - Self.tagLength
            var plaintext = [UInt8](repeating: 0, count: bodyLength)
            var length: Int32 = 0
            try box.withUnsafeBufferPointer { (input) throws(CryptoError) in
                let nonce = input.baseAddress!
                let body = nonce + Self.nonceLength
                guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else {
                    throw CryptoError.openSSL("AES-256-GCM decryption could not start")
                }
                if !associatedData.isEmpty {
                    guard EVP_DecryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                        throw CryptoError.openSSL("AES-256-GCM could not take the associated data")
                    }
                }
                var written = 0
                try plaintext.withUnsafeMutableBufferPointer { (out) throws(CryptoError) in
                    if bodyLength > 0 {
                        guard EVP_DecryptUpdate(context, out.baseAddress, &length, body, Int32(bodyLength)) == 1 else {
                            throw CryptoError.openSSL("AES-256-GCM decryption failed")
                        }
                        written = Int(length)
                    }
                    // The tag is only read; OpenSSL's signature wants a mutable pointer.
                    let tag = UnsafeMutableRawPointer(mutating: body + bodyLength)
                    guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), tag) == 1 else {
                        throw CryptoError.openSSL("AES-256-GCM could not take the tag")
                    }
                    // GCM writes nothing here; the pointer only has to be valid.
                    var scratch: UInt8 = 0
                    let final = withUnsafeMutablePointer(to: &scratch) { scratch in
                        EVP_DecryptFinal_ex(context, bodyLength > 0 ? out.baseAddress! + written : scratch, &length)
                    }
                    ERR_clear_error()
                    guard final == 1 else {
                        throw CryptoError("the sealed box does not authenticate: wrong key, wrong associated data, or altered")
                    }
                }
            }
            return plaintext
        }

        private static func context() throws(CryptoError) -> OpaquePointer {
            guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError.openSSL("EVP_CIPHER_CTX_new failed") }
            return context
        }
    }
}
