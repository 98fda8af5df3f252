/// How long to wait before each attempt to reconnect: `initial`, then twice
/// as long each time up to `maximum`, each delay spread by ±`jitter` (so many
/// clients that lost the same server do not return at the same moment).
/// `reset()` after a connection has worked.
package struct Backoff: Sendable {
    package var initial: Duration
    package var maximum: Duration
    /// The spread of each delay, as a fraction of it (0.2: ±20 %).
    package var jitter: Double
    private var failures = 0

    package init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(10), jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The delay before the next attempt, after one more failure. `random` is
    /// uniform in 0..<1 (the caller's generator, so tests choose it).
    package mutating func nextDelay(random: Double) -> Duration {
        var delay = initial
        for _ in 0..<min(failures, 32) where delay < maximum { delay *= 2 }
        delay = min(delay, maximum)
        failures += 1
        let factor = 1 - jitter + 2 * jitter * min(max(random, 0), 1)
        return delay * factor
    }

    /// The next failure waits `initial` again.
    package mutating func reset() {
        failures = 0
    }

    /// Failures since the last reset.
    package var attempts: Int { failures }
}
