import Codec
import RPC

/// The seed corpus (`FuzzTesting/Corpus/ServerFuzzer/`): valid and nearly
/// valid gRPC exchanges, so the fuzzer starts past the preface and inside the
/// calls. Written by `ServerFuzzer --write-seeds DIR`.
enum Seeds {
    /// Control byte: preface, SETTINGS and SETTINGS ACK first, bytes at once.
    static let handshake: UInt8 = 0x03

    static func all() throws -> [(name: String, bytes: [UInt8])] {
        let gzip = try Gzip.Compressor()
        let echo = message("hello")
        var seeds: [(String, [UInt8])] = []
        func add(_ name: String, control: UInt8 = handshake, _ frames: [UInt8]...) {
            seeds.append((name, [control] + frames.joined()))
        }

        add("health-check", headers(1, path: "/grpc.health.v1.Health/Check"), data(1, grpc(message("")), end: true))
        add("health-check-echo-service", headers(1, path: "/grpc.health.v1.Health/Check", extra: [("grpc-timeout", "1S")]),
            data(1, grpc(message(EchoService.service)), end: true))
        add("health-check-unknown", headers(1, path: "/grpc.health.v1.Health/Check"), data(1, grpc(message("nope")), end: true))
        add("health-watch", headers(1, path: "/grpc.health.v1.Health/Watch"), data(1, grpc(message("")), end: true))
        add("health-watch-reset", headers(1, path: "/grpc.health.v1.Health/Watch"), data(1, grpc(message(""))),
            rstStream(1, code: 8))
        add("echo-get-metadata", headers(1, path: "/fuzz.Echo/Get", extra: [
            ("echo-text", "a b"), ("echo-data-bin", "AAEC"), ("grpc-accept-encoding", "gzip,identity"),
            ("user-agent", "fuzz"), ("grpc-timeout", "10S"),
        ]), data(1, grpc(echo), end: true))
        add("echo-inline-gzip", headers(1, path: "/fuzz.Echo/Inline", extra: [("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip")]),
            data(1, grpc(try gzip.compress(echo), compressed: true), end: true))
        add("echo-get-fail", headers(1, path: "/fuzz.Echo/Get"), data(1, grpc(message("fail:5 not here")), end: true))
        add("echo-get-deadline", headers(1, path: "/fuzz.Echo/Get", extra: [("grpc-timeout", "1n")]), data(1, grpc(echo)))
        add("echo-expand", headers(1, path: "/fuzz.Echo/Expand", extra: [("grpc-accept-encoding", "gzip")]),
            data(1, grpc(message("abcdefgh")), end: true))
        let collected = grpc(message("one")) + grpc(message("two")) + grpc(message("three"))
        add("echo-collect-split", headers(1, path: "/fuzz.Echo/Collect"), data(1, Array(collected.prefix(7))),
            data(1, Array(collected.dropFirst(7).prefix(9))), data(1, Array(collected.dropFirst(16)), end: true))
        add("echo-update", headers(1, path: "/fuzz.Echo/Update"), data(1, grpc(message("a"))), ping(),
            data(1, grpc(message("b")) + grpc(message("echo"))), windowUpdate(0, 1 << 16), data(1, [], end: true))
        add("echo-update-trailers", headers(1, path: "/fuzz.Echo/Update"), data(1, grpc(echo)),
            headers(1, fields: [("x-trailer", "1")], end: true))
        add("two-streams", headers(1, path: "/fuzz.Echo/Update"), headers(3, path: "/fuzz.Echo/Get"),
            data(3, grpc(echo), end: true), data(1, grpc(message("x"))), rstStream(1, code: 0), goAway(0))
        add("reflection-list", headers(1, path: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
            data(1, grpc([0x3A, 0x01, 0x2A]), end: true))
        add("reflection-symbol", headers(1, path: "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"),
            data(1, grpc([0x22, 0x15] + Array("grpc.health.v1.Health".utf8)), end: true))
        add("unimplemented", headers(1, path: "/fuzz.Echo/Nope"), data(1, grpc(echo), end: true),
            headers(3, path: "/other.Service/Call", end: true))
        add("bad-content-type", headers(1, path: "/fuzz.Echo/Get", contentType: "text/plain"), data(1, grpc(echo), end: true))
        add("continuation", headersSplit(1, path: "/fuzz.Echo/Get"), data(1, grpc(echo), end: true))
        add("padded", headers(1, path: "/fuzz.Echo/Inline", padded: 4), data(1, grpc(echo), end: true, padded: 3))
        add("tight-limits", control: 0x43, headers(1, path: "/fuzz.Echo/Get"),
            data(1, grpc(message(String(repeating: "x", count: 80))), end: true))
        add("gzip-responses-chunked", control: 0x2F, headers(1, path: "/fuzz.Echo/Expand", extra: [("grpc-accept-encoding", "gzip")]),
            data(1, grpc(message("compress me")), end: true))
        add("raw-preface", control: 0x00, ServerHarness.preface, ServerHarness.emptySettings, ServerHarness.settingsAck,
            headers(1, path: "/grpc.health.v1.Health/Check"), data(1, grpc(message("")), end: true))
        return seeds
    }

    // MARK: Frames

    static func frame(_ type: UInt8, flags: UInt8, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags,
                UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    static func requestFields(path: String, contentType: String = "application/grpc", extra: [(String, String)] = []) -> [(String, String)] {
        [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
         ("content-type", contentType), ("te", "trailers")] + extra
    }

    static func headers(_ stream: UInt32, path: String, contentType: String = "application/grpc", extra: [(String, String)] = [],
                        end: Bool = false, padded: Int = 0) -> [UInt8] {
        headers(stream, fields: requestFields(path: path, contentType: contentType, extra: extra), end: end, padded: padded)
    }

    static func headers(_ stream: UInt32, fields: [(String, String)], end: Bool = false, padded: Int = 0) -> [UInt8] {
        var payload = hpack(fields)
        var flags: UInt8 = 0x04 | (end ? 0x01 : 0)
        if padded > 0 {
            flags |= 0x08
            payload = [UInt8(padded)] + payload + [UInt8](repeating: 0, count: padded)
        }
        return frame(0x01, flags: flags, stream: stream, payload)
    }

    /// HEADERS without END_HEADERS, then the rest of the block in CONTINUATION.
    static func headersSplit(_ stream: UInt32, path: String) -> [UInt8] {
        let block = hpack(requestFields(path: path))
        let half = block.count / 2
        return frame(0x01, flags: 0, stream: stream, Array(block.prefix(half)))
            + frame(0x09, flags: 0x04, stream: stream, Array(block.dropFirst(half)))
    }

    static func data(_ stream: UInt32, _ bytes: [UInt8], end: Bool = false, padded: Int = 0) -> [UInt8] {
        var flags: UInt8 = end ? 0x01 : 0
        var payload = bytes
        if padded > 0 {
            flags |= 0x08
            payload = [UInt8(padded)] + payload + [UInt8](repeating: 0, count: padded)
        }
        return frame(0x00, flags: flags, stream: stream, payload)
    }

    static func rstStream(_ stream: UInt32, code: UInt32) -> [UInt8] {
        frame(0x03, flags: 0, stream: stream, bigEndian(code))
    }

    static func ping() -> [UInt8] { frame(0x06, flags: 0, stream: 0, Array(0..<8)) }

    static func windowUpdate(_ stream: UInt32, _ increment: UInt32) -> [UInt8] {
        frame(0x08, flags: 0, stream: stream, bigEndian(increment))
    }

    static func goAway(_ lastStream: UInt32) -> [UInt8] {
        frame(0x07, flags: 0, stream: 0, bigEndian(lastStream) + bigEndian(0))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// HPACK: every field a literal without indexing, no Huffman coding.
    static func hpack(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields {
            out.append(0x00)
            for text in [name, value] {
                let bytes = Array(text.utf8)
                integer(bytes.count, prefixBits: 7, into: &out)
                out += bytes
            }
        }
        return out
    }

    static func integer(_ value: Int, prefixBits: Int, into out: inout [UInt8]) {
        let limit = (1 << prefixBits) - 1
        if value < limit {
            out.append(UInt8(value))
            return
        }
        out.append(UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            out.append(UInt8(rest & 0x7F | 0x80))
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    // MARK: gRPC

    /// A length-prefixed gRPC message.
    static func grpc(_ bytes: [UInt8], compressed: Bool = false) -> [UInt8] {
        [compressed ? 1 : 0] + bigEndian(UInt32(bytes.count)) + bytes
    }

    /// The echo message (`grpc.health.v1.HealthCheckRequest`) with `text`.
    static func message(_ text: String) -> [UInt8] {
        var request = GRPCHealthV1.HealthCheckRequest()
        request.service = text
        return (try? request.serializedBytes()) ?? []
    }
}
