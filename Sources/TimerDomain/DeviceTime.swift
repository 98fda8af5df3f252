/// Device clocks, as SyncTimers sees them. The server's clock is
/// authoritative; a device's timestamps are used only for its offline changes,
/// and only inside the window the server can vouch for.
package enum DeviceTime {
    /// A device timestamp moved into `[notBefore, notAfter]`: never later than
    /// the server's now, never earlier than the timer's last known change.
    /// When the two bounds cross (the server clock went back behind the last
    /// change), `notBefore` wins, so a timer's timeline never runs backwards.
    package static func clamp(_ deviceTime: Instant, notAfter serverNow: Instant, notBefore lastKnownChange: Instant) -> Instant {
        max(min(deviceTime, serverNow), lastKnownChange)
    }

    /// Whole seconds the device's clock is ahead of the server's (negative:
    /// behind), truncated toward zero: SyncTimersResponse's
    /// `clock_skew_seconds`.
    package static func clockSkewSeconds(deviceTime: Instant, serverNow: Instant) -> Int64 {
        if deviceTime >= serverNow {
            Instant.wholeSeconds(from: serverNow, to: deviceTime)
        } else {
            -Instant.wholeSeconds(from: deviceTime, to: serverNow)
        }
    }
}
