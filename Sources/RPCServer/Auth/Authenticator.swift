import RPC
import Storage
import Synchronization

/// Turns a request's `authorization: Bearer` token into a ``Principal``.
///
/// Valid grants are cached for a few seconds by token hash, so a busy client
/// costs one database lookup per interval, not per call; a revocation takes
/// effect within that interval.
final class Authenticator: Sendable {
    private let tokens: TokenRepository
    private let cacheLifetime: Duration
    private struct Entry { var principal: Principal; var until: ContinuousClock.Instant }
    private let cache = Mutex<[[UInt8]: Entry]>([:])
    /// Beyond this many cached tokens, expired entries are dropped first.
    private let cacheLimit = 10_000

    init(tokens: TokenRepository, cacheLifetime: Duration = .seconds(5)) {
        self.tokens = tokens
        self.cacheLifetime = cacheLifetime
    }

    /// The caller of a request.
    ///
    /// - Throws: ``RPCError`` UNAUTHENTICATED (no, malformed, unknown, revoked
    ///   or expired token), or the status of a database failure.
    func principal(for context: ServerContext) async throws -> Principal {
        let token = try APIToken.bearer(in: context.requestMetadata)
        let hash = token.hash
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[hash] }), cached.until > now { return cached.principal }
        guard let grant = try await tokens.grant(forHash: hash, deadline: context.deadline) else {
            throw RPCError(code: .unauthenticated, message: "the token is not known")
        }
        if grant.revoked { throw RPCError(code: .unauthenticated, message: "the token was revoked") }
        if grant.expired { throw RPCError(code: .unauthenticated, message: "the token has expired") }
        let principal = Principal(userID: grant.userID, tokenID: grant.tokenID,
                                  abilities: Set(grant.abilities.compactMap(Ability.init(rawValue:))))
        cache.withLock { cache in
            if cache.count >= cacheLimit { cache = cache.filter { $0.value.until > now } }
            if cache.count < cacheLimit { cache[hash] = Entry(principal: principal, until: now + cacheLifetime) }
        }
        return principal
    }
}
