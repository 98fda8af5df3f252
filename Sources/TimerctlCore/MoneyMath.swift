import Codec

/// The value of tracked time at an hourly rate, computed as the server
/// computes it: `seconds × minor units per hour / 3600` in integer
/// arithmetic, rounded to the nearest minor unit with halves away from zero.
/// So a value ticked forward on the client is the value the server would
/// report for the same duration.
package enum MoneyMath {
    /// The value of `seconds` (negative counts as 0) at `rate` per hour; nil
    /// when it does not fit in 64 bits.
    package static func value(ofSeconds seconds: Int64, at rate: Money) -> Money? {
        let (high, low) = UInt64(max(seconds, 0)).multipliedFullWidth(by: rate.amountMinor.magnitude)
        guard high < 3_600 else { return nil }
        let (quotient, remainder) = UInt64(3_600).dividingFullWidth((high, low))
        var magnitude = quotient
        if remainder >= 3_600 - remainder { magnitude += 1 }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        var value = Money()
        value.currencyCode = rate.currencyCode
        value.minorUnitDigits = rate.minorUnitDigits
        value.amountMinor = rate.amountMinor < 0 ? -Int64(magnitude) : Int64(magnitude)
        return value
    }

    /// Sums amounts per currency, ordered by currency code (as `Meta` orders
    /// `total_active_value`); nil when a sum does not fit in 64 bits.
    package static func totals(_ values: some Sequence<Money>) -> [Money]? {
        var byCurrency: [String: Money] = [:]
        for value in values {
            var total = byCurrency[value.currencyCode] ?? {
                var zero = Money()
                zero.currencyCode = value.currencyCode
                zero.minorUnitDigits = value.minorUnitDigits
                return zero
            }()
            let (sum, overflow) = total.amountMinor.addingReportingOverflow(value.amountMinor)
            guard !overflow else { return nil }
            total.amountMinor = sum
            byCurrency[value.currencyCode] = total
        }
        return byCurrency.values.sorted { $0.currencyCode < $1.currencyCode }
    }
}
