import TimerDomain

/// API tokens as the server sees them: looked up by the SHA-256 of the token
/// (the token itself is never stored).
package struct TokenRepository: Sendable {
    /// A stored token's grant.
    package struct Grant: Sendable, Hashable {
        /// The token's row id.
        package var tokenID: Int64
        /// Its user.
        package var userID: Int64
        /// Ability names as stored (`timers:read`, …).
        package var abilities: [String]
        /// Whether it was revoked.
        package var revoked: Bool
        /// Whether it has expired (by the database's clock).
        package var expired: Bool
    }

    private static let lookup = PreparedStatement(name: "token_lookup", sql: """
        SELECT id, user_id, array_to_string(abilities, ','), revoked_at IS NOT NULL,
               expires_at IS NOT NULL AND expires_at <= now()
        FROM api_tokens WHERE token_hash = $1::bytea
        """)

    package let pool: PostgresPool

    package init(pool: PostgresPool) {
        self.pool = pool
    }

    /// The grant of the token whose SHA-256 is `hash`, or nil when no token has it.
    package func grant(forHash hash: [UInt8], deadline: ContinuousClock.Instant? = nil) async throws -> Grant? {
        let result = try await pool.withConnection(deadline: deadline) { connection in
            try await connection.execute(Self.lookup, [Bytea.parameter(hash)])
        }
        guard let row = result.rows.first else { return nil }
        guard let id = row[0].flatMap({ Int64($0) }), let user = row[1].flatMap({ Int64($0) }) else {
            throw TimerDomainError(code: .inconsistentState, message: "a stored token row is incomplete")
        }
        let abilities = (row[2] ?? "").split(separator: ",").map(String.init)
        return Grant(tokenID: id, userID: user, abilities: abilities, revoked: row[3] == "t", expired: row[4] == "t")
    }
}
