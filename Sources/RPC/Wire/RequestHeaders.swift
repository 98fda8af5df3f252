import Glibc

/// Validates the headers of a gRPC request on the server, one header at a time
/// as the HTTP/2 layer decodes them, then as a whole at the end of the header
/// block.
///
/// ``add(name:value:)`` keeps what a call needs
/// (`:method`, `:path`, `:scheme`, `:authority`, `content-type`, `te`,
/// `grpc-timeout`, `grpc-encoding`, `grpc-accept-encoding`, `user-agent`) and
/// turns the other headers into custom metadata (`-bin` values
/// base64-decoded); ``finish()`` then says whether the request is one to
/// serve.
///
/// The checks, and what a failure answers:
/// - The header list size (name + value + 32 per header, HTTP/2's rule) over
///   ``maxHeaderListSize``: trailers-only `RESOURCE_EXHAUSTED` when a gRPC
///   `content-type` came before, else HTTP 431. Reported by the header that
///   crosses the limit; later headers are not looked at.
/// - Malformed HTTP/2 (a name that is empty, not lowercase or has a character
///   outside `0-9 a-z - _ .`; an unknown, repeated or late pseudo-header;
///   a connection-specific header; `te` other than `trailers`): HTTP 400.
/// - `:method` missing: HTTP 400; not `POST`: HTTP 405 (the response should
///   carry `allow: POST`).
/// - `:path` missing or empty: HTTP 400.
/// - `content-type` missing or not `application/grpc` (alone, or followed by
///   `+` or `;`): HTTP 415, as gRPC asks, so no other HTTP client mistakes the
///   answer for success.
/// - `grpc-timeout` malformed: `INTERNAL` "malformed grpc-timeout: …".
/// - `grpc-encoding` other than `identity` or `gzip`: `UNIMPLEMENTED`
///   (the response should carry `grpc-accept-encoding`).
/// - A `-bin` value that is not base64: `INTERNAL`.
///
/// HTTP-level rules are checked before gRPC-level ones, so a non-gRPC client
/// never gets a gRPC answer. Custom metadata text values with bytes outside
/// printable ASCII are dropped (gRPC allows dropping them), and surrounding
/// spaces are trimmed. Reserved `grpc-` headers other than the ones above,
/// `content-length`, `accept-encoding`, `content-encoding` and `host` are not
/// metadata (`host` stands in for a missing `:authority`).
package struct RequestHeaders: Sendable {
    /// The suggested default limit on the request header list: 8 KiB.
    package static let defaultMaxHeaderListSize = 8 * 1024

    /// The largest header list accepted, counted as HTTP/2's
    /// `SETTINGS_MAX_HEADER_LIST_SIZE` does.
    package let maxHeaderListSize: Int

    /// A validated request: what the server needs to start the call.
    package struct Request: Sendable, Hashable {
        /// `:path`, e.g. `/servicevault.timer.v1.TimerService/GetTimer`.
        package var path: String
        /// `grpc-timeout`: how long the client waits; nil when it sent none.
        /// The server adds it to its own clock's now to get the deadline.
        package var timeout: Duration?
        /// `grpc-encoding` of the request messages; nil when not sent
        /// (messages are then never compressed).
        package var encoding: Compression?
        /// `grpc-accept-encoding`: what the client can read.
        package var acceptedEncodings: MessageEncoding.Accepted
        /// Custom metadata, in arrival order.
        package var metadata: Metadata
        /// `:authority`, else `host`; nil when neither was sent.
        package var authority: String?
        /// `:scheme`, nil when not sent.
        package var scheme: String?
        /// `user-agent`, nil when not sent.
        package var userAgent: String?
        /// `content-type`, e.g. `application/grpc+proto`.
        package var contentType: String
    }

    /// Header values of an earlier request on the same connection. A request
    /// that repeats one gets the same string, not a new copy: no allocation,
    /// and comparing it with the earlier one is immediate.
    package struct Recent: Sendable {
        var path: String?
        var authority: String?
        var userAgent: String?

        /// None.
        package init() {}

        /// `request`'s values.
        package init(_ request: Request) {
            path = request.path
            authority = request.authority
            userAgent = request.userAgent
        }
    }

    /// Why a request is not served, and how to answer it.
    package enum Rejection: Sendable, Hashable {
        /// Not a (well-formed) gRPC request: answer with this HTTP status,
        /// `content-type: text/plain` and `message` as the body.
        case http(status: Int, message: String)
        /// A gRPC request that fails before it starts: answer trailers-only
        /// (`:status 200`, `content-type: application/grpc`, the status and
        /// its percent-encoded message).
        case grpc(RPCError)
    }

    /// What one header means for the request.
    package enum Verdict: Sendable, Hashable {
        /// Nothing is wrong yet.
        case proceed
        /// The request is rejected whatever follows; ``finish()`` returns the
        /// same rejection. Later headers need not be added.
        case reject(Rejection)
    }

    /// The result of ``finish()``.
    package enum Outcome: Sendable, Hashable {
        /// A request to serve.
        case request(Request)
        /// A request to refuse.
        case rejected(Rejection)
    }

    /// Set when a header rejected the request for good; later headers are
    /// ignored. (Compared with nil per header, not bound: a binding would
    /// copy the rejection each time.)
    private var rejection: Rejection?
    private var headerListSize = 0
    private var sawRegularHeader = false
    private var method: String?
    private var path: String?
    private var scheme: String?
    private var authority: String?
    private var host: String?
    private var contentType: String?
    private var contentTypeIsGRPC = false
    private var userAgent: String?
    private var timeout: Duration?
    private var encoding: Compression?
    private var acceptedEncodings = MessageEncoding.Accepted.identityOnly
    private var metadata = Metadata()
    /// The first gRPC-level problem, reported by ``finish()`` once the
    /// HTTP-level checks pass.
    private var grpcError: RPCError?
    private let recent: Recent
    /// Whether every value kept from ``recent`` was the same as there (so
    /// the caller need not replace its ``Recent``).
    package private(set) var repeatsRecent = true

    /// An empty accumulator for one request.
    ///
    /// - Parameters:
    ///   - maxHeaderListSize: the limit on the header list size, at least 0.
    ///   - recent: values of an earlier request to reuse when repeated.
    package init(maxHeaderListSize: Int = RequestHeaders.defaultMaxHeaderListSize, reusing recent: Recent = Recent()) {
        self.maxHeaderListSize = max(0, maxHeaderListSize)
        self.recent = recent
    }

    /// Takes one header, as nghttp2's `on_header` callback hands it over.
    /// The bytes are copied where kept; the buffers need not outlive the call.
    package mutating func add(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Verdict {
        if rejection != nil { return .reject(rejection!) }
        headerListSize += name.count + value.count + 32
        if headerListSize > maxHeaderListSize {
            let message = "request headers exceed the limit of \(maxHeaderListSize) bytes (at least \(headerListSize) bytes, counting name + value + 32 per header)"
            return reject(contentTypeIsGRPC
                ? .grpc(RPCError(code: .resourceExhausted, message: message))
                : .http(status: 431, message: message))
        }
        guard let first = name.first else {
            return reject(.http(status: 400, message: "empty header name"))
        }
        if first == UInt8(ascii: ":") {
            return addPseudoHeader(name: name, value: value)
        }
        sawRegularHeader = true
        // A known name is valid as it is: only the others are checked.
        let known = Self.known(name)
        if known == nil, let problem = Self.nameProblem(name) {
            return reject(.http(status: 400, message: problem))
        }
        switch known {
        case .contentType:
            if contentType == nil {
                contentType = Self.string(value, reusing: "application/grpc")
                contentTypeIsGRPC = Self.isGRPCContentType(value)
            }
        case .te:
            guard Self.equalsIgnoringCase(Self.trimmed(value), "trailers") else {
                return reject(.http(status: 400, message: "te header must be \"trailers\", got \(WireText.quoted(value))"))
            }
        case .userAgent:
            userAgent = string(value, reusingRecent: recent.userAgent)
        case .host:
            host = Self.string(value)
        case .grpcTimeout:
            do throws(RPCError) {
                timeout = try GRPCTimeout(parsing: value).duration
            } catch {
                recordGRPCError(error)
            }
        case .grpcEncoding:
            do throws(RPCError) {
                encoding = try MessageEncoding.parseEncoding(value)
            } catch {
                recordGRPCError(error)
            }
        case .grpcAcceptEncoding:
            if MessageEncoding.parseAcceptEncoding(value) == .all { acceptedEncodings = .all }
        case .connectionSpecific:
            return reject(.http(status: 400, message: "connection-specific header \(WireText.quoted(name)) is not allowed in HTTP/2"))
        case .httpOnly:
            break  // About the HTTP message, not the call: not metadata.
        case nil:
            if !Self.hasPrefix(name, "grpc-") {  // Reserved for gRPC itself: not metadata.
                addMetadata(name: name, value: value)
            }
        }
        return .proceed
    }

    /// Takes one header given as strings (tests, and callers that hold
    /// strings); see the byte variant.
    package mutating func add(name: String, value: String) -> Verdict {
        var name = name
        var value = value
        return name.withUTF8 { name in
            value.withUTF8 { value in add(name: name, value: value) }
        }
    }

    /// Validates the request as a whole, once its header block has ended.
    /// The request's values move out: call it once, last.
    package mutating func finish() -> Outcome {
        if rejection != nil { return .rejected(rejection!) }
        guard let method else {
            return .rejected(.http(status: 400, message: "missing :method"))
        }
        guard method == "POST" else {
            return .rejected(.http(status: 405, message: "method \(WireText.quoted(method)) is not allowed: gRPC requires POST"))
        }
        guard let path, !path.isEmpty else {
            return .rejected(.http(status: 400, message: "missing :path"))
        }
        guard let contentType else {
            return .rejected(.http(status: 415, message: "missing content-type: gRPC requires application/grpc"))
        }
        guard contentTypeIsGRPC else {
            return .rejected(.http(status: 415, message: "content-type \(WireText.quoted(contentType)) is not application/grpc"))
        }
        if let grpcError {
            return .rejected(.grpc(grpcError))
        }
        // Moved out, not copied: no reference count per string.
        self.path = nil
        self.contentType = nil
        return .request(Request(path: path, timeout: timeout, encoding: encoding, acceptedEncodings: acceptedEncodings,
                                metadata: take(&metadata), authority: authority.take() ?? host.take(), scheme: scheme.take(),
                                userAgent: userAgent.take(), contentType: contentType))
    }

    // MARK: Headers

    private func take(_ metadata: inout Metadata) -> Metadata {
        var taken = Metadata()
        swap(&taken, &metadata)
        return taken
    }

    private mutating func reject(_ rejection: Rejection) -> Verdict {
        self.rejection = rejection
        metadata = Metadata()
        return .reject(rejection)
    }

    private mutating func recordGRPCError(_ error: RPCError) {
        if grpcError == nil { grpcError = error }
    }

    private mutating func addPseudoHeader(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Verdict {
        if sawRegularHeader {
            return reject(.http(status: 400, message: "pseudo-header \(WireText.quoted(name)) after regular headers"))
        }
        // Whether the header came before is asked of the stored value
        // without copying it (a copy would cost a reference count).
        let repeated: Bool
        if Self.matches(name, ":method") {
            repeated = method != nil
            if !repeated { method = Self.string(value, reusing: "POST") }
        } else if Self.matches(name, ":path") {
            repeated = path != nil
            if !repeated { path = string(value, reusingRecent: recent.path) }
        } else if Self.matches(name, ":scheme") {
            repeated = scheme != nil
            if !repeated { scheme = Self.string(value) }
        } else if Self.matches(name, ":authority") {
            repeated = authority != nil
            if !repeated { authority = string(value, reusingRecent: recent.authority) }
        } else {
            return reject(.http(status: 400, message: "unknown pseudo-header \(WireText.quoted(name)) in a request"))
        }
        guard !repeated else {
            return reject(.http(status: 400, message: "pseudo-header \(WireText.quoted(name)) repeated"))
        }
        return .proceed
    }

    private mutating func addMetadata(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        let key = Self.string(name)
        guard Self.hasSuffix(name, "-bin") else {
            let text = Self.trimmed(value)
            // gRPC lets a receiver drop a value outside printable ASCII; kept,
            // it could not be echoed back as metadata.
            guard text.allSatisfy({ (0x20...0x7E).contains($0) }) else { return }
            metadata.add(Metadata.Entry(key: key, value: .string(Self.string(text))))
            return
        }
        // Repeated binary headers may arrive joined with ",": each item is one value.
        var itemStart = value.startIndex
        for index in value.indices where value[index] == UInt8(ascii: ",") {
            addBinary(key: key, Self.trimmed(value[itemStart..<index]))
            itemStart = index + 1
        }
        addBinary(key: key, Self.trimmed(value[itemStart...]))
    }

    private mutating func addBinary(key: String, _ encoded: Slice<UnsafeBufferPointer<UInt8>>) {
        do throws(RPCError) {
            let bytes = try Base64.decode(encoded, context: "metadata \(WireText.quoted(key))")
            metadata.add(Metadata.Entry(key: key, value: .binary(bytes)))
        } catch {
            recordGRPCError(error)
        }
    }

    // MARK: Bytes

    private static func string(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// `bytes` as a string: the earlier request's value when the bytes are
    /// the same, else a new string (noted in ``repeatsRecent``).
    private mutating func string(_ bytes: UnsafeBufferPointer<UInt8>, reusingRecent known: String?) -> String {
        if let same = Self.reused(known, ifSameAs: bytes) { return same }
        repeatsRecent = false
        return Self.string(bytes)
    }

    /// `bytes` as a string: `known` itself when its bytes are the same.
    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, reusing known: String?) -> String {
        Self.reused(known, ifSameAs: bytes) ?? string(bytes)
    }

    /// `known` when it holds exactly `bytes`, else nil.
    @inline(__always)
    private static func reused(_ known: String?, ifSameAs bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let known, known.utf8.count == bytes.count,
              known.utf8.withContiguousStorageIfAvailable({ same($0, bytes) }) == true else { return nil }
        return known
    }

    /// Whether two byte buffers hold the same bytes.
    @inline(__always)
    private static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        guard let x = a.baseAddress, let y = b.baseAddress else { return true }
        return memcmp(x, y, a.count) == 0
    }

    /// The bytes allowed in a header name (`0-9 a-z - _ .`), as a bit set
    /// over 0...127 in two words.
    private static let nameBytesLow: UInt64 = (1 << UInt64(UInt8(ascii: "-"))) | (1 << UInt64(UInt8(ascii: ".")))
        | (((1 << 10) - 1) << UInt64(UInt8(ascii: "0")))
    private static let nameBytesHigh: UInt64 = (1 << UInt64(UInt8(ascii: "_") - 64))
        | (((1 << 26) - 1) << UInt64(UInt8(ascii: "a") - 64))

    /// Why `name` is not a valid regular header name, or nil.
    @inline(__always)
    private static func nameProblem(_ name: UnsafeBufferPointer<UInt8>) -> String? {
        // A valid name (nearly every one) is checked a byte at a time against the set.
        var valid = true
        for byte in name {
            let word = byte < 64 ? nameBytesLow : (byte < 128 ? nameBytesHigh : 0)
            valid = valid && (word >> UInt64(byte & 63)) & 1 == 1
        }
        return valid ? nil : invalidNameProblem(name)
    }

    /// Why `name`, which has a byte outside the allowed set, is not valid.
    private static func invalidNameProblem(_ name: UnsafeBufferPointer<UInt8>) -> String? {
        for byte in name {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                continue
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                return "header name \(WireText.quoted(name)) is not lowercase"
            default:
                return "header name \(WireText.quoted(name)) has the invalid character \(WireText.describe(byte: byte))"
            }
        }
        return nil
    }

    private static func isGRPCContentType(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        let prefix: StaticString = "application/grpc"
        guard value.count >= prefix.utf8CodeUnitCount,
              equalsIgnoringCase(value[..<prefix.utf8CodeUnitCount], prefix)
        else { return false }
        guard value.count > prefix.utf8CodeUnitCount else { return true }
        let next = value[prefix.utf8CodeUnitCount]
        return next == UInt8(ascii: "+") || next == UInt8(ascii: ";")
    }

    /// The regular headers that are not metadata.
    private enum Known {
        case contentType, te, userAgent, host, grpcTimeout, grpcEncoding, grpcAcceptEncoding
        /// Not allowed in HTTP/2.
        case connectionSpecific
        /// About the HTTP message rather than the call.
        case httpOnly
    }

    /// What `name` is, if it is one of the known headers: by its length
    /// first, so most names are compared with one literal or none.
    private static func known(_ name: UnsafeBufferPointer<UInt8>) -> Known? {
        switch name.count {
        case 2: return matches(name, "te") ? .te : nil
        case 4: return matches(name, "host") ? .host : nil
        case 7: return matches(name, "upgrade") ? .connectionSpecific : nil
        case 10:
            if matches(name, "user-agent") { return .userAgent }
            return matches(name, "connection") || matches(name, "keep-alive") ? .connectionSpecific : nil
        case 12:
            if matches(name, "content-type") { return .contentType }
            return matches(name, "grpc-timeout") ? .grpcTimeout : nil
        case 13: return matches(name, "grpc-encoding") ? .grpcEncoding : nil
        case 14: return matches(name, "content-length") ? .httpOnly : nil
        case 15: return matches(name, "accept-encoding") ? .httpOnly : nil
        case 16:
            if matches(name, "content-encoding") { return .httpOnly }
            return matches(name, "proxy-connection") ? .connectionSpecific : nil
        case 17: return matches(name, "transfer-encoding") ? .connectionSpecific : nil
        case 20: return matches(name, "grpc-accept-encoding") ? .grpcAcceptEncoding : nil
        default: return nil
        }
    }

    private static func literal(_ text: StaticString) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    private static func matches(_ name: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        same(name, literal(text))
    }

    private static func hasPrefix(_ name: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        name.count >= text.utf8CodeUnitCount && name.prefix(text.utf8CodeUnitCount).elementsEqual(literal(text))
    }

    private static func hasSuffix(_ name: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        name.count >= text.utf8CodeUnitCount && name.suffix(text.utf8CodeUnitCount).elementsEqual(literal(text))
    }

    private static func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ text: StaticString) -> Bool {
        bytes.count == text.utf8CodeUnitCount && bytes.elementsEqual(literal(text)) { byte, expected in
            ((UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte) == expected
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// `bytes` without leading and trailing spaces and tabs.
    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> Slice<UnsafeBufferPointer<UInt8>> {
        trimmed(bytes[...])
    }

    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }
}
