import CLinux
import Glibc

/// The one error type of the HTTP/2 engine: a system call, nghttp2 or TLS
/// failure, with what failed and why.
package struct HTTP2Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    package enum Code: Sendable, Hashable {
        /// A system call failed (`errno` in the message).
        case system
        /// nghttp2 refused an operation.
        case protocolError
        /// TLS setup or handshake failed.
        case tls
        /// An address could not be parsed or resolved.
        case address
        /// The connection is closed.
        case closed
    }

    /// What kind of failure.
    package var code: Code
    /// What failed, for logs and error messages.
    package var message: String

    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// A failed system call with its errno.
    package static func system(_ call: String, _ errorNumber: Int32) -> HTTP2Error {
        HTTP2Error(code: .system, message: "\(call): \(String(cString: strerror(errorNumber)))")
    }

    package var description: String { message }
}
