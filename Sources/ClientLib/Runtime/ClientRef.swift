extension TimerClient {
    /// A fresh idempotency key for CreateTimer or an offline timer: a random
    /// (version 4) UUID in lower case, e.g. `0b8f2c7e-3c1a-4a53-9d2e-6f1f4d2b9a10`.
    /// Keep it with the request to send it again after a failure: the server
    /// creates one timer per key.
    public static func newClientRef() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3F | 0x80  // RFC 4122 variant
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
