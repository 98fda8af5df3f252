/// An exact amount of money: an integer count of the currency's minor unit
/// (the API's `Money`; named apart from `Codec`'s wire type of that name).
/// With USD, `minorUnits` 18750 is 187.50 USD.
package struct MoneyAmount: Sendable, Hashable, CustomStringConvertible {
    /// The amount in minor units (cents for USD). Negative only for
    /// corrections; values derived from timers never are.
    package var minorUnits: Int64
    /// The currency, which fixes how many digits the minor unit has.
    package var currency: Currency

    /// An amount of `minorUnits` in `currency`.
    package init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Nothing, in `currency`.
    package static func zero(_ currency: Currency) -> MoneyAmount {
        MoneyAmount(minorUnits: 0, currency: currency)
    }

    /// The currency's minor-unit digits (the API's `minor_unit_digits`).
    package var minorUnitDigits: Int {
        currency.minorUnitDigits
    }

    /// The sum of two amounts of the same currency (mixing currencies is a
    /// programming error). Throws OUT_OF_RANGE when it does not fit in 64 bits.
    package func adding(_ other: MoneyAmount) throws(TimerDomainError) -> MoneyAmount {
        precondition(currency == other.currency, "adding \(other.currency) to \(currency)")
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else {
            throw TimerDomainError(code: .outOfRange, message: "\(currency) amount exceeds \(Int64.max) minor units")
        }
        return MoneyAmount(minorUnits: sum, currency: currency)
    }

    /// The amount as a decimal number without the code: `187.50`, `-0.05`,
    /// `1500` for JPY.
    package var decimalString: String {
        let digits = minorUnitDigits
        let magnitude = String(minorUnits.magnitude)
        let sign = minorUnits < 0 ? "-" : ""
        guard digits > 0 else { return sign + magnitude }
        let padded = String(repeating: "0", count: max(0, digits + 1 - magnitude.count)) + magnitude
        let split = padded.index(padded.endIndex, offsetBy: -digits)
        return sign + padded[..<split] + "." + padded[split...]
    }

    /// The amount and the code: `187.50 USD`.
    package var description: String {
        "\(decimalString) \(currency.code)"
    }
}

extension Int64 {
    /// `a × b / divisor`, rounded to the nearest integer with halves away from
    /// zero, computed exactly in 128 bits; nil when the result does not fit in
    /// an `Int64`. `divisor` must be positive.
    static func product(_ a: Int64, _ b: Int64, dividedRoundingBy divisor: Int64) -> Int64? {
        precondition(divisor > 0, "divisor must be positive")
        let negative = (a < 0) != (b < 0)
        let wide = a.magnitude.multipliedFullWidth(by: b.magnitude)
        let d = divisor.magnitude
        guard wide.high < d else { return nil }  // the quotient would not fit in 64 bits
        let (quotient, remainder) = d.dividingFullWidth(wide)
        var magnitude = quotient
        if remainder >= d - remainder {  // 2 × remainder ≥ divisor: half or more rounds away from zero
            let (rounded, overflow) = magnitude.addingReportingOverflow(1)
            guard !overflow else { return nil }
            magnitude = rounded
        }
        if negative {
            guard magnitude <= Int64.min.magnitude else { return nil }
            return Int64(bitPattern: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
