/// A sliding-window rate limit: at most `limit` admissions in any `window`.
/// The same rule the shared Redis limit applies; this one counts in one
/// process, for when Redis cannot be reached. Time is given, never read.
package struct SlidingWindowLimit: Sendable {
    /// Admissions allowed per window.
    package let limit: Int
    /// The window, in microseconds.
    package let windowMicroseconds: Int64
    /// Admission times per key, oldest first; only those inside the window.
    private var admitted: [Int64: [Instant]] = [:]

    package init(limit: Int, windowSeconds: Int64) {
        self.limit = max(1, limit)
        self.windowMicroseconds = max(1, windowSeconds) * 1_000_000
    }

    /// Admits one call for `key` at `now`, or says how many microseconds
    /// until one would be admitted.
    package mutating func admit(_ key: Int64, at now: Instant) -> (admitted: Bool, retryAfterMicroseconds: Int64) {
        let horizon = now.microsecondsSinceEpoch - windowMicroseconds
        var times = admitted[key, default: []]
        times.removeAll { $0.microsecondsSinceEpoch <= horizon }
        defer { admitted[key] = times.isEmpty ? nil : times }
        guard times.count < limit else {
            let wait = times[0].microsecondsSinceEpoch - horizon
            return (false, max(1, wait))
        }
        times.append(now)
        return (true, 0)
    }

    /// Forgets keys with no admission inside the window at `now`.
    package mutating func prune(at now: Instant) {
        let horizon = now.microsecondsSinceEpoch - windowMicroseconds
        admitted = admitted.filter { $0.value.last.map { $0.microsecondsSinceEpoch > horizon } ?? false }
    }
}
