extension RedisConnection {
    /// Connects as `url` says (`redis://[[username]:password@]host[:port][/database]`),
    /// authenticates when it names a password, and selects its database when
    /// that is not 0.
    ///
    /// Blocks like every call on a connection; see `RedisConnection`.
    ///
    /// - Throws: `invalidURL` when `url` cannot be parsed; `connectionFailed`
    ///   when Redis cannot be reached or refuses `AUTH` or `SELECT`; the
    ///   errors of `command(_:)` when the connection fails during setup.
    package convenience init(url: String, timeout: Duration = .seconds(5)) throws(LiveStateError) {
        try self.init(redisURL: RedisURL(url), timeout: timeout)
    }

    /// Connects to the server `url` describes; see `init(url:timeout:)`.
    package convenience init(redisURL url: RedisURL, timeout: Duration = .seconds(5)) throws(LiveStateError) {
        try self.init(host: url.host, port: url.port, timeout: timeout)
        if let password = url.password {
            var arguments = ["AUTH"]
            if let username = url.username { arguments.append(username) }
            arguments.append(password)
            try expectOK(command(arguments), from: "AUTH")
        }
        if url.database != 0 {
            try expectOK(command(["SELECT", String(url.database)]), from: "SELECT \(url.database)")
        }
    }

    private func expectOK(_ reply: RedisReply, from command: String) throws(LiveStateError) {
        switch reply {
        case .status("OK"):
            return
        case .error(let message):
            throw LiveStateError(code: .connectionFailed, message: "\(command) was refused: \(message)")
        default:
            throw LiveStateError(code: .protocolError, message: "\(command) answered \(reply) instead of OK")
        }
    }
}
