/// What a token may do. Each TimerService method needs one ability; a token
/// without it gets PERMISSION_DENIED.
public enum Ability: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Read timers, sessions, meta, and watch events.
    case read = "timers:read"
    /// Create, pause, resume, stop and update timers.
    case write = "timers:write"
    /// Delete timers.
    case delete = "timers:delete"
    /// Synchronise a device's offline changes.
    case sync = "timers:sync"
    /// Oversee and act on other users' timers in the admin's accounts.
    case admin = "timers:admin"

    public var description: String { rawValue }

    /// Parses a comma-separated list such as `timers:read,timers:write`
    /// (spaces around names allowed; duplicates kept once).
    ///
    /// - Throws: ``AuthError`` naming the unknown ability, or for an empty list.
    public static func parseList(_ text: String) throws(AuthError) -> Set<Ability> {
        var abilities = Set<Ability>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingSpaces()
            guard let ability = Ability(rawValue: name) else {
                let known = Ability.allCases.map(\.rawValue).joined(separator: ", ")
                throw AuthError("unknown ability '\(name)'; known: \(known)")
            }
            abilities.insert(ability)
        }
        guard !abilities.isEmpty else { throw AuthError("no ability given") }
        return abilities
    }
}

/// A token or ability that cannot be used, and why.
public struct AuthError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
