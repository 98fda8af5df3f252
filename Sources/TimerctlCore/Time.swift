import Codec

/// Points in time as timerctl reads and writes them: microseconds since the
/// Unix epoch (as the server keeps them), RFC 3339 text in JSON, local
/// wall-clock text for people, and the device times `sync` accepts.
package enum Time {
    /// The offset from UTC, in seconds, in effect at a moment given as seconds
    /// since the epoch (the executable asks the C library for the local zone).
    package typealias UTCOffset = @Sendable (_ secondsSinceEpoch: Int64) -> Int

    /// UTC: no offset.
    package static let utc: UTCOffset = { _ in 0 }

    /// Microseconds since the epoch of a timestamp (nanoseconds below a
    /// microsecond dropped, as the server does).
    package static func microseconds(_ timestamp: Timestamp) -> Int64 {
        let whole = timestamp.seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !whole.overflow else { return timestamp.seconds < 0 ? .min : .max }
        let (sum, overflow) = whole.partialValue.addingReportingOverflow(Int64(timestamp.nanos) / 1_000)
        return overflow ? .max : sum
    }

    /// The timestamp of a count of microseconds since the epoch.
    package static func timestamp(microseconds: Int64) -> Timestamp {
        let (seconds, remainder) = microseconds.floorDivided(by: 1_000_000)
        return Timestamp(seconds: seconds, nanos: Int32(remainder * 1_000))
    }

    /// Whole seconds from `start` to `end` (microseconds), rounded down; 0
    /// when `end` is not after `start`.
    package static func wholeSeconds(from start: Int64, to end: Int64) -> Int64 {
        let (difference, overflow) = end.subtractingReportingOverflow(start)
        if overflow { return end > start ? .max / 1_000_000 : 0 }
        return difference <= 0 ? 0 : difference / 1_000_000
    }

    // MARK: RFC 3339

    /// `2026-05-01T10:00:00Z`, with the fraction of a second when there is one
    /// (`2026-05-01T10:00:00.25Z`): UTC, as JSON output carries times.
    package static func rfc3339(_ timestamp: Timestamp) -> String {
        let civil = Civil(secondsSinceEpoch: timestamp.seconds)
        var text = civil.dateText + "T" + civil.timeText
        var nanos = Int(timestamp.nanos)
        if nanos > 0, nanos < 1_000_000_000 {
            var digits = 9
            while nanos % 10 == 0 { nanos /= 10; digits -= 1 }
            text += "." + String(nanos).leftPadded(to: digits)
        }
        return text + "Z"
    }

    /// A timestamp from RFC 3339 text: `2026-05-01T10:00:00Z`,
    /// `2026-05-01T12:00:00.5+02:00`; `t`, `z` and a space for `T` accepted.
    /// nil for anything else.
    package static func parseRFC3339(_ text: String) -> Timestamp? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.skip("-"),
              let month = scanner.digits(2), scanner.skip("-"),
              let day = scanner.digits(2),
              scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
              let hour = scanner.digits(2), scanner.skip(":"),
              let minute = scanner.digits(2), scanner.skip(":"),
              let second = scanner.digits(2)
        else { return nil }
        var nanos = 0
        if scanner.skip(".") {
            var count = 0
            while let digit = scanner.digit() {
                if count < 9 { nanos = nanos * 10 + digit }
                count += 1
            }
            guard count > 0 else { return nil }
            for _ in min(count, 9)..<9 { nanos *= 10 }
        }
        var offset = 0
        if scanner.skip("Z") || scanner.skip("z") {
            offset = 0
        } else if let sign = scanner.sign(), let hours = scanner.digits(2), scanner.skip(":"), let minutes = scanner.digits(2) {
            guard hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3_600 + minutes * 60)
        } else {
            return nil
        }
        guard scanner.atEnd, (1...12).contains(month), (1...Civil.days(inMonth: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        let days = Civil.daysSinceEpoch(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second) - Int64(offset)
        return Timestamp(seconds: seconds, nanos: Int32(nanos))
    }

    // MARK: Device times

    /// A time given to `sync`: RFC 3339, `now`, or a span before `now` such as
    /// `-15m`, `-1h30m`, `-2d`, `-90s`. nil for anything else.
    package static func parseDeviceTime(_ text: String, now: Timestamp) -> Timestamp? {
        let trimmed = text.trimmingSpaces
        if trimmed == "now" { return now }
        if trimmed.hasPrefix("-") {
            guard let seconds = parseSpan(trimmed.dropFirst()) else { return nil }
            return Timestamp(seconds: now.seconds - seconds, nanos: now.nanos)
        }
        return parseRFC3339(trimmed)
    }

    /// Seconds in a span such as `1h30m`, `15m`, `2d`, `90s`, `1h 5m`: whole
    /// numbers with units d, h, m, s, each unit at most once, largest first.
    private static func parseSpan(_ text: Substring) -> Int64? {
        let units: [(Character, Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var total: Int64 = 0
        var number: Int64?
        var nextUnit = 0
        for character in text where character != " " {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (shifted, overflowA) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (next, overflowB) = shifted.addingReportingOverflow(Int64(digit))
                guard !overflowA, !overflowB, next < 10_000_000_000 else { return nil }
                number = next
                continue
            }
            guard let value = number,
                  let index = units.indices.first(where: { units[$0].0 == character }), index >= nextUnit
            else { return nil }
            total += value * units[index].1
            number = nil
            nextUnit = index + 1
        }
        guard number == nil, nextUnit > 0 else { return nil }
        return total
    }

    // MARK: For people

    /// `2026-05-01 12:00:00` in the zone of `offset`.
    package static func localDateTime(_ timestamp: Timestamp, offset: UTCOffset) -> String {
        let civil = Civil(secondsSinceEpoch: timestamp.seconds + Int64(offset(timestamp.seconds)))
        return civil.dateText + " " + civil.timeText
    }

    /// `12:00:00` in the zone of `offset`.
    package static func localClock(_ timestamp: Timestamp, offset: UTCOffset) -> String {
        Civil(secondsSinceEpoch: timestamp.seconds + Int64(offset(timestamp.seconds))).timeText
    }
}

/// A date and time of day in the proleptic Gregorian calendar, from seconds
/// since the epoch (Howard Hinnant's `civil_from_days`).
struct Civil {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    init(secondsSinceEpoch seconds: Int64) {
        let (days, secondOfDay) = seconds.floorDivided(by: 86_400)
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        hour = Int(secondOfDay / 3_600)
        minute = Int(secondOfDay % 3_600 / 60)
        second = Int(secondOfDay % 60)
    }

    /// Days since 1970-01-01 of a date (`days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    var dateText: String {
        String(year).leftPadded(to: 4) + "-" + String(month).leftPadded(to: 2) + "-" + String(day).leftPadded(to: 2)
    }

    var timeText: String {
        String(hour).leftPadded(to: 2) + ":" + String(minute).leftPadded(to: 2) + ":" + String(second).leftPadded(to: 2)
    }
}

/// Reads ASCII text byte by byte.
private struct Scanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
        position += 1
        return true
    }

    mutating func digit() -> Int? {
        guard position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else { return nil }
        defer { position += 1 }
        return Int(bytes[position] - UInt8(ascii: "0"))
    }

    mutating func digits(_ count: Int) -> Int? {
        let start = position
        var value = 0
        for _ in 0..<count {
            guard let digit = digit() else { position = start; return nil }
            value = value * 10 + digit
        }
        return value
    }

    mutating func sign() -> Int? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }
}

extension Int64 {
    /// Quotient and remainder with the quotient rounded toward negative
    /// infinity (the remainder is never negative).
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = self / divisor
        var remainder = self % divisor
        if remainder < 0 { quotient -= 1; remainder += divisor }
        return (quotient, remainder)
    }
}

extension String {
    /// The string with zeros in front up to `width` characters.
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }

    /// Without spaces, tabs and line breaks at either end.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
