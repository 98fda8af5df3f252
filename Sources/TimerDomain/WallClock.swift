#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where the domain's callers get "now": the server's wall clock.
///
/// Named `WallClock` rather than `Clock` so it does not collide with the
/// standard library's `Clock` protocol (which measures durations on a
/// monotonic timeline, not calendar time). Nothing in `TimerDomain` reads a
/// clock by itself: functions take an `Instant`, and the server reads it from
/// its `WallClock` once per call. The wall clock may jump backwards (NTP
/// corrections, a restored VM); every function here tolerates that.
package protocol WallClock: Sendable {
    /// The current instant, to the microsecond.
    var now: Instant { get }
}

/// The operating system's real-time clock (`CLOCK_REALTIME`).
package struct SystemWallClock: WallClock {
    /// The system clock.
    package init() {}

    /// The current time, truncated to the microsecond.
    package var now: Instant {
        var time = timespec()
        let result = clock_gettime(CLOCK_REALTIME, &time)
        precondition(result == 0, "clock_gettime(CLOCK_REALTIME) failed")
        return Instant(microsecondsSinceEpoch: Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1_000)
    }
}

/// A clock that moves only when told to, for tests: durations, auto-pause and
/// clocks going backwards are tested without sleeping. Safe to share between
/// tasks.
package final class ManualWallClock: WallClock {
    private let current: Mutex<Instant>

    /// A clock showing `start`.
    package init(_ start: Instant) {
        current = Mutex(start)
    }

    /// The instant the clock was last set to.
    package var now: Instant {
        current.withLock { $0 }
    }

    /// Sets the clock to any instant, earlier ones included.
    package func set(_ instant: Instant) {
        current.withLock { $0 = instant }
    }

    /// Moves the clock by a number of seconds (negative: backwards).
    package func advance(bySeconds seconds: Int64) {
        current.withLock { $0 = $0.advanced(bySeconds: seconds) }
    }

    /// Moves the clock by a number of microseconds (negative: backwards).
    package func advance(byMicroseconds microseconds: Int64) {
        current.withLock { $0 = $0.advanced(byMicroseconds: microseconds) }
    }
}
