/// A `grpc-timeout` header value: 1 to 8 ASCII digits followed by one unit
/// letter (`H` hours, `M` minutes, `S` seconds, `m` milliseconds,
/// `u` microseconds, `n` nanoseconds), e.g. `250m` or `1S`.
///
/// Clients format their remaining time with ``init(roundingUp:)`` and
/// ``headerValue``; servers read the header with ``init(parsing:)`` and
/// ``duration``. Every value that fits the format converts to a `Duration`
/// without overflow (the largest, `99999999H`, is about 11 400 years).
package struct GRPCTimeout: Sendable, Hashable, CustomStringConvertible {
    /// The unit letter of a timeout.
    package enum Unit: UInt8, Sendable, Hashable, CaseIterable {
        /// `H`
        case hours = 0x48
        /// `M`
        case minutes = 0x4D
        /// `S`
        case seconds = 0x53
        /// `m`
        case milliseconds = 0x6D
        /// `u`
        case microseconds = 0x75
        /// `n`
        case nanoseconds = 0x6E

        /// The unit's letter as sent on the wire.
        package var letter: Character { Character(Unicode.Scalar(rawValue)) }

        /// The length of one unit in nanoseconds.
        var nanoseconds: Int64 {
            switch self {
            case .hours: 3_600_000_000_000
            case .minutes: 60_000_000_000
            case .seconds: 1_000_000_000
            case .milliseconds: 1_000_000
            case .microseconds: 1_000
            case .nanoseconds: 1
            }
        }

        /// The next coarser unit and how many of `self` make one of it; nil for hours.
        var coarser: (unit: Unit, ratio: Int64)? {
            switch self {
            case .nanoseconds: (.microseconds, 1_000)
            case .microseconds: (.milliseconds, 1_000)
            case .milliseconds: (.seconds, 1_000)
            case .seconds: (.minutes, 60)
            case .minutes: (.hours, 60)
            case .hours: nil
            }
        }
    }

    /// The largest amount the header can carry (8 digits).
    package static let maxAmount: Int64 = 99_999_999

    /// The number of units, `0...maxAmount`.
    package let amount: Int64
    /// The unit.
    package let unit: Unit

    /// A timeout of `amount` units, or nil when `amount` is outside `0...maxAmount`.
    package init?(amount: Int64, unit: Unit) {
        guard (0...Self.maxAmount).contains(amount) else { return nil }
        self.amount = amount
        self.unit = unit
    }

    /// The shortest header value that is at least `duration`: the finest unit
    /// whose amount fits in 8 digits, rounded up (a deadline is never
    /// shortened), then expressed in a coarser unit when that is exact
    /// (one second is `1S`, not `1000000u`).
    ///
    /// A duration of zero or less becomes `1n` (the format has no zero or
    /// negative values worth sending; the call has already run out of time).
    /// A duration past `99999999H` saturates to `99999999H`.
    package init(roundingUp duration: Duration) {
        let (seconds, attoseconds) = duration.components
        guard duration > .zero else {
            self.amount = 1
            self.unit = .nanoseconds
            return
        }
        // Both components are non-negative here.
        let attosecondsPerNanosecond: Int64 = 1_000_000_000
        let nanoseconds = attoseconds / attosecondsPerNanosecond
            + (attoseconds % attosecondsPerNanosecond == 0 ? 0 : 1)  // 0...1_000_000_000

        var chosen: (amount: Int64, unit: Unit)?
        if seconds < 100_000 {
            // At most ~1e14 ns: exact in Int64. Milliseconds cover up to 99 999.999 s.
            let total = seconds * 1_000_000_000 + nanoseconds
            for unit in [Unit.nanoseconds, .microseconds, .milliseconds, .seconds, .minutes, .hours] {
                let amount = Self.divideRoundingUp(total, unit.nanoseconds)
                if amount <= Self.maxAmount {
                    chosen = (amount, unit)
                    break
                }
            }
        } else if seconds <= Self.maxAmount * 3_600 {
            let total = seconds + (nanoseconds == 0 ? 0 : 1)
            for unit in [Unit.seconds, .minutes, .hours] {
                let amount = Self.divideRoundingUp(total, unit.nanoseconds / 1_000_000_000)
                if amount <= Self.maxAmount {
                    chosen = (amount, unit)
                    break
                }
            }
        }
        guard var (amount, unit) = chosen else {
            self.amount = Self.maxAmount
            self.unit = .hours
            return
        }
        while let (coarser, ratio) = unit.coarser, amount % ratio == 0 {
            amount /= ratio
            unit = coarser
        }
        self.amount = amount
        self.unit = unit
    }

    /// Parses a header value.
    ///
    /// - Throws: ``RPCError`` with code `INTERNAL` and a message
    ///   `malformed grpc-timeout "<value>": <what is wrong>` when the value is
    ///   empty, has no digits, more than 8 digits, anything but digits before
    ///   the unit, or no known unit.
    package init<Bytes: Collection<UInt8>>(parsing value: Bytes) throws(RPCError) {
        var amount: Int64 = 0
        var digits = 0
        var index = value.startIndex
        var offset = 0
        while index != value.endIndex {
            let byte = value[index]
            let next = value.index(after: index)
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                digits += 1
                if digits <= 8 { amount = amount * 10 + Int64(byte - UInt8(ascii: "0")) }
            } else if next == value.endIndex, digits > 0 {
                break  // the last byte: the unit
            } else {
                let reason: String
                if next == value.endIndex {
                    reason = "no digits before the unit"
                } else if digits > 0, Unit(rawValue: byte) != nil {
                    reason = "unexpected \(WireText.describe(byte: value[next])) after the unit, at offset \(offset + 1)"
                } else {
                    reason = "unexpected \(WireText.describe(byte: byte)) at offset \(offset) (expected a digit)"
                }
                throw Self.malformed(value, reason)
            }
            index = next
            offset += 1
        }
        if offset == 0, index == value.endIndex {
            throw Self.malformed(value, "empty value")
        }
        if digits > 8 {
            throw Self.malformed(value, "\(digits) digits (at most 8)")
        }
        guard index != value.endIndex else {
            throw Self.malformed(value, "missing unit (one of H, M, S, m, u, n)")
        }
        let letter = value[index]
        guard let unit = Unit(rawValue: letter) else {
            throw Self.malformed(value, "unknown unit \(WireText.describe(byte: letter)) (expected one of H, M, S, m, u, n)")
        }
        self.amount = amount
        self.unit = unit
    }

    /// Parses a header value given as a string; see ``init(parsing:)``.
    package init(parsing value: String) throws(RPCError) {
        try self.init(parsing: value.utf8)
    }

    /// The timeout as a duration (exact; never overflows).
    package var duration: Duration {
        switch unit {
        case .hours: .seconds(amount * 3_600)
        case .minutes: .seconds(amount * 60)
        case .seconds: .seconds(amount)
        case .milliseconds: .milliseconds(amount)
        case .microseconds: .microseconds(amount)
        case .nanoseconds: .nanoseconds(amount)
        }
    }

    /// The header value, e.g. `250m`.
    package var headerValue: String {
        var text = String(amount)
        text.append(unit.letter)
        return text
    }

    /// The header value.
    package var description: String { headerValue }

    private static func divideRoundingUp(_ value: Int64, _ divisor: Int64) -> Int64 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder == 0 ? quotient : quotient + 1
    }

    private static func malformed(_ value: some Collection<UInt8>, _ reason: String) -> RPCError {
        RPCError(code: .internalError, message: "malformed grpc-timeout \(WireText.quoted(value)): \(reason)")
    }
}
