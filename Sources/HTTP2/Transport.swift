import CLinux
import Glibc

/// How bytes move on a connection's socket: as they are (h2c), or through TLS.
enum Transport {
    case plain
    case tls(TLSConnection)

    enum Handshake {
        case done, wantRead, wantWrite
        case failed(HTTP2Error)
    }

    var isPlain: Bool {
        if case .plain = self { return true }
        return false
    }

    var handshakeDone: Bool {
        switch self {
        case .plain: true
        case .tls(let tls): tls.handshakeDone
        }
    }

    func handshake() -> Handshake {
        switch self {
        case .plain: .done
        case .tls(let tls): tls.handshake()
        }
    }

    /// Bytes read (> 0), 0 at end of stream, -EAGAIN when nothing is there,
    /// another negative errno on failure.
    func read(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        switch self {
        case .plain:
            while true {
                let n = CLinux.read(fd, buffer.baseAddress, buffer.count)
                if n >= 0 { return n }
                if errno == EINTR { continue }
                return errno == EWOULDBLOCK ? -Int(EAGAIN) : -Int(errno)
            }
        case .tls(let tls):
            return tls.read(into: buffer)
        }
    }

    /// Bytes written (> 0), -EAGAIN when the socket is full, another negative
    /// errno on failure.
    func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        switch self {
        case .plain:
            while true {
                let n = CLinux.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                if n >= 0 { return n }
                if errno == EINTR { continue }
                return errno == EWOULDBLOCK ? -Int(EAGAIN) : -Int(errno)
            }
        case .tls(let tls):
            return tls.write(bytes)
        }
    }

    func shutdown() {
        if case .tls(let tls) = self { tls.shutdown() }
    }

    /// Whether TLS holds decrypted input not yet read.
    var hasBufferedInput: Bool {
        if case .tls(let tls) = self { return tls.pending > 0 }
        return false
    }

    /// What failed, when TLS knows better than errno.
    var lastError: HTTP2Error? {
        if case .tls(let tls) = self { return tls.lastError }
        return nil
    }
}
