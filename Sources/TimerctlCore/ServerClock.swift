import Codec

/// The server's clock as seen from the client: the server time of the last
/// message that said what time it was, carried forward by the client's
/// monotonic clock. Durations tick from it, so a client whose wall clock is
/// off still shows what the server would.
///
/// It never goes back by less than `tolerance` (network delay makes each
/// reading a little old; without this a second could show twice), and jumps
/// back only when the server's clock itself did (a reading further behind).
/// Readings of events replayed after a reconnect are old and carry nothing new.
package struct ServerClock: Sendable {
    /// Readings further behind than this move the clock back.
    package var tolerance: Duration = .seconds(5)
    private var anchor: (server: Int64, local: Duration)?

    package init() {}

    /// The estimated server time (microseconds since the epoch) at `local`
    /// (the client's monotonic clock); nil before any reading.
    package func now(at local: Duration) -> Int64? {
        guard let anchor else { return nil }
        let (seconds, attoseconds) = (local - anchor.local).components
        return anchor.server + seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Takes a reading: the server said it was `server` when a message sent
    /// at that moment arrived at `local`. `current` readings (snapshots,
    /// heartbeats) were made as they were sent; others (changes, possibly
    /// replayed) may be old and only move the clock forward.
    package mutating func observe(_ server: Timestamp, at local: Duration, current: Bool) {
        let reading = Time.microseconds(server)
        guard let estimate = now(at: local) else {
            anchor = (reading, local)
            return
        }
        let (seconds, attoseconds) = tolerance.components
        let toleranceMicroseconds = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        if reading > estimate || (current && reading < estimate - toleranceMicroseconds) {
            anchor = (reading, local)
        }
    }
}
