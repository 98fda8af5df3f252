import Synchronization

/// The mean server time per call over the last minute, in one-second
/// buckets: GetSystemHealth's `average_response_time`.
package final class ResponseTimes: Sendable {
    private struct Bucket {
        var second: Int64 = -1
        var calls: Int64 = 0
        var nanoseconds: Int64 = 0
    }

    private static let seconds = 60
    private let buckets = Mutex([Bucket](repeating: Bucket(), count: ResponseTimes.seconds))
    private let origin = ContinuousClock.now

    package init() {}

    /// Counts one call that took `duration`.
    package func record(_ duration: Duration, at now: ContinuousClock.Instant = .now) {
        let second = Self.second(of: now, since: origin)
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        buckets.withLock { buckets in
            let index = Int(second % Int64(Self.seconds))
            if buckets[index].second != second { buckets[index] = Bucket(second: second) }
            buckets[index].calls += 1
            buckets[index].nanoseconds += nanoseconds
        }
    }

    /// The mean over the calls of the last minute; zero without calls.
    package func average(at now: ContinuousClock.Instant = .now) -> Duration {
        let current = Self.second(of: now, since: origin)
        let (calls, total) = buckets.withLock { buckets in
            buckets.reduce(into: (Int64(0), Int64(0))) { sum, bucket in
                guard bucket.second >= 0, current - bucket.second < Int64(Self.seconds) else { return }
                sum.0 += bucket.calls
                sum.1 += bucket.nanoseconds
            }
        }
        return calls == 0 ? .zero : .nanoseconds(total / calls)
    }

    private static func second(of instant: ContinuousClock.Instant, since origin: ContinuousClock.Instant) -> Int64 {
        max(0, (instant - origin).components.seconds)
    }
}
