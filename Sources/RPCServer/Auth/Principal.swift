import RPC

/// Who is calling: the user a valid token belongs to, and what it may do.
public struct Principal: Sendable, Hashable {
    /// The token's user.
    public var userID: Int64
    /// The token's row id (for audit rows and `last_used_at`).
    public var tokenID: Int64
    /// What the token may do.
    public var abilities: Set<Ability>

    public init(userID: Int64, tokenID: Int64, abilities: Set<Ability>) {
        self.userID = userID
        self.tokenID = tokenID
        self.abilities = abilities
    }

    /// Passes when the token has `ability`.
    ///
    /// - Throws: ``RPCError`` PERMISSION_DENIED naming the ability and the method.
    public func require(_ ability: Ability, for method: String) throws(RPCError) {
        guard abilities.contains(ability) else {
            throw RPCError(code: .permissionDenied, message: "\(method) needs the ability '\(ability.rawValue)', which this token does not have")
        }
    }
}
