#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Timestamp {
    /// The current time by this machine's clock (`CLOCK_REALTIME`).
    public static var now: Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(seconds: Int64(time.tv_sec), nanos: Int32(time.tv_nsec))
    }

    /// This instant moved by `seconds` (negative: earlier), nanoseconds kept.
    public func advanced(bySeconds seconds: Int64) -> Timestamp {
        Timestamp(seconds: self.seconds + seconds, nanos: nanos)
    }
}
