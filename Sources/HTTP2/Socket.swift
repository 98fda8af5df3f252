import CLinux
import Glibc

/// Socket helpers: non-blocking TCP on IPv4/IPv6 loopback or any address.
package enum Socket {
    /// A parsed `host:port` (`127.0.0.1:50051`, `[::1]:50051`, `localhost:50051`).
    package struct Address: Sendable, Hashable, CustomStringConvertible {
        package var host: String
        package var port: UInt16

        package init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port`; IPv6 hosts in brackets.
        package init(parsing text: String) throws(HTTP2Error) {
            let host: Substring, portText: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                    throw HTTP2Error(code: .address, message: "expected [host]:port, got \"\(text)\"")
                }
                host = text[text.index(after: text.startIndex)..<close]
                portText = text[text.index(close, offsetBy: 2)...]
            } else {
                guard let colon = text.lastIndex(of: ":") else {
                    throw HTTP2Error(code: .address, message: "expected host:port, got \"\(text)\"")
                }
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            }
            guard !host.isEmpty, let port = UInt16(portText) else {
                throw HTTP2Error(code: .address, message: "expected host:port with a port from 0 to 65535, got \"\(text)\"")
            }
            self.init(host: String(host), port: port)
        }

        package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Resolves `address` to socket addresses (numeric hosts without DNS).
    static func resolve(_ address: Address, passive: Bool) throws(HTTP2Error) -> [(family: Int32, storage: sockaddr_storage, length: socklen_t)] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(address.host, String(address.port), &hints, &list)
        guard rc == 0, let list else {
            throw HTTP2Error(code: .address, message: "cannot resolve \(address): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var result: [(Int32, sockaddr_storage, socklen_t)] = []
        var next: UnsafeMutablePointer<addrinfo>? = list
        while let info = next {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
            }
            result.append((info.pointee.ai_family, storage, info.pointee.ai_addrlen))
            next = info.pointee.ai_next
        }
        return result
    }

    /// A listening, non-blocking socket with SO_REUSEADDR and SO_REUSEPORT, so
    /// each event loop can have its own and the kernel spreads connections.
    static func listen(_ address: Address, backlog: Int32 = 1024) throws(HTTP2Error) -> Int32 {
        var lastError = HTTP2Error(code: .address, message: "no address for \(address)")
        for candidate in try resolve(address, passive: true) {
            let fd = socket(candidate.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = .system("socket", errno); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
            var storage = candidate.storage
            let bound = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, candidate.length) }
            }
            guard bound == 0 else { lastError = .system("bind \(address)", errno); close(fd); continue }
            guard CLinux.listen(fd, backlog) == 0 else { lastError = .system("listen", errno); close(fd); continue }
            return fd
        }
        throw lastError
    }

    /// Starts a non-blocking connect; completion shows as writability.
    package static func connect(_ address: Address) throws(HTTP2Error) -> Int32 {
        var lastError = HTTP2Error(code: .address, message: "no address for \(address)")
        for candidate in try resolve(address, passive: false) {
            let fd = socket(candidate.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = .system("socket", errno); continue }
            setNoDelay(fd)
            var storage = candidate.storage
            let rc = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { CLinux.connect(fd, $0, candidate.length) }
            }
            if rc == 0 || errno == EINPROGRESS { return fd }
            lastError = .system("connect \(address)", errno)
            close(fd)
        }
        throw lastError
    }

    /// The port a socket is bound to (for listeners on port 0).
    static func localPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return port(of: storage)
    }

    /// `host:port` of the peer.
    static func peerName(_ fd: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard rc == 0 else { return "unknown" }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        _ = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
            }
        }
        let name = host.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let port = port(of: storage)
        return name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)"
    }

    private static func port(of storage: sockaddr_storage) -> UInt16 {
        var storage = storage
        return withUnsafePointer(to: &storage) { pointer -> UInt16 in
            if Int32(pointer.pointee.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
