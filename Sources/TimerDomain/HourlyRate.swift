/// A billing rate: an amount of money per hour of tracked time.
///
/// Values are computed in integer arithmetic only: `seconds × minor units per
/// hour / 3600`, rounded to the nearest minor unit with halves away from zero,
/// exact in 128 bits. Rates are 0 to `maximumMinorUnitsPerHour` (10^12 minor
/// units: 10 billion USD an hour), which keeps every value of a duration up to
/// 1,000 years within 64 bits; beyond that `value(ofSeconds:)` throws
/// OUT_OF_RANGE rather than wrapping.
package struct HourlyRate: Sendable, Hashable, CustomStringConvertible {
    /// The amount billed for one hour.
    package let perHour: MoneyAmount

    /// The largest rate accepted, in minor units per hour.
    package static let maximumMinorUnitsPerHour: Int64 = 1_000_000_000_000

    /// A rate of `perHour` an hour; INVALID_ARGUMENT (naming `field`) when it
    /// is negative or above `maximumMinorUnitsPerHour`.
    package init(perHour: MoneyAmount, field: String = "rate") throws(TimerDomainError) {
        guard (0...Self.maximumMinorUnitsPerHour).contains(perHour.minorUnits) else {
            let maximum = MoneyAmount(minorUnits: Self.maximumMinorUnitsPerHour, currency: perHour.currency)
            throw .invalid(field, "\(field) must be 0 to \(maximum.decimalString) \(perHour.currency) per hour, got \(perHour.decimalString)")
        }
        self.perHour = perHour
    }

    /// A rate from a decimal string such as `90.00` or `90` (as given to
    /// `timerd admin create-rate --rate 90.00 --currency USD`), converted to
    /// minor units exactly. Accepted: ASCII digits, optionally a point and at
    /// most as many fraction digits as the currency has (none for JPY).
    /// Refused: signs, exponents, spaces, separators, a bare point (`90.`,
    /// `.5`), more fraction digits than the currency has (`90.001` USD), and
    /// rates above the maximum.
    package init(parsing text: String, currency: Currency, field: String = "rate") throws(TimerDomainError) {
        let digitRange = UInt8(ascii: "0")...UInt8(ascii: "9")
        let parts = text.utf8.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let wellFormed = !parts.isEmpty && parts.count <= 2
            && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(digitRange.contains) }
        guard wellFormed else {
            let example = currency.minorUnitDigits == 0 ? "90" : "90." + String(repeating: "0", count: currency.minorUnitDigits)
            throw .invalid(field, "\(field) must be a decimal number such as \(example), got \(Validation.quoted(text))")
        }
        let fraction = parts.count == 2 ? Array(parts[1]) : []
        let digits = currency.minorUnitDigits
        guard fraction.count <= digits else {
            let reason = digits == 0
                ? "\(currency) has no minor unit, so \(field) must be a whole number"
                : "\(currency) has \(digits) decimal places, so \(field) can have at most \(digits)"
            throw .invalid(field, "\(reason), got \(Validation.quoted(text))")
        }
        let padded = fraction + Array(repeating: UInt8(ascii: "0"), count: digits - fraction.count)
        var minorUnits: Int64 = 0
        for digit in Array(parts[0]) + padded {
            let (shifted, overflowA) = minorUnits.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = shifted.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflowA, !overflowB, next <= Self.maximumMinorUnitsPerHour else {
                let maximum = MoneyAmount(minorUnits: Self.maximumMinorUnitsPerHour, currency: currency)
                throw .invalid(field, "\(field) must be at most \(maximum.decimalString) \(currency) per hour, got \(Validation.quoted(text))")
            }
            minorUnits = next
        }
        self.perHour = MoneyAmount(minorUnits: minorUnits, currency: currency)
    }

    /// The rate's currency.
    package var currency: Currency {
        perHour.currency
    }

    /// The value of `seconds` of work at this rate, rounded to the nearest
    /// minor unit, halves away from zero. Negative durations count as 0.
    /// Throws OUT_OF_RANGE only past the bound in the type's documentation.
    package func value(ofSeconds seconds: Int64) throws(TimerDomainError) -> MoneyAmount {
        guard let minorUnits = Int64.product(max(seconds, 0), perHour.minorUnits, dividedRoundingBy: 3_600) else {
            throw TimerDomainError(
                code: .outOfRange,
                message: "the value of \(seconds) seconds at \(self) exceeds \(Int64.max) minor units"
            )
        }
        return MoneyAmount(minorUnits: minorUnits, currency: currency)
    }

    /// `90.00 USD/h`.
    package var description: String {
        "\(perHour)/h"
    }
}
