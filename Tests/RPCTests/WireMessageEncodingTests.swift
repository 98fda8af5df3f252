import Testing
import RPC

@Suite("grpc-encoding and grpc-accept-encoding")
struct WireMessageEncodingTests {
    @Test("our grpc-accept-encoding lists every encoding we read")
    func ourValue() {
        #expect(MessageEncoding.acceptEncodingValue == "identity,gzip")
        #expect(MessageEncoding.parseAcceptEncoding(MessageEncoding.acceptEncodingValue) == .all)
    }

    @Test("supported encodings parse", arguments: [
        ("identity", Compression.identity), ("gzip", .gzip), ("GZIP", .gzip), (" gzip\t", .gzip), ("Identity", .identity),
    ])
    func parses(value: String, expected: Compression) throws {
        #expect(try MessageEncoding.parseEncoding(value) == expected)
        #expect(try MessageEncoding.parseEncoding(Array(value.utf8)) == expected)
    }

    @Test("unsupported encodings are UNIMPLEMENTED, naming what we support", arguments: [
        "deflate", "snappy", "br", "", "gzip,identity", "gzip2", "gzi",
    ])
    func rejects(value: String) throws {
        let error = try #require(throws: RPCError.self) { try MessageEncoding.parseEncoding(value) }
        #expect(error.code == .unimplemented)
        #expect(error.message == "grpc-encoding \"\(value)\" is not supported (supported: identity, gzip)")
    }

    @Test("grpc-accept-encoding lists are read leniently", arguments: [
        ("gzip", true), ("identity,gzip", true), ("identity, deflate , gzip", true), (" gzip ,", true),
        ("deflate,gzip", true), ("GZip", true), ("identity", false), ("deflate, snappy", false), ("", false),
        (",,,", false), ("gzipx", false), ("g zip", false),
    ])
    func acceptEncoding(value: String, acceptsGzip: Bool) {
        let accepted = MessageEncoding.parseAcceptEncoding(value)
        #expect(accepted.accepts(.gzip) == acceptsGzip)
        #expect(accepted.accepts(.identity))
        #expect(accepted == (acceptsGzip ? .all : .identityOnly))
    }

    @Test("negotiation falls back to identity when the peer cannot read what we want")
    func negotiate() {
        #expect(MessageEncoding.negotiate(.gzip, accepted: .all) == .gzip)
        #expect(MessageEncoding.negotiate(.gzip, accepted: .identityOnly) == .identity)
        #expect(MessageEncoding.negotiate(.identity, accepted: .all) == .identity)
        #expect(MessageEncoding.Accepted.all.description == "identity,gzip")
        #expect(MessageEncoding.Accepted.identityOnly.description == "identity")
    }
}
