import CLinux
import COpenSSL
import Glibc

/// TLS settings shared by many connections: a certificate and key (server),
/// or the roots to verify the server against (client). ALPN offers and
/// requires `h2`.
package final class TLSContext: @unchecked Sendable {
    /// The OpenSSL context; immutable once built, shared by connections.
    let context: OpaquePointer
    /// Server or client.
    let role: HTTP2Connection.Role

    /// A server context from PEM files: the certificate chain and its key.
    package init(certificateChain: String, privateKey: String) throws(HTTP2Error) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw Self.error("SSL_CTX_new") }
        self.context = context
        self.role = .server
        copenssl_set_min_proto_version(context, TLS1_2_VERSION)
        guard SSL_CTX_use_certificate_chain_file(context, certificateChain) == 1 else {
            throw Self.error("cannot load the certificate chain \(certificateChain)")
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKey, SSL_FILETYPE_PEM) == 1 else {
            throw Self.error("cannot load the private key \(privateKey)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw Self.error("the private key does not match the certificate")
        }
        SSL_CTX_set_alpn_select_cb(context, { _, out, outLength, input, inputLength, _ in
            // Choose h2 if the client offers it; otherwise refuse the handshake.
            var offered = UnsafeBufferPointer(start: input, count: Int(inputLength))
            var index = 0
            while index < offered.count {
                let length = Int(offered[index])
                let start = index + 1
                if start + length <= offered.count, length == 2, offered[start] == UInt8(ascii: "h"), offered[start + 1] == UInt8(ascii: "2") {
                    out!.pointee = input! + start
                    outLength!.pointee = 2
                    return SSL_TLSEXT_ERR_OK
                }
                index = start + length
            }
            offered = UnsafeBufferPointer(start: nil, count: 0)
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }, nil)
    }

    /// A client context: verifies the server's certificate against the PEM
    /// roots in `trustRoots` (the system's when nil), unless `verify` is false.
    package init(trustRoots: String? = nil, verify: Bool = true) throws(HTTP2Error) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw Self.error("SSL_CTX_new") }
        self.context = context
        self.role = .client
        copenssl_set_min_proto_version(context, TLS1_2_VERSION)
        var alpn: [UInt8] = [2, UInt8(ascii: "h"), UInt8(ascii: "2")]
        guard SSL_CTX_set_alpn_protos(context, &alpn, UInt32(alpn.count)) == 0 else { throw Self.error("SSL_CTX_set_alpn_protos") }
        if verify {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            if let trustRoots {
                guard SSL_CTX_load_verify_locations(context, trustRoots, nil) == 1 else {
                    throw Self.error("cannot load trust roots \(trustRoots)")
                }
            } else {
                SSL_CTX_set_default_verify_paths(context)
            }
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
    }

    deinit { SSL_CTX_free(context) }

    /// The last OpenSSL error, with what was being done.
    static func error(_ what: String) -> HTTP2Error {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return HTTP2Error(code: .tls, message: what) }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        let reason = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return HTTP2Error(code: .tls, message: "\(what): \(reason)")
    }
}

/// TLS on one non-blocking socket. Owned by its connection, on its loop.
final class TLSConnection {
    private let ssl: OpaquePointer
    private(set) var handshakeDone = false
    private let role: HTTP2Connection.Role

    init(context: TLSContext, fd: Int32, role: HTTP2Connection.Role, serverName: String?) throws(HTTP2Error) {
        guard let ssl = SSL_new(context.context) else { throw TLSContext.error("SSL_new") }
        self.ssl = ssl
        self.role = role
        SSL_set_fd(ssl, fd)
        copenssl_set_mode(ssl, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        if role == .server {
            SSL_set_accept_state(ssl)
        } else {
            if let serverName {
                // SNI, and the name the certificate must carry.
                copenssl_set_tlsext_host_name(ssl, serverName)
                SSL_set1_host(ssl, serverName)
            }
            SSL_set_connect_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    func handshake() -> Transport.Handshake {
        let rc = SSL_do_handshake(ssl)
        if rc == 1 {
            var protocolName: UnsafePointer<UInt8>?
            var length: UInt32 = 0
            SSL_get0_alpn_selected(ssl, &protocolName, &length)
            guard length == 2, let protocolName, protocolName[0] == UInt8(ascii: "h"), protocolName[1] == UInt8(ascii: "2") else {
                return .failed(HTTP2Error(code: .tls, message: "the peer did not agree on ALPN h2"))
            }
            handshakeDone = true
            return .done
        }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default:
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                ERR_clear_error()
                return .failed(HTTP2Error(code: .tls, message: "certificate verification failed: \(String(cString: X509_verify_cert_error_string(verify)))"))
            }
            return .failed(TLSContext.error("TLS handshake failed"))
        }
    }

    /// Why the last read or write failed.
    private(set) var lastError: HTTP2Error?

    /// Decrypted bytes waiting in OpenSSL.
    var pending: Int32 { SSL_pending(ssl) }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        if rc > 0 { return Int(rc) }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return -Int(EAGAIN)
        case SSL_ERROR_ZERO_RETURN:
            peerGone = true
            return 0
        default:
            peerGone = true
            lastError = TLSContext.error("TLS read failed")
            return -Int(EIO)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        let rc = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
        if rc > 0 { return Int(rc) }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return -Int(EAGAIN)
        default:
            peerGone = true
            ERR_clear_error()
            return -Int(EPIPE)
        }
    }

    /// Set once the peer has closed or an I/O error happened: no close_notify then.
    private var peerGone = false

    func shutdown() {
        if handshakeDone && !peerGone { SSL_shutdown(ssl) }
        ERR_clear_error()
    }
}
