import Foundation
import TimerDomain

/// The position after the last row of a page, for keyset pagination: the
/// sort instant and the id of that row.
///
/// Lists are ordered by `(instant, id)`, a key that never changes for a row,
/// and the next page starts strictly after the position, so rows inserted
/// between pages never make an existing row repeat or be skipped.
///
/// Callers see a `PageToken` only as an opaque string (`encode(scope:)`):
/// base64url of `v1.<scope hash>.<instant µs>.<id>`. The scope hash binds a
/// token to the list and filters it was issued for, so a token reused with
/// other filters is refused instead of silently paging something else.
package struct PageToken: Sendable, Hashable {
    /// The sort instant of the last row returned.
    package var instant: Instant
    /// The id of the last row returned.
    package var id: Int64

    /// A position.
    package init(instant: Instant, id: Int64) {
        self.instant = instant
        self.id = id
    }

    /// The opaque token for this position in the list `scope` names.
    package func encode(scope: String) -> String {
        let text = "v1.\(Self.hash(scope)).\(instant.microsecondsSinceEpoch).\(id)"
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The position in `token`; nil for an empty token (the first page).
    ///
    /// Throws INVALID_ARGUMENT naming `field` when the token is not one this
    /// service issued, or was issued for another list or other filters.
    package static func decode(_ token: String, scope: String, field: String = "page_token") throws(TimerDomainError) -> PageToken? {
        if token.isEmpty { return nil }
        let malformed = TimerDomainError(
            code: .invalidArgument,
            message: "\(field) is malformed: pass the next_page_token of a previous response unchanged",
            field: field
        )
        guard token.utf8.count <= 200 else { throw malformed }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else {
            throw malformed
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1",
              let scopeHash = UInt64(parts[1]),
              let micros = Int64(parts[2]),
              let id = Int64(parts[3]), id > 0
        else { throw malformed }
        guard scopeHash == hash(scope) else {
            throw TimerDomainError(
                code: .invalidArgument,
                message: "\(field) was issued for a different list or different filters",
                field: field
            )
        }
        return PageToken(instant: Instant(microsecondsSinceEpoch: micros), id: id)
    }

    /// 64-bit FNV-1a: stable across processes and releases (unlike
    /// `Hasher`), which tokens held by clients need.
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return value
    }
}
