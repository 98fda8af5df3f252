/// How long to wait before the next connect attempt after consecutive
/// failures: `initial` after the first, doubling with each further failure,
/// never more than `maximum`.
struct Backoff: Hashable, Sendable {
    /// The wait after the first failure.
    var initial: Duration
    /// The cap of the doubling waits.
    var maximum: Duration

    /// The wait after the `failures`-th consecutive failure (1 for the first).
    func delay(afterFailures failures: Int) -> Duration {
        var delay = initial
        for _ in 1..<max(failures, 1) {
            delay *= 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }
}
