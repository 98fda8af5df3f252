import Testing
import RPC

@Suite("request header validation")
struct WireRequestHeadersTests {
    static let valid: [(String, String)] = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/servicevault.timer.v1.TimerService/GetTimer"),
        (":authority", "localhost:50051"),
        ("grpc-timeout", "250m"),
        ("content-type", "application/grpc+proto"),
        ("te", "trailers"),
        ("grpc-encoding", "gzip"),
        ("grpc-accept-encoding", "identity,deflate,gzip"),
        ("user-agent", "grpc-python/1.66.0"),
        ("authorization", "Bearer abc"),
    ]

    /// Adds every header through the buffer API, as the HTTP/2 layer does.
    static func outcome(_ headers: [(String, String)], maxHeaderListSize: Int = RequestHeaders.defaultMaxHeaderListSize)
        -> (verdicts: [RequestHeaders.Verdict], outcome: RequestHeaders.Outcome) {
        var accumulator = RequestHeaders(maxHeaderListSize: maxHeaderListSize)
        var verdicts: [RequestHeaders.Verdict] = []
        for (name, value) in headers {
            let name = Array(name.utf8)
            let value = Array(value.utf8)
            verdicts.append(name.withUnsafeBufferPointer { name in
                value.withUnsafeBufferPointer { value in accumulator.add(name: name, value: value) }
            })
        }
        return (verdicts, accumulator.finish())
    }

    static func request(_ headers: [(String, String)]) throws -> RequestHeaders.Request {
        guard case .request(let request) = outcome(headers).outcome else {
            Issue.record("rejected: \(outcome(headers).outcome)")
            throw RPCError(code: .internalError, message: "rejected")
        }
        return request
    }

    static func rejection(_ headers: [(String, String)]) -> RequestHeaders.Rejection? {
        if case .rejected(let rejection) = outcome(headers).outcome { return rejection }
        return nil
    }

    static func replacing(_ name: String, with value: String?) -> [(String, String)] {
        var headers = valid.filter { $0.0 != name }
        if let value {
            let index = valid.firstIndex { $0.0 == name } ?? headers.count
            headers.insert((name, value), at: index)
        }
        return headers
    }

    // MARK: Accepted requests

    @Test("values the previous request had are that request's strings, and a request that repeats them says so")
    func recentValues() throws {
        func parse(_ headers: [(String, String)], after recent: RequestHeaders.Recent) -> (RequestHeaders.Request?, repeats: Bool) {
            var accumulator = RequestHeaders(reusing: recent)
            for (name, value) in headers { _ = accumulator.add(name: name, value: value) }
            let repeats = accumulator.repeatsRecent
            guard case .request(let request) = accumulator.finish() else { return (nil, repeats) }
            return (request, repeats)
        }
        let (first, firstRepeats) = parse(Self.valid, after: RequestHeaders.Recent())
        let request = try #require(first)
        #expect(!firstRepeats)
        let (second, secondRepeats) = parse(Self.valid, after: RequestHeaders.Recent(request))
        #expect(secondRepeats)
        #expect(second == request)
        let (third, thirdRepeats) = parse(Self.replacing(":path", with: "/other.Service/Method"), after: RequestHeaders.Recent(request))
        #expect(!thirdRepeats)
        #expect(third?.path == "/other.Service/Method")
    }

    @Test("a valid request yields every call-definition field")
    func validRequest() throws {
        let request = try Self.request(Self.valid)
        #expect(request.path == "/servicevault.timer.v1.TimerService/GetTimer")
        #expect(request.timeout == .milliseconds(250))
        #expect(request.encoding == .gzip)
        #expect(request.acceptedEncodings == .all)
        #expect(request.authority == "localhost:50051")
        #expect(request.scheme == "http")
        #expect(request.userAgent == "grpc-python/1.66.0")
        #expect(request.contentType == "application/grpc+proto")
        #expect(request.metadata.count == 1)
        #expect(request.metadata["authorization"] == "Bearer abc")
        #expect(Self.outcome(Self.valid).verdicts.allSatisfy { $0 == .proceed })
    }

    @Test("the string API gives the same result")
    func stringAPI() {
        var accumulator = RequestHeaders()
        for (name, value) in Self.valid { #expect(accumulator.add(name: name, value: value) == .proceed) }
        #expect(accumulator.finish() == Self.outcome(Self.valid).outcome)
    }

    @Test("optional headers may be missing")
    func minimalRequest() throws {
        let request = try Self.request([(":method", "POST"), (":path", "/a.B/C"), ("content-type", "application/grpc")])
        #expect(request.timeout == nil)
        #expect(request.encoding == nil)
        #expect(request.acceptedEncodings == .identityOnly)
        #expect(request.authority == nil)
        #expect(request.scheme == nil)
        #expect(request.userAgent == nil)
        #expect(request.metadata.isEmpty)
    }

    @Test("host stands in for a missing :authority, and is not metadata")
    func hostFallback() throws {
        let request = try Self.request(Self.replacing(":authority", with: nil) + [("host", "example.com")])
        #expect(request.authority == "example.com")
        #expect(request.metadata.isEmpty == false)
        #expect(request.metadata["host"] == nil)
        let both = try Self.request(Self.valid + [("host", "other")])
        #expect(both.authority == "localhost:50051")
    }

    @Test("gRPC content types are accepted", arguments: [
        "application/grpc", "application/grpc+proto", "application/grpc+json", "application/grpc;charset=utf-8",
        "Application/GRPC", "application/grpc+",
    ])
    func grpcContentTypes(contentType: String) throws {
        #expect(try Self.request(Self.replacing("content-type", with: contentType)).contentType == contentType)
    }

    // MARK: HTTP-level rejections

    @Test("other content types are HTTP 415", arguments: [
        "application/json", "text/html", "application/grpcx", "application/grpc-web", "application/grp", "",
        " application/grpc",
    ])
    func otherContentTypes(contentType: String) {
        #expect(Self.rejection(Self.replacing("content-type", with: contentType))
            == .http(status: 415, message: "content-type \"\(contentType)\" is not application/grpc"))
    }

    @Test("a missing content-type is HTTP 415")
    func missingContentType() {
        #expect(Self.rejection(Self.replacing("content-type", with: nil))
            == .http(status: 415, message: "missing content-type: gRPC requires application/grpc"))
    }

    @Test("a method other than POST is HTTP 405", arguments: ["GET", "PUT", "HEAD", "post", "OPTIONS"])
    func nonPost(method: String) {
        #expect(Self.rejection(Self.replacing(":method", with: method))
            == .http(status: 405, message: "method \"\(method)\" is not allowed: gRPC requires POST"))
    }

    @Test("a missing :method or :path is HTTP 400")
    func missingPseudoHeaders() {
        #expect(Self.rejection(Self.replacing(":method", with: nil)) == .http(status: 400, message: "missing :method"))
        #expect(Self.rejection(Self.replacing(":path", with: nil)) == .http(status: 400, message: "missing :path"))
        #expect(Self.rejection(Self.replacing(":path", with: "")) == .http(status: 400, message: "missing :path"))
    }

    @Test("header names must be lowercase")
    func uppercaseName() {
        let result = Self.outcome(Self.valid + [("X-Custom", "1")])
        let expected = RequestHeaders.Rejection.http(status: 400, message: "header name \"X-Custom\" is not lowercase")
        #expect(result.verdicts.last == .reject(expected))
        #expect(result.outcome == .rejected(expected))
    }

    @Test("header names may only hold 0-9 a-z - _ .", arguments: ["x custom", "x/y", "x:y", "é", "x\u{0}"])
    func invalidNameCharacters(name: String) {
        guard case .http(400, let message) = Self.rejection(Self.valid + [(name, "1")]) else {
            Issue.record("not rejected with 400")
            return
        }
        #expect(message.contains("has the invalid character"))
    }

    @Test("malformed pseudo-headers are HTTP 400")
    func pseudoHeaderRules() {
        #expect(Self.rejection(Self.valid + [(":path", "/other")])
            == .http(status: 400, message: "pseudo-header \":path\" after regular headers"))
        #expect(Self.rejection([(":path", "/a"), (":path", "/b")] + Self.valid.filter { $0.0 != ":path" })
            == .http(status: 400, message: "pseudo-header \":path\" repeated"))
        #expect(Self.rejection([(":protocol", "websocket")] + Self.valid)
            == .http(status: 400, message: "unknown pseudo-header \":protocol\" in a request"))
        #expect(Self.rejection([(":status", "200")] + Self.valid)
            == .http(status: 400, message: "unknown pseudo-header \":status\" in a request"))
        #expect(Self.rejection([("", "x")] + Self.valid) == .http(status: 400, message: "empty header name"))
    }

    @Test("te must be trailers when present")
    func teHeader() throws {
        #expect(Self.rejection(Self.replacing("te", with: "gzip"))
            == .http(status: 400, message: "te header must be \"trailers\", got \"gzip\""))
        _ = try Self.request(Self.replacing("te", with: nil))
        _ = try Self.request(Self.replacing("te", with: "Trailers"))
    }

    @Test("connection-specific headers are HTTP 400", arguments: ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"])
    func connectionSpecific(name: String) {
        #expect(Self.rejection(Self.valid + [(name, "x")])
            == .http(status: 400, message: "connection-specific header \"\(name)\" is not allowed in HTTP/2"))
    }

    // MARK: gRPC-level rejections

    @Test("a malformed grpc-timeout is INTERNAL", arguments: ["", "1", "123456789S", "1x", "-1S", "1.5S"])
    func malformedTimeout(value: String) {
        guard case .grpc(let error) = Self.rejection(Self.replacing("grpc-timeout", with: value)) else {
            Issue.record("not a gRPC rejection")
            return
        }
        #expect(error.code == .internalError)
        #expect(error.message.hasPrefix("malformed grpc-timeout"))
    }

    @Test("an unsupported grpc-encoding is UNIMPLEMENTED")
    func unsupportedEncoding() {
        #expect(Self.rejection(Self.replacing("grpc-encoding", with: "snappy")) == .grpc(RPCError(
            code: .unimplemented, message: "grpc-encoding \"snappy\" is not supported (supported: identity, gzip)")))
    }

    @Test("HTTP-level problems win over gRPC-level ones")
    func httpFirst() {
        var headers = Self.replacing("grpc-timeout", with: "bad")
        headers = headers.map { $0.0 == ":method" ? ($0.0, "GET") : $0 }
        #expect(Self.rejection(headers) == .http(status: 405, message: "method \"GET\" is not allowed: gRPC requires POST"))
        let nonGRPC = Self.replacing("content-type", with: "text/plain") + [("x-bin", "***")]
        #expect(Self.rejection(nonGRPC) == .http(status: 415, message: "content-type \"text/plain\" is not application/grpc"))
    }

    // MARK: Metadata

    @Test("-bin values are base64-decoded, padded or not, comma-separated values split")
    func binaryMetadata() throws {
        let request = try Self.request(Self.valid + [
            ("trace-bin", "AAEC"),
            ("a-bin", "Zg=="),
            ("a-bin", "Zm8"),
            ("joined-bin", "Zg==, Zm8,Zm9v"),
            ("empty-bin", ""),
        ])
        #expect(request.metadata[binary: "trace-bin"] == [0, 1, 2])
        #expect(request.metadata.values("a-bin") == [.binary(Array("f".utf8)), .binary(Array("fo".utf8))])
        #expect(request.metadata.values("joined-bin") == [.binary(Array("f".utf8)), .binary(Array("fo".utf8)), .binary(Array("foo".utf8))])
        #expect(request.metadata[binary: "empty-bin"] == [])
    }

    @Test("a -bin value that is not base64 is INTERNAL")
    func badBinaryMetadata() {
        #expect(Self.rejection(Self.valid + [("trace-bin", "AA*C")]) == .grpc(RPCError(
            code: .internalError, message: "invalid base64 in metadata \"trace-bin\": '*' at offset 2 is not a base64 character")))
    }

    @Test("reserved and call-definition headers are not metadata")
    func notMetadata() throws {
        let request = try Self.request(Self.valid + [
            ("grpc-message-type", "x"), ("grpc-status", "0"), ("grpc-previous-rpc-attempts", "1"), ("grpc-trace-bin", "AAAA"),
            ("x-request-id", "42"), ("grpc", "kept"), ("grpcx-id", "kept"),
            ("content-length", "5"), ("accept-encoding", "gzip"), ("content-encoding", "gzip"),
        ])
        #expect(request.metadata.map(\.key) == ["authorization", "x-request-id", "grpc", "grpcx-id"])
    }

    @Test("text values are trimmed; values outside printable ASCII are dropped")
    func textValues() throws {
        let request = try Self.request(Self.valid + [
            ("x-padded", "  value \t"), ("x-utf8", "héllo"), ("x-control", "a\u{1}b"), ("x-empty", ""),
        ])
        #expect(request.metadata["x-padded"] == "value")
        #expect(request.metadata["x-utf8"] == nil)
        #expect(request.metadata["x-control"] == nil)
        #expect(request.metadata["x-empty"] == "")
    }

    @Test("duplicate metadata keys keep every value in order")
    func duplicates() throws {
        let request = try Self.request(Self.valid + [("x-a", "1"), ("x-b", "2"), ("x-a", "3")])
        #expect(request.metadata.values("x-a") == [.string("1"), .string("3")])
    }

    @Test("arbitrary header bytes never crash, and always come to a verdict")
    func arbitraryHeaders() {
        var random = WireRandom(seed: 17)
        let pieces = [":method", ":path", "content-type", "te", "grpc-timeout", "x-bin", "grpc-encoding", "X", "", ":", "-bin"]
        for _ in 0..<2_000 {
            var accumulator = RequestHeaders(maxHeaderListSize: 512)
            for _ in 0..<Int(random.next(below: 12)) {
                let name = Array(pieces[Int(random.next(below: UInt64(pieces.count)))].utf8)
                    + (0..<Int(random.next(below: 3))).map { _ in UInt8(truncatingIfNeeded: random.next(below: 256)) }
                let value = (0..<Int(random.next(below: 30))).map { _ in UInt8(truncatingIfNeeded: random.next(below: 256)) }
                _ = name.withUnsafeBufferPointer { name in
                    value.withUnsafeBufferPointer { value in accumulator.add(name: name, value: value) }
                }
            }
            switch accumulator.finish() {
            case .request(let request): #expect(!request.path.isEmpty)
            case .rejected: break
            }
        }
    }

    // MARK: Header list size

    @Test("the header list may be exactly the limit")
    func exactlyLimit() throws {
        let base = Self.valid.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 32 }
        let filler = 8 * 1024 - base - 32 - "x-fill".count
        let result = Self.outcome(Self.valid + [("x-fill", String(repeating: "a", count: filler))])
        guard case .request(let request) = result.outcome else {
            Issue.record("rejected: \(result.outcome)")
            return
        }
        #expect(request.metadata["x-fill"]?.count == filler)

        let over = Self.outcome(Self.valid + [("x-fill", String(repeating: "a", count: filler + 1))])
        #expect(over.outcome == .rejected(.grpc(RPCError(code: .resourceExhausted, message:
            "request headers exceed the limit of 8192 bytes (at least 8193 bytes, counting name + value + 32 per header)"))))
    }

    @Test("over the limit after a gRPC content-type: RESOURCE_EXHAUSTED, at once, and later headers are ignored")
    func overLimitGRPC() {
        let result = Self.outcome(Self.valid + [("x-big", String(repeating: "b", count: 9_000)), ("x-after", "1"), ("X-Bad", "1")])
        guard case .reject(.grpc(let error)) = result.verdicts[Self.valid.count] else {
            Issue.record("not rejected at the big header: \(result.verdicts)")
            return
        }
        #expect(error.code == .resourceExhausted)
        #expect(result.verdicts.dropFirst(Self.valid.count).allSatisfy { $0 == .reject(.grpc(error)) })
        #expect(result.outcome == .rejected(.grpc(error)))
    }

    @Test("over the limit before any gRPC content-type: HTTP 431")
    func overLimitHTTP() {
        let headers = [(":method", "POST"), (":path", "/a.B/C"), ("x-big", String(repeating: "b", count: 200))]
        let result = Self.outcome(headers, maxHeaderListSize: 100)
        #expect(result.outcome == .rejected(.http(status: 431, message:
            "request headers exceed the limit of 100 bytes (at least 323 bytes, counting name + value + 32 per header)")))
    }

    @Test("many small headers count 32 bytes each")
    func manySmallHeaders() {
        let headers = Self.valid + (0..<300).map { ("x", "\($0 % 10)") }
        guard case .rejected(.grpc(let error)) = Self.outcome(headers).outcome else {
            Issue.record("not rejected")
            return
        }
        #expect(error.code == .resourceExhausted)
    }
}
