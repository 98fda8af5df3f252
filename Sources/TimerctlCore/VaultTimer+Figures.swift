import Codec

/// A timer's duration and value, as the server reported them or ticked
/// forward to a later moment.
extension VaultTimer {
    /// Seconds tracked as of the response that carried the timer: closed
    /// sessions plus the open one.
    package var reportedSeconds: Int64 {
        totalDuration.addingReportingOverflow(currentSessionDuration).overflow ? .max : totalDuration + currentSessionDuration
    }

    /// Seconds tracked at `now` (microseconds since the epoch, server clock):
    /// for a running timer, closed sessions plus the open one up to `now`
    /// (never less than the server reported); otherwise what was reported.
    package func seconds(atMicroseconds now: Int64) -> Int64 {
        guard status == .running, let start = currentSessionStartedAt else { return reportedSeconds }
        let open = max(Time.wholeSeconds(from: Time.microseconds(start), to: now), currentSessionDuration)
        let (sum, overflow) = totalDuration.addingReportingOverflow(open)
        return overflow ? .max : sum
    }

    /// The value of `seconds` of this timer at its hourly rate; the reported
    /// value when the rate is unknown; nil without a billing rate.
    package func value(ofSeconds seconds: Int64) -> Money? {
        if let hourlyRate, let value = MoneyMath.value(ofSeconds: seconds, at: hourlyRate) { return value }
        return currentValue
    }

    /// Running or paused, and not deleted.
    package var isActive: Bool {
        deletedAt == nil && (status == .running || status == .paused)
    }
}
