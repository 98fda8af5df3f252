/// The pace at which one client goes back to a server it cannot reach,
/// shared by every call and watch of that client.
///
/// A connection loss fails every call in flight at once; counting each of
/// those failures would push the wait to its maximum at the first outage.
/// So failures are counted per *epoch*: an attempt takes the current epoch
/// when it starts (``ticket``), and only the first failure reported for an
/// epoch counts and opens the next one; the others learn the wait already
/// set. Any answer from the server (``succeeded()``) ends the outage.
///
/// Pure: the caller passes the time and the random number for jitter, and
/// does the waiting.
struct ConnectionBackoff: Sendable {
    private enum State: Sendable {
        /// The server answered last.
        case reachable
        /// `failures` epochs in a row failed; no attempt before `retryAt`.
        case failing(failures: Int, retryAt: ContinuousClock.Instant)
    }

    private var state = State.reachable
    private var epoch = 0

    /// The epoch an attempt starting now belongs to.
    var ticket: Int { epoch }

    /// Consecutive failed epochs (0 while the server is reachable).
    var failures: Int {
        if case .failing(let failures, _) = state { return failures }
        return 0
    }

    /// The server answered (with any status but UNAVAILABLE): the outage,
    /// if any, is over.
    mutating func succeeded() {
        if case .failing = state {
            state = .reachable
            epoch += 1
        }
    }

    /// An attempt of epoch `ticket` failed with UNAVAILABLE at `now`; returns
    /// when the next attempt may start.
    mutating func failed(ticket: Int, at now: ContinuousClock.Instant, policy: RetryPolicy, random: Double)
        -> ContinuousClock.Instant
    {
        guard ticket == epoch else {
            // Counted already (or from before the server came back).
            if case .failing(_, let retryAt) = state { return retryAt }
            return now
        }
        let failures = self.failures + 1
        let retryAt = now + policy.backoff(afterFailures: failures, random: random)
        state = .failing(failures: failures, retryAt: retryAt)
        epoch += 1
        return retryAt
    }
}
