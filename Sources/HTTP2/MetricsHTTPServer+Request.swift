extension MetricsHTTPServer {
    /// One HTTP/1.x request's header section, parsed.
    struct Request: Sendable, Hashable {
        enum Method: Sendable, Hashable {
            case get, head
            case other(String)
        }

        var method: Method
        /// The request target as sent: a path, maybe with a query.
        var target: String
        /// 0 for HTTP/1.0, 1 for HTTP/1.1.
        var minorVersion: Int
        /// Whether the client asks to keep the connection open after the
        /// response: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with
        /// `Connection: keep-alive`.
        var keepAlive: Bool
        /// Whether a body follows the header section (`Content-Length` above
        /// 0, or any `Transfer-Encoding`). This server reads no body.
        var hasBody: Bool

        /// The target without its query.
        var path: Substring {
            target[..<(target.firstIndex(of: "?") ?? target.endIndex)]
        }
    }

    /// Why a request is refused before it is routed; the connection closes
    /// after the response.
    struct Rejection: Error, Sendable, Hashable {
        enum Status: Sendable, Hashable {
            /// 400 Bad Request.
            case badRequest
            /// 505 HTTP Version Not Supported.
            case versionNotSupported
        }

        var status: Status
        /// What is wrong with the request, for the response body.
        var message: String

        static func bad(_ message: String) -> Rejection { Rejection(status: .badRequest, message: message) }
    }

    /// Reads one request's header section from the bytes received so far,
    /// strictly: CRLF line ends only, printable ASCII (and tabs in header
    /// values) only, no folded header lines, at most `maxHeaderBytes` bytes.
    /// Rejects as soon as the bytes seen prove the request wrong, so a client
    /// sending garbage learns it at once rather than at the timeout.
    ///
    /// Holds where it stopped scanning, so bytes arriving one at a time are
    /// each looked at once. Pure: no clock, no socket. Not Sendable in use:
    /// one connection owns it.
    struct RequestParser {
        enum Result: Hashable {
            /// More bytes are needed.
            case incomplete
            /// A whole header section: the request, and how many bytes of the
            /// input it took (what follows is the next request).
            case request(Request, length: Int)
            /// The request is malformed; nothing after it is read.
            case rejected(Rejection)
        }

        let maxHeaderBytes: Int
        private var scanned = 0
        private var requestLine: (method: Request.Method, target: String, minorVersion: Int)?
        private var requestLineEnd = 0

        init(maxHeaderBytes: Int) {
            self.maxHeaderBytes = maxHeaderBytes
        }

        /// Forgets the request parsed, for the next one (whose bytes start at
        /// the beginning of the input given to ``parse(_:)``).
        mutating func reset() {
            scanned = 0
            requestLine = nil
            requestLineEnd = 0
        }

        /// Looks at `input` (the current request's bytes from its first one;
        /// earlier calls saw a prefix of it).
        mutating func parse(_ input: [UInt8]) -> Result {
            var index = scanned
            while index < input.count {
                let byte = input[index]
                if index > 0 && input[index - 1] == .cr && byte != .lf {
                    return .rejected(.bad("a CR not followed by LF"))
                }
                if byte == .lf {
                    guard index > 0 && input[index - 1] == .cr else {
                        return .rejected(.bad("a line ends with LF alone; lines end with CRLF"))
                    }
                    if requestLine == nil {
                        switch Self.parseRequestLine(input[0..<(index - 1)]) {
                        case .success(let line): requestLine = line
                        case .failure(let rejection): return .rejected(rejection)
                        }
                        requestLineEnd = index + 1
                    } else if index >= 3 && input[index - 2] == .lf {
                        // An empty line: the header section ends here.
                        let length = index + 1
                        guard length <= maxHeaderBytes else { return .rejected(tooLarge) }
                        guard let line = requestLine else { return .rejected(.bad("no request line")) }
                        switch Self.parseHeaders(input[requestLineEnd..<(index - 1)], minorVersion: line.minorVersion) {
                        case .success(let fields):
                            return .request(Request(method: line.method, target: line.target, minorVersion: line.minorVersion,
                                                    keepAlive: fields.keepAlive, hasBody: fields.hasBody), length: length)
                        case .failure(let rejection):
                            return .rejected(rejection)
                        }
                    }
                } else if byte != .cr && byte != .tab && (byte < 0x20 || byte > 0x7e) {
                    return .rejected(.bad("byte 0x\(String(byte, radix: 16)) in the header section; only printable ASCII is accepted"))
                }
                index += 1
            }
            scanned = index
            if input.count > maxHeaderBytes { return .rejected(tooLarge) }
            return .incomplete
        }

        private var tooLarge: Rejection { .bad("the header section is over \(maxHeaderBytes) bytes") }

        private static let http2Preface = Array("PRI * HTTP/2.0".utf8)

        /// `method SP request-target SP HTTP-version`, single spaces.
        static func parseRequestLine(_ line: ArraySlice<UInt8>) -> Swift.Result<(method: Request.Method, target: String, minorVersion: Int), Rejection> {
            if line.elementsEqual(http2Preface) {
                return .failure(.bad("this port serves HTTP/1.1 (metrics), not HTTP/2"))
            }
            let parts = line.split(separator: .space, omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                return .failure(.bad("the request line must be METHOD SP TARGET SP HTTP-VERSION"))
            }
            let method = parts[0], target = parts[1], version = parts[2]
            guard !method.isEmpty, method.allSatisfy(isTokenByte) else { return .failure(.bad("malformed method")) }
            guard target.first == .slash, target.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                return .failure(.bad("the request target must be a path starting with /"))
            }
            let digits = Array(version.dropFirst(5))
            guard version.count == 8, version.starts(with: "HTTP/".utf8), digits[1] == .dot,
                  isDigit(digits[0]), isDigit(digits[2]) else {
                return .failure(.bad("malformed HTTP version"))
            }
            guard digits[0] == UInt8(ascii: "1"), digits[2] == UInt8(ascii: "0") || digits[2] == UInt8(ascii: "1") else {
                return .failure(Rejection(status: .versionNotSupported,
                                          message: "\(String(decoding: version, as: UTF8.self)) is not supported; use HTTP/1.1"))
            }
            let methodName = String(decoding: method, as: UTF8.self)
            let parsedMethod: Request.Method = switch methodName {
            case "GET": .get
            case "HEAD": .head
            default: .other(methodName)
            }
            return .success((parsedMethod, String(decoding: target, as: UTF8.self), Int(digits[2] - UInt8(ascii: "0"))))
        }

        /// The header lines (CRLF-separated, without the final empty line).
        /// Only `Host`, `Content-Length`, `Transfer-Encoding` and `Connection`
        /// matter; the others are checked for form and ignored.
        static func parseHeaders(_ block: ArraySlice<UInt8>, minorVersion: Int) -> Swift.Result<(keepAlive: Bool, hasBody: Bool), Rejection> {
            var hosts = 0
            var contentLength: ArraySlice<UInt8>?
            var chunkedOrOther = false
            var close = false, keepAlive = false
            var start = block.startIndex
            while start < block.endIndex {
                var end = start
                while end < block.endIndex && block[end] != .cr { end += 1 }
                let line = block[start..<end]
                start = end + 2
                guard let first = line.first else { return .failure(.bad("an empty header line")) }
                if first == .space || first == .tab {
                    return .failure(.bad("folded header lines are not accepted"))
                }
                guard let colon = line.firstIndex(of: .colon) else {
                    return .failure(.bad("a header line without a colon"))
                }
                let name = line[line.startIndex..<colon]
                guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
                    return .failure(.bad("malformed header name"))
                }
                var value = line[(colon + 1)...]
                while let byte = value.first, byte == .space || byte == .tab { value = value.dropFirst() }
                while let byte = value.last, byte == .space || byte == .tab { value = value.dropLast() }
                switch lowercased(name) {
                case "host":
                    hosts += 1
                    if hosts > 1 { return .failure(.bad("more than one Host header")) }
                case "content-length":
                    guard !value.isEmpty, value.allSatisfy(isDigit) else {
                        return .failure(.bad("malformed Content-Length"))
                    }
                    let significant = value.drop { $0 == UInt8(ascii: "0") }
                    if let previous = contentLength, !previous.elementsEqual(significant) {
                        return .failure(.bad("conflicting Content-Length headers"))
                    }
                    contentLength = significant
                case "transfer-encoding":
                    chunkedOrOther = true
                case "connection":
                    for option in value.split(separator: .comma) {
                        var token = option[...]
                        while let byte = token.first, byte == .space || byte == .tab { token = token.dropFirst() }
                        while let byte = token.last, byte == .space || byte == .tab { token = token.dropLast() }
                        switch lowercased(token) {
                        case "close": close = true
                        case "keep-alive": keepAlive = true
                        default: break
                        }
                    }
                default:
                    break
                }
            }
            if chunkedOrOther && contentLength != nil {
                return .failure(.bad("both Content-Length and Transfer-Encoding"))
            }
            let hasBody = chunkedOrOther || !(contentLength?.isEmpty ?? true)
            let persistent = minorVersion == 1 ? !close : keepAlive && !close
            return .success((persistent, hasBody))
        }

        /// RFC 9110 `tchar`.
        static func isTokenByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        private static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
            String(decoding: bytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
    }
}

private extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let tab = UInt8(ascii: "\t")
    static let space = UInt8(ascii: " ")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let dot = UInt8(ascii: ".")
    static let slash = UInt8(ascii: "/")
}
