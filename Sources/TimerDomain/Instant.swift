/// A point in time on the server's wall clock: whole microseconds since
/// 1970-01-01T00:00:00Z (UTC), leap seconds not counted (Unix time).
///
/// Microseconds because PostgreSQL's `TIMESTAMPTZ` keeps exactly that
/// precision: an instant written to the database reads back equal. An `Int64`
/// of microseconds spans about ±292,000 years, so every valid protobuf
/// `Timestamp` (years 1 to 9999) fits. Arithmetic on instants saturates at the
/// ends of that range instead of trapping, so garbage input cannot crash the
/// server.
package struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since the Unix epoch; negative before 1970.
    package var microsecondsSinceEpoch: Int64

    /// The Unix epoch, 1970-01-01T00:00:00Z.
    package static let epoch = Instant(microsecondsSinceEpoch: 0)

    /// An instant from microseconds since the Unix epoch.
    package init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// An instant from a protobuf `Timestamp`'s two fields. Nanoseconds below a
    /// microsecond are dropped (rounded toward the past); out-of-range input
    /// saturates rather than traps.
    package init(seconds: Int64, nanos: Int32 = 0) {
        let whole = seconds.saturatingMultiplied(by: 1_000_000)
        let fraction = Int64(nanos).flooredQuotient(dividingBy: 1_000)
        self.microsecondsSinceEpoch = whole.saturatingAdding(fraction)
    }

    /// A UTC calendar instant, for constants and tests: `Instant(2024, 12, 1, 9, 0, 0)`.
    /// Components must be in their usual ranges (month 1...12, day 1...31,
    /// hour 0...23, minute and second 0...59, microsecond 0...999_999).
    package init(
        _ year: Int64, _ month: Int64, _ day: Int64,
        _ hour: Int64 = 0, _ minute: Int64 = 0, _ second: Int64 = 0,
        microsecond: Int64 = 0
    ) {
        precondition((1...12).contains(month) && (1...31).contains(day), "date out of range")
        precondition((0...23).contains(hour) && (0...59).contains(minute) && (0...59).contains(second), "time out of range")
        precondition((0..<1_000_000).contains(microsecond), "microsecond out of range")
        let days = Self.daysSinceEpoch(year: year, month: month, day: day)
        let seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
        self.init(microsecondsSinceEpoch: seconds * 1_000_000 + microsecond)
    }

    /// Whole seconds of a protobuf `Timestamp` for this instant (rounded toward
    /// the past, so `timestampNanos` is never negative).
    package var timestampSeconds: Int64 {
        microsecondsSinceEpoch.flooredQuotient(dividingBy: 1_000_000)
    }

    /// The nanoseconds field of a protobuf `Timestamp` for this instant:
    /// 0 to 999,999,000, a multiple of 1,000.
    package var timestampNanos: Int32 {
        Int32(microsecondsSinceEpoch.flooredRemainder(dividingBy: 1_000_000) * 1_000)
    }

    /// This instant moved by a number of microseconds (saturating).
    package func advanced(byMicroseconds microseconds: Int64) -> Instant {
        Instant(microsecondsSinceEpoch: microsecondsSinceEpoch.saturatingAdding(microseconds))
    }

    /// This instant moved by a number of seconds (saturating).
    package func advanced(bySeconds seconds: Int64) -> Instant {
        advanced(byMicroseconds: seconds.saturatingMultiplied(by: 1_000_000))
    }

    /// Whole seconds from `start` to `end`, rounded down; 0 when `end` is not
    /// after `start`. This is how every duration of the API is measured: a
    /// clock that went backwards yields 0, never a negative duration.
    package static func wholeSeconds(from start: Instant, to end: Instant) -> Int64 {
        guard end > start else { return 0 }
        let (difference, overflow) = end.microsecondsSinceEpoch
            .subtractingReportingOverflow(start.microsecondsSinceEpoch)
        return overflow ? Int64.max / 1_000_000 : difference / 1_000_000
    }

    /// Orders instants from past to future.
    package static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2024-12-01T09:00:00.000000Z`.
    package var description: String {
        let seconds = timestampSeconds
        let days = seconds.flooredQuotient(dividingBy: 86_400)
        let secondOfDay = seconds.flooredRemainder(dividingBy: 86_400)
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        let micro = microsecondsSinceEpoch.flooredRemainder(dividingBy: 1_000_000)
        if (0...9_999).contains(year) {
            // The usual case, written straight into the string's storage: it
            // is made for every timestamp sent to PostgreSQL.
            return String(unsafeUninitializedCapacity: 27) { buffer in
                var index = 0
                func put(_ value: Int64, _ width: Int) {
                    var rest = value
                    for offset in stride(from: width - 1, through: 0, by: -1) {
                        buffer[index + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                        rest /= 10
                    }
                    index += width
                }
                func put(_ byte: Unicode.Scalar) {
                    buffer[index] = UInt8(ascii: byte)
                    index += 1
                }
                put(year, 4); put("-"); put(month, 2); put("-"); put(day, 2); put("T")
                put(secondOfDay / 3_600, 2); put(":"); put(secondOfDay / 60 % 60, 2); put(":"); put(secondOfDay % 60, 2)
                put("."); put(micro, 6); put("Z")
                return index
            }
        }
        return "\(Self.padded(year, 4))-\(Self.padded(month, 2))-\(Self.padded(day, 2))"
            + "T\(Self.padded(secondOfDay / 3_600, 2)):\(Self.padded(secondOfDay / 60 % 60, 2))"
            + ":\(Self.padded(secondOfDay % 60, 2)).\(Self.padded(micro, 6))Z"
    }

    // Proleptic Gregorian calendar conversions (H. Hinnant's algorithms).

    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let zeros = String(repeating: "0", count: max(0, width - digits.count))
        return (value < 0 ? "-" : "") + zeros + digits
    }
}

extension Int64 {
    /// `self + other`, pinned to `Int64.min`/`Int64.max` instead of trapping.
    func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self * other`, pinned to `Int64.min`/`Int64.max` instead of trapping.
    func saturatingMultiplied(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }

    /// Division rounded toward negative infinity (`divisor` > 0).
    func flooredQuotient(dividingBy divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return self % divisor < 0 ? quotient - 1 : quotient
    }

    /// The remainder matching `flooredQuotient`: 0 ..< divisor (`divisor` > 0).
    func flooredRemainder(dividingBy divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
