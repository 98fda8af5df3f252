/// How a ``TimerClient`` retries calls that failed with `UNAVAILABLE`, and
/// how it paces reconnection to a server that is down.
///
/// Only calls that are safe to repeat are retried: reads, and writes that
/// carry their own idempotency key (`client_ref` on CreateTimer,
/// `expected_sync_version` on transitions, updates and deletes; SyncTimers,
/// whose re-sent requests the server recognises). Retries stay within the
/// call's deadline. The waits grow from ``initialBackoff`` by ``multiplier``
/// per failure up to ``maxBackoff``, each randomised by ±``jitter``.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included: 1 means no retries.
    public var maxAttempts: Int
    /// The wait after the first failure.
    public var initialBackoff: Duration
    /// The longest wait between two attempts.
    public var maxBackoff: Duration
    /// How much each further failure multiplies the wait (at least 1).
    public var multiplier: Double
    /// Each wait is scaled by a random factor within 1 ± jitter (0 to 1), so
    /// clients that lost the same server do not return to it in step.
    public var jitter: Double

    /// A policy; the defaults make 4 attempts with waits of 100 ms, 200 ms
    /// and 400 ms (doubling, never beyond 2 s), ±20 %.
    public init(maxAttempts: Int = 4, initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(2),
                multiplier: Double = 2, jitter: Double = 0.2) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = max(.zero, initialBackoff)
        self.maxBackoff = max(self.initialBackoff, maxBackoff)
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(0, jitter), 1)
    }

    /// No retries: every call is made once.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait after `failures` consecutive failures (1 for the first):
    /// `initialBackoff × multiplier^(failures − 1)`, at most `maxBackoff`,
    /// scaled by `1 + jitter × (2 × random − 1)` for `random` in 0...1.
    public func backoff(afterFailures failures: Int, random: Double) -> Duration {
        let initial = Self.seconds(initialBackoff)
        let cap = Self.seconds(maxBackoff)
        var wait = initial
        var step = 1
        while step < failures && wait < cap {
            wait *= multiplier
            step += 1
        }
        wait = min(wait, cap)
        let factor = 1 + jitter * (2 * min(max(random, 0), 1) - 1)
        return .nanoseconds(Int64((wait * factor * 1e9).rounded()))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
