import Glibc

extension MetricsHTTPServer {
    /// A response's bytes (status line, headers, body) and whether the
    /// connection closes after it.
    struct Response {
        var bytes: [UInt8]
        var close: Bool
    }

    /// The content type of Prometheus' text exposition format.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The response to a well-formed request: routing is `/metrics` or
    /// nothing. `render` is called for a GET or HEAD of `/metrics` (HEAD
    /// sends the length of the body a GET would get, not the body).
    static func response(to request: Request, render: () -> [UInt8]) -> Response {
        let isHead = request.method == .head
        // The body of a request with one is not read, so the connection
        // cannot go on after the response.
        let close = !request.keepAlive || request.hasBody
        let keepAliveHeader = request.minorVersion == 0 && !close
        if request.hasBody && (request.method == .get || isHead) {
            return response(to: .bad("a GET or HEAD request must not have a body"))
        }
        guard request.path == "/metrics" else {
            return Response(bytes: encode(status: "404 Not Found", contentType: "text/plain; charset=utf-8",
                                          body: Array("not found: this server serves /metrics only\n".utf8),
                                          omitBody: isHead, close: close, keepAlive: keepAliveHeader), close: close)
        }
        switch request.method {
        case .get, .head:
            return Response(bytes: encode(status: "200 OK", contentType: metricsContentType, body: render(),
                                          omitBody: isHead, close: close, keepAlive: keepAliveHeader), close: close)
        case .other(let method):
            return Response(bytes: encode(status: "405 Method Not Allowed", contentType: "text/plain; charset=utf-8",
                                          body: Array("method \(method) not allowed: use GET or HEAD\n".utf8),
                                          omitBody: false, close: close, keepAlive: keepAliveHeader,
                                          extra: "Allow: GET, HEAD\r\n"), close: close)
        }
    }

    /// The response to a malformed request: the connection closes after it.
    static func response(to rejection: Rejection) -> Response {
        let status = switch rejection.status {
        case .badRequest: "400 Bad Request"
        case .versionNotSupported: "505 HTTP Version Not Supported"
        }
        return Response(bytes: encode(status: status, contentType: "text/plain; charset=utf-8",
                                      body: Array((rejection.message + "\n").utf8),
                                      omitBody: false, close: true, keepAlive: false), close: true)
    }

    /// The status line, `Date`, `Content-Type`, `Content-Length` (of `body`,
    /// even when it is omitted for HEAD), `extra`, `Connection`, then the body.
    private static func encode(status: String, contentType: String, body: [UInt8], omitBody: Bool,
                               close: Bool, keepAlive: Bool, extra: String = "") -> [UInt8] {
        var head = "HTTP/1.1 \(status)\r\nDate: \(httpDate())\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        head += extra
        if close { head += "Connection: close\r\n" } else if keepAlive { head += "Connection: keep-alive\r\n" }
        head += "\r\n"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.utf8.count + (omitBody ? 0 : body.count))
        bytes.append(contentsOf: head.utf8)
        if !omitBody { bytes.append(contentsOf: body) }
        return bytes
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Now, as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), without the
    /// locale.
    static func httpDate() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday) % 7]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon) % 12]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
