import CoreMetrics

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The live half's metrics: events from commit to watcher.
///
/// ```
/// timerd_events_published_total{via}         changes published: via="redis" (every instance hears them),
///                                            via="local" (Redis unreachable: this instance's watchers only)
/// timerd_redis_publish_failures_total        publishes Redis did not take (the change is in PostgreSQL)
/// timerd_events_received_total               events heard on Redis pub/sub for users watched here
/// timerd_events_undecodable_total            messages that could not be opened or read (a wrong state key?)
/// timerd_events_delivered_total              events queued to WatchTimers streams, one per stream
/// timerd_watch_overflows_total               items dropped from a stream too slow to keep up (it gets a snapshot)
/// timerd_event_delivery_lag_seconds          from a change's commit time to its arrival here, histogram
/// ```
/// Made once per live half; each update is an atomic operation.
package final class LiveMetrics: Sendable {
    let publishedViaRedis: Counter
    let publishedLocally: Counter
    let publishFailures: Counter
    let received: Counter
    let undecodable: Counter
    let delivered: Counter
    let overflows: Counter
    let lag: CoreMetrics.Timer

    /// Metrics kept by `factory` (by default the one `MetricsSystem.bootstrap`
    /// installed, or none).
    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        publishedViaRedis = Counter(label: "timerd_events_published_total", dimensions: [("via", "redis")], factory: factory)
        publishedLocally = Counter(label: "timerd_events_published_total", dimensions: [("via", "local")], factory: factory)
        publishFailures = Counter(label: "timerd_redis_publish_failures_total", factory: factory)
        received = Counter(label: "timerd_events_received_total", factory: factory)
        undecodable = Counter(label: "timerd_events_undecodable_total", factory: factory)
        delivered = Counter(label: "timerd_events_delivered_total", factory: factory)
        overflows = Counter(label: "timerd_watch_overflows_total", factory: factory)
        lag = CoreMetrics.Timer(label: "timerd_event_delivery_lag_seconds", factory: factory)
    }

    /// Records the lag of an event that happened at `seconds`/`nanos` since
    /// the epoch on the committing server's clock (0 when unknown: not
    /// recorded). A clock behind the committer's reads as no lag.
    func recordLag(occurredSeconds seconds: Int64, nanos: Int32) {
        guard seconds > 0 else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = (Int64(now.tv_sec) - seconds) * 1_000_000_000 + (Int64(now.tv_nsec) - Int64(nanos))
        lag.recordNanoseconds(max(0, nanoseconds))
    }
}
