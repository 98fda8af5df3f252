import Testing
import VaultCrypto

func hex(_ string: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = string.startIndex
    while index < string.endIndex {
        let next = string.index(index, offsetBy: 2)
        bytes.append(UInt8(string[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

@Suite("VaultCrypto", .timeLimit(.minutes(1)))
struct VaultCryptoTests {
    @Test("SHA-256 known answers (FIPS 180-2)")
    func sha256() {
        let abc = VaultCrypto.sha256(Array("abc".utf8))
        #expect(abc == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        let empty = VaultCrypto.sha256([UInt8]())
        #expect(empty == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        let slice = VaultCrypto.sha256(Array("xabcx".utf8).dropFirst().dropLast())
        #expect(slice == abc)
    }

    @Test("SHA-1 known answers (FIPS 180-2)")
    func sha1() {
        #expect(VaultCrypto.sha1(Array("abc".utf8)) == hex("a9993e364706816aba3e25717850c26c9cd0d89d"))
        #expect(VaultCrypto.sha1([UInt8]()) == hex("da39a3ee5e6b4b0d3255bfef95601890afd80709"))
    }

    @Test("random bytes: the length asked for, and not the same twice")
    func random() throws {
        let a = try VaultCrypto.randomBytes(count: 32)
        let b = try VaultCrypto.randomBytes(count: 32)
        #expect(a.count == 32)
        #expect(a != b)
        let none = try VaultCrypto.randomBytes(count: 0)
        #expect(none.isEmpty)
    }

    @Test("constant-time comparison")
    func constantTime() {
        #expect(VaultCrypto.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!VaultCrypto.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!VaultCrypto.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(VaultCrypto.constantTimeEquals([], []))
    }

    @Test("AES-256-GCM known answers (GCM specification, test cases 13, 14 and 16)")
    func knownAnswers() throws {
        let zeroKey = try VaultCrypto.AESGCM(key: [UInt8](repeating: 0, count: 32))
        let zeroNonce = [UInt8](repeating: 0, count: 12)
        let case13 = try zeroKey.seal([], nonce: zeroNonce)
        #expect(case13 == zeroNonce + hex("530f8afbc74536b9a963b4f1c4cb738b"))
        let case14 = try zeroKey.seal([UInt8](repeating: 0, count: 16), nonce: zeroNonce)
        #expect(case14 == zeroNonce + hex("cea7403d4d606b6e074ec5d3baf39d18") + hex("d0d1c8a799996bf0265b98b5d48ab919"))

        let key = try VaultCrypto.AESGCM(key: hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"))
        let nonce = hex("cafebabefacedbaddecaf888")
        let plaintext = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
        let associated = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let case16 = try key.seal(plaintext, nonce: nonce, authenticating: associated)
        let expected = nonce
            + hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
            + hex("76fc6ece0f4e1768cddf8853bb2d551b")
        #expect(case16 == expected)
        let opened = try key.open(case16, authenticating: associated)
        #expect(opened == plaintext)
    }

    @Test("a sealed box opens only with its key and associated data, unaltered")
    func tampering() throws {
        let key = try VaultCrypto.AESGCM(key: try VaultCrypto.randomBytes(count: 32))
        let other = try VaultCrypto.AESGCM(key: try VaultCrypto.randomBytes(count: 32))
        let message = Array("user:{7}:timer:{42}:state".utf8)
        let box = try key.seal(message, authenticating: Array("user:{7}".utf8))
        let again = try key.seal(message, authenticating: Array("user:{7}".utf8))
        #expect(box != again)  // a fresh nonce each time
        let opened = try key.open(box, authenticating: Array("user:{7}".utf8))
        #expect(opened == message)

        var refusals = 0
        var flipped = box
        flipped[20] ^= 1
        for (candidate, cipher, aad) in [(box, other, "user:{7}"), (box, key, "user:{8}"), (flipped, key, "user:{7}"),
                                         (Array(box.dropLast()), key, "user:{7}"), (Array(box.prefix(27)), key, "user:{7}")] {
            do {
                _ = try cipher.open(candidate, authenticating: Array(aad.utf8))
            } catch {
                refusals += 1
            }
        }
        #expect(refusals == 5)
    }

    @Test("keys and nonces of the wrong length are refused")
    func lengths() {
        var keyRefused = false
        do { _ = try VaultCrypto.AESGCM(key: [UInt8](repeating: 1, count: 16)) } catch { keyRefused = error.message.contains("32 bytes, got 16") }
        #expect(keyRefused)
        var nonceRefused = false
        do {
            let cipher = try VaultCrypto.AESGCM(key: [UInt8](repeating: 1, count: 32))
            _ = try cipher.seal([1], nonce: [0, 0, 0])
        } catch {
            nonceRefused = error.message.contains("12 bytes, got 3")
        }
        #expect(nonceRefused)
    }
}
