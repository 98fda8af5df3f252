/// Where and how to connect to Redis, parsed from a URL of the form
/// `redis://[[username]:password@]host[:port][/database]`.
///
/// The port defaults to 6379 and the database to 0. An IPv6 address is
/// written in brackets (`redis://[::1]:6379`). User name and password may be
/// percent-encoded. TLS (`rediss://`), query parameters and fragments are
/// rejected rather than silently ignored.
package struct RedisURL: Sendable, Hashable {
    /// The host name or IP address (an IPv6 address without its brackets).
    package var host: String
    /// The TCP port.
    package var port: Int
    /// The logical database selected after connecting.
    package var database: Int
    /// The ACL user name for `AUTH`, if any.
    package var username: String?
    /// The password for `AUTH`, if any.
    package var password: String?

    /// The port Redis listens on unless told otherwise.
    package static let defaultPort = 6379

    /// Creates a description from its parts.
    package init(
        host: String,
        port: Int = RedisURL.defaultPort,
        database: Int = 0,
        username: String? = nil,
        password: String? = nil
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
    }

    /// Parses `url`.
    ///
    /// - Throws: `invalidURL`, with a message that says which part is wrong.
    package init(_ url: String) throws(LiveStateError) {
        let scheme = "redis://"
        guard url.hasPrefix(scheme) else {
            throw Self.invalid("must start with \(scheme)")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        guard !rest.contains("?"), !rest.contains("#") else {
            throw Self.invalid("query parameters and fragments are not supported")
        }

        // The authority ends at the first "/"; what follows is the database.
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        username = nil
        password = nil
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userInfo[..<colon])
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else {
                // A lone user-info part is the password, as for redis-cli -u.
                password = try Self.percentDecoded(userInfo)
            }
        }

        var portText: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw Self.invalid("unterminated IPv6 address")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let afterHost = rest[rest.index(after: close)...]
            if !afterHost.isEmpty {
                guard afterHost.hasPrefix(":") else {
                    throw Self.invalid("unexpected characters after the IPv6 address")
                }
                portText = afterHost.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        guard !host.isEmpty else {
            throw Self.invalid("no host")
        }
        guard !host.utf8.contains(0), !host.contains(":") || rest.hasPrefix("[") else {
            throw Self.invalid("malformed host '\(host)'")
        }

        if let portText {
            guard let port = Int(portText), (1...65_535).contains(port) else {
                throw Self.invalid("port '\(portText)' is not a number in 1...65535")
            }
            self.port = port
        } else {
            self.port = Self.defaultPort
        }

        if path.isEmpty {
            database = 0
        } else {
            guard let database = Int(path), database >= 0 else {
                throw Self.invalid("database '\(path)' is not a non-negative number")
            }
            self.database = database
        }
    }

    private static func invalid(_ reason: String) -> LiveStateError {
        LiveStateError(code: .invalidURL, message: "invalid Redis URL: \(reason)")
    }

    private static func percentDecoded(_ text: Substring) throws(LiveStateError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw invalid("malformed percent-encoding in the user information")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
